// What on-call sees: metrics that agree with the ledger and the stream, readiness that
// follows Redis, logs that never carry a credential.
#include <gtest/gtest.h>
#include <signal.h>

#include <regex>
#include <sstream>

#include "common/sandbox_credentials.hpp"
#include "tests/support/stack.hpp"

namespace rescind::testing {
namespace {

using namespace std::chrono_literals;
namespace creds = sandbox_credentials;

TEST(Observability, CountersAgreeWithTheLedgerAndTheStream) {
  RedisServer redis;
  Sandbox sandbox;
  sandbox.set_faults(R"({"stripe":{"status":402,"count":5}})");
  std::string input;
  for (int i = 0; i < 50; ++i) input += job_json("evt_obs_" + std::to_string(i)) + "\n";
  ASSERT_EQ(enqueue(redis, input).exit_code, 0);
  auto worker = start_worker(redis, sandbox, {"--sample-interval", "100ms", "--max-in-flight", "1"});
  auto base = metrics_base(*worker);

  ASSERT_TRUE(wait_until(
      [&] {
        auto s = group_state(redis);
        return s && s->entries_read == 50 && s->pending == 0;
      },
      30s));
  ASSERT_TRUE(wait_until([&] { return metric(base, "rescind_dlq_depth") == 5; }, 10s)) << "sampled within 100ms";
  auto told = sandbox.count_by_action()["staff"];
  EXPECT_EQ(told, 45);
  EXPECT_EQ(metric(base, "rescind_jobs_total", {R"(outcome="succeeded")"}), told);
  EXPECT_EQ(metric(base, "rescind_jobs_total", {R"(outcome="dead_lettered")"}), redis.integer({"XLEN", "rescind:dlq"}));
  EXPECT_EQ(metric(base, "rescind_provider_requests_total", {R"(provider="stripe")", R"(code="402")"}), 5);
  EXPECT_EQ(metric(base, "rescind_provider_requests_total", {R"(provider="stripe")", R"(code="200")"}), 45);
  EXPECT_EQ(metric(base, "rescind_job_duration_seconds_count"), told);
  EXPECT_EQ(metric(base, "rescind_stream_pending"), 0);
  EXPECT_EQ(metric(base, "rescind_stream_lag"), 0);
  EXPECT_EQ(metric(base, "rescind_jobs_in_flight"), 0);
}

TEST(Observability, ReadinessFollowsRedis) {
  RedisServer redis;
  Sandbox sandbox;
  auto worker = start_worker(redis, sandbox, {"--sample-interval", "100ms"});
  auto base = metrics_base(*worker);
  ASSERT_TRUE(wait_until([&] { return http_call("GET", base + "/readyz").status == 200; }, 10s));
  EXPECT_EQ(http_call("GET", base + "/healthz").status, 200);

  redis.stop();
  ASSERT_TRUE(wait_until([&] { return http_call("GET", base + "/readyz").status == 503; }, 10s));
  EXPECT_NE(http_call("GET", base + "/readyz").body.find("Redis"), std::string::npos);
  EXPECT_EQ(http_call("GET", base + "/healthz").status, 200) << "the process still serves";

  redis.start();
  ASSERT_TRUE(wait_until([&] { return http_call("GET", base + "/readyz").status == 200; }, 15s))
      << worker->stderr_text();
}

TEST(Observability, LogsCarryProviderErrorsButNoCredential) {
  RedisServer redis;
  Sandbox sandbox;
  const std::string secret = "sk_live_51NotARealKeyButSecret9876";
  auto sandbox_url = sandbox.url();
  std::vector<std::string> args{"--redis", redis.url(), "--metrics-listen", "off", "--block", "100ms"};
  for (auto& flag : provider_flags(sandbox_url)) args.push_back(flag == creds::stripe_api_key ? secret : flag);
  Process worker(RESCIND_WORKER_BIN, args);
  ASSERT_EQ(enqueue(redis, job_json("evt_badkey") + "\n").exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return redis.integer({"XLEN", "rescind:dlq"}) == 1; }, 30s)) << worker.stderr_text();

  auto log = worker.stderr_text();
  EXPECT_NE(log.find(R"("provider":"stripe")"), std::string::npos) << log;
  EXPECT_NE(log.find(R"("status":401)"), std::string::npos) << log;
  EXPECT_EQ(log.find("NotARealKeyButSecret"), std::string::npos) << "the API key leaked into the log:\n" << log;
  EXPECT_EQ(log.find("rescind_sandbox_hook"), std::string::npos) << "the Slack webhook secret leaked";
  auto dead = stream_entries(redis, "rescind:dlq").at(0);
  EXPECT_EQ(dead["status"], "401");
  EXPECT_EQ(dead["error"].find("NotARealKeyButSecret"), std::string::npos) << "nor into the DLQ";
}

}  // namespace
}  // namespace rescind::testing
