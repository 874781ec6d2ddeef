// Micro-benchmarks of the per-job hot pieces: parse + validate, plan, request encoding,
// metric recording. Run: build/bench/micro_bench (or bench/run.sh micro).
#include <benchmark/benchmark.h>

#include "clients/encoding.hpp"
#include "jobs/parse.hpp"
#include "jobs/plan.hpp"
#include "metrics/metrics.hpp"
#include "redis/request.hpp"

namespace {

const std::string job =
    R"({"v":1,"id":"evt_01JD4W8Z9X","kind":"order.canceled","occurred_at":"2026-11-22T16:00:00Z",)"
    R"("shop":{"platform":"shopify","domain":"acme-crafts.myshopify.com"},)"
    R"("order":{"id":"450789469","name":"#1001","currency":"USD","total_minor":14900,"financial_status":"paid",)"
    R"("fulfillment_status":"unfulfilled","line_items":[{"sku":"ACR-RED-500","quantity":2,"location_id":"655441491"},)"
    R"({"sku":"ACR-BLU-250","quantity":1,"location_id":"655441491"}]},)"
    R"("customer":{"email":"ana@example.com","phone":"+15555550100","name":"Ana"},)"
    R"("payment":{"provider":"stripe","reference":"pi_3MtwBwLkdIwHu7ix28a3tqPa"},)"
    R"("refund":{"amount_minor":14900,"reason":"requested_by_customer"},"reason":"customer","notify":["email","sms","staff"]})";

void parse_and_validate(benchmark::State& state) {
  rescind::jobs::JobParser parser;
  for (auto _ : state) {
    auto result = parser.parse(job);
    benchmark::DoNotOptimize(result);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * job.size()));
}
BENCHMARK(parse_and_validate);

void plan(benchmark::State& state) {
  rescind::jobs::JobParser parser;
  auto parsed = std::get<rescind::jobs::Job>(parser.parse(job));
  for (auto _ : state) {
    auto p = rescind::jobs::plan_for(parsed);
    benchmark::DoNotOptimize(p);
  }
}
BENCHMARK(plan);

void stripe_form_body(benchmark::State& state) {
  for (auto _ : state) {
    std::string body;
    rescind::clients::append_form_field(body, "payment_intent", "pi_3MtwBwLkdIwHu7ix28a3tqPa");
    rescind::clients::append_form_field(body, "amount", "14900");
    rescind::clients::append_form_field(body, "reason", "requested_by_customer");
    rescind::clients::append_form_field(body, "metadata[rescind_job_id]", "evt_01JD4W8Z9X");
    rescind::clients::append_form_field(body, "metadata[order_id]", "450789469");
    benchmark::DoNotOptimize(body);
  }
}
BENCHMARK(stripe_form_body);

void redis_ack_request(benchmark::State& state) {
  for (auto _ : state) {
    rescind::redis::Request request;
    request.push("EVALSHA", "0123456789abcdef0123456789abcdef01234567", "3", "rescind:jobs", "rescind:retry",
                 "rescind:dlq", "rescind", "host-123", "1795607032854-0", "ack");
    benchmark::DoNotOptimize(request);
  }
}
BENCHMARK(redis_ack_request);

// What one job records on success: four provider requests and the job outcome.
void metrics_per_job(benchmark::State& state) {
  rescind::metrics::Metrics metrics;
  for (auto _ : state) {
    metrics.provider_request("stripe", "refund", "200", 0.001);
    metrics.provider_request("sendgrid", "email", "202", 0.001);
    metrics.provider_request("twilio", "sms", "201", 0.001);
    metrics.provider_request("slack", "staff", "200", 0.001);
    metrics.job_finished("order.canceled", "succeeded", 0.05);
  }
}
BENCHMARK(metrics_per_job);

}  // namespace

BENCHMARK_MAIN();
