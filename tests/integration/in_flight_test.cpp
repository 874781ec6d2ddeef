// Jobs in flight when the world moves: the same id delivered twice, a SIGTERM whose drain
// timeout expires, Redis going away between a provider's answer and its record.
#include <gtest/gtest.h>
#include <signal.h>

#include <map>
#include <thread>

#include "tests/support/stack.hpp"

namespace rescind::testing {
namespace {

using namespace std::chrono_literals;

// job id → action (refund, email, sms, staff…) → how many times the sandbox performed it.
std::map<std::string, std::map<std::string, int>> effects_per_job(Sandbox& sandbox) {
  std::map<std::string, std::map<std::string, int>> effects;
  for (const auto& effect : sandbox.ledger()) ++effects[effect.job_id][effect.action];
  return effects;
}

// Every id of `ids` has exactly one refund, email, SMS and staff alert; the first id that
// does not is described.
std::string first_not_once(Sandbox& sandbox, const std::vector<std::string>& ids) {
  auto effects = effects_per_job(sandbox);
  for (const auto& id : ids) {
    for (const char* action : {"refund", "email", "sms", "staff"}) {
      int n = effects[id][action];
      if (n != 1) return id + ": " + action + " performed " + std::to_string(n) + " times";
    }
  }
  return {};
}

std::vector<std::string> ids_of(const std::string& prefix, int count) {
  std::vector<std::string> ids;
  for (int i = 0; i < count; ++i) ids.push_back(prefix + std::to_string(i));
  return ids;
}

// Whether a settled queue stays settled half a second later (a retry could be due).
bool settled_twice(RedisServer& redis) {
  if (!queue_settled(redis)) return false;
  std::this_thread::sleep_for(500ms);
  return queue_settled(redis);
}

TEST(Duplicates, TwoEntriesOfOneIdInOneBatchHaveOneOfEveryEffect) {
  RedisServer redis;
  Sandbox sandbox;
  // Slow messages keep the first entry running while the second is read in the same batch.
  sandbox.set_faults(R"({"sendgrid":{"delay_ms":300},"twilio":{"delay_ms":300},"slack":{"delay_ms":300}})");
  auto ids = ids_of("evt_twice_", 50);
  std::string input;
  for (const auto& id : ids) input += job_json(id) + "\n" + job_json(id) + "\n";  // a webhook delivered twice
  ASSERT_EQ(enqueue(redis, input).exit_code, 0);
  auto worker = start_worker(redis, sandbox, {"--retry", "base=20ms,cap=100ms"});
  auto base = metrics_base(*worker);

  ASSERT_TRUE(wait_until([&] { return settled_twice(redis) && sandbox.count_by_action()["staff"] >= 50; }, 60s))
      << worker->stderr_text();
  EXPECT_EQ(first_not_once(sandbox, ids), "");
  EXPECT_EQ(redis.integer({"XLEN", "rescind:dlq"}), 0);
  EXPECT_GE(metric(base, "rescind_jobs_deferred_total", {"reason=\"running_elsewhere\""}), 50)
      << "every second entry waited for the first";
  EXPECT_EQ(redis.command({"KEYS", "rescind:run:*"}).elements.size(), 0u) << "every lease was freed with its entry";
}

TEST(Duplicates, AnIdEnqueuedAgainWhileItRunsElsewhereHasNoSecondEffect) {
  RedisServer redis;
  Sandbox sandbox;
  sandbox.set_faults(R"({"twilio":{"delay_ms":1500}})");
  auto ids = ids_of("evt_again_", 20);
  std::string input;
  for (const auto& id : ids) input += job_json(id) + "\n";
  auto first = start_worker(redis, sandbox, {"--retry", "base=20ms,cap=100ms"});
  auto second = start_worker(redis, sandbox, {"--retry", "base=20ms,cap=100ms"});
  ASSERT_EQ(enqueue(redis, input).exit_code, 0);
  // Once the refunds are in the ledger, the SMS calls are out: enqueue every id again.
  ASSERT_TRUE(wait_until([&] { return sandbox.count_by_action()["refund"] == 20; }, 30s)) << first->stderr_text();
  ASSERT_EQ(enqueue(redis, input).exit_code, 0);

  ASSERT_TRUE(wait_until([&] { return settled_twice(redis) && sandbox.count_by_action()["sms"] >= 20; }, 60s))
      << first->stderr_text() << second->stderr_text();
  EXPECT_EQ(first_not_once(sandbox, ids), "");
  EXPECT_EQ(redis.integer({"XLEN", "rescind:dlq"}), 0);
}

// SIGTERM with every job in flight and a drain timeout far shorter than the providers:
// exit 0, nothing touched after it was freed (the sanitizer build runs this too), nothing
// left pending on the stopped worker, and no message sent twice once another worker has
// finished the jobs.
void stop_mid_flight(const std::vector<std::string>& limits) {
  RedisServer redis;
  Sandbox sandbox;
  sandbox.set_faults(R"({"stripe":{"delay_ms":200},"sendgrid":{"delay_ms":2000},"twilio":{"delay_ms":2000},)"
                     R"("slack":{"delay_ms":2000}})");
  auto ids = ids_of("evt_stop_", 1000);
  std::string input;
  for (const auto& id : ids) input += job_json(id) + "\n";
  ASSERT_EQ(enqueue(redis, input).exit_code, 0);
  std::vector<std::string> args{"--drain-timeout", "1s", "--drain-grace", "10s"};
  args.insert(args.end(), limits.begin(), limits.end());
  auto stopping = start_worker(redis, sandbox, args);
  ASSERT_TRUE(wait_until(
      [&] {
        auto s = group_state(redis);
        return s && s->entries_read == 1000;
      },
      30s))
      << stopping->stderr_text();
  ASSERT_TRUE(wait_until([&] { return sandbox.count_by_action()["refund"] >= 100; }, 30s)) << stopping->stderr_text();

  stopping->signal(SIGTERM);
  auto code = stopping->wait(30s);
  ASSERT_TRUE(code.has_value()) << "still running 30 s after SIGTERM";
  EXPECT_EQ(*code, 0) << stopping->stderr_text();
  EXPECT_EQ(group_state(redis)->pending, 0)
      << "unfinished jobs are handed back at once, not left to the visibility timeout";

  sandbox.set_faults("{}");
  auto successor = start_worker(redis, sandbox, {"--visibility-timeout", "1s"});
  ASSERT_TRUE(wait_until([&] { return settled_twice(redis) && sandbox.count_by_action()["staff"] >= 1000; }, 120s))
      << successor->stderr_text();
  EXPECT_EQ(first_not_once(sandbox, ids), "");
  EXPECT_EQ(redis.integer({"XLEN", "rescind:dlq"}), 0);
}

TEST(Shutdown, DrainTimeoutWithCallsInFlightExitsCleanlyAndRepeatsNoMessage) { stop_mid_flight({}); }

TEST(Shutdown, DrainTimeoutWithStepsWaitingOnALocalLimiterExitsCleanly) {
  stop_mid_flight({"--limit", "stripe=50/s:1:5", "--limit-scope", "local"});
}

TEST(RedisAway, AStepDoneWhileRedisIsDownIsRecordedOnceItReturns) {
  RedisServer redis(/*persistent=*/true);
  Sandbox sandbox;
  sandbox.set_faults(R"({"sendgrid":{"delay_ms":2000},"twilio":{"delay_ms":2000},"slack":{"delay_ms":2000}})");
  auto worker = start_worker(redis, sandbox, {"--visibility-timeout", "10s"});
  ASSERT_EQ(enqueue(redis, job_json("evt_blip") + "\n").exit_code, 0);
  // The refund is recorded; the three messages are out, answering in 2 s: Redis goes away.
  ASSERT_TRUE(wait_until([&] { return sandbox.count_by_action()["refund"] == 1; }, 30s)) << worker->stderr_text();
  std::this_thread::sleep_for(100ms);
  redis.stop();
  std::this_thread::sleep_for(3s);  // the answers arrive while Redis is down
  redis.start();

  ASSERT_TRUE(wait_until([&] { return settled_twice(redis); }, 60s)) << worker->stderr_text();
  EXPECT_EQ(first_not_once(sandbox, {"evt_blip"}), "") << worker->stderr_text();
}

TEST(RedisAway, ARescheduleRedisDidNotTakeIsLoggedAndCounted) {
  RedisServer redis(/*persistent=*/true);
  Sandbox sandbox;
  sandbox.set_faults(R"({"stripe":{"status":503,"count":1,"delay_ms":1500}})");
  auto worker = start_worker(redis, sandbox, {"--visibility-timeout", "1s", "--retry", "base=20ms,cap=100ms"});
  auto base = metrics_base(*worker);
  ASSERT_EQ(enqueue(redis, job_json("evt_stalled") + "\n").exit_code, 0);
  ASSERT_TRUE(wait_until(
      [&] {
        auto s = group_state(redis);
        return s && s->pending == 1;
      },
      10s));
  redis.stop();  // Stripe's 503 comes while Redis is down: the reschedule cannot be written

  ASSERT_TRUE(
      wait_until([&] { return worker->stderr_text().find("\"action\":\"reschedule\"") != std::string::npos; }, 20s))
      << "a job stalled by a failed reschedule must say so: " << worker->stderr_text();
  EXPECT_EQ(metric(base, "rescind_queue_write_failures_total", {"action=\"reschedule\""}), 1);

  redis.start();
  ASSERT_TRUE(wait_until([&] { return settled_twice(redis) && sandbox.count_by_action()["staff"] == 1; }, 60s))
      << worker->stderr_text();
  EXPECT_EQ(first_not_once(sandbox, {"evt_stalled"}), "") << "claimed after the visibility timeout, finished once";
}

}  // namespace
}  // namespace rescind::testing
