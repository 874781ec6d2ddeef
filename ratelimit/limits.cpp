#include "ratelimit/limits.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>

namespace rescind::ratelimit {
namespace {
// What a GCRA bucket can hold (ratelimit/gcra.hpp keeps the interval and the tolerance in whole
// microseconds): strtod and from_chars also read "nan", "inf" and 1e-300, whose interval
// overflows the conversion. One call a day to a million a second covers every real quota.
constexpr double min_rate = 1.0 / 86400, max_rate = 1e6, max_burst = 1e6, max_in_flight_cap = 1e6;
}  // namespace

const Limit* Limits::find(std::string_view provider, std::string_view account) const {
  if (!account.empty()) {
    std::string key(provider);
    key += '/';
    key += account;
    if (auto it = per_account.find(key); it != per_account.end()) return &it->second;
  }
  if (auto it = per_provider.find(std::string(provider)); it != per_provider.end()) return &it->second;
  return nullptr;
}

bool parse_limit(std::string_view text, Limits& limits, std::string& error) {
  auto fail = [&](std::string why) {
    error = "'" + std::string(text) + "': " + why +
            " (expected PROVIDER[/ACCOUNT]=RATE/s[:BURST[:INFLIGHT]], e.g. stripe=100/s:20)";
    return false;
  };
  auto eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0) return fail("no PROVIDER=");
  auto who = text.substr(0, eq);
  auto spec = std::string(text.substr(eq + 1));

  Limit limit;
  char* end = nullptr;
  limit.per_second = std::strtod(spec.c_str(), &end);
  std::string_view rest(end);
  if (end == spec.c_str() || !std::isfinite(limit.per_second) || limit.per_second <= 0) {
    return fail("the rate must be a positive number");
  }
  if (rest.starts_with("/s")) {
    rest.remove_prefix(2);
  } else if (rest.starts_with("/m")) {
    limit.per_second /= 60;
    rest.remove_prefix(2);
  } else {
    return fail("the rate needs a unit, /s or /m");
  }
  if (limit.per_second < min_rate || limit.per_second > max_rate) {
    return fail("the rate must be between 1 a day and 1000000/s");
  }
  auto number = [&](std::string_view field, double& out) {
    auto [p, ec] = std::from_chars(field.data(), field.data() + field.size(), out);
    return ec == std::errc{} && p == field.data() + field.size() && std::isfinite(out) && out >= 0;
  };
  if (rest.starts_with(":")) {
    rest.remove_prefix(1);
    auto colon = rest.find(':');
    if (!number(rest.substr(0, colon), limit.burst) || limit.burst < 1 || limit.burst > max_burst) {
      return fail("the burst must be a number from 1 to 1000000");
    }
    rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon + 1);
    if (colon != std::string_view::npos) {
      double cap = 0;
      if (!number(rest, cap) || cap < 1 || cap > max_in_flight_cap || cap != std::floor(cap)) {
        return fail("the in-flight cap must be a whole number from 1 to 1000000");
      }
      limit.max_in_flight = static_cast<std::size_t>(cap);
      rest = {};
    }
  }
  if (!rest.empty()) return fail("unexpected '" + std::string(rest) + "'");
  if (who.find('/') != std::string_view::npos) {
    limits.per_account[std::string(who)] = limit;
  } else {
    limits.per_provider[std::string(who)] = limit;
  }
  return true;
}

}  // namespace rescind::ratelimit
