// Runs one job from stream entry to XACK: parse, plan, skip the steps already done, run
// the rest (each as soon as the steps it waits for are done), record each success at once.
#pragma once
#include <boost/asio/awaitable.hpp>

#include "jobs/parse.hpp"
#include "metrics/metrics.hpp"
#include "redis/connection.hpp"
#include "redis/streams.hpp"
#include "worker/config.hpp"
#include "worker/steps.hpp"

namespace rescind::worker {

class JobRunner {
 public:
  JobRunner(const QueueConfig& queue, redis::Connection& redis, Steps& steps, metrics::Metrics& metrics);

  boost::asio::awaitable<void> run(redis::StreamEntry entry);

 private:
  struct Attempt;
  boost::asio::awaitable<bool> run_steps(Attempt& attempt);
  boost::asio::awaitable<retry::Outcome> run_step(Attempt& attempt, std::size_t index, bool refunded);
  boost::asio::awaitable<bool> acknowledge(const std::string& stream_id);

  const QueueConfig& queue_;
  redis::Connection& redis_;
  Steps& steps_;
  metrics::Metrics& metrics_;
  jobs::JobParser parser_;
  std::string jobs_key_;
};

}  // namespace rescind::worker
