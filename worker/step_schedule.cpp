#include "worker/step_schedule.hpp"

namespace rescind::worker {

StepSchedule::StepSchedule(const jobs::Plan& plan, std::uint32_t done)
    : plan_(plan), all_((1u << plan.steps.size()) - 1), done_(done & all_), started_(done & all_) {
  for (std::size_t i = 0; i < plan.steps.size(); ++i) {
    if (plan.moves_money(plan.steps[i].role)) refund_steps_ |= 1u << i;  // the money is back once these are done
  }
}

std::vector<std::size_t> StepSchedule::start_next() {
  std::vector<std::size_t> ready;
  for (std::size_t i = 0; i < plan_.steps.size(); ++i) {
    std::uint32_t bit = 1u << i, after = plan_.steps[i].after;
    if ((started_ & bit) || (after & failed_) || (after & ~done_)) continue;
    started_ |= bit;
    ++running_;
    ready.push_back(i);
  }
  return ready;
}

void StepSchedule::finished(std::size_t step, bool ok) {
  --running_;
  (ok ? done_ : failed_) |= 1u << step;
}

std::optional<std::size_t> StepSchedule::first_open() const {
  for (std::size_t i = 0; i < plan_.steps.size(); ++i) {
    if (!((done_ | failed_) & (1u << i))) return i;
  }
  return std::nullopt;
}

jobs::RefundProgress StepSchedule::refund_progress(bool pending) const {
  if (refund_steps_ == 0 || (done_ & refund_steps_) != refund_steps_) return jobs::RefundProgress::none;
  return pending ? jobs::RefundProgress::pending : jobs::RefundProgress::refunded;
}

namespace {
int rank(clients::Outcome::Kind kind) {
  using Kind = clients::Outcome::Kind;
  return kind == Kind::permanent ? 3 : kind == Kind::retryable ? 2 : 1;
}
}  // namespace

const StepFailure& deciding_failure(const std::vector<StepFailure>& failures) {
  const StepFailure* worst = &failures.front();
  for (const auto& failure : failures) {
    if (rank(failure.outcome.kind) > rank(worst->outcome.kind)) worst = &failure;
  }
  return *worst;
}

std::optional<std::chrono::milliseconds> longest_wait(const std::vector<StepFailure>& failures) {
  std::optional<std::chrono::milliseconds> wait;
  for (const auto& failure : failures) {
    if (failure.outcome.retry_after && (!wait || *failure.outcome.retry_after > *wait))
      wait = failure.outcome.retry_after;
  }
  return wait;
}

}  // namespace rescind::worker
