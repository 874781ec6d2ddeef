// Runs one job from stream entry to its next place: parse, plan, skip the steps already
// done, run the rest (each as soon as the steps it waits for are done), record each success
// at once; then ack it, reschedule it with backoff, or dead-letter it — fenced, atomically.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <functional>
#include <random>
#include <unordered_map>
#include <variant>

#include "clients/providers.hpp"
#include "common/clock.hpp"
#include "jobs/parse.hpp"
#include "metrics/metrics.hpp"
#include "queue/acknowledger.hpp"
#include "queue/dead_letter.hpp"
#include "queue/fields.hpp"
#include "queue/job_queue.hpp"
#include "ratelimit/limiter.hpp"
#include "redis/connection.hpp"
#include "redis/streams.hpp"
#include "worker/config.hpp"
#include "worker/pending_refunds.hpp"
#include "worker/step_schedule.hpp"

namespace rescind::worker {

class JobRunner {
 public:
  // `clock` says how old a job is, when its retry is due and when Redis has been waited on long enough.
  JobRunner(const QueueConfig& queue, const queue::JobQueue& job_queue, queue::Acknowledger& acknowledger,
            redis::Connection& redis, clients::Providers& providers, ratelimit::Limiter& limiter,
            metrics::Metrics& metrics, const PendingRefunds& pending_refunds,
            const common::Clock& clock = common::real_clock());

  boost::asio::awaitable<void> run(redis::StreamEntry entry);

  // An entry delivered too often (its workers crashed or hung on it): to the DLQ unread.
  boost::asio::awaitable<void> dead_letter_poison(redis::StreamEntry entry, long long deliveries);

  // The lease key of the job an entry in flight runs, once it holds it (heartbeats extend it).
  std::string_view lease_of(const std::string& entry_id) const;

  // Shutdown after the drain timeout: no step starts any more; steps whose call is out still
  // get its answer recorded; every job then goes back to the queue at once, no attempt used.
  void wind_down() { winding_down_ = true; }

 private:
  // In the order a job lives: its steps run (each through the limiter to its provider), each
  // success is recorded at once; then it is acked (run), or rescheduled or dead-lettered.
  struct Attempt;
  boost::asio::awaitable<bool> run_steps(Attempt& attempt);
  boost::asio::awaitable<clients::Outcome> run_step(Attempt& attempt, std::size_t index, jobs::RefundProgress refunded);
  // The refund's idempotency key generation for this run, after a reconcile when the last
  // one was definitely refused; or the outcome that ends the step instead (the job's refund
  // exists after all, or the lookup failed).
  boost::asio::awaitable<std::variant<unsigned, clients::Outcome>> refund_key_generation(Attempt& attempt);
  boost::asio::awaitable<bool> record_done(Attempt& attempt, jobs::Role role, const clients::Outcome& outcome);
  void push_done(redis::Request& record, Attempt& attempt, jobs::Role role, const clients::Outcome& outcome) const;
  boost::asio::awaitable<void> retry_or_dead_letter(Attempt& attempt);
  // Runs a completion (ack, reschedule, dead-letter) again while Redis does not answer, for
  // up to the visibility timeout: an entry its live owner forgot would otherwise wait that
  // long to be claimed, and the job's next step (or its retry) with it.
  boost::asio::awaitable<queue::Moved> until_answered(
      std::string_view action, const std::string& entry_id,
      const std::function<boost::asio::awaitable<queue::Moved>()>& finish);
  // `letter` arrives with its why (reason, step, provider, status, code, error); the rest of
  // the entry (the job, its attempt, when, which worker) is filled here.
  boost::asio::awaitable<void> dead_letter(const redis::StreamEntry& entry, const queue::Envelope& envelope,
                                           std::string_view kind, queue::DeadLetter letter,
                                           std::string_view lease_key = {});
  void report_stale(const redis::StreamEntry& entry, std::string_view what);

  const QueueConfig& queue_;
  const queue::JobQueue& job_queue_;
  queue::Acknowledger& acknowledger_;
  redis::Connection& redis_;
  clients::Providers& providers_;
  ratelimit::Limiter& limiter_;
  metrics::Metrics& metrics_;
  const PendingRefunds& pending_refunds_;
  const common::Clock& clock_;
  jobs::JobParser parser_;
  std::mt19937_64 random_{std::random_device{}()};
  std::string audit_key_;
  std::string audit_max_len_;
  std::unordered_map<std::string, std::string> leases_;  // entry id → lease key, while running
  bool winding_down_ = false;
};

}  // namespace rescind::worker
