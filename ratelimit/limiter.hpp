// Admission to a provider account: waits (on a timer, never spinning) for the account's
// next slot under its rate, burst and in-flight cap, or says "not within max_wait — come
// back in N ms" so the job is rescheduled instead of holding a slot. A 429 pauses the
// account — every account, limited or not — here and, in fleet scope, in every worker; after
// the pause one call tests whether the provider has recovered before the others go.
// Unconfigured providers otherwise pass freely.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/async.hpp"
#include "common/clock.hpp"
#include "queue/keys.hpp"
#include "ratelimit/gcra.hpp"
#include "ratelimit/limits.hpp"
#include "redis/connection.hpp"
#include "redis/script.hpp"

namespace rescind::ratelimit {

namespace asio = boost::asio;

struct Admission {
  bool admitted = true;
  std::chrono::milliseconds retry_in{0};  // when not admitted: when to try again
};

class Limiter {
 public:
  // `redis` is used in fleet scope only, for the keys queue::Keys::rate_limit and rate_pause
  // name under `prefix`. Buckets, pauses and every wait (a turn, a free slot, a probe's
  // answer) run on `clock`.
  Limiter(asio::any_io_executor executor, Limits limits, redis::Connection& redis, std::string prefix,
          const common::Clock& clock = common::real_clock());

  asio::awaitable<Admission> acquire(std::string_view provider, std::string_view account);
  // The call admitted by acquire() has ended. A 429 answer is reported with pause() right
  // after release(), before the caller next suspends: that is how the call that tests a
  // provider after a pause is told apart from one that found it working again.
  void release(std::string_view provider, std::string_view account);
  void pause(std::string_view provider, std::string_view account, std::chrono::milliseconds for_how_long);

  const Limits& limits() const { return limits_; }

  // Accounts with state in this process. Shopify's account is the shop, so a worker meets
  // many; one idle for `evict_after` (no call out or waiting, no pause, its bucket full) is
  // forgotten — it would be created again exactly as it was.
  std::size_t accounts() const { return accounts_.size(); }
  static constexpr std::chrono::minutes evict_after{5};

 private:
  using TimePoint = std::chrono::steady_clock::time_point;
  // After a pause the account does not reopen to every waiting job at once — they would all
  // be rescheduled to the pause's end and arrive together, a herd as large as the backlog
  // each time: one call (the probe) goes first, the others wait for its answer.
  enum class Probe { none, due, in_flight };

  struct Account {
    Gcra::Micros tat{0};       // local scope
    TimePoint paused_until{};  // after a 429, this worker's or (fleet scope) any worker's
    Probe probe = Probe::none;
    std::size_t in_flight = 0;
    // Callers waiting for a probe's answer, a pause read or a free in-flight slot, each on a
    // timer set to its own deadline; wake() cancels them all and each looks again.
    std::vector<common::Timer*> waiting;
    std::size_t callers = 0;  // acquire() calls holding this account across a suspension
    TimePoint last_used{};
    // Fleet scope, unlimited providers: when the fleet pause key was last read (nullopt: never).
    std::optional<TimePoint> fleet_pause_read;
    bool fleet_pause_reading = false;
  };
  Account& account(std::string_view provider, std::string_view account);
  void evict_idle(TimePoint now);
  Account* existing(std::string_view provider, std::string_view account);
  struct Opening {
    std::optional<Admission> refusal;  // still paused, or no answer from the probe in time
    bool probe = false;                // this call is the one that tests the provider
  };
  asio::awaitable<Opening> wait_for_opening(const std::string& pause_key, Account& state, bool reads_fleet_pause,
                                            TimePoint deadline);
  void read_fleet_pause(const std::string& pause_key, Account& state);
  // Sleeps until wake() or the deadline; false when the deadline came first.
  asio::awaitable<bool> nap(Account& state, TimePoint deadline);
  static void wake(Account& state);
  void give_back(Account& state, bool limited, bool was_probe);

  asio::any_io_executor executor_;
  Limits limits_;
  redis::Connection& redis_;
  queue::Keys keys_;
  const common::Clock& clock_;
  redis::Script gcra_script_;
  std::unordered_map<std::string, std::unique_ptr<Account>> accounts_;
  TimePoint last_eviction_{};
};

}  // namespace rescind::ratelimit
