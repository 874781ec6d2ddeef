// Faults injected on request (POST /__faults), per provider: fail the next calls, add
// latency, enforce a quota, answer "throttled" the provider's own way, or perform the effect
// and lose the answer, so every path of the worker's retry logic meets a real server.
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sandbox/token_bucket.hpp"

namespace rescind::sandbox {

struct ProviderFaults {
  std::optional<unsigned> status;         // fail calls with this status…
  std::optional<std::uint64_t> count;     // …this many more times; nullopt: every call
  std::optional<unsigned> retry_after_s;  // sent as Retry-After with those failures
  std::chrono::milliseconds delay{0};
  std::optional<TokenBucket> quota;
  std::uint64_t lose_response = 0;
  std::uint64_t throttled = 0;  // the next calls get the provider's own throttled answer
  // The failures answer, as plain text, the request line and its Authorization header: a
  // misconfigured proxy or a provider's debug page does that, and then it reaches the
  // worker's error texts (they must be redacted).
  bool echo_request = false;

  bool empty() const { return !status && delay.count() == 0 && !quota && lose_response == 0 && throttled == 0; }
};

// What the faults decide about one call before the provider sees it.
struct FaultVerdict {
  // throttle: over the quota (429); provider_throttle: the `throttled` fault, answered in the
  // provider's own throttled shape (Provider::throttled).
  enum class Kind { pass, fail, throttle, provider_throttle };
  Kind kind = Kind::pass;
  unsigned status = 0;
  std::optional<unsigned> retry_after_s;
  bool echo_request = false;  // fail: answer the request line and Authorization as the body
};

class FaultSet {
 public:
  struct ParseResult;

  FaultSet() = default;
  explicit FaultSet(std::size_t provider_count) : faults_(provider_count) {}

  // The body of POST /__faults. Providers are known by their index in `providers`; the
  // error of a rejected body names the offending field ("stripe.status: …").
  static ParseResult parse(std::string& body, std::span<const std::string_view> providers,
                           TokenBucket::Clock::time_point now);

  std::chrono::milliseconds delay(std::size_t provider) const;
  // Consumes a token from the quota, a `throttled` call or a failure from `count`.
  FaultVerdict admit(std::size_t provider, TokenBucket::Clock::time_point now);
  // True when this call's answer is to be lost (consumes one).
  bool take_lost_response(std::size_t provider);

  // The current set as POST /__faults would take it, with what is left of each count.
  std::string to_json(std::span<const std::string_view> providers) const;

 private:
  std::vector<ProviderFaults> faults_;
};

struct FaultSet::ParseResult {
  std::optional<FaultSet> faults;
  std::string error;  // set when faults is not
};

}  // namespace rescind::sandbox
