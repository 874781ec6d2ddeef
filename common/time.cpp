#include "common/time.hpp"

#include <cstdio>

namespace rescind::common {
namespace {

using std::chrono::milliseconds;

// The calendar arithmetic is std::chrono's (civil days, no time zone database), so there is
// no gmtime_r or timegm, whose range and whose treatment of February 31st are the C library's.
void append_utc(std::string& out, std::chrono::sys_time<milliseconds> at) {
  auto day = std::chrono::floor<std::chrono::days>(at);
  std::chrono::year_month_day date{day};
  std::chrono::hh_mm_ss<milliseconds> time{at - day};
  char buf[40];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(date.year()),
                        static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                        static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                        static_cast<int>(time.seconds().count()), static_cast<int>(time.subseconds().count()));
  out.append(buf, static_cast<std::size_t>(n));
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

void append_rfc3339_ms(std::string& out, std::chrono::system_clock::time_point at) {
  append_utc(out, std::chrono::floor<milliseconds>(at));
}

std::string format_rfc3339_ms(std::chrono::system_clock::time_point at) {
  std::string out;
  append_rfc3339_ms(out, at);
  return out;
}

std::string format_rfc3339_ms(long long unix_ms) {
  std::string out;
  append_utc(out, std::chrono::sys_time<milliseconds>(milliseconds(unix_ms)));
  return out;
}

std::optional<long long> parse_rfc3339_ms(std::string_view t, DateTimeSeparator separator) {
  // 2026-11-22T16:00:00Z is the shortest there is.
  if (t.size() < 20) return std::nullopt;
  auto digits = [&](std::size_t from, std::size_t n) {
    for (std::size_t i = from; i < from + n; ++i) {
      if (i >= t.size() || !is_digit(t[i])) return false;
    }
    return true;
  };
  auto number = [&](std::size_t from, std::size_t n) {
    int v = 0;
    for (std::size_t i = from; i < from + n; ++i) v = v * 10 + (t[i] - '0');
    return v;
  };
  bool separated = t[10] == 'T' || t[10] == 't' || (separator == DateTimeSeparator::t_or_space && t[10] == ' ');
  if (!digits(0, 4) || t[4] != '-' || !digits(5, 2) || t[7] != '-' || !digits(8, 2) || !separated || !digits(11, 2) ||
      t[13] != ':' || !digits(14, 2) || t[16] != ':' || !digits(17, 2)) {
    return std::nullopt;
  }
  std::chrono::year_month_day date{std::chrono::year(number(0, 4)), std::chrono::month(number(5, 2)),
                                   std::chrono::day(number(8, 2))};
  int hour = number(11, 2), minute = number(14, 2), second = number(17, 2);
  // A date that does not exist would still give a number, and numbers like these decide
  // whether a refund is inside its policy window.
  if (!date.ok() || hour > 23 || minute > 59 || second > 60) return std::nullopt;

  std::size_t i = 19;
  long long fraction_ms = 0;
  if (t[i] == '.') {
    std::size_t start = ++i;
    for (long long scale = 100; i < t.size() && is_digit(t[i]); ++i, scale /= 10) fraction_ms += (t[i] - '0') * scale;
    if (i == start) return std::nullopt;
  }
  int offset_minutes = 0;
  if (i < t.size() && (t[i] == 'Z' || t[i] == 'z')) {
    if (i + 1 != t.size()) return std::nullopt;
  } else if (i < t.size() && (t[i] == '+' || t[i] == '-')) {
    if (!(i + 6 == t.size() && digits(i + 1, 2) && t[i + 3] == ':' && digits(i + 4, 2) && number(i + 1, 2) < 24 &&
          number(i + 4, 2) < 60)) {
      return std::nullopt;
    }
    offset_minutes = (t[i] == '+' ? 1 : -1) * (number(i + 1, 2) * 60 + number(i + 4, 2));
  } else {
    return std::nullopt;
  }
  // Second 60 exists only as a leap second, inserted at 23:59:60 UTC (RFC 3339 section 5.7):
  // 00:59:60+01:00 is one, 12:00:60Z is not.
  if (second == 60) {
    int utc_minute_of_day = ((hour * 60 + minute - offset_minutes) % 1440 + 1440) % 1440;
    if (utc_minute_of_day != 23 * 60 + 59) return std::nullopt;
  }
  // A leap second counts as the first second of the next minute: the epoch has no room for it.
  auto days = std::chrono::sys_days(date).time_since_epoch().count();
  long long local_ms = ((static_cast<long long>(days) * 24 + hour) * 60 + minute) * 60'000LL + second * 1000LL;
  return local_ms + fraction_ms - offset_minutes * 60'000LL;
}

}  // namespace rescind::common
