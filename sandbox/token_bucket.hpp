// A token bucket (rate per second, burst) for the quota fault: the shape providers'
// own rate limits have, so the worker's limiter and 429 handling meet a realistic peer.
#pragma once
#include <algorithm>
#include <chrono>

namespace rescind::sandbox {

class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;

  TokenBucket(double rate_per_s, double burst, Clock::time_point now)
      : rate_(rate_per_s), burst_(burst), tokens_(burst), updated_(now) {}

  // Takes a token and returns zero, or takes nothing and returns how long until one is there.
  std::chrono::duration<double> take(Clock::time_point now) {
    if (now > updated_) {
      std::chrono::duration<double> elapsed = now - updated_;
      tokens_ = std::min(burst_, tokens_ + elapsed.count() * rate_);
      updated_ = now;
    }
    if (tokens_ >= 1.0) {
      tokens_ -= 1.0;
      return std::chrono::duration<double>::zero();
    }
    return std::chrono::duration<double>((1.0 - tokens_) / rate_);
  }

  double rate() const { return rate_; }
  double burst() const { return burst_; }

 private:
  double rate_;
  double burst_;
  double tokens_;
  Clock::time_point updated_;
};

}  // namespace rescind::sandbox
