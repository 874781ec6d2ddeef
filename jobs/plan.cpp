#include "jobs/plan.hpp"

#include <array>
#include <initializer_list>
#include <span>

namespace rescind::jobs {
namespace {

constexpr std::array<std::string_view, role_count> role_names{"refund", "cancel", "restock", "email",
                                                              "sms",    "staff",  "ticket",  "record"};

enum class When {
  always,
  refund_via_provider,
  platform_refunds,
  notify_email,
  notify_sms,
  notify_staff,
  unfulfilled,
  record
};

struct Rule {
  Role role;
  When when;
  std::initializer_list<Role> after;  // roles (if present in the plan) this step waits for
};

// The customer hears about a refund only once it happened; a cancellation at the platform
// (which restocks) comes before money moves, so a shipped order is never refunded blind.
const Rule canceled[] = {
    {Role::refund, When::refund_via_provider, {}}, {Role::email, When::notify_email, {Role::refund}},
    {Role::sms, When::notify_sms, {Role::refund}}, {Role::staff, When::notify_staff, {Role::refund}},
    {Role::record, When::record, {Role::refund}},
};
const Rule refund_approved[] = {
    {Role::cancel, When::always, {}},
    {Role::refund, When::refund_via_provider, {Role::cancel}},
    {Role::email, When::notify_email, {Role::cancel, Role::refund}},
    {Role::sms, When::notify_sms, {Role::cancel, Role::refund}},
    {Role::staff, When::notify_staff, {Role::cancel, Role::refund}},
    {Role::record, When::record, {Role::cancel, Role::refund}},
};
const Rule return_needed[] = {
    {Role::ticket, When::always, {}},
    {Role::email, When::notify_email, {Role::ticket}},
};
const Rule outside_policy[] = {
    {Role::email, When::notify_email, {}},
};
const Rule disputed[] = {
    {Role::cancel, When::unfulfilled, {}},
    {Role::staff, When::always, {}},
    {Role::ticket, When::always, {}},
};
const Rule unfulfillable[] = {
    {Role::cancel, When::always, {}},
    {Role::refund, When::refund_via_provider, {Role::cancel}},
    {Role::email, When::notify_email, {Role::cancel, Role::refund}},
    {Role::sms, When::notify_sms, {Role::cancel, Role::refund}},
    {Role::staff, When::notify_staff, {Role::cancel}},
    {Role::record, When::record, {Role::cancel, Role::refund}},
};

bool money_to_return(const Job& job) { return job.order.paid() && job.refund.amount_minor > 0; }
// The platform holds the payment and its cancel returns it: the cancel step is the refund.
bool refunded_by_cancel(const Job& job, const PlanContext& context) {
  return job.payment.provider == job.shop.platform && context.platform_cancel_refunds;
}

bool applies(When when, const Job& job, const PlanContext& context) {
  switch (when) {
    case When::always:
      return true;
    case When::refund_via_provider:
      return money_to_return(job) && !refunded_by_cancel(job, context);
    case When::platform_refunds:
      return money_to_return(job) && refunded_by_cancel(job, context);
    case When::notify_email:
      return job.notify.email;
    case When::notify_sms:
      return job.notify.sms;
    case When::notify_staff:
      return job.notify.staff;
    case When::unfulfilled:
      return job.order.fulfillment_status == "unfulfilled";
    case When::record:
      return context.record_configured;
  }
  return false;
}

Situation situation_of(const Job& job, const PlanContext& context) {
  switch (job.kind) {
    case Kind::order_canceled:
      return Situation::canceled;
    case Kind::dispute_opened:
      return Situation::disputed;
    case Kind::order_unfulfillable:
      return Situation::unfulfillable;
    case Kind::refund_requested:
      break;
  }
  if (job.order.fulfillment_status != "unfulfilled") return Situation::return_needed;
  // From the order's creation to the request, both in the job: every delivery and retry of
  // it reaches the same verdict (measured against "now", a retry could turn an approved
  // request, its order already canceled, into a refused one). Without created_at the
  // request is taken as within the window.
  if (job.order.created_at.empty()) return Situation::refund_approved;
  auto age = std::chrono::milliseconds(timestamp_ms(job.occurred_at) - timestamp_ms(job.order.created_at));
  return age > context.refund_window ? Situation::outside_policy : Situation::refund_approved;
}

std::span<const Rule> rules_for(Situation situation) {
  switch (situation) {
    case Situation::canceled:
      return canceled;
    case Situation::refund_approved:
      return refund_approved;
    case Situation::return_needed:
      return return_needed;
    case Situation::outside_policy:
      return outside_policy;
    case Situation::disputed:
      return disputed;
    case Situation::unfulfillable:
      return unfulfillable;
  }
  return {};
}

}  // namespace

std::string_view to_string(Role role) { return role_names[static_cast<std::size_t>(role)]; }

std::string_view to_string(Situation situation) {
  switch (situation) {
    case Situation::canceled:
      return "canceled";
    case Situation::refund_approved:
      return "refund_approved";
    case Situation::return_needed:
      return "return_needed";
    case Situation::outside_policy:
      return "outside_policy";
    case Situation::disputed:
      return "disputed";
    case Situation::unfulfillable:
      return "unfulfillable";
  }
  return "unknown";
}

Plan plan_for(const Job& job, const PlanContext& context) {
  Plan plan;
  plan.situation = situation_of(job, context);
  plan.refund_by_platform =
      applies(When::platform_refunds, job, context) &&
      (plan.situation == Situation::refund_approved || plan.situation == Situation::unfulfillable);
  for (const auto& rule : rules_for(plan.situation)) {
    if (!applies(rule.when, job, context)) continue;
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

}  // namespace rescind::jobs
