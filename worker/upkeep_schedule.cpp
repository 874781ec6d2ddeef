#include "worker/upkeep_schedule.hpp"

#include <algorithm>

#include "worker/config.hpp"

namespace rescind::worker {

namespace {

// However short the visibility timeout, the upkeep does not talk to Redis more often than this.
constexpr std::chrono::milliseconds floor{100};

// True, and the next time moved to a whole interval from now, once `next` has come.
bool come(UpkeepSchedule::Time now, UpkeepSchedule::Time& next, std::chrono::milliseconds every) {
  if (now < next) return false;
  next = now + every;
  return true;
}

}  // namespace

UpkeepSchedule::UpkeepSchedule(const QueueConfig& queue, Time start)
    // Three heartbeats per visibility timeout: two can be missed before anyone may claim the job.
    : heartbeat_every_(std::max(queue.visibility_timeout / 3, floor)),
      // Twice per visibility timeout: a silent consumer's job waits at most half a timeout more.
      claim_every_(std::max(queue.visibility_timeout / 2, floor)),
      housekeeping_every_(queue.housekeeping_interval),
      between_turns_(queue.promote_interval),
      next_heartbeat_(start + heartbeat_every_),
      next_claim_(start),
      next_housekeeping_(start + housekeeping_every_) {}

bool UpkeepSchedule::heartbeat_due(Time now) { return come(now, next_heartbeat_, heartbeat_every_); }

bool UpkeepSchedule::claim_due(Time now, bool room, bool stopping) {
  return room && !stopping && come(now, next_claim_, claim_every_);
}

bool UpkeepSchedule::housekeeping_due(Time now, bool stopping) {
  return !stopping && come(now, next_housekeeping_, housekeeping_every_);
}

}  // namespace rescind::worker
