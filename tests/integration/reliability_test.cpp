// No job lost, no refund twice, a bad job never stops the fleet: faults, crashes, restarts.
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "tests/support/stack.hpp"

namespace rescind::testing {
namespace {

using namespace std::chrono_literals;

// Short backoff and visibility so the tests take seconds, not minutes.
const std::vector<std::string> fast{"--retry", "base=20ms,cap=100ms", "--visibility-timeout", "1s"};

std::vector<std::string> with(std::vector<std::string> args, const std::vector<std::string>& more) {
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

// TCP sockets on this machine whose remote end (port `port`) has closed them: CLOSE_WAIT
// (state 08) in /proc/net/tcp, whose addresses are hex "IP:PORT".
int sockets_closed_by_peer(int port) {
  std::ifstream table("/proc/net/tcp");
  std::string line;
  std::getline(table, line);  // header
  int count = 0;
  char remote_port[8];
  std::snprintf(remote_port, sizeof remote_port, ":%04X", port);
  while (std::getline(table, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state;
    fields >> slot >> local >> remote >> state;
    if (state == "08" && remote.size() > 5 && remote.substr(remote.size() - 5) == remote_port) ++count;
  }
  return count;
}

bool settled(RedisServer& redis) { return queue_settled(redis); }

TEST(Reliability, TransientFailuresAreRetriedUntilTheRefundHappensOnce) {
  RedisServer redis;
  Sandbox sandbox;
  sandbox.set_faults(R"({"stripe":{"status":503,"count":3}})");
  auto worker = start_worker(redis, sandbox, fast);
  ASSERT_EQ(enqueue(redis, job_json("evt_transient") + "\n").exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return settled(redis) && sandbox.count_by_action()["staff"] == 1; }, 30s))
      << worker->stderr_text();

  EXPECT_EQ(sandbox.per_job("refund")["evt_transient"], 1);
  auto entries = stream_entries(redis, "rescind:jobs");
  ASSERT_EQ(entries.size(), 4u) << "the first delivery and three promoted retries";
  EXPECT_EQ(entries[3]["attempt"], "4");
  EXPECT_EQ(entries[3]["origin_id"], entries[0]["_id"]);
  EXPECT_EQ(entries[3]["job"], entries[0]["job"]) << "the job travels byte for byte";
  EXPECT_EQ(redis.integer({"XLEN", "rescind:dlq"}), 0);
}

TEST(Reliability, PermanentFailureGoesToTheDeadLetterQueueWithWhy) {
  RedisServer redis;
  Sandbox sandbox;
  sandbox.set_faults(R"({"stripe":{"status":402,"count":1}})");
  auto worker = start_worker(redis, sandbox, fast);
  auto job = job_json("evt_permanent");
  ASSERT_EQ(enqueue(redis, job + "\n").exit_code, 0);
  ASSERT_TRUE(wait_until(
      [&] {
        return redis.integer({"XLEN", "rescind:dlq"}) == 1 && settled(redis);
      },
      30s))
      << worker->stderr_text();

  auto origin = stream_entries(redis, "rescind:jobs").at(0)["_id"];
  auto dead = stream_entries(redis, "rescind:dlq").at(0);
  EXPECT_EQ(dead["job"], job) << "the original job, byte for byte";
  EXPECT_EQ(dead["reason"], "permanent");
  EXPECT_EQ(dead["step"], "refund");
  EXPECT_EQ(dead["provider"], "stripe");
  EXPECT_EQ(dead["status"], "402");
  EXPECT_EQ(dead["attempt"], "1");
  EXPECT_EQ(dead["kind"], "order.canceled");
  EXPECT_EQ(dead["origin_id"], origin);
  EXPECT_FALSE(dead["worker"].empty());
  EXPECT_FALSE(dead["error"].empty());
  EXPECT_FALSE(dead["failed_at"].empty());
  EXPECT_TRUE(sandbox.ledger().empty()) << "no customer is told of a refund that failed";
}

TEST(Reliability, RetriesStopAtTheAttemptLimit) {
  RedisServer redis;
  Sandbox sandbox;
  sandbox.set_faults(R"({"stripe":{"status":503,"count":1000}})");
  auto worker = start_worker(redis, sandbox, with(fast, {"--retry-for", "order.canceled:attempts=3"}));
  ASSERT_EQ(enqueue(redis, job_json("evt_exhausted") + "\n").exit_code, 0);
  ASSERT_TRUE(wait_until(
      [&] {
        return redis.integer({"XLEN", "rescind:dlq"}) == 1 && settled(redis);
      },
      30s))
      << worker->stderr_text();
  auto dead = stream_entries(redis, "rescind:dlq").at(0);
  EXPECT_EQ(dead["reason"], "exhausted");
  EXPECT_EQ(dead["attempt"], "3");
  EXPECT_EQ(dead["status"], "503");
}

TEST(Reliability, InvalidPayloadsGoToTheDeadLetterQueueNamingTheFieldAndTheWorkerGoesOn) {
  RedisServer redis;
  Sandbox sandbox;
  auto worker = start_worker(redis, sandbox, fast);
  auto bad_currency = job_json("evt_bad_currency");
  bad_currency.replace(bad_currency.find(R"("currency":"USD")"), 16, R"("currency":"XYZ")");
  auto negative = job_json("evt_negative", -5);
  auto no_id = job_json("evt_x");
  no_id.replace(no_id.find(R"("id":"evt_x",)"), 13, "");
  std::string input = bad_currency + "\n{not json\n" + negative + "\n" + no_id + "\n" + job_json("evt_good") + "\n";
  ASSERT_EQ(enqueue(redis, input, false).exit_code, 0);
  redis.command({"XADD", "rescind:jobs", "*", "attempt", "1"});  // an entry without a job at all

  ASSERT_TRUE(wait_until(
      [&] {
        return redis.integer({"XLEN", "rescind:dlq"}) == 5 && settled(redis);
      },
      30s))
      << "dlq " << redis.integer({"XLEN", "rescind:dlq"}) << " pending " << group_state(redis)->pending << " lag "
      << group_state(redis)->lag << " retry " << redis.integer({"ZCARD", "rescind:retry"}) << "\n"
      << worker->stderr_text();
  std::set<std::string> errors;
  for (auto& dead : stream_entries(redis, "rescind:dlq")) {
    EXPECT_EQ(dead["reason"], "invalid_payload");
    errors.insert(dead["error"].substr(0, dead["error"].find(':')));
  }
  EXPECT_EQ(errors, (std::set<std::string>{"order.currency", "payload", "order.total_minor", "id", "job"}));
  EXPECT_EQ(sandbox.per_job("refund")["evt_good"], 1);
  EXPECT_TRUE(worker->running());
}

TEST(Reliability, LostAnswerAfterTheRefundStillRefundsOnce) {
  RedisServer redis;
  Sandbox sandbox;
  sandbox.set_faults(R"({"stripe":{"lose_response":1}})");
  auto worker = start_worker(redis, sandbox, fast);
  ASSERT_EQ(enqueue(redis, job_json("evt_lost") + "\n").exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return settled(redis) && sandbox.count_by_action()["staff"] == 1; }, 30s))
      << worker->stderr_text();
  EXPECT_EQ(sandbox.per_job("refund")["evt_lost"], 1) << "the retry carried the same idempotency key";
  EXPECT_GE(stream_entries(redis, "rescind:jobs").size(), 2u) << "it was retried";
}

TEST(Reliability, KilledWorkerLosesNothingAndRefundsNothingTwice) {
  RedisServer redis;
  Sandbox sandbox;
  sandbox.set_faults(R"({"twilio":{"delay_ms":20}})");  // keeps jobs in flight when the kill lands
  std::string input;
  for (int i = 0; i < 2000; ++i) input += job_json("evt_crash_" + std::to_string(i), 100 + i) + "\n";
  ASSERT_EQ(enqueue(redis, input).exit_code, 0);

  auto first = start_worker(redis, sandbox, with(fast, {"--max-in-flight", "200"}));
  ASSERT_TRUE(wait_until([&] { return sandbox.per_job("refund").size() >= 500; }, 60s)) << first->stderr_text();
  first->signal(SIGKILL);
  ASSERT_EQ(first->wait(5s), 128 + SIGKILL);
  auto pending_at_kill = group_state(redis)->pending;

  auto second = start_worker(redis, sandbox, fast);
  ASSERT_TRUE(wait_until([&] { return settled(redis); }, 120s)) << second->stderr_text().substr(0, 3000);

  auto refunds = sandbox.per_job("refund");
  EXPECT_EQ(refunds.size(), 2000u) << "every job refunded";
  for (const auto& [id, count] : refunds) ASSERT_EQ(count, 1) << id << " refunded twice";
  std::map<std::string, std::set<std::string>> told;
  for (const auto& effect : sandbox.ledger()) {
    if (effect.action != "refund") told[effect.action].insert(effect.job_id);
  }
  for (const char* action : {"email", "sms", "staff"}) EXPECT_EQ(told[action].size(), 2000u) << action;
  EXPECT_EQ(redis.integer({"XLEN", "rescind:dlq"}), 0);
  std::cout << "[ crash ] " << pending_at_kill << " entries were pending when the first worker was killed\n";
}

TEST(Reliability, RedisRestartMidRunLosesNothing) {
  RedisServer redis(true);
  Sandbox sandbox;
  sandbox.set_faults(R"({"twilio":{"delay_ms":20}})");  // 1000 jobs take a second or more: the restart lands mid-run
  std::string input;
  for (int i = 0; i < 1000; ++i) input += job_json("evt_restart_" + std::to_string(i)) + "\n";
  ASSERT_EQ(enqueue(redis, input).exit_code, 0);
  auto worker = start_worker(redis, sandbox, with(fast, {"--max-in-flight", "50"}));
  ASSERT_TRUE(wait_until([&] { return sandbox.per_job("refund").size() >= 200; }, 60s)) << worker->stderr_text();

  redis.stop();
  auto refunded_before_restart = sandbox.per_job("refund").size();
  redis.start();
  // Not a log line: jobs that retry their state writes may keep the reader from reading
  // while Redis is away, so what proves the restart landed mid-run is the ledger.
  EXPECT_LT(refunded_before_restart, 1000u) << "the restart must land while jobs are still running";
  ASSERT_TRUE(wait_until([&] { return settled(redis) && sandbox.per_job("refund").size() == 1000; }, 120s))
      << worker->stderr_text().substr(0, 3000);
  for (const auto& [id, count] : sandbox.per_job("refund")) ASSERT_EQ(count, 1) << id;
  EXPECT_TRUE(worker->running());
}

TEST(Reliability, ConnectionsTheProviderClosedWhileIdleAreNotReused) {
  RedisServer redis;
  Sandbox sandbox({"--idle-timeout", "300ms"});  // the provider drops idle keep-alive connections
  auto worker = start_worker(redis, sandbox, fast);
  std::string first;
  for (int i = 0; i < 30; ++i) first += job_json("evt_warm_" + std::to_string(i)) + "\n";
  ASSERT_EQ(enqueue(redis, first).exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return settled(redis) && sandbox.count_by_action()["staff"] == 30; }, 30s));

  // Until the provider has closed its end of the worker's pooled connections (CLOSE_WAIT).
  auto port = std::stoi(sandbox.url().substr(sandbox.url().rfind(':') + 1));
  ASSERT_TRUE(wait_until([&] { return sockets_closed_by_peer(port) > 0; }, 10s));
  std::string second;
  for (int i = 0; i < 30; ++i) second += job_json("evt_after_idle_" + std::to_string(i)) + "\n";
  ASSERT_EQ(enqueue(redis, second).exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return settled(redis) && sandbox.count_by_action()["staff"] == 60; }, 30s))
      << worker->stderr_text().substr(0, 3000);
  for (const auto& entry : stream_entries(redis, "rescind:jobs")) {
    EXPECT_EQ(entry.at("attempt"), "1") << "a closed pooled connection cost a retry";
  }
}

TEST(Reliability, AnEntryDeliveredTooOftenIsPoisonAndNeverRunsAgain) {
  RedisServer redis;
  Sandbox sandbox;
  redis.command({"XGROUP", "CREATE", "rescind:jobs", "rescind", "0", "MKSTREAM"});
  auto id = redis.command({"XADD", "rescind:jobs", "*", "job", job_json("evt_poison"), "attempt", "1"}).text;
  redis.command({"XREADGROUP", "GROUP", "rescind", "crashed", "STREAMS", "rescind:jobs", ">"});
  for (int i = 0; i < 4; ++i) redis.command({"XCLAIM", "rescind:jobs", "rescind", "crashed", "0", id});  // 5 deliveries
  auto worker = start_worker(redis, sandbox, with(fast, {"--max-deliveries", "5"}));
  ASSERT_TRUE(wait_until(
      [&] {
        return redis.integer({"XLEN", "rescind:dlq"}) == 1 && settled(redis);
      },
      30s))
      << worker->stderr_text();
  auto dead = stream_entries(redis, "rescind:dlq").at(0);
  EXPECT_EQ(dead["reason"], "poison");
  EXPECT_EQ(dead["origin_id"], id);
  EXPECT_NE(dead["error"].find("delivered 6 times"), std::string::npos) << dead["error"];
  EXPECT_TRUE(sandbox.ledger().empty()) << "a poison job is not run again";
}

// A worker that dies between a job's last step and its ack, again and again, leaves an entry
// that looks poison but has nothing left to do: it is acked, and nobody is paged to replay it.
TEST(Reliability, APoisonEntryWhoseStepsAreAllDoneIsAckedNotDeadLettered) {
  RedisServer redis;
  Sandbox sandbox;
  ASSERT_EQ(enqueue(redis, job_json("evt_done_poison") + "\n").exit_code, 0);
  {
    auto worker = start_worker(redis, sandbox, fast);
    ASSERT_TRUE(wait_until([&] { return settled(redis) && sandbox.count_by_action()["staff"] == 1; }, 30s))
        << worker->stderr_text();
  }
  auto effects = sandbox.ledger().size();
  // The same job's entry again, delivered five times to a consumer that never acked it.
  auto id = redis.command({"XADD", "rescind:jobs", "*", "job", job_json("evt_done_poison"), "attempt", "1"}).text;
  redis.command({"XREADGROUP", "GROUP", "rescind", "crashed", "STREAMS", "rescind:jobs", ">"});
  for (int i = 0; i < 4; ++i) redis.command({"XCLAIM", "rescind:jobs", "rescind", "crashed", "0", id});

  auto worker = start_worker(redis, sandbox, with(fast, {"--max-deliveries", "5"}));
  ASSERT_TRUE(wait_until([&] { return group_state(redis)->pending == 0; }, 30s)) << worker->stderr_text();
  EXPECT_EQ(redis.integer({"XLEN", "rescind:dlq"}), 0) << "a job that happened is not dead-lettered";
  EXPECT_EQ(sandbox.ledger().size(), effects) << "and not run again";
  EXPECT_EQ(redis.integer({"EXISTS", "rescind:run:evt_done_poison"}), 0) << "its lease is freed";
}

TEST(Reliability, SigtermLetsJobsInFlightFinishAndLeavesNothingPending) {
  RedisServer redis;
  Sandbox sandbox;
  sandbox.set_faults(R"({"stripe":{"delay_ms":300}})");
  std::string input;
  for (int i = 0; i < 50; ++i) input += job_json("evt_term_" + std::to_string(i)) + "\n";
  ASSERT_EQ(enqueue(redis, input).exit_code, 0);
  auto worker = start_worker(redis, sandbox, with(fast, {"--max-in-flight", "10"}));
  ASSERT_TRUE(wait_until(
      [&] {
        auto s = group_state(redis);
        return s && s->pending > 0;
      },
      10s));

  worker->signal(SIGTERM);
  EXPECT_EQ(worker->wait(15s), 0) << worker->stderr_text();
  EXPECT_EQ(group_state(redis)->pending, 0) << "every job it had taken was finished";
  auto refunds = sandbox.per_job("refund");
  EXPECT_GT(refunds.size(), 0u);
  EXPECT_LT(refunds.size(), 50u) << "it stopped reading new jobs";
  EXPECT_EQ(static_cast<long long>(refunds.size()), group_state(redis)->entries_read);
}

}  // namespace
}  // namespace rescind::testing
