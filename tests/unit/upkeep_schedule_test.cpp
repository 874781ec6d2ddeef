// The consumer's upkeep schedule on a clock the test moves: when heartbeats, claims and
// housekeeping are due, what stopping and a full worker change, and the floors under short
// visibility timeouts. No sleeping, no Redis.
#include <gtest/gtest.h>

#include <vector>

#include "tests/support/manual_clock.hpp"
#include "worker/config.hpp"
#include "worker/upkeep_schedule.hpp"

namespace rescind::worker {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

constexpr bool room = true, full = false, stopping = true, serving = false;

QueueConfig queue_config(milliseconds visibility_timeout, milliseconds housekeeping_interval = 60s) {
  QueueConfig queue;
  queue.visibility_timeout = visibility_timeout;
  queue.housekeeping_interval = housekeeping_interval;
  queue.promote_interval = 500ms;
  return queue;
}

// When, counted from now, the upkeep's turns over `span` would heartbeat, claim and keep
// house, asked in the upkeep's order, with room for more jobs throughout.
struct Turns {
  std::vector<milliseconds> heartbeats, claims, housekeeping;
};

Turns turns_over(testing::ManualClock& clock, UpkeepSchedule& schedule, milliseconds span, bool is_stopping = false) {
  Turns turns;
  auto start = clock.steady_now();
  for (;;) {
    auto at = std::chrono::duration_cast<milliseconds>(clock.steady_now() - start);
    if (at > span) break;
    if (schedule.heartbeat_due(clock.steady_now())) turns.heartbeats.push_back(at);
    if (schedule.claim_due(clock.steady_now(), room, is_stopping)) turns.claims.push_back(at);
    if (schedule.housekeeping_due(clock.steady_now(), is_stopping)) turns.housekeeping.push_back(at);
    clock.advance(schedule.between_turns());
  }
  return turns;
}

using Times = std::vector<milliseconds>;

TEST(UpkeepSchedule, HeartbeatsComeEveryThirdOfTheVisibilityTimeout) {
  testing::ManualClock clock;
  UpkeepSchedule schedule(queue_config(30s), clock.steady_now());
  EXPECT_FALSE(schedule.heartbeat_due(clock.steady_now()));  // the jobs were just read
  clock.advance(9999ms);
  EXPECT_FALSE(schedule.heartbeat_due(clock.steady_now()));
  clock.advance(1ms);
  EXPECT_TRUE(schedule.heartbeat_due(clock.steady_now()));
  EXPECT_FALSE(schedule.heartbeat_due(clock.steady_now()));  // once per interval
  clock.advance(10s);
  EXPECT_TRUE(schedule.heartbeat_due(clock.steady_now()));
}

TEST(UpkeepSchedule, TwoHeartbeatsCanBeMissedBeforeAClaimIsPossible) {
  testing::ManualClock clock;
  auto queue = queue_config(30s);
  UpkeepSchedule schedule(queue, clock.steady_now());
  auto turns = turns_over(clock, schedule, 60s);
  EXPECT_EQ(turns.heartbeats, (Times{10s, 20s, 30s, 40s, 50s, 60s}));

  // A worker that stops after its heartbeat at 10 s misses those at 20 s and 30 s while its
  // job is idle for less than the visibility timeout (nobody may claim it); the next one it
  // misses is the moment it may be claimed.
  auto last = turns.heartbeats[0];
  EXPECT_LT(turns.heartbeats[1] - last, queue.visibility_timeout);
  EXPECT_LT(turns.heartbeats[2] - last, queue.visibility_timeout);
  EXPECT_EQ(turns.heartbeats[3] - last, queue.visibility_timeout);
}

TEST(UpkeepSchedule, ClaimsComeAtStartAndEveryHalfVisibilityTimeout) {
  testing::ManualClock clock;
  UpkeepSchedule schedule(queue_config(30s), clock.steady_now());
  auto turns = turns_over(clock, schedule, 45s);
  EXPECT_EQ(turns.claims, (Times{0s, 15s, 30s, 45s}));
}

TEST(UpkeepSchedule, AFullWorkerClaimsNothingAndClaimsAsSoonAsThereIsRoom) {
  testing::ManualClock clock;
  UpkeepSchedule schedule(queue_config(30s), clock.steady_now());
  EXPECT_FALSE(schedule.claim_due(clock.steady_now(), full, serving));
  clock.advance(500ms);
  EXPECT_TRUE(schedule.claim_due(clock.steady_now(), room, serving));  // still due from the start
  clock.advance(15s);
  EXPECT_TRUE(schedule.claim_due(clock.steady_now(), room, serving));
  clock.advance(15s);
  EXPECT_FALSE(schedule.claim_due(clock.steady_now(), full, serving));
  clock.advance(7s);
  EXPECT_TRUE(schedule.claim_due(clock.steady_now(), room, serving));
  clock.advance(14999ms);  // counted from the claim, not from when it first fell due
  EXPECT_FALSE(schedule.claim_due(clock.steady_now(), room, serving));
  clock.advance(1ms);
  EXPECT_TRUE(schedule.claim_due(clock.steady_now(), room, serving));
}

TEST(UpkeepSchedule, NothingIsClaimedOrHouseKeptWhileStoppingButHeartbeatsGoOn) {
  testing::ManualClock clock;
  UpkeepSchedule schedule(queue_config(30s, 60s), clock.steady_now());
  auto turns = turns_over(clock, schedule, 120s, stopping);
  EXPECT_EQ(turns.claims, Times{});
  EXPECT_EQ(turns.housekeeping, Times{});
  EXPECT_EQ(turns.heartbeats.size(), 12u);  // the draining jobs are still this worker's
}

TEST(UpkeepSchedule, ShortVisibilityTimeoutsHeartbeatAndClaimNoMoreOftenThanEvery100ms) {
  testing::ManualClock clock;
  auto queue = queue_config(150ms);
  queue.promote_interval = 10ms;
  UpkeepSchedule schedule(queue, clock.steady_now());
  EXPECT_EQ(schedule.heartbeat_every(), 100ms);  // not 50 ms
  EXPECT_EQ(schedule.claim_every(), 100ms);      // not 75 ms
  auto turns = turns_over(clock, schedule, 300ms);
  EXPECT_EQ(turns.heartbeats, (Times{100ms, 200ms, 300ms}));
  EXPECT_EQ(turns.claims, (Times{0ms, 100ms, 200ms, 300ms}));

  // Above the floor the thirds and halves hold.
  UpkeepSchedule longer(queue_config(900ms), clock.steady_now());
  EXPECT_EQ(longer.heartbeat_every(), 300ms);
  EXPECT_EQ(longer.claim_every(), 450ms);
}

TEST(UpkeepSchedule, HousekeepingComesEveryInterval) {
  testing::ManualClock clock;
  UpkeepSchedule schedule(queue_config(30s, 60s), clock.steady_now());
  EXPECT_FALSE(schedule.housekeeping_due(clock.steady_now(), serving));  // not at start
  auto turns = turns_over(clock, schedule, 180s);
  EXPECT_EQ(turns.housekeeping, (Times{60s, 120s, 180s}));
}

TEST(UpkeepSchedule, TurnsArePromoteIntervalApart) {
  testing::ManualClock clock;
  auto queue = queue_config(30s);
  queue.promote_interval = 250ms;
  UpkeepSchedule schedule(queue, clock.steady_now());
  EXPECT_EQ(schedule.between_turns(), 250ms);
}

}  // namespace
}  // namespace rescind::worker
