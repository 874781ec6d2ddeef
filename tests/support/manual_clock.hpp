// A clock that stands still until the test moves it: limits, retries and heartbeats are then
// tested by advancing time, never by sleeping (the in-process twin of userver's MockNow).
#pragma once
#include <algorithm>
#include <vector>

#include "common/clock.hpp"

namespace rescind::testing {

class ManualClock final : public common::Clock {
 public:
  // 2026-11-22T16:00:00Z, and a steady time an hour past its epoch (so "an hour ago" exists).
  SteadyTime steady_now() const override { return steady_; }
  SystemTime system_now() const override { return system_; }

  // Both clocks move on together; every wait on this clock looks again (when the test next
  // runs the io_context).
  void advance(std::chrono::steady_clock::duration by) {
    steady_ += by;
    system_ += std::chrono::duration_cast<SystemTime::duration>(by);
    auto waiters = waiters_;  // a woken wait may leave the list at once
    for (auto* waiter : waiters) waiter->time_moved();
  }
  std::size_t waiting() const { return waiters_.size(); }

  bool passes_by_itself() const override { return false; }
  void add_waiter(Waiter& waiter) const override { waiters_.push_back(&waiter); }
  void remove_waiter(Waiter& waiter) const override { std::erase(waiters_, &waiter); }

 private:
  SteadyTime steady_ = SteadyTime{} + std::chrono::hours(1);
  SystemTime system_ = SystemTime{} + std::chrono::milliseconds(1795363200000LL);
  mutable std::vector<Waiter*> waiters_;
};

}  // namespace rescind::testing
