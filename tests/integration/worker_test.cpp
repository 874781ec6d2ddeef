// The walking skeleton end to end: real redis-server, real sandbox, real worker process.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <map>

#include "tests/support/stack.hpp"

namespace rescind::testing {
namespace {

using namespace std::chrono_literals;

std::string write_jobs(const std::vector<std::string>& lines) {
  std::string path = "/tmp/rescind-test-jobs-" + std::to_string(getpid()) + "-" + std::to_string(rand()) + ".ndjson";
  std::ofstream out(path);
  for (const auto& line : lines) out << line << "\n";
  return path;
}

bool all_acked(RedisServer& redis, long long entries) {
  auto state = group_state(redis);
  return state && state->entries_read == entries && state->pending == 0 && state->lag == 0;
}

TEST(Worker, ThousandJobsEndToEndAndReenqueueHasNoSecondEffect) {
  RedisServer redis;
  Sandbox sandbox;
  std::vector<std::string> lines;
  std::map<std::string, long long> amount_of;
  for (int i = 0; i < 1000; ++i) {
    auto id = "evt_e2e_" + std::to_string(i);
    long long amount = 1000 + i * 7;
    lines.push_back(job_json(id, amount, i % 3 == 0 ? "EUR" : "USD"));
    amount_of[id] = amount;
  }
  auto file = write_jobs(lines);
  auto enqueued = ctl(redis, {"enqueue", file});
  ASSERT_EQ(enqueued.exit_code, 0) << enqueued.err;
  EXPECT_NE(enqueued.out.find("enqueued 1000"), std::string::npos) << enqueued.out;

  auto worker = start_worker(redis, sandbox);
  ASSERT_TRUE(wait_until([&] { return all_acked(redis, 1000); }, 120s)) << worker->stderr_text().substr(0, 4000);

  auto effects = sandbox.ledger();
  std::map<std::string, long long> refunds, notifications;
  for (const auto& effect : effects) {
    if (effect.action == "refund") {
      EXPECT_EQ(effect.amount_minor, amount_of[effect.job_id]) << effect.job_id;
      ++refunds[effect.job_id];
    } else {
      ++notifications[effect.action];
    }
  }
  EXPECT_EQ(refunds.size(), 1000u);
  for (const auto& [id, count] : refunds) EXPECT_EQ(count, 1) << id;
  EXPECT_EQ(notifications["email"], 1000);
  EXPECT_EQ(notifications["sms"], 1000);
  EXPECT_EQ(notifications["staff"], 1000);
  EXPECT_EQ(effects.size(), 4000u);

  // Webhooks are delivered at least once: the same events again must change nothing.
  auto again = ctl(redis, {"enqueue", file});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  ASSERT_TRUE(wait_until([&] { return all_acked(redis, 2000); }, 120s)) << worker->stderr_text().substr(0, 4000);
  EXPECT_EQ(sandbox.ledger().size(), 4000u) << "a re-enqueued job had a second effect";
  std::remove(file.c_str());

  worker->signal(SIGTERM);
  EXPECT_EQ(worker->wait(15s), 0);
}

TEST(Worker, StripeIdempotencyKeyStopsADoubleRefundEvenWithoutStepState) {
  RedisServer redis;
  Sandbox sandbox;
  auto worker = start_worker(redis, sandbox);
  auto first = ctl(redis, {"enqueue", "-"}, job_json("evt_idem_1") + "\n");
  ASSERT_EQ(first.exit_code, 0) << first.err;
  ASSERT_TRUE(wait_until([&] { return all_acked(redis, 1); }, 30s));

  // As if the step state had been lost between "Stripe refunded" and "we recorded it".
  redis.command({"DEL", "rescind:job:evt_idem_1"});
  ASSERT_EQ(ctl(redis, {"enqueue", "-"}, job_json("evt_idem_1") + "\n").exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return all_acked(redis, 2); }, 30s));

  auto counts = sandbox.count_by_action();
  EXPECT_EQ(counts["refund"], 1) << "the idempotency key must make Stripe return the same refund";
  EXPECT_EQ(counts["email"], 2) << "emails have no idempotency key: the step state is what prevents repeats";
}

TEST(Worker, SigtermWithNothingInFlightExitsZero) {
  RedisServer redis;
  Sandbox sandbox;
  auto worker = start_worker(redis, sandbox);
  ASSERT_TRUE(wait_until([&] { return group_state(redis).has_value(); }, 10s)) << worker->stderr_text();
  worker->signal(SIGTERM);
  EXPECT_EQ(worker->wait(10s), 0) << worker->stderr_text();
}

TEST(Cli, WorkerHelpBadFlagsAndUnreachableRedis) {
  auto help = run_command(RESCIND_WORKER_BIN, {"--help"});
  EXPECT_EQ(help.exit_code, 0);
  for (const char* flag :
       {"--redis", "--sandbox", "--max-in-flight", "--drain-timeout", "--metrics-listen", "STRIPE_API_KEY"}) {
    EXPECT_NE(help.out.find(flag), std::string::npos) << flag;
  }
  auto unknown = run_command(RESCIND_WORKER_BIN, {"--no-such-flag"});
  EXPECT_EQ(unknown.exit_code, 2);
  auto duration = run_command(RESCIND_WORKER_BIN, {"--sandbox", "http://127.0.0.1:1", "--drain-timeout", "5 minutes"});
  EXPECT_EQ(duration.exit_code, 2);
  EXPECT_NE(duration.err.find("--drain-timeout"), std::string::npos) << duration.err;
  auto no_key = run_command(RESCIND_WORKER_BIN, {"--redis", "redis://127.0.0.1:1"});
  EXPECT_EQ(no_key.exit_code, 2);
  EXPECT_NE(no_key.err.find("STRIPE_API_KEY"), std::string::npos) << no_key.err;
  auto down = run_command(RESCIND_WORKER_BIN, {"--redis", "redis://127.0.0.1:" + std::to_string(free_port()),
                                               "--sandbox", "http://127.0.0.1:1", "--metrics-listen", "off"});
  EXPECT_EQ(down.exit_code, 1);
  EXPECT_NE(down.err.find("cannot use Redis"), std::string::npos) << down.err;
}

TEST(Cli, CtlHelpAndErrors) {
  auto help = run_command(RESCIND_CTL_BIN, {"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("enqueue"), std::string::npos);
  EXPECT_EQ(run_command(RESCIND_CTL_BIN, {}).exit_code, 2);
  auto down =
      run_command(RESCIND_CTL_BIN, {"--redis", "redis://127.0.0.1:" + std::to_string(free_port()), "enqueue", "-"},
                  job_json("evt_x") + "\n");
  EXPECT_EQ(down.exit_code, 1);
  RedisServer redis;
  auto invalid = ctl(redis, {"enqueue", "-"}, job_json("evt_ok") + "\n{\"v\":1,\"id\":\"x\"}\n");
  EXPECT_EQ(invalid.exit_code, 2);
  EXPECT_NE(invalid.err.find("line 2: kind: is required"), std::string::npos) << invalid.err;
  EXPECT_EQ(redis.integer({"XLEN", "rescind:jobs"}), 0) << "a refused file enqueues nothing";
}

}  // namespace
}  // namespace rescind::testing
