// The worker's Prometheus metrics (design.md, "Metrics"). Label values come from closed
// sets (kind, outcome, provider, step, status code) so cardinality stays bounded.
#pragma once
#include <memory>
#include <string>
#include <string_view>

namespace prometheus {
class Registry;
}  // namespace prometheus

namespace rescind::metrics {

// Recording is not synchronised beyond what prometheus-cpp does: one worker thread records
// (and serves /metrics from the same loop).
class Metrics {
 public:
  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  void job_finished(std::string_view kind, std::string_view outcome, double seconds);
  void provider_request(std::string_view provider, std::string_view step, std::string_view code, double seconds);
  void jobs_in_flight(long long count);
  void stale_completion();              // a result dropped: another consumer owned the entry
  void redelivered(long long entries);  // entries claimed from silent consumers
  void retries_promoted(long long entries);
  // what: jobs_entries (acknowledged history trimmed), dlq_entries (retention), consumers
  void housekeeping_removed(std::string_view what, long long count);
  void rate_limited(std::string_view provider);
  // reason: running_elsewhere (another entry of the job id holds its lease), handed_back
  // (a stopping worker gave the job back unfinished). Neither uses an attempt.
  void job_deferred(std::string_view reason);
  // action: ack, reschedule, dead_letter, step_state — Redis did not take it after retries.
  void queue_write_failed(std::string_view action);
  // A back-office receiver answered 410 Gone and was disabled for the fleet.
  void receiver_disabled();

  // A refund the provider reported pending (outcome "pending"), and how pending ones ended
  // ("succeeded", "failed": dead-lettered for on-call).
  void pending_refund(std::string_view provider, std::string_view outcome);
  // Before a refund may use a new idempotency key the provider is asked whether the job's
  // refund exists: result found, none (a new key is used) or unknown (retried later).
  void refund_reconciled(std::string_view provider, std::string_view result);

  // Sampled from Redis by the worker (every worker samples the same queue: use max()).
  struct QueueSample {
    long long lag = 0, pending = 0, length = 0, retry_scheduled = 0, dlq_depth = 0, pending_refunds = 0;
  };
  void queue_sampled(const QueueSample& sample);

  // This process's per-origin and per-account state, read when /metrics is scraped: it
  // should follow the shops in use, not every shop ever seen.
  struct HeldState {
    long long http_pools = 0, http_connections = 0, limiter_accounts = 0;
  };
  void held_state(const HeldState& state);

  prometheus::Registry& registry();

 private:
  struct Families;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<Families> families_;
};

}  // namespace rescind::metrics
