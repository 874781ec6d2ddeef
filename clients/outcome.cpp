#include "clients/outcome.hpp"

#include <algorithm>
#include <charconv>
#include <ctime>

namespace rescind::clients {

std::string_view to_string(Outcome::Kind kind) {
  switch (kind) {
    case Outcome::Kind::ok:
      return "ok";
    case Outcome::Kind::retryable:
      return "retryable";
    case Outcome::Kind::permanent:
      return "permanent";
    case Outcome::Kind::rate_limited:
      return "rate_limited";
  }
  return "unknown";
}

Outcome::Kind classify_status(int status) {
  if (status >= 200 && status < 300) return Outcome::Kind::ok;
  switch (status) {
    case 429:
      return Outcome::Kind::rate_limited;
    case 408:
    case 409:
    case 425:
      return Outcome::Kind::retryable;
    default:
      break;
  }
  if (status >= 500) return Outcome::Kind::retryable;
  return Outcome::Kind::permanent;
}

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::chrono::system_clock::time_point now) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  if (value.empty()) return std::nullopt;
  long long seconds = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  // Capped at an hour: a provider's number, however large, must neither overflow our clocks
  // nor park a job past its retry horizon unseen.
  constexpr auto most = std::chrono::milliseconds(std::chrono::hours(1));
  if (ec == std::errc{} && end == value.data() + value.size()) {
    if (seconds < 0) return std::nullopt;
    return seconds > 3600 ? most : std::chrono::milliseconds(std::chrono::seconds(seconds));
  }
  // IMF-fixdate: "Wed, 21 Oct 2015 07:28:00 GMT"
  std::tm tm{};
  std::string text(value);
  if (!strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm)) return std::nullopt;
  // In whole seconds first: a far-future date would overflow the clock's nanoseconds.
  long long delta_s =
      static_cast<long long>(timegm(&tm)) - static_cast<long long>(std::chrono::system_clock::to_time_t(now));
  return std::chrono::milliseconds(std::chrono::seconds(std::clamp(delta_s, 0LL, 3600LL)));
}

}  // namespace rescind::clients
