// Timestamp formats the ledger and the fake providers write.
#include "sandbox/clock.hpp"

#include <cstdio>
#include <ctime>

namespace rescind::sandbox {
namespace {

std::tm utc(std::chrono::system_clock::time_point at) {
  std::time_t secs = std::chrono::system_clock::to_time_t(at);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return tm;
}

}  // namespace

void append_rfc3339_ms(std::string& out, std::chrono::system_clock::time_point at) {
  auto since_epoch = std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch());
  // to_time_t truncates toward zero; keep seconds and milliseconds consistent for any instant.
  auto secs = std::chrono::floor<std::chrono::seconds>(since_epoch);
  int ms = static_cast<int>((since_epoch - secs).count());
  std::tm tm = utc(std::chrono::system_clock::time_point(secs));
  char buf[32];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                        tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  out.append(buf, static_cast<std::size_t>(n));
}

std::string format_rfc2822(std::chrono::system_clock::time_point at) {
  std::tm tm = utc(at);
  char buf[40];
  std::size_t n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return std::string(buf, n);
}

long long unix_seconds(std::chrono::system_clock::time_point at) {
  return std::chrono::duration_cast<std::chrono::seconds>(at.time_since_epoch()).count();
}

}  // namespace rescind::sandbox
