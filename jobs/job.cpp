#include "jobs/job.hpp"

#include <array>
#include <utility>

namespace rescind::jobs {
namespace {
constexpr std::array<std::pair<Kind, std::string_view>, 4> kind_names{{
    {Kind::order_canceled, "order.canceled"},
    {Kind::refund_requested, "refund.requested"},
    {Kind::dispute_opened, "dispute.opened"},
    {Kind::order_unfulfillable, "order.unfulfillable"},
}};
}  // namespace

std::string_view to_string(Kind kind) {
  for (auto [k, name] : kind_names) {
    if (k == kind) return name;
  }
  return "unknown";
}

long long timestamp_ms(std::string_view t) {
  auto number = [&](std::size_t from, std::size_t n) {
    long long v = 0;
    for (std::size_t i = from; i < from + n && i < t.size(); ++i) v = v * 10 + (t[i] - '0');
    return v;
  };
  if (t.size() < 19) return 0;
  // Days from civil (Howard Hinnant's algorithm): no time zone database needed.
  long long y = number(0, 4), m = number(5, 2), d = number(8, 2);
  y -= m <= 2;
  long long era = (y >= 0 ? y : y - 399) / 400;
  long long yoe = y - era * 400;
  long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  long long days = era * 146097 + doe - 719468;
  long long ms = ((days * 24 + number(11, 2)) * 60 + number(14, 2)) * 60000 + number(17, 2) * 1000;
  std::size_t i = 19;
  if (i < t.size() && t[i] == '.') {
    long long scale = 100;
    for (++i; i < t.size() && t[i] >= '0' && t[i] <= '9'; ++i, scale /= 10) ms += (t[i] - '0') * scale;
  }
  if (i < t.size() && (t[i] == '+' || t[i] == '-')) {
    long long offset = (number(i + 1, 2) * 60 + number(i + 4, 2)) * 60000;
    ms += t[i] == '+' ? -offset : offset;
  }
  return ms;
}

std::optional<Kind> kind_from(std::string_view text) {
  for (auto [k, name] : kind_names) {
    if (name == text) return k;
  }
  return std::nullopt;
}

}  // namespace rescind::jobs
