// Every provider call ends as ok, retryable or permanent: a value, never an exception.
// Classification lives here so every client answers the same question the same way.
#pragma once
#include <chrono>
#include <optional>
#include <string>

namespace rescind::clients {

struct Outcome {
  // rate_limited: the provider (429) or our own limiter said "not now": retried at the
  // given time without using one of the job's attempts.
  enum class Kind { ok, retryable, permanent, rate_limited };

  Kind kind = Kind::ok;
  int status = 0;         // HTTP status; 0 when no answer came back
  std::string code;       // the provider's error code ("charge_already_refunded", "21211")
  std::string message;    // human text for logs and the dead-letter queue
  std::string reference;  // the provider's id for what it did (re_…, SM…)
  std::optional<std::chrono::milliseconds> retry_after;
  // Set on any outcome, even ok, when the provider's own budget signals say it is nearly out
  // (Shopify's query-cost bucket): pause this account that long before the next call, so
  // the 429 never comes.
  std::optional<std::chrono::milliseconds> slow_down = {};
  // ok, but the provider has not finished moving the money (Stripe pending/requires_action,
  // PayPal PENDING, Square PENDING): the step is done (never sent again), the refund is not
  // yet arrived, and `reference` is the refund id to poll.
  bool pending = false;

  bool ok() const { return kind == Kind::ok; }

  static Outcome success(std::string reference, int status = 200) {
    return {Kind::ok, status, {}, {}, std::move(reference), {}, {}};
  }
  // An answer (or a check of our own) that retrying will not change: the job goes to the DLQ.
  static Outcome permanent(int status, std::string code, std::string message) {
    return {Kind::permanent, status, std::move(code), std::move(message), {}, {}, {}};
  }
  // A failure another attempt may not meet: the job is retried with backoff.
  static Outcome retryable(int status, std::string code, std::string message) {
    return {Kind::retryable, status, std::move(code), std::move(message), {}, {}, {}};
  }
  // Not now, and not a failure: the job comes back after `retry_after` (or the default
  // wait) without using an attempt.
  static Outcome rate_limited(std::string code, std::string message,
                              std::optional<std::chrono::milliseconds> retry_after) {
    return {Kind::rate_limited, 0, std::move(code), std::move(message), {}, retry_after, {}};
  }
  // No answer: refused, reset, timed out, or the connection dropped after sending.
  static Outcome transport_failure(std::string message) {
    return {Kind::retryable, 0, "transport", std::move(message), {}, {}, {}};
  }
  // The worker is stopping and did not make the call: the job goes back to the queue at
  // once, without using an attempt, for another worker to run the step.
  static Outcome not_sent() {
    return {Kind::rate_limited,           0, "not_sent", "the worker is stopping: the call was not made", {},
            std::chrono::milliseconds(0), {}};
  }
  bool was_not_sent() const { return kind == Kind::rate_limited && code == "not_sent"; }
};

std::string_view to_string(Outcome::Kind kind);

// The status-based guess, before a provider's own signals (error codes, Stripe-Should-Retry)
// refine it: 429 is rate_limited; 408, 409, 425 and 5xx retryable; other 4xx permanent.
Outcome::Kind classify_status(int status);

// Retry-After: delta seconds or an HTTP date, at most an hour; nullopt if absent or unreadable.
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::chrono::system_clock::time_point now);

}  // namespace rescind::clients
