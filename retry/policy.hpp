// When a job that failed is tried again, and when it stops being tried: exponential backoff
// with full jitter, never sooner than the provider's Retry-After, bounded in attempts and in
// age (a refund still retrying after days is worse than a DLQ entry an engineer can see).
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>

namespace rescind::retry {

struct Policy {
  std::chrono::milliseconds base{1000};
  std::chrono::milliseconds cap{15 * 60 * 1000};
  int max_attempts = 10;
  // Under Stripe's 24 h idempotency-key retention: every retry of a refund still carries a key
  // Stripe remembers, even when the step state could not be recorded.
  std::chrono::milliseconds max_age{23LL * 3600 * 1000};
};

// "attempts=5,base=2s,cap=10m,max_age=24h" (any subset) applied onto `policy`; false with
// `error` naming the part that is wrong.
bool parse_policy(std::string_view text, Policy& policy, std::string& error);

// Full jitter: uniform in [0, min(cap, base·2^attempt)], then at least `retry_after`.
// `attempt` is the attempt that just failed (1 for the first).
std::chrono::milliseconds backoff(const Policy& policy, int attempt,
                                  std::optional<std::chrono::milliseconds> retry_after, std::mt19937_64& random);

enum class Verdict { retry, exhausted, expired };

// Whether a job whose attempt `attempt` just failed retryably may be tried again.
Verdict next_step(const Policy& policy, int attempt, std::chrono::milliseconds age);

}  // namespace rescind::retry
