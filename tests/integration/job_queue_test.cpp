// The queue scripts against a real redis-server: fencing, atomic moves, heartbeats, claims.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <set>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "queue/acknowledger.hpp"
#include "queue/housekeeping.hpp"
#include "queue/info.hpp"
#include "queue/job_queue.hpp"
#include "queue/scripts.hpp"
#include "tests/support/stack.hpp"

namespace rescind::testing {
namespace {

using namespace std::chrono_literals;

queue::JobQueue queue_for(const std::string& consumer) { return queue::JobQueue(queue::Keys{}, "rescind", consumer); }

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

  auto a = queue_for("worker-a");
  auto b = queue_for("worker-b");
  run_sync([&](auto ex) -> boost::asio::awaitable<void> {
    redis::Connection conn(ex, redis.endpoint());
    queue::Acknowledger acks_of_a(a, conn, ex), acks_of_b(b, conn, ex);
    queue::Envelope envelope{1, 0, id, {}};
    EXPECT_EQ(co_await acks_of_a.acknowledge(id), queue::Moved::not_owner);
    EXPECT_EQ(co_await a.reschedule(conn, id, "{}", envelope, std::chrono::system_clock::now()),
              queue::Moved::not_owner);
    queue::DeadLetter letter;
    letter.job = "{}";
    letter.reason = "permanent";
    EXPECT_EQ(co_await a.dead_letter(conn, id, letter), queue::Moved::not_owner);
    EXPECT_EQ(co_await acks_of_b.acknowledge(id), queue::Moved::moved);
  });
  EXPECT_EQ(redis.integer({"ZCARD", "rescind:retry"}), 0) << "the stale worker rescheduled nothing";
  EXPECT_EQ(redis.integer({"XLEN", "rescind:dlq"}), 0) << "the stale worker dead-lettered nothing";
  EXPECT_EQ(group_state(redis)->pending, 0) << "the owner's ack went through";
}

// One run of a job id at a time: the lease names the entry that runs it.
TEST(JobQueue, TheLeaseOfAJobIdAdmitsOneEntryAndGoesWithIt) {
  RedisServer redis;
  auto first = deliver(redis, "worker-a");
  auto second = deliver(redis, "worker-a");
  redis.command({"HSET", "rescind:job:evt_1", "refund", "done:re_1"});
  auto a = queue_for("worker-a");
  queue::Begun taken, busy, again, after;
  run_sync([&](auto ex) -> boost::asio::awaitable<void> {
    redis::Connection conn(ex, redis.endpoint());
    taken = co_await a.begin(conn, first, "rescind:run:evt_1", "rescind:job:evt_1", 30s);
    busy = co_await a.begin(conn, second, "rescind:run:evt_1", "rescind:job:evt_1", 30s);
    again = co_await a.begin(conn, first, "rescind:run:evt_1", "rescind:job:evt_1", 30s);  // a claim of the same entry
    queue::Acknowledger acks(a, conn, ex);
    EXPECT_EQ(co_await acks.acknowledge(first, "rescind:run:evt_1"), queue::Moved::moved);
    after = co_await a.begin(conn, second, "rescind:run:evt_1", "rescind:job:evt_1", 30s);
  });
  ASSERT_EQ(taken.state, queue::Begun::State::leased) << taken.error;
  ASSERT_EQ(taken.steps.size(), 1u) << "the step states come with the lease";
  EXPECT_EQ(taken.steps[0].first, "refund");
  EXPECT_EQ(taken.steps[0].second, "done:re_1");
  EXPECT_EQ(busy.state, queue::Begun::State::busy) << "a second entry of the id must not run beside the first";
  EXPECT_GT(busy.busy_for.count(), 0);
  EXPECT_LE(busy.busy_for.count(), 30000);
  EXPECT_EQ(again.state, queue::Begun::State::leased) << "the entry holding the lease may take it again";
  EXPECT_EQ(after.state, queue::Begun::State::leased) << "the ack freed the lease for the next entry";
  EXPECT_EQ(redis.command({"GET", "rescind:run:evt_1"}).text, second);
}

TEST(JobQueue, AStaleCompletionLeavesTheLeaseToTheNewOwner) {
  RedisServer redis;
  auto id = deliver(redis, "worker-a");
  redis.command({"SET", "rescind:run:evt_1", id, "PX", "30000"});
  redis.command({"XCLAIM", "rescind:jobs", "rescind", "worker-b", "0", id});  // b took it over
  auto a = queue_for("worker-a");
  auto b = queue_for("worker-b");
  run_sync([&](auto ex) -> boost::asio::awaitable<void> {
    redis::Connection conn(ex, redis.endpoint());
    queue::Envelope envelope{1, 0, id, {}};
    EXPECT_EQ(
        co_await a.reschedule(conn, id, "{}", envelope, std::chrono::system_clock::now(), true, "rescind:run:evt_1"),
        queue::Moved::not_owner);
    EXPECT_EQ(redis.command({"GET", "rescind:run:evt_1"}).text, id) << "the stale worker kept its hands off the lease";
    EXPECT_EQ(
        co_await b.reschedule(conn, id, "{}", envelope, std::chrono::system_clock::now(), true, "rescind:run:evt_1"),
        queue::Moved::moved);
  });
  EXPECT_EQ(redis.integer({"EXISTS", "rescind:run:evt_1"}), 0) << "a rescheduled job no longer runs: its lease is free";
}

TEST(RedisConnection, ARedisThatNeverAnswersFailsTheRequestInsteadOfHangingIt) {
  // A listener that accepts connections (the kernel does, from its backlog) and never replies.
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(listener, 8), 0);
  socklen_t len = sizeof addr;
  getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  redis::Endpoint silent;
  silent.port = std::to_string(ntohs(addr.sin_port));

  boost::system::error_code error;
  run_sync([&](auto ex) -> boost::asio::awaitable<void> {
    redis::Connection conn(ex, silent, std::chrono::milliseconds(300));
    redis::Request ping;
    ping.push("PING");
    auto result = co_await conn.exec(std::move(ping));
    error = result.error;
  });
  close(listener);
  EXPECT_EQ(error, boost::asio::error::timed_out);
}

TEST(JobQueue, BatchedAcksAreFencedEntryByEntry) {
  RedisServer redis;
  auto mine = deliver(redis, "a");
  auto taken = deliver(redis, "a");
  auto also_mine = deliver(redis, "a");
  redis.command({"XCLAIM", "rescind:jobs", "rescind", "b", "0", taken});
  auto a = queue_for("a");
  std::vector<queue::Moved> results(3, queue::Moved::failed);
  run_sync([&](auto ex) -> boost::asio::awaitable<void> {
    redis::Connection conn(ex, redis.endpoint());
    queue::Acknowledger acknowledger(a, conn, ex);
    // Three acks asked for in the same turn of the loop go out as one script call.
    int done = 0;
    std::vector<std::string> ids{mine, taken, also_mine};
    for (std::size_t i = 0; i < ids.size(); ++i) {
      boost::asio::co_spawn(ex, acknowledger.acknowledge(ids[i]), [&, i](std::exception_ptr, queue::Moved f) {
        results[i] = f;
        ++done;
      });
    }
    while (done < 3) {
      boost::asio::steady_timer tick(ex, std::chrono::milliseconds(1));
      co_await tick.async_wait(boost::asio::use_awaitable);
    }
  });
  EXPECT_EQ(results, (std::vector<queue::Moved>{queue::Moved::moved, queue::Moved::not_owner, queue::Moved::moved}));
  auto pending = queue::pending_from(redis.command({"XPENDING", "rescind:jobs", "rescind", "-", "+", "10"}));
  ASSERT_EQ(pending.size(), 1u) << "only b's entry is still pending";
  EXPECT_EQ(pending[0].id, taken);
}

TEST(JobQueue, RescheduleThenPromoteCarriesTheEnvelope) {
  RedisServer redis;
  auto id = deliver(redis, "w", R"({"id":"evt_1"})");
  auto jobs = queue_for("w");
  auto now = std::chrono::system_clock::now();
  run_sync([&](auto ex) -> boost::asio::awaitable<void> {
    redis::Connection conn(ex, redis.endpoint());
    queue::Envelope envelope{3, 1700000000000, "1700000000000-7", {}};
    EXPECT_EQ(co_await jobs.reschedule(conn, id, R"({"id":"evt_1"})", envelope, now + 10s), queue::Moved::moved);
    EXPECT_EQ(co_await jobs.promote_due(conn, now, 100), 0) << "not due yet";
    EXPECT_EQ(co_await jobs.promote_due(conn, now + 11s, 100), 1);
    EXPECT_EQ(co_await jobs.promote_due(conn, now + 11s, 100), 0) << "promoted once only";
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
  auto jobs = queue_for("w");
  run_sync([&](auto ex) -> boost::asio::awaitable<void> {
    redis::Connection conn(ex, redis.endpoint());
    EXPECT_EQ(co_await jobs.promote_due(conn, std::chrono::system_clock::now(), 10), 1);
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
  auto a = queue_for("a");
  auto c = queue_for("c");
  std::vector<std::pair<redis::StreamEntry, long long>> claimed;
  // Both entries must have aged past the claim threshold: idle time is what is under test.
  ASSERT_TRUE(wait_until(
      [&] {
        return redis.command({"XPENDING", "rescind:jobs", "rescind", "IDLE", "300", "-", "+", "10"}).elements.size() ==
               2;
      },
      5s));
  redis.command({"SET", "rescind:run:job-a", mine, "PX", "30000"});
  redis.command({"SET", "rescind:run:job-b", theirs, "PX", "30000"});
  run_sync([&](auto ex) -> boost::asio::awaitable<void> {
    redis::Connection conn(ex, redis.endpoint());
    std::vector<queue::Running> running{{mine, "rescind:run:job-a"}, {theirs, "rescind:run:job-b"}};
    co_await a.heartbeat(conn, running, 60s);  // resets only `mine`, and only its lease
    claimed = co_await c.claim_idle(conn, 200ms, 10);
  });
  ASSERT_EQ(claimed.size(), 1u) << "only the entry nobody heartbeated is claimed";
  EXPECT_GT(redis.integer({"PTTL", "rescind:run:job-a"}), 10000) << "the lease went with its entry's heartbeat";
  EXPECT_LE(redis.integer({"PTTL", "rescind:run:job-b"}), 30000) << "a lease of an entry we do not own is left alone";
  EXPECT_EQ(claimed[0].first.id, theirs);
  EXPECT_EQ(claimed[0].second, 2) << "delivered twice now";
  auto owner = queue::pending_from(redis.command({"XPENDING", "rescind:jobs", "rescind", mine, mine, "1"}));
  ASSERT_EQ(owner.size(), 1u);
  EXPECT_EQ(owner[0].consumer, "a");
}

// The fence itself: the one Lua function that finish, acknowledge and heartbeat start with.
TEST(JobQueue, TheOwnershipCheckAdmitsOnlyTheConsumerHoldingTheEntryNow) {
  RedisServer redis;
  auto held = deliver(redis, "a");
  auto acked = deliver(redis, "a");
  redis.command({"XACK", "rescind:jobs", "rescind", acked});
  auto owns = [&](const std::string& consumer, const std::string& id) {
    auto probe = queue::scripts::owns() + "return owns(KEYS[1], ARGV[1], ARGV[2], ARGV[3]) and 1 or 0";
    return redis.integer({"EVAL", probe, "1", "rescind:jobs", "rescind", consumer, id}) == 1;
  };
  EXPECT_TRUE(owns("a", held));
  EXPECT_FALSE(owns("b", held)) << "another consumer's entry";
  EXPECT_FALSE(owns("a", acked)) << "an acknowledged entry is nobody's";
  EXPECT_FALSE(owns("a", "1-0")) << "an id never delivered";
  redis.command({"XCLAIM", "rescind:jobs", "rescind", "b", "0", held});
  EXPECT_FALSE(owns("a", held)) << "claimed away: the old owner's result must be dropped";
  EXPECT_TRUE(owns("b", held));
}

TEST(Housekeeping, TrimsOnlyAcknowledgedHistory) {
  RedisServer redis;
  redis.command({"XGROUP", "CREATE", "rescind:jobs", "rescind", "0", "MKSTREAM"});
  std::vector<std::string> ids;
  for (int i = 0; i < 10; ++i) ids.push_back(redis.command({"XADD", "rescind:jobs", "*", "job", "{}"}).text);
  redis.command({"XREADGROUP", "GROUP", "rescind", "a", "COUNT", "5", "STREAMS", "rescind:jobs", ">"});
  redis.command({"XACK", "rescind:jobs", "rescind", ids[0], ids[1], ids[2]});  // 3 and 4 stay pending

  queue::Housekeeping housekeeping(queue::Keys{}, "rescind");
  std::optional<long long> trimmed;
  run_sync([&](auto ex) -> boost::asio::awaitable<void> {
    redis::Connection conn(ex, redis.endpoint());
    trimmed = co_await housekeeping.trim_jobs(conn);
  });
  EXPECT_EQ(trimmed, 3);
  auto left = stream_entries(redis, "rescind:jobs");
  ASSERT_EQ(left.size(), 7u) << "pending (3, 4) and undelivered (5-9) entries stay";
  EXPECT_EQ(left[0]["_id"], ids[3]);

  // A second group that has read nothing yet needs the whole stream.
  redis.command({"XGROUP", "CREATE", "rescind:jobs", "audit", "0"});
  run_sync([&](auto ex) -> boost::asio::awaitable<void> {
    redis::Connection conn(ex, redis.endpoint());
    trimmed = co_await housekeeping.trim_jobs(conn);
  });
  EXPECT_EQ(trimmed, 0);
}

// Retention is measured from the caller's clock, not the machine's: a letter written 61
// minutes before `now` goes, one written 59 minutes before stays.
TEST(Housekeeping, DlqRetentionRemovesOnlyOldEntries) {
  RedisServer redis;
  auto now = std::chrono::system_clock::time_point(std::chrono::milliseconds(1795363200000LL));
  auto id_at = [&](std::chrono::minutes before) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>((now - before).time_since_epoch()).count();
    return std::to_string(ms) + "-0";
  };
  redis.command({"XADD", "rescind:dlq", "1000-0", "job", "{}", "reason", "permanent"});  // 1970
  redis.command({"XADD", "rescind:dlq", id_at(std::chrono::minutes(61)), "job", "{}", "reason", "permanent"});
  redis.command({"XADD", "rescind:dlq", id_at(std::chrono::minutes(59)), "job", "{}", "reason", "permanent"});
  queue::Housekeeping housekeeping(queue::Keys{}, "rescind");
  std::optional<long long> expired;
  run_sync([&](auto ex) -> boost::asio::awaitable<void> {
    redis::Connection conn(ex, redis.endpoint());
    expired = co_await housekeeping.expire_dead_letters(conn, std::chrono::hours(1), now);
  });
  EXPECT_EQ(expired, 2);
  EXPECT_EQ(redis.integer({"XLEN", "rescind:dlq"}), 1);
  EXPECT_EQ(redis.command({"XRANGE", "rescind:dlq", "-", "+"}).elements.at(0).elements.at(0).text,
            id_at(std::chrono::minutes(59)));
}

TEST(Housekeeping, RemovesIdleConsumersOnlyWhenTheyOwnNothing) {
  RedisServer redis;
  deliver(redis, "owner");  // owns one pending entry
  redis.command({"XGROUP", "CREATECONSUMER", "rescind:jobs", "rescind", "gone"});
  redis.command({"XGROUP", "CREATECONSUMER", "rescind:jobs", "rescind", "me"});
  queue::Housekeeping housekeeping(queue::Keys{}, "rescind");
  std::vector<std::string> removed;
  run_sync([&](auto ex) -> boost::asio::awaitable<void> {
    redis::Connection conn(ex, redis.endpoint());
    removed = co_await housekeeping.remove_idle_consumers(conn, std::chrono::milliseconds(0), "me");
  });
  EXPECT_EQ(removed, std::vector<std::string>{"gone"});
  std::set<std::string> left;
  for (const auto& c : queue::consumers_from(redis.command({"XINFO", "CONSUMERS", "rescind:jobs", "rescind"})))
    left.insert(c.name);
  EXPECT_EQ(left, (std::set<std::string>{"owner", "me"}));
}

// Housekeeping and `rescindctl consumers prune` delete through one script, which looks again
// at the moment of the delete: a consumer listed as idle may have read since.
TEST(Housekeeping, TheConsumerIsCheckedAgainAtTheDelete) {
  RedisServer redis;
  deliver(redis, "owner");
  redis.command({"XGROUP", "CREATECONSUMER", "rescind:jobs", "rescind", "quiet"});
  auto remove = [&](const std::string& consumer, const std::string& min_idle_ms) {
    return redis
        .command({"EVAL", queue::scripts::remove_consumer(), "1", "rescind:jobs", "rescind", consumer, min_idle_ms})
        .text;
  };
  EXPECT_EQ(remove("owner", "0"), "owns") << "deleting it would strand its pending entry";
  EXPECT_EQ(remove("quiet", "3600000"), "active") << "not idle for long enough";
  EXPECT_EQ(remove("nobody", "0"), "gone");
  EXPECT_EQ(remove("quiet", "0"), "deleted");
  EXPECT_EQ(remove("quiet", "0"), "gone");
}

}  // namespace
}  // namespace rescind::testing
