#include "retry/policy.hpp"

#include <algorithm>
#include <charconv>

#include "common/duration.hpp"

namespace rescind::retry {

bool parse_policy(std::string_view text, Policy& policy, std::string& error) {
  while (!text.empty()) {
    auto comma = text.find(',');
    auto part = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    auto eq = part.find('=');
    if (eq == std::string_view::npos) {
      error = "'" + std::string(part) + "' is not name=value";
      return false;
    }
    auto name = part.substr(0, eq), value = part.substr(eq + 1);
    if (name == "attempts") {
      int n = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc{} || end != value.data() + value.size() || n < 1 || n > 1000) {
        error = "attempts must be 1-1000, got '" + std::string(value) + "'";
        return false;
      }
      policy.max_attempts = n;
      continue;
    }
    auto duration = common::parse_duration(value);
    if (!duration) {
      error = std::string(name) + ": '" + std::string(value) + "' is not a duration like 250ms, 30s, 5m";
      return false;
    }
    if (name == "base")
      policy.base = *duration;
    else if (name == "cap")
      policy.cap = *duration;
    else if (name == "max_age")
      policy.max_age = *duration;
    else {
      error = "unknown setting '" + std::string(name) + "' (attempts, base, cap, max_age)";
      return false;
    }
  }
  if (policy.base.count() <= 0 || policy.cap < policy.base) {
    error = "base must be positive and cap at least base";
    return false;
  }
  return true;
}

std::chrono::milliseconds backoff(const Policy& policy, int attempt,
                                  std::optional<std::chrono::milliseconds> retry_after, std::mt19937_64& random) {
  // base·2^attempt, doubled only until it reaches the cap: no overflow for any attempt.
  long long ceiling = policy.base.count();
  for (int i = 0; i < attempt && ceiling < policy.cap.count(); ++i) ceiling *= 2;
  ceiling = std::min<long long>(ceiling, policy.cap.count());
  ceiling = std::max<long long>(ceiling, 0);
  std::uniform_int_distribution<long long> pick(ceiling / 2, ceiling);
  std::chrono::milliseconds delay(pick(random));
  if (retry_after && *retry_after > delay) delay = *retry_after;
  return delay;
}

Verdict next_step(const Policy& policy, int attempt, std::chrono::milliseconds age) {
  if (attempt >= policy.max_attempts) return Verdict::exhausted;
  if (age >= policy.max_age) return Verdict::expired;
  return Verdict::retry;
}

std::chrono::milliseconds age_of(long long first_at_ms, std::chrono::system_clock::time_point now) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) -
         std::chrono::milliseconds(first_at_ms);
}

}  // namespace rescind::retry
