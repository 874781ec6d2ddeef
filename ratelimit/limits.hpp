// Provider quotas as configured: a rate, a burst and a cap on requests in flight, per
// provider with per-account overrides. Parsed from "stripe=100/s:20:50" or
// "stripe/acct_1=25/s:5" (rate per s or m, burst, in-flight cap).
#pragma once
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace rescind::ratelimit {

struct Limit {
  double per_second = 0;          // 0: unlimited
  double burst = 1;               // requests admitted at once from a full bucket
  std::size_t max_in_flight = 0;  // 0: no cap
};

enum class Scope { fleet, local };  // fleet: one bucket in Redis shared by every worker

struct Limits {
  std::map<std::string, Limit> per_provider;  // "stripe"
  std::map<std::string, Limit> per_account;   // "stripe/acct_1"
  Scope scope = Scope::fleet;
  // A step that would wait longer than this for its turn is rescheduled through the retry
  // set (without using an attempt) instead of holding a job slot: no head-of-line blocking.
  std::chrono::milliseconds max_wait{2000};

  const Limit* find(std::string_view provider, std::string_view account) const;
};

// Adds one "PROVIDER[/ACCOUNT]=RATE/s[:BURST[:INFLIGHT]]" to `limits`; false with `error`.
bool parse_limit(std::string_view text, Limits& limits, std::string& error);

}  // namespace rescind::ratelimit
