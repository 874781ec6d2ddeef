#include "jobs/plan.hpp"

#include <array>
#include <initializer_list>
#include <span>

namespace rescind::jobs {
namespace {

constexpr std::array<std::string_view, role_count> role_names{
    "refund", "cancel", "restock", "email", "sms", "staff", "ticket", "record"};

enum class When { always, paid, notify_email, notify_sms, notify_staff };

struct Rule {
  Role role;
  When when;
  std::initializer_list<Role> after;  // roles (if present in the plan) this step waits for
};

// order.canceled: the money first; the customer hears about a refund only once it happened.
// Restock and the back-office record join these tables with their providers.
const Rule order_canceled[] = {
    {Role::refund, When::paid, {}},
    {Role::email, When::notify_email, {Role::refund}},
    {Role::sms, When::notify_sms, {Role::refund}},
    {Role::staff, When::notify_staff, {Role::refund}},
};

bool applies(When when, const Job& job) {
  switch (when) {
    case When::always: return true;
    case When::paid: return job.order.paid() && job.refund.amount_minor > 0;
    case When::notify_email: return job.notify.email;
    case When::notify_sms: return job.notify.sms;
    case When::notify_staff: return job.notify.staff;
  }
  return false;
}

Plan build(std::span<const Rule> rules, const Job& job) {
  Plan plan;
  for (const auto& rule : rules) {
    if (!applies(rule.when, job)) continue;
    Step step{rule.role, 0};
    for (Role dependency : rule.after) {
      for (std::size_t i = 0; i < plan.steps.size(); ++i) {
        if (plan.steps[i].role == dependency) step.after |= 1u << i;
      }
    }
    plan.steps.push_back(step);
  }
  return plan;
}

}  // namespace

std::string_view to_string(Role role) { return role_names[static_cast<std::size_t>(role)]; }

std::optional<Plan> plan_for(const Job& job, Unplannable* why) {
  switch (job.kind) {
    case Kind::order_canceled: return build(order_canceled, job);
    default:
      if (why) *why = {"kind", "has no step plan in this version (only order.canceled is handled)"};
      return std::nullopt;
  }
}

}  // namespace rescind::jobs
