#include "jobs/job.hpp"

#include <array>
#include <utility>

#include "common/time.hpp"

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

long long timestamp_ms(std::string_view t) { return common::parse_rfc3339_ms(t).value_or(0); }

std::optional<Kind> kind_from(std::string_view text) {
  for (auto [k, name] : kind_names) {
    if (name == text) return k;
  }
  return std::nullopt;
}

}  // namespace rescind::jobs
