// The step scheduler as plain values: which steps start together, which wait, which never
// start after a failure, how far the refund has got, and which failure decides the job.
#include <gtest/gtest.h>

#include "worker/step_schedule.hpp"

namespace rescind::worker {
namespace {

using jobs::Role;
using Kind = clients::Outcome::Kind;

// refund ← cancel; email and sms wait for the refund; staff waits for nothing.
jobs::Plan refund_plan(bool by_platform = false) {
  jobs::Plan plan;
  plan.refund_by_platform = by_platform;
  plan.steps = {
      {Role::cancel, 0}, {Role::refund, 1u << 0}, {Role::email, 1u << 1}, {Role::sms, 1u << 1}, {Role::staff, 0}};
  return plan;
}

using Indexes = std::vector<std::size_t>;

TEST(StepSchedule, IndependentStepsStartTogetherAndDependantsWhenTheirStepIsDone) {
  auto plan = refund_plan();
  StepSchedule schedule(plan, 0);
  EXPECT_EQ(schedule.start_next(), (Indexes{0, 4}));
  EXPECT_EQ(schedule.start_next(), Indexes{});  // started once only
  schedule.finished(4, true);
  EXPECT_EQ(schedule.start_next(), Indexes{});  // the cancel is still running
  schedule.finished(0, true);
  EXPECT_EQ(schedule.start_next(), Indexes{1});
  EXPECT_EQ(schedule.refund_progress(false), jobs::RefundProgress::none);
  schedule.finished(1, true);
  EXPECT_EQ(schedule.refund_progress(false), jobs::RefundProgress::refunded);
  EXPECT_EQ(schedule.refund_progress(true), jobs::RefundProgress::pending);
  EXPECT_EQ(schedule.start_next(), (Indexes{2, 3}));
  schedule.finished(2, true);
  schedule.finished(3, true);
  EXPECT_FALSE(schedule.running());
  EXPECT_TRUE(schedule.complete());
  EXPECT_EQ(schedule.done(), 0b11111u);
}

TEST(StepSchedule, AFailedStepsDependantsNeverStartAndTheOthersStillRun) {
  auto plan = refund_plan();
  StepSchedule schedule(plan, 0);
  schedule.start_next();
  schedule.finished(0, true);
  EXPECT_EQ(schedule.start_next(), Indexes{1});
  schedule.finished(1, false);  // the refund failed: no one is told it happened
  EXPECT_EQ(schedule.start_next(), Indexes{});
  EXPECT_TRUE(schedule.running());  // staff still runs
  schedule.finished(4, true);
  EXPECT_FALSE(schedule.running());
  EXPECT_FALSE(schedule.complete());
  EXPECT_EQ(schedule.refund_progress(false), jobs::RefundProgress::none);
  EXPECT_EQ(schedule.first_open(), std::optional<std::size_t>(2));
}

TEST(StepSchedule, StepsDoneByAnEarlierDeliveryAreNotStartedAgain) {
  auto plan = refund_plan();
  StepSchedule schedule(plan, 0b10011);  // cancel, refund and staff done
  EXPECT_EQ(schedule.refund_progress(false), jobs::RefundProgress::refunded);
  EXPECT_EQ(schedule.start_next(), (Indexes{2, 3}));
  EXPECT_EQ(schedule.first_open(), std::optional<std::size_t>(2));
}

TEST(StepSchedule, ThePlatformsCancelIsTheRefundWhenItHoldsThePayment) {
  jobs::Plan plan;
  plan.refund_by_platform = true;
  plan.steps = {{Role::cancel, 0}, {Role::email, 1u << 0}};
  StepSchedule schedule(plan, 0);
  schedule.start_next();
  EXPECT_EQ(schedule.refund_progress(false), jobs::RefundProgress::none);
  schedule.finished(0, true);
  EXPECT_EQ(schedule.refund_progress(false), jobs::RefundProgress::refunded);
  jobs::Plan told_only;
  told_only.steps = {{Role::email, 0}};
  EXPECT_EQ(StepSchedule(told_only, 1).refund_progress(false), jobs::RefundProgress::none);  // no money moved
}

clients::Outcome outcome(Kind kind, std::optional<std::chrono::milliseconds> retry_after = {}) {
  clients::Outcome o;
  o.kind = kind;
  o.retry_after = retry_after;
  return o;
}

TEST(DecidingFailure, PermanentBeatsRetryableBeatsRateLimitedAndTheLongestWaitIsKept) {
  using std::chrono::milliseconds;
  std::vector<StepFailure> failures{{0, outcome(Kind::rate_limited, milliseconds(5000))},
                                    {1, outcome(Kind::retryable, milliseconds(200))},
                                    {2, outcome(Kind::retryable)}};
  EXPECT_EQ(deciding_failure(failures).step, 1u);  // the first of equals
  EXPECT_EQ(longest_wait(failures), milliseconds(5000));
  failures.push_back({3, outcome(Kind::permanent)});
  EXPECT_EQ(deciding_failure(failures).step, 3u);
  std::vector<StepFailure> limited{{4, outcome(Kind::rate_limited)}};
  EXPECT_EQ(deciding_failure(limited).step, 4u);
  EXPECT_EQ(longest_wait(limited), std::nullopt);
}

}  // namespace
}  // namespace rescind::worker
