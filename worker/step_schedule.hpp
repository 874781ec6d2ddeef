// Which steps of a job's plan may run now, and what the job's failed steps add up to: the
// runner's decisions, apart from its sockets, so that they can be tested as plain values.
// A step starts once every step it waits for is done; a failed step's dependants never
// start; the job's refund counts as made once every step that moves money is done.
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "clients/outcome.hpp"
#include "jobs/messages.hpp"
#include "jobs/plan.hpp"

namespace rescind::worker {

class StepSchedule {
 public:
  // `done`: bit i set for each step an earlier delivery already did.
  StepSchedule(const jobs::Plan& plan, std::uint32_t done);

  // The steps that may start now, marked as started.
  std::vector<std::size_t> start_next();
  void finished(std::size_t step, bool ok);

  bool running() const { return running_ > 0; }
  bool complete() const { return done_ == all_; }
  std::uint32_t done() const { return done_; }
  // The first step neither done nor failed: where a job stopped before its next step resumes.
  std::optional<std::size_t> first_open() const;
  // How far the job's refund has got, for the wording of the messages about to start:
  // `pending` when the provider accepted it but has not moved the money yet.
  jobs::RefundProgress refund_progress(bool pending) const;

 private:
  const jobs::Plan& plan_;
  std::uint32_t all_, done_, started_, failed_ = 0, refund_steps_ = 0;
  std::size_t running_ = 0;
};

// A step that did not end ok, and how.
struct StepFailure {
  std::size_t step;
  clients::Outcome outcome;
};

// The failure that decides the job's next place: permanent beats retryable beats
// rate-limited (a job goes to the DLQ if any step can never succeed; it uses an attempt if
// any step failed; it only waits its turn if every failed step was merely rate-limited).
// The first of equals wins. `failures` must not be empty.
const StepFailure& deciding_failure(const std::vector<StepFailure>& failures);
// The longest Retry-After any failed step was given: the job waits at least that long.
std::optional<std::chrono::milliseconds> longest_wait(const std::vector<StepFailure>& failures);

}  // namespace rescind::worker
