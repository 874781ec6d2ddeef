// Refunds a provider accepted but reported pending (an eCheck, a bank transfer, a refund that
// waits for the customer's action) are not done: they are kept in Redis until the provider
// says how they ended. Every worker checks the due ones, each handed to one worker at a time;
// a refund that succeeded is forgotten, one that failed goes to the DLQ for on-call, with the
// job's refund state set so that a replay reconciles first and then refunds under a new key.
//
//   {prefix}:refunds:pending   ZSET  job id → when its refund is next checked (ms)
//   {prefix}:refund:{job id}   HASH  job, origin_id, provider, ref, generation, since_ms, checks
#pragma once
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <string>
#include <string_view>

#include "clients/providers.hpp"
#include "common/clock.hpp"
#include "jobs/parse.hpp"
#include "metrics/metrics.hpp"
#include "redis/connection.hpp"
#include "redis/request.hpp"
#include "worker/config.hpp"

namespace rescind::worker {

class PendingRefunds {
 public:
  // `clock` says when a refund is due for its next check, paces the checks and dates a failure's letter.
  PendingRefunds(const QueueConfig& queue, redis::Connection& redis, clients::Providers& providers,
                 metrics::Metrics& metrics, const common::Clock& clock = common::real_clock());

  struct Refund {
    const std::string& job_id;
    const std::string& payload;  // the job as enqueued: a check needs its payment and shop
    std::string_view origin_id;  // the job's first stream id: a failure's letter names it
    std::string_view provider, reference;
    unsigned generation = 0;  // of the idempotency key it was made under
  };
  // Adds what keeps `refund` pending to `record`, the step's own state write: one round trip,
  // so a pending refund is never recorded as done without being tracked.
  void track(redis::Request& record, const Refund& refund, std::chrono::system_clock::time_point now) const;

  boost::asio::awaitable<void> run();  // checks what is due until stop()
  void stop() { stopping_ = true; }

 private:
  boost::asio::awaitable<std::size_t> check_due();
  boost::asio::awaitable<void> check(const std::string& job_id, std::chrono::system_clock::time_point now);

  const QueueConfig& queue_;
  redis::Connection& redis_;
  clients::Providers& providers_;
  metrics::Metrics& metrics_;
  const common::Clock& clock_;
  jobs::JobParser parser_;
  bool stopping_ = false;
};

// The refund step's state in {prefix}:job:{id} when it is not done: the key generation in use
// ("key:<g>") or the generation the provider definitely refused ("refused:<g>"). Absent means
// generation 0, never refused.
struct RefundKeyState {
  unsigned generation = 0;
  bool refused = false;
  static RefundKeyState parse(std::string_view state);
  std::string text() const { return (refused ? "refused:" : "key:") + std::to_string(generation); }
};

}  // namespace rescind::worker
