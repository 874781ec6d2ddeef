#include "metrics/metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <vector>

namespace rescind::metrics {

namespace {

// Label sets seen so far and their metric: a family's Add() hashes the labels and takes a
// lock on every call (about 0.4 µs each); the sets are few, so a linear scan is cheaper.
template <class Metric, std::size_t N>
class LabelCache {
 public:
  template <class Make>
  Metric& get(const std::array<std::string_view, N>& values, Make&& make) {
    for (auto& [key, metric] : entries_) {
      bool same = true;
      for (std::size_t i = 0; i < N && same; ++i) same = key[i] == values[i];
      if (same) return *metric;
    }
    std::array<std::string, N> key;
    for (std::size_t i = 0; i < N; ++i) key[i] = std::string(values[i]);
    entries_.emplace_back(key, &make());
    return *entries_.back().second;
  }

 private:
  std::vector<std::pair<std::array<std::string, N>, Metric*>> entries_;
};

// Fine between 0.1 and 5 s, where jobs of a busy worker land, so p50/p99 estimates are usable.
const prometheus::Histogram::BucketBoundaries job_buckets{
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 1.5, 2, 3, 4, 5, 7.5, 10, 30, 60, 300};
const prometheus::Histogram::BucketBoundaries request_buckets{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                              0.25,  0.5,    1,     2.5,  5,     10};
}  // namespace

struct Metrics::Families {
  explicit Families(prometheus::Registry& r)
      : jobs(prometheus::BuildCounter()
                 .Name("rescind_jobs_total")
                 .Help("Jobs finished, by kind and outcome (succeeded, retried, dead_lettered, invalid)")
                 .Register(r)),
        job_duration(prometheus::BuildHistogram()
                         .Name("rescind_job_duration_seconds")
                         .Help("Time from enqueue to acknowledgement")
                         .Register(r)),
        requests(prometheus::BuildCounter()
                     .Name("rescind_provider_requests_total")
                     .Help("Provider calls by provider, step and HTTP status (or transport)")
                     .Register(r)),
        request_duration(prometheus::BuildHistogram()
                             .Name("rescind_provider_request_duration_seconds")
                             .Help("Provider call latency")
                             .Register(r)),
        in_flight(prometheus::BuildGauge()
                      .Name("rescind_jobs_in_flight")
                      .Help("Jobs this worker is running now")
                      .Register(r)
                      .Add({})),
        stale(prometheus::BuildCounter()
                  .Name("rescind_stale_results_total")
                  .Help("Results dropped because another consumer had claimed the entry")
                  .Register(r)
                  .Add({})),
        redeliveries(prometheus::BuildCounter()
                         .Name("rescind_redeliveries_total")
                         .Help("Entries claimed from consumers that went silent")
                         .Register(r)
                         .Add({})),
        promoted(prometheus::BuildCounter()
                     .Name("rescind_retries_promoted_total")
                     .Help("Due retries moved back into the jobs stream")
                     .Register(r)
                     .Add({})),
        removed(prometheus::BuildCounter()
                    .Name("rescind_housekeeping_removed_total")
                    .Help("What housekeeping removed: jobs_entries (acknowledged history), dlq_entries (retention), "
                          "consumers")
                    .Register(r)),
        rate_limited(prometheus::BuildCounter()
                         .Name("rescind_rate_limited_total")
                         .Help("429 answers from providers")
                         .Register(r)),
        deferred(prometheus::BuildCounter()
                     .Name("rescind_jobs_deferred_total")
                     .Help("Jobs put back without running or using an attempt: running_elsewhere (their job id was "
                           "running in another entry), handed_back (a stopping worker)")
                     .Register(r)),
        write_failures(prometheus::BuildCounter()
                           .Name("rescind_queue_write_failures_total")
                           .Help("Writes Redis did not take after retries, by action (ack, reschedule, dead_letter, "
                                 "step_state): the entry waits for the visibility timeout")
                           .Register(r)),
        pending_refunds_total(prometheus::BuildCounter()
                                  .Name("rescind_pending_refunds_total")
                                  .Help("Refunds a provider reported pending (outcome pending), and how pending "
                                        "refunds ended (succeeded, failed: dead-lettered)")
                                  .Register(r)),
        reconciled(prometheus::BuildCounter()
                       .Name("rescind_refund_reconciles_total")
                       .Help("Lookups of a job's refund at the provider before a new idempotency key: found, none (new "
                             "key used), unknown (retried)")
                       .Register(r)),
        pending_refunds(
            gauge(r, "rescind_refunds_pending", "Refunds accepted by the provider but not yet completed (sampled)")),
        receivers_disabled(
            prometheus::BuildCounter()
                .Name("rescind_record_receivers_disabled_total")
                .Help("Back-office receivers that answered 410 Gone and are no longer called (on-call re-enables them)")
                .Register(r)
                .Add({})),
        lag(gauge(r, "rescind_stream_lag", "Entries of the jobs stream not yet delivered to the group (sampled)")),
        pending(gauge(r, "rescind_stream_pending", "Entries delivered but not yet acknowledged (sampled)")),
        length(gauge(r, "rescind_stream_length", "Entries in the jobs stream (sampled)")),
        retry_scheduled(gauge(r, "rescind_retry_scheduled", "Jobs waiting in the retry set (sampled)")),
        dlq_depth(gauge(r, "rescind_dlq_depth", "Entries in the dead-letter queue (sampled)")),
        http_pools(gauge(r, "rescind_http_pools",
                         "Provider origins with a connection pool in this worker (idle ones are dropped)")),
        http_connections(
            gauge(r, "rescind_http_connections", "Provider connections open in this worker, idle or in use")),
        limiter_accounts(
            gauge(r, "rescind_limiter_accounts",
                  "Provider accounts (a Shopify shop, a Twilio sender…) with quota state in this worker")) {}

  static prometheus::Gauge& gauge(prometheus::Registry& r, const std::string& name, const std::string& help) {
    return prometheus::BuildGauge().Name(name).Help(help).Register(r).Add({});
  }

  prometheus::Family<prometheus::Counter>& jobs;
  prometheus::Family<prometheus::Histogram>& job_duration;
  prometheus::Family<prometheus::Counter>& requests;
  prometheus::Family<prometheus::Histogram>& request_duration;
  prometheus::Gauge& in_flight;
  prometheus::Counter& stale;
  prometheus::Counter& redeliveries;
  prometheus::Counter& promoted;
  prometheus::Family<prometheus::Counter>& removed;
  prometheus::Family<prometheus::Counter>& rate_limited;
  prometheus::Family<prometheus::Counter>& deferred;
  prometheus::Family<prometheus::Counter>& write_failures;
  prometheus::Family<prometheus::Counter>& pending_refunds_total;
  prometheus::Family<prometheus::Counter>& reconciled;
  prometheus::Gauge& pending_refunds;
  prometheus::Counter& receivers_disabled;
  prometheus::Gauge& lag;
  prometheus::Gauge& pending;
  prometheus::Gauge& length;
  prometheus::Gauge& retry_scheduled;
  prometheus::Gauge& dlq_depth;
  prometheus::Gauge& http_pools;
  prometheus::Gauge& http_connections;
  prometheus::Gauge& limiter_accounts;

  LabelCache<prometheus::Counter, 2> jobs_by_kind_outcome;
  LabelCache<prometheus::Histogram, 1> job_duration_by_kind;
  LabelCache<prometheus::Counter, 3> requests_by_provider_step_code;
  LabelCache<prometheus::Histogram, 1> request_duration_by_provider;
};

Metrics::Metrics()
    : registry_(std::make_shared<prometheus::Registry>()), families_(std::make_unique<Families>(*registry_)) {}

Metrics::~Metrics() = default;

void Metrics::job_finished(std::string_view kind, std::string_view outcome, double seconds) {
  auto& f = *families_;
  f.jobs_by_kind_outcome
      .get(
          {kind, outcome},
          [&]() -> auto& {
            return f.jobs.Add({{"kind", std::string(kind)}, {"outcome", std::string(outcome)}});
          })
      .Increment();
  if (seconds < 0) return;
  f.job_duration_by_kind
      .get(
          {kind},
          [&]() -> auto& {
            return f.job_duration.Add({{"kind", std::string(kind)}}, job_buckets);
          })
      .Observe(seconds);
}

void Metrics::provider_request(std::string_view provider, std::string_view step, std::string_view code,
                               double seconds) {
  auto& f = *families_;
  f.requests_by_provider_step_code
      .get(
          {provider, step, code},
          [&]() -> auto& {
            return f.requests.Add(
                {{"provider", std::string(provider)}, {"step", std::string(step)}, {"code", std::string(code)}});
          })
      .Increment();
  f.request_duration_by_provider
      .get(
          {provider},
          [&]() -> auto& {
            return f.request_duration.Add({{"provider", std::string(provider)}}, request_buckets);
          })
      .Observe(seconds);
}

void Metrics::jobs_in_flight(long long count) { families_->in_flight.Set(static_cast<double>(count)); }

void Metrics::stale_completion() { families_->stale.Increment(); }
void Metrics::redelivered(long long entries) { families_->redeliveries.Increment(static_cast<double>(entries)); }
void Metrics::retries_promoted(long long entries) { families_->promoted.Increment(static_cast<double>(entries)); }

void Metrics::housekeeping_removed(std::string_view what, long long count) {
  families_->removed.Add({{"what", std::string(what)}}).Increment(static_cast<double>(count));
}

void Metrics::rate_limited(std::string_view provider) {
  families_->rate_limited.Add({{"provider", std::string(provider)}}).Increment();
}

void Metrics::receiver_disabled() { families_->receivers_disabled.Increment(); }

void Metrics::job_deferred(std::string_view reason) {
  families_->deferred.Add({{"reason", std::string(reason)}}).Increment();
}

void Metrics::queue_write_failed(std::string_view action) {
  families_->write_failures.Add({{"action", std::string(action)}}).Increment();
}

void Metrics::pending_refund(std::string_view provider, std::string_view outcome) {
  families_->pending_refunds_total.Add({{"provider", std::string(provider)}, {"outcome", std::string(outcome)}})
      .Increment();
}

void Metrics::refund_reconciled(std::string_view provider, std::string_view result) {
  families_->reconciled.Add({{"provider", std::string(provider)}, {"result", std::string(result)}}).Increment();
}

void Metrics::queue_sampled(const QueueSample& sample) {
  families_->pending_refunds.Set(static_cast<double>(sample.pending_refunds));
  families_->lag.Set(static_cast<double>(sample.lag));
  families_->pending.Set(static_cast<double>(sample.pending));
  families_->length.Set(static_cast<double>(sample.length));
  families_->retry_scheduled.Set(static_cast<double>(sample.retry_scheduled));
  families_->dlq_depth.Set(static_cast<double>(sample.dlq_depth));
}

void Metrics::held_state(const HeldState& state) {
  families_->http_pools.Set(static_cast<double>(state.http_pools));
  families_->http_connections.Set(static_cast<double>(state.http_connections));
  families_->limiter_accounts.Set(static_cast<double>(state.limiter_accounts));
}

prometheus::Registry& Metrics::registry() { return *registry_; }

}  // namespace rescind::metrics
