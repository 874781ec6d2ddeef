// The consumer loop: reads the jobs stream through the group only while there is room for
// more jobs in flight (back-pressure) and starts one coroutine per job. Beside it, the
// upkeep every worker does: promote due retries, heartbeat its running jobs, and claim the
// jobs of workers that went silent (poison after too many deliveries).
#pragma once
#include <boost/asio/awaitable.hpp>
#include <unordered_set>

#include "common/async.hpp"
#include "common/clock.hpp"
#include "metrics/metrics.hpp"
#include "queue/housekeeping.hpp"
#include "queue/job_queue.hpp"
#include "redis/connection.hpp"
#include "worker/config.hpp"
#include "worker/job_runner.hpp"

namespace rescind::worker {

class Consumer {
 public:
  // `clock` paces the upkeep: heartbeats, claims, housekeeping, and which retries are due.
  Consumer(const QueueConfig& queue, const queue::JobQueue& job_queue, redis::Connection& reader,
           redis::Connection& commands, JobRunner& runner, metrics::Metrics& metrics,
           const common::Clock& clock = common::real_clock());

  // Creates the stream and group if missing; false (logged) if Redis refuses.
  boost::asio::awaitable<bool> join_group();

  // Reads and dispatches until stop(); returns when reading has stopped (jobs may still run).
  boost::asio::awaitable<void> run();

  // Promotes retries, heartbeats and claims, until stop() and then until no job is in flight
  // (heartbeats only). When each is due: worker/upkeep_schedule.hpp.
  boost::asio::awaitable<void> upkeep();

  // Stops reading: a blocked XREADGROUP is abandoned at once (entries it was about to
  // deliver stay pending for this consumer and are claimed by others after the visibility
  // timeout: never lost).
  void stop();

  // Waits until no job is in flight or `timeout` passed; true if all finished. Woken by the
  // last job to finish, not by looking.
  boost::asio::awaitable<bool> drain(std::chrono::milliseconds timeout);

  std::size_t in_flight() const { return running_.size(); }

 private:
  void start_job(redis::StreamEntry entry, long long deliveries = 1);
  // One turn of the upkeep, in its order; UpkeepSchedule says which of the last three are due.
  boost::asio::awaitable<void> promote_due_retries();
  boost::asio::awaitable<void> heartbeat();
  boost::asio::awaitable<void> claim_idle();
  boost::asio::awaitable<void> keep_house();
  std::size_t room() const;

  const QueueConfig& queue_;
  const queue::JobQueue& job_queue_;
  redis::Connection& reader_;
  redis::Connection& commands_;
  JobRunner& runner_;
  metrics::Metrics& metrics_;
  const common::Clock& clock_;
  queue::Housekeeping housekeeping_;
  common::Signal room_freed_;                // a job finished: one waiting read may go
  std::unordered_set<std::string> running_;  // entry ids of the jobs in flight here
  common::Gate in_flight_;                   // entered as a job joins running_, left as it ends
  bool stopping_ = false;
};

}  // namespace rescind::worker
