// Time as the sandbox reads it (one reading per request, handed to the code that needs it so
// quotas and timestamps can be tested without sleeping) and writes it in provider formats.
#pragma once
#include <chrono>
#include <string>

#include "common/time.hpp"

namespace rescind::sandbox {

struct Instant {
  std::chrono::steady_clock::time_point steady;  // for quotas: never jumps
  std::chrono::system_clock::time_point wall;    // for timestamps in answers and the ledger

  static Instant now() { return {std::chrono::steady_clock::now(), std::chrono::system_clock::now()}; }
};

// 2026-11-22T16:00:00.123Z: the house formatter, which the worker and rescindctl read back.
using common::append_rfc3339_ms;
using common::format_rfc3339_ms;
// Sun, 22 Nov 2026 16:00:00 +0000 (Twilio's date_created)
std::string format_rfc2822(std::chrono::system_clock::time_point at);
// Whole seconds since the epoch (Stripe's created)
long long unix_seconds(std::chrono::system_clock::time_point at);

}  // namespace rescind::sandbox
