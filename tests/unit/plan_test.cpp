// Plans per kind: which steps, and what each waits for.
#include <gtest/gtest.h>

#include "jobs/parse.hpp"
#include "jobs/plan.hpp"
#include "tests/support/stack.hpp"

namespace rescind::jobs {
namespace {

Job sample() {
  JobParser parser;
  return std::get<Job>(parser.parse(testing::job_json("evt_plan")));
}

TEST(Plan, OrderCanceledRefundsFirstThenNotifiesConcurrently) {
  auto plan = plan_for(sample());
  ASSERT_TRUE(plan);
  ASSERT_EQ(plan->steps.size(), 4u);
  EXPECT_EQ(plan->steps[0].role, Role::refund);
  EXPECT_EQ(plan->steps[0].after, 0u);
  for (std::size_t i = 1; i < 4; ++i) EXPECT_EQ(plan->steps[i].after, 1u) << "waits for the refund only";
  EXPECT_EQ(plan->steps[1].role, Role::email);
  EXPECT_EQ(plan->steps[2].role, Role::sms);
  EXPECT_EQ(plan->steps[3].role, Role::staff);
}

TEST(Plan, UnpaidOrderSkipsTheRefundAndNobodyWaits) {
  auto job = sample();
  job.order.financial_status = "pending";
  auto plan = plan_for(job);
  ASSERT_TRUE(plan);
  ASSERT_EQ(plan->steps.size(), 3u);
  for (const auto& step : plan->steps) {
    EXPECT_NE(step.role, Role::refund);
    EXPECT_EQ(step.after, 0u);
  }
}

TEST(Plan, NothingToDoIsAnEmptyPlan) {
  auto job = sample();
  job.order.financial_status = "pending";
  job.notify = {};
  auto plan = plan_for(job);
  ASSERT_TRUE(plan);
  EXPECT_TRUE(plan->steps.empty());
}

TEST(Plan, ZeroRefundMovesNoMoney) {
  auto job = sample();
  job.refund.amount_minor = 0;
  auto plan = plan_for(job);
  ASSERT_TRUE(plan);
  for (const auto& step : plan->steps) EXPECT_NE(step.role, Role::refund);
}

TEST(Plan, KindsWithoutATableSayWhy) {
  auto job = sample();
  job.kind = Kind::dispute_opened;
  Unplannable why;
  EXPECT_FALSE(plan_for(job, &why));
  EXPECT_EQ(why.field, "kind");
}

}  // namespace
}  // namespace rescind::jobs
