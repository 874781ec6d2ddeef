// Admission to a provider account: waits (on a timer, never spinning) for the account's
// next slot under its rate, burst and in-flight cap, or says "not within max_wait — come
// back in N ms" so the job is rescheduled instead of holding a slot. A 429 pauses the
// account here and, in fleet scope, in every worker. Unconfigured providers pass freely.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

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
  // `redis` is used in fleet scope only; keys are `{prefix}:rl:{provider}:{account}`.
  Limiter(asio::any_io_executor executor, Limits limits, redis::Connection& redis, std::string prefix);

  asio::awaitable<Admission> acquire(std::string_view provider, std::string_view account);
  void release(std::string_view provider, std::string_view account);
  void pause(std::string_view provider, std::string_view account, std::chrono::milliseconds for_how_long);

  const Limits& limits() const { return limits_; }

 private:
  struct Account {
    explicit Account(asio::any_io_executor ex) : freed(ex, asio::steady_timer::time_point::max()) {}
    Gcra::Micros tat{0};                                  // local scope
    std::chrono::steady_clock::time_point paused_until{};  // after a 429
    std::size_t in_flight = 0;
    asio::steady_timer freed;  // never expires: cancel() when an in-flight slot frees
  };
  Account& account(std::string_view provider, std::string_view account);
  asio::awaitable<Admission> reserve_fleet(const std::string& key, const Gcra& gcra);

  asio::any_io_executor executor_;
  Limits limits_;
  redis::Connection& redis_;
  std::string prefix_;
  redis::Script gcra_script_;
  std::unordered_map<std::string, std::unique_ptr<Account>> accounts_;
};

}  // namespace rescind::ratelimit
