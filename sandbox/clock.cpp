// Timestamp formats the fake providers write besides RFC 3339 (common/time.hpp).
#include "sandbox/clock.hpp"

#include <ctime>

namespace rescind::sandbox {

std::string format_rfc2822(std::chrono::system_clock::time_point at) {
  std::time_t secs = std::chrono::system_clock::to_time_t(at);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::size_t n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return std::string(buf, n);
}

long long unix_seconds(std::chrono::system_clock::time_point at) {
  return std::chrono::duration_cast<std::chrono::seconds>(at.time_since_epoch()).count();
}

}  // namespace rescind::sandbox
