// Provider quotas across a fleet: at the quota, not over it, no head-of-line blocking, and a
// 429's Retry-After honoured whether or not the provider has a --limit.
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <thread>

#include "tests/support/stack.hpp"

namespace rescind::testing {
namespace {

using namespace std::chrono_literals;

std::string refund_only_job(const std::string& id) {
  auto json = job_json(id);
  json.replace(json.find(R"("notify":["email","sms","staff"])"), 32, R"("notify":[])");
  return json;
}

TEST(RateLimit, ThreeWorkersShareOneFleetQuotaWithoutA429) {
  constexpr int rate = 40, burst = 5, jobs = 240;  // about six seconds at the quota
  RedisServer redis;
  Sandbox sandbox;
  sandbox.set_faults(R"({"stripe":{"quota_rps":40,"burst":10}})");
  std::string input;
  for (int i = 0; i < jobs; ++i) input += refund_only_job("evt_quota_" + std::to_string(i)) + "\n";
  ASSERT_EQ(enqueue(redis, input).exit_code, 0);

  std::vector<std::string> limit{"--limit", "stripe=40/s:5", "--limit-scope", "fleet", "--max-limit-wait", "10s"};
  std::vector<std::unique_ptr<Process>> workers;
  for (int w = 0; w < 3; ++w) {
    auto args = limit;
    args.insert(args.end(), {"--consumer", "w" + std::to_string(w)});
    workers.push_back(start_worker(redis, sandbox, args));
  }
  ASSERT_TRUE(wait_until(
      [&] {
        auto s = group_state(redis);
        return s && s->entries_read == jobs && s->pending == 0;
      },
      60s))
      << workers[0]->stderr_text().substr(0, 3000);

  std::vector<long long> at;
  for (const auto& effect : sandbox.ledger()) {
    if (effect.action == "refund") at.push_back(effect.at_ms);
  }
  ASSERT_EQ(at.size(), static_cast<std::size_t>(jobs));
  std::sort(at.begin(), at.end());
  std::map<long long, int> per_second;
  for (auto t : at) ++per_second[(t - at.front()) / 1000];
  int busiest = 0;
  for (auto [second, count] : per_second) busiest = std::max(busiest, count);
  double achieved = (jobs - burst) * 1000.0 / static_cast<double>(at.back() - at.front());

  EXPECT_LE(busiest, rate + burst) << "never above the quota plus the burst in any second";
  EXPECT_EQ(sandbox.summary("faults_injected"), 0) << "fleet-wide limiting provokes no 429";
  EXPECT_GE(achieved, 0.9 * rate) << "and runs close to the quota";
  std::cout << "[ quota ] allowed " << rate << "/s, achieved " << achieved << "/s ("
            << static_cast<int>(100 * achieved / rate) << " %), busiest second " << busiest << ", 429s "
            << sandbox.summary("faults_injected") << "\n";
}

TEST(RateLimit, AThrottledProviderDoesNotHoldUpTheOthers) {
  RedisServer redis;
  Sandbox sandbox;
  sandbox.set_faults(R"({"twilio":{"quota_rps":1,"burst":1}})");  // SMS nearly shut
  std::string input;
  for (int i = 0; i < 100; ++i) input += job_json("evt_hol_" + std::to_string(i)) + "\n";
  ASSERT_EQ(enqueue(redis, input).exit_code, 0);
  auto worker = start_worker(
      redis, sandbox,
      {"--limit", "twilio=1/s:1", "--limit", "stripe=200/s:20", "--max-limit-wait", "200ms", "--max-in-flight", "20"});

  // Refunds flow at Stripe's pace although each job's SMS waits for Twilio's.
  ASSERT_TRUE(wait_until([&] { return sandbox.count_by_action()["refund"] == 100; }, 30s))
      << worker->stderr_text().substr(0, 3000);
  auto counts = sandbox.count_by_action();
  EXPECT_LT(counts["sms"], 50) << "Twilio stayed throttled";
  EXPECT_EQ(redis.integer({"XLEN", "rescind:dlq"}), 0) << "being rate-limited is not a failure";
  for (const auto& entry : stream_entries(redis, "rescind:jobs")) {
    EXPECT_EQ(entry.at("attempt"), "1") << "rescheduled for quota without using an attempt";
  }
  for (const auto& member : redis.command({"ZRANGE", "rescind:retry", "0", "-1"}).elements) {
    EXPECT_EQ(member.text.substr(0, 2), "1:") << "rescheduled for quota without using an attempt";
  }
}

// Three workers that each believe they own the quota (local scope) provoke 429s: the jobs
// are rescheduled, paused and retried until every one is refunded, none lost.
TEST(RateLimit, OverQuotaJobsAreRetriedNotLost) {
  RedisServer redis;
  Sandbox sandbox;
  sandbox.set_faults(R"({"stripe":{"quota_rps":20,"burst":5}})");
  std::string input;
  for (int i = 0; i < 100; ++i) input += refund_only_job("evt_over_" + std::to_string(i)) + "\n";
  ASSERT_EQ(enqueue(redis, input).exit_code, 0);
  std::vector<std::unique_ptr<Process>> workers;
  for (int w = 0; w < 3; ++w) {
    workers.push_back(start_worker(redis, sandbox,
                                   {"--limit", "stripe=20/s:5", "--limit-scope", "local", "--max-limit-wait", "10s",
                                    "--max-in-flight", "10", "--consumer", "local" + std::to_string(w)}));
  }
  ASSERT_TRUE(wait_until([&] { return sandbox.count_by_action()["refund"] == 100; }, 60s))
      << "refunds " << sandbox.count_by_action()["refund"] << " retry set " << redis.integer({"ZCARD", "rescind:retry"})
      << " dlq " << redis.integer({"XLEN", "rescind:dlq"}) << " pending " << group_state(redis)->pending << " lag "
      << group_state(redis)->lag << "\n"
      << workers[0]->stderr_text().substr(0, 2000);
  EXPECT_GT(sandbox.summary("faults_injected"), 0) << "local scope overshoots the shared quota";
}

// Stripe answers every call with 429 and Retry-After: 2 for a while, and no --limit is given.
// A worker that honours Retry-After makes the first wave of calls (every job starts before the
// first 429 is back), then one call each time the pause ends. One that ignores it calls once
// per job each time the jobs come back from the retry set: with the storm lasting three or
// four pauses, three or four times as many calls as jobs. (One worker: a second one whose
// first call to Stripe falls just after the fleet's pause expired sends its own first wave,
// which would blur the bound; the fleet key is the next test's subject.)
TEST(RateLimit, ARetryAfterPausesAProviderThatHasNoLimit) {
  constexpr int jobs = 100;
  RedisServer redis;
  Sandbox sandbox;
  sandbox.set_faults(R"({"stripe":{"status":429,"retry_after_s":2}})");
  std::string input;
  for (int i = 0; i < jobs; ++i) input += refund_only_job("evt_storm_" + std::to_string(i)) + "\n";
  ASSERT_EQ(enqueue(redis, input).exit_code, 0);
  auto worker = start_worker(redis, sandbox);  // fleet scope, the default

  ASSERT_TRUE(wait_until([&] { return sandbox.summary("faults_injected") > 0; }, 10s)) << "the storm reached Stripe";
  std::this_thread::sleep_for(7s);  // the outage itself: its length is the scenario, not a wait for a result
  sandbox.set_faults("{}");
  long long storm_calls = sandbox.summary("faults_injected");  // every call during the storm was answered 429

  ASSERT_TRUE(wait_until(
      [&] { return sandbox.per_job("refund").size() == static_cast<std::size_t>(jobs) && queue_settled(redis, jobs); },
      60s))
      << "refunded " << sandbox.per_job("refund").size() << "\n"
      << worker->stderr_text().substr(0, 3000);
  std::cout << "[ storm ] " << jobs << " jobs, " << storm_calls << " calls answered 429 during the storm\n";
  EXPECT_LE(storm_calls, 2 * jobs) << "Retry-After paused Stripe although it has no --limit";
  for (const auto& [job, refunds] : sandbox.per_job("refund")) EXPECT_EQ(refunds, 1) << job;
  EXPECT_EQ(redis.integer({"XLEN", "rescind:dlq"}), 0) << "being rate-limited is not a failure";
}

// A pause another worker recorded in Redis holds this worker too, before it has seen a 429
// of its own: no call reaches Stripe while the fleet's pause key lives.
TEST(RateLimit, TheFleetPauseHoldsAWorkerThatSawNo429) {
  constexpr int jobs = 20;
  RedisServer redis;
  Sandbox sandbox;
  redis.command({"SET", "rescind:rl:stripe:default:pause", "1", "PX", "5000"});
  std::string input;
  for (int i = 0; i < jobs; ++i) input += refund_only_job("evt_fleet_pause_" + std::to_string(i)) + "\n";
  ASSERT_EQ(enqueue(redis, input).exit_code, 0);
  auto worker = start_worker(redis, sandbox);

  // Every job has been tried and sent back to wait for the pause's end.
  ASSERT_TRUE(wait_until(
      [&] {
        return redis.integer({"ZCARD", "rescind:retry"}) == jobs;
      },
      10s))
      << worker->stderr_text().substr(0, 3000);
  long long calls = sandbox.summary("requests");
  ASSERT_GT(redis.integer({"PTTL", "rescind:rl:stripe:default:pause"}), 0) << "observed while the pause still held";
  EXPECT_EQ(calls, 0) << "no call while the fleet is paused";

  ASSERT_TRUE(wait_until(
      [&] { return sandbox.per_job("refund").size() == static_cast<std::size_t>(jobs) && queue_settled(redis, jobs); },
      30s))
      << worker->stderr_text().substr(0, 3000);
  for (const auto& [job, refunds] : sandbox.per_job("refund")) EXPECT_EQ(refunds, 1) << job;
  EXPECT_EQ(redis.integer({"XLEN", "rescind:dlq"}), 0);
}

}  // namespace
}  // namespace rescind::testing
