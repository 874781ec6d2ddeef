// The consumer loop: reads the jobs stream through the group, only while there is room
// for more jobs in flight (back-pressure), and starts one coroutine per job.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "metrics/metrics.hpp"
#include "redis/connection.hpp"
#include "worker/config.hpp"
#include "worker/job_runner.hpp"

namespace rescind::worker {

class Consumer {
 public:
  Consumer(const QueueConfig& queue, redis::Connection& reader, JobRunner& runner, metrics::Metrics& metrics);

  // Creates the stream and group if missing; false (logged) if Redis refuses.
  boost::asio::awaitable<bool> join_group();

  // Reads and dispatches until stop(); returns when reading has stopped (jobs may still run).
  boost::asio::awaitable<void> run();

  // Stops reading: a blocked XREADGROUP is abandoned at once (its entries, if any arrive,
  // stay pending for this consumer name and are never lost).
  void stop();

  // Waits until no job is in flight or `timeout` passed; true if all finished.
  boost::asio::awaitable<bool> drain(std::chrono::milliseconds timeout);

  std::size_t in_flight() const { return in_flight_; }

 private:
  void start_job(redis::StreamEntry entry);

  const QueueConfig& queue_;
  redis::Connection& reader_;
  JobRunner& runner_;
  metrics::Metrics& metrics_;
  boost::asio::steady_timer room_;  // never expires: cancel_one() when a job finishes
  std::size_t in_flight_ = 0;
  bool stopping_ = false;
};

}  // namespace rescind::worker
