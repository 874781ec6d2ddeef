// When the consumer's upkeep heartbeats its running jobs, claims the jobs of silent consumers
// and keeps house: its decisions, apart from Redis and the sleeping, so that they can be tested
// by moving a clock. Due retries are promoted every turn; turns are promote_interval apart.
#pragma once
#include <chrono>

#include "common/clock.hpp"

namespace rescind::worker {

struct QueueConfig;

class UpkeepSchedule {
 public:
  using Time = common::Clock::SteadyTime;

  // The first claim is due at `start` (a worker that starts picks up what a dead one left
  // at once); the first heartbeat and the first housekeeping one interval later.
  UpkeepSchedule(const QueueConfig& queue, Time start);

  // Each is asked at the moment its turn comes, with what holds then (the step before it may
  // have taken a while, a job may have finished, a stop may have come), and on yes counts its
  // interval again from `now`.
  //
  // Heartbeats go on while the worker drains: its running jobs are still its own.
  bool heartbeat_due(Time now);
  // Only with room for another job, and never once stopping: a draining worker takes on nothing.
  // Without room the claim stays due, so it comes as soon as a job finishes.
  bool claim_due(Time now, bool room, bool stopping);
  // Not once stopping: a stopping worker leaves trimming and pruning to the workers that stay.
  bool housekeeping_due(Time now, bool stopping);

  // How long the upkeep sleeps after each turn.
  std::chrono::milliseconds between_turns() const { return between_turns_; }

  std::chrono::milliseconds heartbeat_every() const { return heartbeat_every_; }
  std::chrono::milliseconds claim_every() const { return claim_every_; }

 private:
  std::chrono::milliseconds heartbeat_every_, claim_every_, housekeeping_every_, between_turns_;
  Time next_heartbeat_, next_claim_, next_housekeeping_;
};

}  // namespace rescind::worker
