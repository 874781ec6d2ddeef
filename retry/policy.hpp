// When a job that failed is tried again, and when it stops being tried: exponential backoff
// with equal jitter (half fixed, half random), never sooner than the provider's Retry-After,
// bounded in age — a refund still retrying after a day is worse than a DLQ entry an engineer
// can see — and, as a backstop, in attempts.
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>

namespace rescind::retry {

// The defaults are chosen so that a provider outage of any length up to `max_age` costs
// delay, not dead letters, and so that the first attempt after an outage ends comes within
// `cap` of it. With equal jitter the delay after attempt k is at least half of
// min(cap, base·2^k) and at most all of it:
//   attempts 1–8  (ceiling 2 s … 256 s): at least 1+2+…+128 s = 255 s in total
//   attempts 9+   (ceiling the 5 min cap): at least 150 s, at most 300 s, 225 s on average
// so the age of a job at its n-th failure (n ≥ 9) is at least 255 s + (n − 9)·150 s, which
// passes 23 h = 82,800 s by attempt 560 at the latest. 600 attempts therefore never run out
// before `max_age` does: by default only age ends retries (after 23 h, never earlier; 600
// attempts would take at least 24.7 h, on average ~37 h). The cap keeps the retry load of a
// long outage modest — each waiting job calls at most once per 150–300 s, 10,000 waiting jobs
// about 44 calls/s — and its recovery quick: every job is tried within 5 min of the provider
// answering again. (The old default, full jitter with 10 attempts and a 15 min cap, gave up
// after at most 1,022 s of delays, ~8.5 min on average: a 10-minute outage dead-lettered
// most refunds.)
struct Policy {
  std::chrono::milliseconds base{1000};
  std::chrono::milliseconds cap{5 * 60 * 1000};
  int max_attempts = 600;
  // Under Stripe's 24 h idempotency-key retention: every retry of a refund still carries a key
  // Stripe remembers, even when the step state could not be recorded.
  std::chrono::milliseconds max_age{23LL * 3600 * 1000};
};

// "attempts=5,base=2s,cap=10m,max_age=24h" (any subset) applied onto `policy`; false with
// `error` naming the part that is wrong.
bool parse_policy(std::string_view text, Policy& policy, std::string& error);

// Equal jitter: with ceiling = min(cap, base·2^attempt), uniform in [ceiling/2, ceiling], then
// at least `retry_after`. The fixed half is what makes the horizon predictable (full jitter's
// delays can all be near zero); the random half still spreads a crowd of jobs that failed
// together. `attempt` is the attempt that just failed (1 for the first).
std::chrono::milliseconds backoff(const Policy& policy, int attempt,
                                  std::optional<std::chrono::milliseconds> retry_after, std::mt19937_64& random);

enum class Verdict { retry, exhausted, expired };

// Whether a job whose attempt `attempt` just failed retryably may be tried again.
Verdict next_step(const Policy& policy, int attempt, std::chrono::milliseconds age);

// A job's age at `now`: since its first enqueue (`first_at_ms`, milliseconds since the epoch:
// the envelope's first_at, kept across retries), on the system clock other workers share.
std::chrono::milliseconds age_of(long long first_at_ms, std::chrono::system_clock::time_point now);

}  // namespace rescind::retry
