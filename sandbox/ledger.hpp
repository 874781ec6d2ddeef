// The record of every side effect the fake providers performed, and the request counters:
// what tests and benchmarks read back through GET /__ledger and GET /__ledger/summary.
#pragma once
#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rescind::sandbox {

// The roles of design.md: one action per kind of side effect a provider performs.
enum class Action : std::uint8_t { refund, cancel, restock, email, sms, staff, ticket, record };
inline constexpr std::size_t action_count = 8;
std::string_view action_name(Action action);

struct Effect {
  std::string_view provider;  // a provider's name(): lives as long as the sandbox
  Action action = Action::record;
  std::string job_id;                        // X-Rescind-Job, else the id the wire format carries, else empty
  std::optional<std::int64_t> amount_minor;  // money effects only
  std::string currency;                      // lower-case ISO 4217, money effects only
  std::string ref;                           // the provider's id for it (re_…, SM…)
  // Messages only, what the provider took from the request: the recipients' addresses as it
  // split them (comma-separated), and the text as it will be posted (Slack).
  std::string to;
  std::string text;
  // Refunds only: pending, succeeded or failed; a pending refund's changes when it settles.
  std::string status;
  std::chrono::system_clock::time_point at;
};

// full: every effect is kept. counts: only counters, so a long benchmark runs in constant memory.
enum class LedgerMode { full, counts };

// Empty members match everything.
struct LedgerFilter {
  std::string job_id;
  std::string provider;
};

class Ledger {
 public:
  explicit Ledger(LedgerMode mode) : mode_(mode) {}

  void record(Effect effect);
  // A refund `provider` settled later: its effect's status changes (full mode only).
  void set_status(std::string_view provider, std::string_view ref, std::string_view status);
  void count_request() { ++requests_; }
  void count_replay() { ++replayed_; }
  void count_fault() { ++faults_injected_; }
  void clear();

  LedgerMode mode() const { return mode_; }

  // {"effects":[…]}
  std::string effects_json(const LedgerFilter& filter) const;
  // {"effects":N,"requests":N,"by_action":{…},"replayed":N,"faults_injected":N}
  std::string summary_json() const;

 private:
  LedgerMode mode_;
  std::vector<Effect> effects_;
  std::array<std::uint64_t, action_count> by_action_{};
  std::uint64_t effect_count_ = 0;
  std::uint64_t requests_ = 0;
  std::uint64_t replayed_ = 0;
  std::uint64_t faults_injected_ = 0;
};

}  // namespace rescind::sandbox
