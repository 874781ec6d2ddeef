// The queue scripts against a real redis-server: fencing, atomic moves, heartbeats, claims.
#include <gtest/gtest.h>

#include "retry/job_queue.hpp"
#include "tests/support/stack.hpp"

namespace rescind::testing {
namespace {

using namespace std::chrono_literals;

retry::QueueKeys keys_for(const std::string& consumer) {
  return {"rescind:jobs", "rescind:retry", "rescind:dlq", "rescind", consumer};
}

// Adds one job and delivers it to `consumer`; returns its stream id.
std::string deliver(RedisServer& redis, const std::string& consumer, const std::string& job = "{}") {
  redis.command({"XGROUP", "CREATE", "rescind:jobs", "rescind", "0", "MKSTREAM"});
  auto id = redis.command({"XADD", "rescind:jobs", "*", "job", job, "attempt", "1"}).text;
  redis.command({"XREADGROUP", "GROUP", "rescind", consumer, "COUNT", "1", "STREAMS", "rescind:jobs", ">"});
  return id;
}

TEST(JobQueue, OnlyTheOwnerMayFinishAnEntry) {
  RedisServer redis;
  auto id = deliver(redis, "worker-a");
  redis.command({"XCLAIM", "rescind:jobs", "rescind", "worker-b", "0", id});  // b took it over

  retry::JobQueue a(keys_for("worker-a")), b(keys_for("worker-b"));
  run_sync([&](auto ex) -> boost::asio::awaitable<void> {
    redis::Connection conn(ex, redis.endpoint());
    retry::Envelope envelope{1, 0, id};
    EXPECT_EQ(co_await a.acknowledge(conn, id), retry::Finished::stale);
    EXPECT_EQ(co_await a.reschedule(conn, id, "{}", envelope, std::chrono::system_clock::now()), retry::Finished::stale);
    retry::DeadLetter letter{{{"job", "{}"}, {"reason", "permanent"}}};
    EXPECT_EQ(co_await a.dead_letter(conn, id, letter), retry::Finished::stale);
    EXPECT_EQ(co_await b.acknowledge(conn, id), retry::Finished::done);
  });
  EXPECT_EQ(redis.integer({"ZCARD", "rescind:retry"}), 0) << "the stale worker rescheduled nothing";
  EXPECT_EQ(redis.integer({"XLEN", "rescind:dlq"}), 0) << "the stale worker dead-lettered nothing";
  EXPECT_EQ(group_state(redis)->pending, 0) << "the owner's ack went through";
}

TEST(JobQueue, RescheduleThenPromoteCarriesTheEnvelope) {
  RedisServer redis;
  auto id = deliver(redis, "w", R"({"id":"evt_1"})");
  retry::JobQueue queue(keys_for("w"));
  auto now = std::chrono::system_clock::now();
  run_sync([&](auto ex) -> boost::asio::awaitable<void> {
    redis::Connection conn(ex, redis.endpoint());
    retry::Envelope envelope{3, 1700000000000, "1700000000000-7"};
    EXPECT_EQ(co_await queue.reschedule(conn, id, R"({"id":"evt_1"})", envelope, now + 10s), retry::Finished::done);
    EXPECT_EQ(co_await queue.promote_due(conn, now, 100), 0) << "not due yet";
    EXPECT_EQ(co_await queue.promote_due(conn, now + 11s, 100), 1);
    EXPECT_EQ(co_await queue.promote_due(conn, now + 11s, 100), 0) << "promoted once only";
  });
  EXPECT_EQ(group_state(redis)->pending, 0);
  EXPECT_EQ(redis.integer({"ZCARD", "rescind:retry"}), 0);
  auto entries = stream_entries(redis, "rescind:jobs");
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[1]["job"], R"({"id":"evt_1"})") << "byte for byte";
  EXPECT_EQ(entries[1]["attempt"], "4");
  EXPECT_EQ(entries[1]["first_at"], "1700000000000");
  EXPECT_EQ(entries[1]["origin_id"], "1700000000000-7");
}

TEST(JobQueue, AMalformedRetryMemberGoesToTheDeadLetterQueueNotAway) {
  RedisServer redis;
  redis.command({"ZADD", "rescind:retry", "1", "garbage"});
  retry::JobQueue queue(keys_for("w"));
  run_sync([&](auto ex) -> boost::asio::awaitable<void> {
    redis::Connection conn(ex, redis.endpoint());
    EXPECT_EQ(co_await queue.promote_due(conn, std::chrono::system_clock::now(), 10), 1);
  });
  auto dlq = stream_entries(redis, "rescind:dlq");
  ASSERT_EQ(dlq.size(), 1u);
  EXPECT_EQ(dlq[0]["job"], "garbage");
  EXPECT_EQ(dlq[0]["reason"], "malformed_retry_envelope");
}

TEST(JobQueue, HeartbeatKeepsOwnEntriesAndNeverStealsOthers) {
  RedisServer redis;
  auto mine = deliver(redis, "a");
  auto theirs = deliver(redis, "b");
  retry::JobQueue a(keys_for("a")), c(keys_for("c"));
  std::vector<std::pair<redis::StreamEntry, long long>> claimed;
  // Both entries must have aged past the claim threshold: idle time is what is under test.
  ASSERT_TRUE(wait_until([&] {
    return redis.command({"XPENDING", "rescind:jobs", "rescind", "IDLE", "300", "-", "+", "10"}).elements.size() == 2;
  }, 5s));
  run_sync([&](auto ex) -> boost::asio::awaitable<void> {
    redis::Connection conn(ex, redis.endpoint());
    std::vector<std::string> ids{mine, theirs};
    co_await a.extend(conn, ids);  // resets only `mine`
    claimed = co_await c.claim_idle(conn, 200ms, 10);
  });
  ASSERT_EQ(claimed.size(), 1u) << "only the entry nobody heartbeated is claimed";
  EXPECT_EQ(claimed[0].first.id, theirs);
  EXPECT_EQ(claimed[0].second, 2) << "delivered twice now";
  auto owner = redis.command({"XPENDING", "rescind:jobs", "rescind", mine, mine, "1"});
  EXPECT_EQ(owner.elements[0].elements[1].text, "a");
}

}  // namespace
}  // namespace rescind::testing
