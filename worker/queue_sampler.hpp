// Samples the queue's depth from Redis on a timer (lag, pending, retry set, DLQ) for the
// metrics, instead of on each scrape, and remembers whether Redis answered: readiness.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>

#include "metrics/metrics.hpp"
#include "redis/connection.hpp"
#include "worker/config.hpp"

namespace rescind::worker {

class QueueSampler {
 public:
  QueueSampler(const QueueConfig& queue, redis::Connection& redis, metrics::Metrics& metrics,
               std::chrono::milliseconds interval);

  boost::asio::awaitable<void> run();  // until stop()
  void stop() { stopping_ = true; }

  // nullopt while the last sample succeeded and the group exists; else what is wrong.
  const std::optional<std::string>& problem() const { return problem_; }

 private:
  boost::asio::awaitable<void> sample();

  const QueueConfig& queue_;
  redis::Connection& redis_;
  metrics::Metrics& metrics_;
  std::chrono::milliseconds interval_;
  std::optional<std::string> problem_ = "Redis not sampled yet";
  bool stopping_ = false;
};

}  // namespace rescind::worker
