#include "retry/outcome.hpp"

#include <charconv>
#include <ctime>

namespace rescind::retry {

std::string_view to_string(Outcome::Kind kind) {
  switch (kind) {
    case Outcome::Kind::ok: return "ok";
    case Outcome::Kind::retryable: return "retryable";
    case Outcome::Kind::permanent: return "permanent";
    case Outcome::Kind::rate_limited: return "rate_limited";
  }
  return "unknown";
}

Outcome::Kind classify_status(int status) {
  if (status >= 200 && status < 300) return Outcome::Kind::ok;
  switch (status) {
    case 429: return Outcome::Kind::rate_limited;
    case 408: case 409: case 425: return Outcome::Kind::retryable;
    default: break;
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
  if (ec == std::errc{} && end == value.data() + value.size()) {
    if (seconds < 0) return std::nullopt;
    return std::chrono::seconds(seconds);
  }
  // IMF-fixdate: "Wed, 21 Oct 2015 07:28:00 GMT"
  std::tm tm{};
  std::string text(value);
  if (!strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm)) return std::nullopt;
  auto at = std::chrono::system_clock::from_time_t(timegm(&tm));
  auto delta = std::chrono::duration_cast<std::chrono::milliseconds>(at - now);
  return delta.count() > 0 ? delta : std::chrono::milliseconds(0);
}

}  // namespace rescind::retry
