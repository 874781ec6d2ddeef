// What time it is, injected wherever behaviour depends on it (the limiter's buckets and waits,
// a retry's age and due time, the heartbeats' schedule): tests move a manual clock
// (tests/support/manual_clock.hpp) instead of sleeping. Waiting on one is common::Timer's job.
#pragma once
#include <chrono>

namespace rescind::common {

class Clock {
 public:
  using SteadyTime = std::chrono::steady_clock::time_point;
  using SystemTime = std::chrono::system_clock::time_point;

  virtual ~Clock() = default;
  // For intervals and deadlines: never jumps.
  virtual SteadyTime steady_now() const = 0;
  // For instants other processes read or wrote: a job's first enqueue, a retry's due time.
  virtual SystemTime system_now() const = 0;

  // A wait for a time on this clock (common::Timer). Real time passes by itself: an Asio timer
  // set for what is left ends the wait. A clock that moves only when told tells its waiters.
  class Waiter {
   public:
    virtual void time_moved() = 0;

   protected:
    ~Waiter() = default;
  };
  virtual bool passes_by_itself() const { return true; }
  virtual void add_waiter(Waiter&) const {}
  virtual void remove_waiter(Waiter&) const {}
};

// The machine's steady and system clocks: what every component uses outside tests.
const Clock& real_clock();

}  // namespace rescind::common
