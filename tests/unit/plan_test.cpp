// Plans per kind and situation: which steps, and what each waits for.
#include <gtest/gtest.h>

#include "jobs/messages.hpp"
#include "jobs/parse.hpp"
#include "jobs/plan.hpp"
#include "tests/support/stack.hpp"

namespace rescind::jobs {
namespace {

using namespace std::chrono_literals;

Job sample() {
  JobParser parser;
  return std::get<Job>(parser.parse(testing::job_json("evt_plan")));
}

std::vector<Role> roles(const Plan& plan) {
  std::vector<Role> out;
  for (const auto& step : plan.steps) out.push_back(step.role);
  return out;
}

std::uint32_t after(const Plan& plan, Role role) {
  for (const auto& step : plan.steps) {
    if (step.role == role) return step.after;
  }
  throw std::logic_error("no such step");
}

PlanContext at(std::chrono::hours, bool record = false) { return {std::chrono::hours(24 * 30), record}; }

TEST(Plan, OrderCanceledRefundsFirstThenNotifiesConcurrently) {
  auto plan = plan_for(sample(), at(0h, true));
  EXPECT_EQ(plan.situation, Situation::canceled);
  EXPECT_EQ(roles(plan), (std::vector<Role>{Role::refund, Role::email, Role::sms, Role::staff, Role::record}));
  EXPECT_EQ(after(plan, Role::refund), 0u);
  for (auto role : {Role::email, Role::sms, Role::staff, Role::record})
    EXPECT_EQ(after(plan, role), 1u) << "waits for the refund only";
}

TEST(Plan, UnpaidOrderSkipsTheRefundAndNobodyWaits) {
  auto job = sample();
  job.order.financial_status = "pending";
  auto plan = plan_for(job);
  EXPECT_EQ(roles(plan), (std::vector<Role>{Role::email, Role::sms, Role::staff}));
  for (const auto& step : plan.steps) EXPECT_EQ(step.after, 0u);
  job.notify = {};
  EXPECT_TRUE(plan_for(job).steps.empty()) << "nothing to do is an empty plan";
}

TEST(Plan, EligibleRefundRequestCancelsThenRefundsThenTells) {
  auto job = sample();
  job.kind = Kind::refund_requested;
  auto plan = plan_for(job, at(24h));
  EXPECT_EQ(plan.situation, Situation::refund_approved);
  EXPECT_EQ(roles(plan), (std::vector<Role>{Role::cancel, Role::refund, Role::email, Role::sms, Role::staff}));
  EXPECT_EQ(after(plan, Role::refund), 0b1u) << "refund after the cancel";
  EXPECT_EQ(after(plan, Role::email), 0b11u) << "the customer hears after cancel and refund";
}

TEST(Plan, RefundRequestForAShippedOrderOpensAReturn) {
  auto job = sample();
  job.kind = Kind::refund_requested;
  job.order.fulfillment_status = "fulfilled";
  auto plan = plan_for(job, at(24h));
  EXPECT_EQ(plan.situation, Situation::return_needed);
  EXPECT_EQ(roles(plan), (std::vector<Role>{Role::ticket, Role::email}));
}

TEST(Plan, RefundRequestOutsideThePolicyMovesNoMoney) {
  auto job = sample();  // requested 2026-11-22T16:00:00Z
  job.kind = Kind::refund_requested;
  job.order.created_at = "2026-09-01T00:00:00Z";  // 82 days before the request
  auto plan = plan_for(job);
  EXPECT_EQ(plan.situation, Situation::outside_policy);
  EXPECT_EQ(roles(plan), (std::vector<Role>{Role::email}));
  job.order.created_at = "2026-11-01T00:00:00Z";  // 21 days before
  EXPECT_EQ(plan_for(job).situation, Situation::refund_approved);
  job.order.created_at.clear();
  EXPECT_EQ(plan_for(job).situation, Situation::refund_approved) << "no creation date: within the window";
}

TEST(Plan, DisputeStopsShipmentAlertsAndTicketsButNeverRefundsOrTellsTheCustomer) {
  auto job = sample();
  job.kind = Kind::dispute_opened;
  auto plan = plan_for(job);
  EXPECT_EQ(plan.situation, Situation::disputed);
  EXPECT_EQ(roles(plan), (std::vector<Role>{Role::cancel, Role::staff, Role::ticket}));
  for (const auto& step : plan.steps) EXPECT_EQ(step.after, 0u) << "all three at once";
  job.order.fulfillment_status = "fulfilled";
  EXPECT_EQ(roles(plan_for(job)), (std::vector<Role>{Role::staff, Role::ticket})) << "nothing to stop once shipped";
}

TEST(Plan, UnfulfillableCancelsRefundsAndApologises) {
  auto job = sample();
  job.kind = Kind::order_unfulfillable;
  auto plan = plan_for(job);
  EXPECT_EQ(roles(plan), (std::vector<Role>{Role::cancel, Role::refund, Role::email, Role::sms, Role::staff}));
  EXPECT_EQ(after(plan, Role::staff), 0b1u);
  EXPECT_NE(customer_email(job, plan.situation, RefundProgress::refunded).text.find("sorry"), std::string::npos);
}

TEST(Plan, WhenThePlatformHoldsThePaymentTheCancelRefunds) {
  auto job = sample();
  job.kind = Kind::order_unfulfillable;
  job.payment.provider = "shopify";
  auto plan = plan_for(job);
  EXPECT_TRUE(plan.refund_by_platform);
  EXPECT_EQ(roles(plan), (std::vector<Role>{Role::cancel, Role::email, Role::sms, Role::staff}));
}

// WooCommerce and the platforms like it: cancelling leaves the money, so a payment the
// platform holds is refunded in a step of its own, also when the order was canceled already.
TEST(Plan, APlatformWhoseCancelLeavesTheMoneyRefundsInItsOwnStep) {
  auto job = sample();
  job.shop.platform = job.payment.provider = "woocommerce";
  PlanContext context = at(24h);
  context.platform_cancel_refunds = false;
  job.kind = Kind::refund_requested;
  auto requested = plan_for(job, context);
  EXPECT_FALSE(requested.refund_by_platform);
  EXPECT_EQ(roles(requested), (std::vector<Role>{Role::cancel, Role::refund, Role::email, Role::sms, Role::staff}));
  EXPECT_EQ(after(requested, Role::refund), 0b1u) << "refund after the cancel";
  job.kind = Kind::order_canceled;
  auto canceled = plan_for(job, context);
  EXPECT_FALSE(canceled.refund_by_platform);
  EXPECT_EQ(roles(canceled), (std::vector<Role>{Role::refund, Role::email, Role::sms, Role::staff}))
      << "canceled on the platform: the customer is still owed the money";
}

TEST(Messages, NameTheOrderTheAmountInItsCurrencyAndTheReason) {
  auto job = sample();
  job.order.currency = "JPY";
  job.refund.amount_minor = 1490;
  auto email = customer_email(job, Situation::canceled, RefundProgress::refunded);
  EXPECT_NE(email.subject.find("#1001"), std::string::npos);
  EXPECT_NE(email.text.find("1490 JPY"), std::string::npos) << email.text;
  EXPECT_EQ(customer_email(job, Situation::canceled, RefundProgress::none).text.find("refunded"), std::string::npos);
  EXPECT_NE(staff_alert(job, Situation::canceled, RefundProgress::refunded).find("reason: customer"),
            std::string::npos);
  job.dispute = {"fraudulent", "2026-12-01T00:00:00Z"};
  auto ticket = support_ticket(job, Situation::disputed);
  EXPECT_EQ(ticket.priority, "urgent");
  EXPECT_NE(ticket.subject.find("2026-12-01"), std::string::npos);
}

// A refund the provider reports pending is on its way: no message may say it was refunded.
TEST(Messages, APendingRefundIsOnItsWayNotRefunded) {
  auto job = sample();
  for (auto situation : {Situation::canceled, Situation::refund_approved, Situation::unfulfillable}) {
    auto email = customer_email(job, situation, RefundProgress::pending).text;
    auto sms = customer_sms(job, situation, RefundProgress::pending);
    auto staff = staff_alert(job, situation, RefundProgress::pending);
    EXPECT_EQ(email.find("have refunded"), std::string::npos) << email;
    EXPECT_NE(email.find("on its way"), std::string::npos) << email;
    EXPECT_EQ(sms.find("issued"), std::string::npos) << sms;
    EXPECT_NE(sms.find("on its way"), std::string::npos) << sms;
    EXPECT_EQ(staff.find("Refunded"), std::string::npos) << staff;
  }
  EXPECT_NE(staff_alert(job, Situation::canceled, RefundProgress::pending).find("pending"), std::string::npos);
  // Situations that refund nothing say nothing about a refund, pending or not.
  EXPECT_EQ(customer_email(job, Situation::outside_policy, RefundProgress::pending).text.find("on its way"),
            std::string::npos);
}

}  // namespace
}  // namespace rescind::jobs
