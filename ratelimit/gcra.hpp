// The generic cell rate algorithm as a pure function of time: a token bucket held as one
// number, the theoretical arrival time (TAT). Used in process (local scope) and mirrored
// by the fleet-wide Lua script, so both admit exactly the same sequence.
#pragma once
#include <algorithm>
#include <chrono>

namespace rescind::ratelimit {

struct Gcra {
  using Micros = std::chrono::microseconds;

  Micros interval;   // 1 / rate
  Micros tolerance;  // (burst - 1) · interval: how far ahead of the schedule we may run

  static Gcra of(double per_second, double burst) {
    auto interval = Micros(static_cast<long long>(1e6 / per_second));
    return {interval, Micros(static_cast<long long>((burst - 1) * static_cast<double>(interval.count())))};
  }

  // Reserves the next slot if it starts within `max_wait` of `now` and returns how long to
  // wait for it (zero: go now). A slot further away is not reserved: `admitted` is false
  // and `wait` says when to come back.
  struct Reservation {
    bool admitted;
    Micros wait;
  };
  Reservation reserve(Micros& tat, Micros now, Micros max_wait) const {
    auto base = std::max(tat, now);
    auto wait = std::max(Micros(0), base - tolerance - now);
    if (wait > max_wait) return {false, wait};
    tat = base + interval;
    return {true, wait};
  }
};

}  // namespace rescind::ratelimit
