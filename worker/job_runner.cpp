#include "worker/job_runner.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/this_coro.hpp>

#include <algorithm>
#include <chrono>

#include "common/async.hpp"
#include "common/log.hpp"
#include "queue/fields.hpp"
#include "worker/dead_letters.hpp"

namespace rescind::worker {

namespace asio = boost::asio;
namespace log = common::log;
namespace field = queue::field;
using clients::Outcome;

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Enqueue-to-now from the entry id's timestamp; negative if the id is not one Redis made.
double seconds_since_enqueue(const std::string& stream_id) {
  auto ms = redis::entry_id_millis(stream_id);
  if (!ms) return -1;
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
                 .count();
  return static_cast<double>(now - *ms) / 1000.0;
}

// A refund the provider answered and refused for good (a 4xx business error: balance
// insufficient, not refundable…), as opposed to an answer that might hide a success (no
// answer, a timeout, a 5xx, a 409 in progress): only after the former may a later run, once a
// reconcile has found no refund, move to a new idempotency key.
bool definitely_refused(const Outcome& outcome) {
  return outcome.kind == Outcome::Kind::permanent && outcome.status >= 400 && outcome.status < 500 &&
         outcome.status != 408 && outcome.status != 409 && outcome.status != 425 && outcome.status != 429;
}

// A closed set too: a status outside HTTP's range (a provider, or a proxy, answering
// nonsense) is "other", and a step no client could perform is "unsupported".
std::string status_label(const Outcome& outcome) {
  if (outcome.status == 0) return outcome.code == "unsupported_provider" ? "unsupported" : "transport";
  return outcome.status >= 100 && outcome.status <= 599 ? std::to_string(outcome.status) : "other";
}

}  // namespace

struct JobRunner::Attempt {
  redis::StreamEntry entry;
  queue::Envelope envelope;
  jobs::Job job;
  jobs::Plan plan;
  std::string state_key;
  std::string lease_key;
  std::uint32_t done = 0;       // bit per plan step
  std::string refund_key;       // the refund step's state while not done: "key:<g>", "refused:<g>" (RefundKeyState)
  bool refund_pending = false;  // the refund is done but the provider reports it pending
  std::vector<StepFailure> failures;
};

namespace {
// While an entry holds its job id's lease, the consumer's heartbeats extend it. Erased
// however the run ends.
struct LeaseRegistration {
  std::unordered_map<std::string, std::string>& leases;
  const std::string& entry_id;
  ~LeaseRegistration() { leases.erase(entry_id); }
};

// The entry's envelope; fields it had to replace are logged (the job itself runs: a bad
// envelope says nothing about the job, and its replacement keeps the next retry intact).
queue::Envelope envelope_of(const redis::StreamEntry& entry) {
  auto envelope = queue::Envelope::of(entry);
  if (!envelope.corrected.empty()) {
    std::string fields;
    for (auto field : envelope.corrected) fields += (fields.empty() ? "" : ",") + std::string(field);
    log::warn("stream entry's retry envelope was unusable; replaced as for a first delivery",
              {{"stream_id", entry.id},
               {"fields", fields},
               {"attempt", envelope.attempt},
               {"origin_id", envelope.origin_id}});
  }
  return envelope;
}
}  // namespace

JobRunner::JobRunner(const QueueConfig& queue, const queue::JobQueue& job_queue, queue::Acknowledger& acknowledger,
                     redis::Connection& redis, clients::Providers& providers, ratelimit::Limiter& limiter,
                     metrics::Metrics& metrics, const PendingRefunds& pending_refunds, const common::Clock& clock)
    : queue_(queue),
      job_queue_(job_queue),
      acknowledger_(acknowledger),
      redis_(redis),
      providers_(providers),
      limiter_(limiter),
      metrics_(metrics),
      pending_refunds_(pending_refunds),
      clock_(clock),
      audit_key_(queue.keys.audit()),
      audit_max_len_(std::to_string(queue.audit_max_len)) {}

asio::awaitable<void> JobRunner::run(redis::StreamEntry entry) {
  auto started = std::chrono::steady_clock::now();
  auto envelope = envelope_of(entry);
  const std::string* payload = entry.field(queue::field::job);
  auto parsed = payload ? parser_.parse(*payload)
                        : jobs::ParseResult{jobs::InvalidJob{"job", "the stream entry has no 'job' field"}};
  if (auto* invalid = std::get_if<jobs::InvalidJob>(&parsed)) {
    queue::DeadLetter why;  // named: g++ 12 miscompiles braced temporaries in co_await
    why.reason = "invalid_payload";
    why.error = invalid->reason();
    co_await dead_letter(entry, envelope, "unknown", std::move(why));
    metrics_.job_finished("unknown", "invalid", -1);
    co_return;
  }

  Attempt attempt{std::move(entry), envelope, std::move(std::get<jobs::Job>(parsed)), {}, {}, {}, 0, {}, false, {}};
  const auto& job = attempt.job;
  auto kind = jobs::to_string(job.kind);
  jobs::PlanContext context{queue_.refund_window, providers_.serves(jobs::Role::record, job),
                            providers_.cancel_refunds(job)};
  attempt.plan = jobs::plan_for(job, context);
  attempt.state_key = queue_.keys.job_state(job.id);
  attempt.lease_key = queue_.keys.job_lease(job.id);
  LeaseRegistration registration{leases_, attempt.entry.id};

  if (!co_await run_steps(attempt)) {
    co_await retry_or_dead_letter(attempt);
    co_return;
  }
  auto finished = co_await until_answered(
      "ack", attempt.entry.id, [&] { return acknowledger_.acknowledge(attempt.entry.id, attempt.lease_key); });
  if (finished == queue::Moved::not_owner) co_return report_stale(attempt.entry, "ack");
  if (finished == queue::Moved::failed) co_return;
  metrics_.job_finished(kind, "succeeded", seconds_since_enqueue(attempt.entry.id));
  log::info("job done", {{"job_id", job.id},
                         {"kind", kind},
                         {"attempt", envelope.attempt},
                         {"stream_id", attempt.entry.id},
                         {"steps", attempt.plan.steps.size()},
                         {"seconds", seconds_since(started)}});
}

// True when every step of the plan is done (now or by an earlier delivery).
asio::awaitable<bool> JobRunner::run_steps(Attempt& attempt) {
  const auto& steps = attempt.plan.steps;
  if (steps.empty()) co_return true;

  // The lease first: a second entry of this id (a webhook delivered twice, a re-enqueue)
  // must not run beside the first, or both would send every message not yet recorded.
  auto begun = co_await job_queue_.begin(redis_, attempt.entry.id, attempt.lease_key, attempt.state_key,
                                         queue_.visibility_timeout);
  if (begun.state == queue::Begun::State::failed) {
    attempt.failures.push_back({0, Outcome::transport_failure("reading step states: " + begun.error)});
    co_return false;
  }
  if (begun.state == queue::Begun::State::busy) {
    // Back through the retry set, no attempt used: once the other entry has finished, this
    // one finds its steps done and has no effect. Soon, but not in a tight loop.
    auto wait = std::clamp(begun.busy_for, std::chrono::milliseconds(100), std::chrono::milliseconds(1000));
    attempt.failures.push_back(
        {0, Outcome::rate_limited("running_elsewhere", "another entry of this job id is running", wait)});
    co_return false;
  }
  leases_[attempt.entry.id] = attempt.lease_key;
  for (const auto& [role, state] : begun.steps) {
    if (role == "refund:pending") attempt.refund_pending = true;
    if (role == "refund" && !state.starts_with("done:")) attempt.refund_key = state;
    if (!state.starts_with("done:")) continue;
    for (std::size_t i = 0; i < steps.size(); ++i) {
      if (jobs::to_string(steps[i].role) == role) attempt.done |= 1u << i;
    }
  }

  // Each step starts once the steps it waits for are done; a failed step's dependants never start.
  auto executor = co_await asio::this_coro::executor;
  common::Signal step_finished(executor);
  std::vector<StepFailure> finished;
  StepSchedule schedule(attempt.plan, attempt.done);
  for (;;) {
    auto refunded = schedule.refund_progress(attempt.refund_pending);
    for (auto i : winding_down_ ? std::vector<std::size_t>() : schedule.start_next()) {
      asio::co_spawn(executor, run_step(attempt, i, refunded), [&, i](std::exception_ptr error, Outcome outcome) {
        if (error) outcome = Outcome::retryable(0, "bug", "step threw an exception");
        finished.push_back({i, std::move(outcome)});
        step_finished.notify_all();
      });
    }
    if (!schedule.running()) break;
    if (finished.empty()) co_await step_finished.wait();
    for (auto& [index, outcome] : finished) {
      schedule.finished(index, outcome.ok());
      if (!outcome.ok()) attempt.failures.push_back({index, std::move(outcome)});
    }
    attempt.done = schedule.done();
    finished.clear();
  }
  if (!schedule.complete() && attempt.failures.empty()) {
    // Stopped before its next step started: nothing failed, the job goes back as it is.
    attempt.failures.push_back({*schedule.first_open(), Outcome::not_sent()});
  }
  co_return schedule.complete();
}

asio::awaitable<Outcome> JobRunner::run_step(Attempt& attempt, std::size_t index, jobs::RefundProgress refunded) {
  auto role = attempt.plan.steps[index].role;
  auto provider = providers_.provider_for(role, attempt.job);
  auto label = providers_.label(provider);
  // A provider without a client gets no quota account: a job's invented name must not
  // create limiter state (perform() refuses the step at once).
  auto account = label == "other" ? std::string_view() : providers_.account_for(role, attempt.job);
  ratelimit::Admission admission;
  if (label != "other") admission = co_await limiter_.acquire(provider, account);
  if (!admission.admitted) {
    // Waiting would hold this job's slot past --max-limit-wait: come back through the retry set.
    co_return Outcome::rate_limited("quota", "waiting for the provider's quota", admission.retry_in);
  }
  auto started = std::chrono::steady_clock::now();
  // Released however perform() ends: a slot kept by an exception would lock the account.
  struct Slot {
    ratelimit::Limiter& limiter;
    std::string_view provider, account;
    ~Slot() { limiter.release(provider, account); }
  };
  std::optional<Slot> slot;
  if (label != "other") slot.emplace(limiter_, provider, account);  // in place: a temporary Slot would release at once
  if (winding_down_) co_return Outcome::not_sent();                 // stopped while it waited for its turn
  unsigned generation = 0;
  Outcome outcome;
  bool settled = false;  // the refund step ended by its reconcile, not by a refund call
  if (role == jobs::Role::refund) {
    auto key = co_await refund_key_generation(attempt);
    if (auto* ended = std::get_if<Outcome>(&key)) {
      outcome = std::move(*ended);
      settled = true;
    } else {
      generation = std::get<unsigned>(key);
    }
  }
  if (!settled) outcome = co_await providers_.perform(role, attempt.job, attempt.plan, refunded, generation);
  slot.reset();
  if (outcome.was_not_sent()) co_return outcome;  // no call made: nothing to count or audit
  metrics_.provider_request(label, jobs::to_string(role), status_label(outcome), seconds_since(started));
  if (outcome.kind == Outcome::Kind::rate_limited) {
    metrics_.rate_limited(label);
    limiter_.pause(provider, account, outcome.retry_after.value_or(std::chrono::milliseconds(1000)));
  } else if (outcome.slow_down) {
    limiter_.pause(provider, account, *outcome.slow_down);  // nearly out of budget: ease off first
  }

  // Every outcome goes to the audit trail; a success is recorded as the step's state the
  // moment it happened, in the same round trip: the smaller the window between "done" and
  // "recorded", the smaller the chance a crash repeats a step (money steps are covered by
  // idempotency keys even then).
  redis::Request record;
  if (outcome.ok()) push_done(record, attempt, role, outcome);
  if (role == jobs::Role::refund && outcome.ok() && outcome.pending) metrics_.pending_refund(label, "pending");
  if (role == jobs::Role::refund && !outcome.ok() && definitely_refused(outcome)) {
    // Kept so that a replay, once the cause is fixed, reconciles and then uses a new key
    // instead of getting this refusal replayed by the provider.
    record.push("HSET", attempt.state_key, "refund", RefundKeyState{generation, true}.text());
    record.push("PEXPIRE", attempt.state_key, queue_.idempotency_window.count());
  }
  auto amount = attempt.plan.moves_money(role) && outcome.ok() ? std::to_string(attempt.job.refund.amount_minor)
                                                               : std::string("0");
  auto status = std::to_string(outcome.status),
       attempt_number = std::to_string(attempt.envelope.attempt);  // named: views below
  // Field, value pairs, kept side by side.
  // clang-format off
  std::string_view audit[] = {"XADD", audit_key_, "MAXLEN", "~", audit_max_len_, "*",
                              field::job_id,       attempt.job.id,
                              field::kind,         jobs::to_string(attempt.job.kind),
                              field::step,         jobs::to_string(role),
                              field::provider,     provider,
                              field::outcome,      clients::to_string(outcome.kind),
                              field::status,       status,
                              field::ref,          outcome.reference,
                              field::amount_minor, amount,
                              field::currency,     attempt.job.order.currency,
                              field::attempt,      attempt_number};
  // clang-format on
  record.push_argv(audit);
  auto written = co_await redis_.exec(std::move(record));
  if (!outcome.ok()) co_return outcome;
  if (written.first()) co_return outcome;
  // The provider did it; forgetting that would repeat the step on the next run (a second
  // email or SMS). Keep writing the state while Redis is away, rather than fail the step.
  if (co_await record_done(attempt, role, outcome)) co_return outcome;
  co_return Outcome::transport_failure("recording step state: " + written.failure());
}

asio::awaitable<std::variant<unsigned, Outcome>> JobRunner::refund_key_generation(Attempt& attempt) {
  auto key = RefundKeyState::parse(attempt.refund_key);
  if (!key.refused) co_return key.generation;
  // The provider definitely refused the refund under this key, and would replay that refusal
  // (Stripe for 24 h, PayPal for 45 days). A new key is safe only once the provider says no
  // refund exists for this job under any key: anything else ends the step here.
  const auto& job = attempt.job;
  auto provider = providers_.label(providers_.provider_for(jobs::Role::refund, job));
  auto found = co_await providers_.find_refund(job);
  using Kind = clients::RefundState::Kind;
  if (found.kind == Kind::succeeded || found.kind == Kind::pending) {
    metrics_.refund_reconciled(provider, "found");
    log::info("reconcile: the job's refund exists at the provider; recorded, not refunded again",
              {{"job_id", job.id},
               {"provider", provider},
               {"ref", found.reference},
               {"pending", found.kind == Kind::pending}});
    auto exists = Outcome::success(found.reference);
    exists.pending = found.kind == Kind::pending;
    co_return exists;
  }
  if (found.kind == Kind::unknown && found.guarded) {
    // The provider cannot tell, but would refuse a second refund for the job itself.
    log::info("reconcile: the provider cannot tell whose refunds the payment has, but refuses a second one for the job",
              {{"job_id", job.id}, {"provider", provider}, {"detail", found.detail}});
  } else if (found.kind == Kind::unknown) {
    metrics_.refund_reconciled(provider, "unknown");
    auto lookup = found.lookup;
    if (lookup.ok()) lookup = Outcome::transport_failure(found.detail);  // never "done" without a refund
    if (lookup.message.empty()) lookup.message = "reconcile before a new refund key: " + found.detail;
    co_return lookup;
  }
  // none, or only failed refunds: the next generation, written before it is used so that an
  // answer lost under it is retried under it, never under a third.
  RefundKeyState next{key.generation + 1, false};
  redis::Request write;
  write.push("HSET", attempt.state_key, "refund", next.text());
  write.push("PEXPIRE", attempt.state_key, queue_.idempotency_window.count());
  auto written = co_await redis_.exec(std::move(write));
  if (!written.first()) {
    co_return Outcome::transport_failure("recording the refund's new key: " + written.failure());
  }
  metrics_.refund_reconciled(provider, found.kind == Kind::unknown ? "guarded" : "none");
  log::info("reconcile: no refund exists for the job; refunding under a new idempotency key",
            {{"job_id", job.id}, {"provider", provider}, {"generation", next.generation}});
  attempt.refund_key = next.text();
  co_return next.generation;
}

asio::awaitable<bool> JobRunner::record_done(Attempt& attempt, jobs::Role role, const Outcome& outcome) {
  auto deadline = clock_.steady_now() + queue_.visibility_timeout;
  auto pause = std::chrono::milliseconds(100);
  while (clock_.steady_now() + pause < deadline) {
    co_await common::sleep_for(clock_, pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(2000));
    redis::Request record;
    push_done(record, attempt, role, outcome);
    auto written = co_await redis_.exec(std::move(record));
    if (written.first()) co_return true;
  }
  metrics_.queue_write_failed("step_state");
  log::error("a step was done but Redis did not take its state; it may be repeated when the job runs again",
             {{"job_id", attempt.job.id}, {"step", jobs::to_string(role)}, {"ref", outcome.reference}});
  co_return false;
}

// The step's state "done:<ref>"; for a refund the provider reports pending, also its pending
// mark and its place in the pending set, written together.
void JobRunner::push_done(redis::Request& record, Attempt& attempt, jobs::Role role, const Outcome& outcome) const {
  record.push("HSET", attempt.state_key, jobs::to_string(role), "done:" + outcome.reference);
  if (role == jobs::Role::refund && outcome.pending) {
    attempt.refund_pending = true;  // the messages that follow say "on its way"
    record.push("HSET", attempt.state_key, "refund:pending", outcome.reference);
    auto generation = RefundKeyState::parse(attempt.refund_key).generation;
    pending_refunds_.track(
        record,
        {attempt.job.id, *attempt.entry.field(queue::field::job), attempt.envelope.origin_id,
         std::string(providers_.provider_for(jobs::Role::refund, attempt.job)), outcome.reference, generation},
        clock_.system_now());
  }
  record.push("PEXPIRE", attempt.state_key, queue_.idempotency_window.count());
}

// The deciding failure (step_schedule.hpp) sends the job to the retry set or the DLQ.
asio::awaitable<void> JobRunner::retry_or_dead_letter(Attempt& attempt) {
  const auto& job = attempt.job;
  auto kind = jobs::to_string(job.kind);
  auto wait_at_least = longest_wait(attempt.failures);
  const auto& [index, outcome] = deciding_failure(attempt.failures);
  auto role = attempt.plan.steps[index].role;
  auto why = step_failed(outcome, role, providers_.provider_for(role, job));

  if (outcome.kind != Outcome::Kind::permanent) {
    bool uses_attempt = outcome.kind == Outcome::Kind::retryable;
    const auto& policy = queue_.retry_for(job.kind);
    auto now = clock_.system_now();
    // A rate-limited job has not failed: only its age can end its retries.
    auto verdict = retry::next_step(policy, uses_attempt ? attempt.envelope.attempt : 0,
                                    retry::age_of(attempt.envelope.first_at_ms, now));
    if (verdict == retry::Verdict::retry) {
      auto delay = uses_attempt ? retry::backoff(policy, attempt.envelope.attempt, wait_at_least, random_)
                                : wait_at_least.value_or(std::chrono::milliseconds(1000));
      auto finished = co_await until_answered("reschedule", attempt.entry.id, [&] {
        return job_queue_.reschedule(redis_, attempt.entry.id, *attempt.entry.field(queue::field::job),
                                     attempt.envelope, now + delay, uses_attempt, attempt.lease_key);
      });
      if (finished == queue::Moved::not_owner) co_return report_stale(attempt.entry, "reschedule");
      if (finished == queue::Moved::failed) co_return;
      // Not run here, not failed: a duplicate of a job id running elsewhere, or a job this
      // stopping worker hands back.
      bool deferred = outcome.code == "running_elsewhere" || outcome.was_not_sent();
      if (deferred) {
        metrics_.job_deferred(outcome.was_not_sent() ? "handed_back" : "running_elsewhere");
      } else {
        metrics_.job_finished(kind, "retried", -1);
      }
      auto what = outcome.code == "running_elsewhere"
                      ? "job id already running in another entry; this one waits its turn"
                  : outcome.was_not_sent() ? "worker stopping; job handed back to the queue"
                  : uses_attempt           ? "step failed; job rescheduled"
                                           : "rate-limited; job rescheduled without using an attempt";
      auto level = deferred ? log::Level::info : log::Level::warn;
      if (log::enabled(level))
        log::write(level, what,
                   {{"job_id", job.id},
                    {"kind", kind},
                    {"attempt", attempt.envelope.attempt},
                    {"stream_id", attempt.entry.id},
                    {"step", why.step},
                    {"provider", why.provider},
                    {"status", outcome.status},
                    {"code", outcome.code},
                    {"error", outcome.message},
                    {"retry_in_ms", static_cast<long long>(delay.count())}});
      co_return;
    }
    why.reason = verdict == retry::Verdict::exhausted ? "exhausted" : "expired";
  }
  co_await dead_letter(attempt.entry, attempt.envelope, kind, std::move(why), attempt.lease_key);
}

asio::awaitable<queue::Moved> JobRunner::until_answered(std::string_view action, const std::string& entry_id,
                                                        const std::function<asio::awaitable<queue::Moved>()>& finish) {
  auto deadline = clock_.steady_now() + queue_.visibility_timeout;
  auto pause = std::chrono::milliseconds(100);
  for (;;) {
    auto finished = co_await finish();
    if (finished != queue::Moved::failed) co_return finished;
    if (clock_.steady_now() + pause >= deadline) break;
    co_await common::sleep_for(clock_, pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(2000));
  }
  metrics_.queue_write_failed(action);
  log::warn(
      "Redis did not take the job's next place; the entry stays pending and will be claimed after the visibility "
      "timeout",
      {{"stream_id", entry_id}, {"action", action}});
  co_return queue::Moved::failed;
}

asio::awaitable<void> JobRunner::dead_letter(const redis::StreamEntry& entry, const queue::Envelope& envelope,
                                             std::string_view kind, queue::DeadLetter letter,
                                             std::string_view lease_key) {
  letter =
      finish_letter(std::move(letter), {entry.field(queue::field::job), parser_.max_payload_bytes(), envelope.attempt,
                                        kind, envelope.origin_id, queue_.consumer, clock_.system_now()});
  auto finished = co_await until_answered("dead_letter", entry.id,
                                          [&] { return job_queue_.dead_letter(redis_, entry.id, letter, lease_key); });
  if (finished == queue::Moved::not_owner) co_return report_stale(entry, "dead-letter");
  if (finished == queue::Moved::failed) co_return;
  if (letter.reason != "invalid_payload" && letter.reason != "unsupported_kind") {
    metrics_.job_finished(kind, "dead_lettered", -1);
  }
  log::error("job dead-lettered", {{"stream_id", entry.id},
                                   {"origin_id", envelope.origin_id},
                                   {"kind", kind},
                                   {"attempt", envelope.attempt},
                                   {"reason", letter.reason},
                                   {"step", letter.step},
                                   {"provider", letter.provider},
                                   {"status", letter.status},
                                   {"code", letter.code},
                                   {"error", letter.error}});
}

asio::awaitable<void> JobRunner::dead_letter_poison(redis::StreamEntry entry, long long deliveries) {
  auto envelope = envelope_of(entry);
  // A worker that dies between a job's last step and its ack leaves an entry with nothing
  // left to do; after enough such deaths it looks poison. Its step states tell: when every
  // step is done the job has happened, and on-call must not be handed it to replay.
  std::string lease_key, kind = "unknown";
  const std::string* payload = entry.field(queue::field::job);
  auto parsed = payload ? parser_.parse(*payload) : jobs::ParseResult{jobs::InvalidJob{"job", "no 'job' field"}};
  if (auto* job = std::get_if<jobs::Job>(&parsed)) {
    kind = jobs::to_string(job->kind);
    auto plan =
        jobs::plan_for(*job, jobs::PlanContext{queue_.refund_window, providers_.serves(jobs::Role::record, *job),
                                               providers_.cancel_refunds(*job)});
    lease_key = queue_.keys.job_lease(job->id);
    auto begun = co_await job_queue_.begin(redis_, entry.id, lease_key, queue_.keys.job_state(job->id),
                                           queue_.visibility_timeout);
    if (begun.state != queue::Begun::State::leased) lease_key.clear();  // not ours to free
    auto done = [&](const jobs::Step& step) {
      return std::any_of(begun.steps.begin(), begun.steps.end(), [&](const auto& state) {
        return state.first == jobs::to_string(step.role) && state.second.starts_with("done:");
      });
    };
    if (begun.state == queue::Begun::State::leased && std::all_of(plan.steps.begin(), plan.steps.end(), done)) {
      auto finished =
          co_await until_answered("ack", entry.id, [&] { return acknowledger_.acknowledge(entry.id, lease_key); });
      if (finished == queue::Moved::not_owner) co_return report_stale(entry, "ack");
      if (finished == queue::Moved::failed) co_return;
      metrics_.job_finished(kind, "succeeded", seconds_since_enqueue(entry.id));
      log::warn("entry delivered too often, but every step of its job was done: acked, not dead-lettered",
                {{"job_id", job->id}, {"kind", kind}, {"stream_id", entry.id}, {"deliveries", deliveries}});
      co_return;
    }
  }
  auto error = "delivered " + std::to_string(deliveries) + " times without finishing (max " +
               std::to_string(queue_.max_deliveries) + "): its workers crashed or hung on it";
  queue::DeadLetter why;
  why.reason = "poison";
  why.error = std::move(error);
  co_await dead_letter(entry, envelope, kind, std::move(why), lease_key);
}

void JobRunner::report_stale(const redis::StreamEntry& entry, std::string_view what) {
  // Another worker claimed this entry while we ran it: its result wins, ours is dropped.
  metrics_.stale_completion();
  log::warn("stale result dropped: the entry now belongs to another consumer",
            {{"stream_id", entry.id}, {"would_have", what}});
}

std::string_view JobRunner::lease_of(const std::string& entry_id) const {
  auto it = leases_.find(entry_id);
  return it == leases_.end() ? std::string_view() : std::string_view(it->second);
}

}  // namespace rescind::worker
