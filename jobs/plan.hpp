// Which steps a job needs and in which order: plans are data (a table per kind and
// situation); the runner executes any plan by starting each step once the steps it waits
// for are done, so steps without a dependency between them run concurrently.
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "jobs/job.hpp"

namespace rescind::jobs {

// What a step does in the domain; configuration maps each role to a provider.
enum class Role : std::uint8_t { refund, cancel, restock, email, sms, staff, ticket, record };
inline constexpr std::size_t role_count = 8;

std::string_view to_string(Role role);

// Where the job stands, which decides both the steps and what people are told.
enum class Situation {
  canceled,         // order.canceled: the platform canceled it; we refund and tell
  refund_approved,  // refund.requested, eligible: cancel, refund, tell
  return_needed,    // refund.requested, already fulfilled: a ticket for the return, tell
  outside_policy,   // refund.requested, past the policy window: tell, no money moves
  disputed,         // dispute.opened: stop shipment, alert staff, ticket; no refund
  unfulfillable,    // order.unfulfillable: cancel, refund if paid, apologise
};

std::string_view to_string(Situation situation);

struct Step {
  Role role;
  std::uint32_t after = 0;  // bit i set: waits for the step at index i of the plan
};

struct Plan {
  Situation situation = Situation::canceled;
  std::vector<Step> steps;          // every dependency points to an earlier index
  bool refund_by_platform = false;  // the shop's platform holds the payment: cancel refunds

  // Whether a step with this role moves the customer's money: the refund step, or the
  // cancel when the platform refunds. The one place that decides it (the schedule's
  // "refunded yet?", the audit's amount).
  bool moves_money(Role role) const { return role == Role::refund || (role == Role::cancel && refund_by_platform); }
};

struct PlanContext {
  std::chrono::milliseconds refund_window{std::chrono::hours(24 * 30)};  // order creation → request
  bool record_configured = false;  // back-office webhooks exist: add the record step
  // The shop's platform refunds in its cancel when it holds the payment (Shopify): no refund
  // step of its own then. False for a platform whose cancel leaves the money (WooCommerce).
  bool platform_cancel_refunds = true;
};

// The plan for this job. Every kind has one; a payment the plan would refund through a
// provider is checked by the runner, not here.
Plan plan_for(const Job& job, const PlanContext& context = {});

}  // namespace rescind::jobs
