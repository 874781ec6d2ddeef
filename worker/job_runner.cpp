#include "worker/job_runner.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>

#include "common/log.hpp"

namespace rescind::worker {

namespace asio = boost::asio;
namespace log = common::log;
using retry::Outcome;

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Enqueue-to-now from the entry id's timestamp; negative if the id is not one Redis made.
double seconds_since_enqueue(const std::string& stream_id) {
  auto ms = redis::entry_id_millis(stream_id);
  if (!ms) return -1;
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch()).count();
  return static_cast<double>(now - *ms) / 1000.0;
}

std::string status_label(const Outcome& outcome) {
  return outcome.status == 0 ? "transport" : std::to_string(outcome.status);
}

}  // namespace

struct JobRunner::Attempt {
  redis::StreamEntry entry;
  jobs::Job job;
  jobs::Plan plan;
  std::string state_key;
  std::uint32_t done = 0;  // bit per plan step
  std::optional<std::pair<std::size_t, Outcome>> first_failure;
};

JobRunner::JobRunner(const QueueConfig& queue, redis::Connection& redis, Steps& steps, metrics::Metrics& metrics)
    : queue_(queue), redis_(redis), steps_(steps), metrics_(metrics), jobs_key_(queue.jobs_key()) {}

asio::awaitable<void> JobRunner::run(redis::StreamEntry entry) {
  auto started = std::chrono::steady_clock::now();
  const std::string* payload = entry.field("job");
  auto parsed = payload ? parser_.parse(*payload)
                        : jobs::ParseResult{jobs::InvalidJob{"job", "the stream entry has no 'job' field"}};
  if (auto* invalid = std::get_if<jobs::InvalidJob>(&parsed)) {
    // Left pending, never acked: the dead-letter queue takes these once it exists.
    log::warn("invalid job left pending", {{"stream_id", entry.id}, {"reason", invalid->reason()}});
    metrics_.job_finished("unknown", "invalid", -1);
    co_return;
  }

  Attempt attempt{std::move(entry), std::move(std::get<jobs::Job>(parsed)), {}, {}, 0, {}};
  const auto& job = attempt.job;
  auto kind = jobs::to_string(job.kind);
  jobs::Unplannable why;
  auto plan = jobs::plan_for(job, &why);
  if (!plan) {
    log::warn("job has no plan; left pending", {{"stream_id", attempt.entry.id}, {"job_id", job.id},
                                                  {"reason", std::string(why.field) + ": " + std::string(why.problem)}});
    metrics_.job_finished(kind, "invalid", -1);
    co_return;
  }
  attempt.plan = std::move(*plan);
  attempt.state_key = queue_.job_state_key(job.id);

  if (!co_await run_steps(attempt)) {
    auto& [index, outcome] = *attempt.first_failure;
    auto role = attempt.plan.steps[index].role;
    log::warn("job incomplete; left pending",
              {{"job_id", job.id}, {"kind", kind}, {"stream_id", attempt.entry.id},
               {"step", jobs::to_string(role)}, {"provider", steps_.provider_for(role, job)},
               {"outcome", retry::to_string(outcome.kind)}, {"status", outcome.status},
               {"code", outcome.code}, {"error", outcome.message}});
    co_return;
  }
  if (!co_await acknowledge(attempt.entry.id)) co_return;
  metrics_.job_finished(kind, "succeeded", seconds_since_enqueue(attempt.entry.id));
  log::info("job done", {{"job_id", job.id}, {"kind", kind}, {"stream_id", attempt.entry.id},
                         {"steps", attempt.plan.steps.size()}, {"seconds", seconds_since(started)}});
}

// True when every step of the plan is done (now or by an earlier delivery).
asio::awaitable<bool> JobRunner::run_steps(Attempt& attempt) {
  const auto& steps = attempt.plan.steps;
  if (steps.empty()) co_return true;

  redis::Request load;
  load.push("HGETALL", attempt.state_key);
  auto loaded = co_await redis_.exec(std::move(load));
  if (!loaded.ok() || loaded.replies[0].is_error()) {
    attempt.first_failure.emplace(0, Outcome::transport_failure("reading step states: " +
                                                                (loaded.ok() ? loaded.replies[0].text : loaded.error.message())));
    co_return false;
  }
  const auto& fields = loaded.replies[0].elements;
  for (std::size_t f = 0; f + 1 < fields.size(); f += 2) {
    if (!fields[f + 1].text.starts_with("done:")) continue;
    for (std::size_t i = 0; i < steps.size(); ++i) {
      if (jobs::to_string(steps[i].role) == fields[f].text) attempt.done |= 1u << i;
    }
  }

  // Each step starts once the steps it waits for are done; a failed step's dependants never start.
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer wake(executor, asio::steady_timer::time_point::max());
  std::vector<std::pair<std::size_t, Outcome>> finished;
  std::uint32_t started = attempt.done, failed = 0;
  std::size_t running = 0;
  std::size_t refund_index = steps.size();
  for (std::size_t i = 0; i < steps.size(); ++i) {
    if (steps[i].role == jobs::Role::refund) refund_index = i;
  }

  for (;;) {
    for (std::size_t i = 0; i < steps.size(); ++i) {
      std::uint32_t bit = 1u << i;
      if ((started & bit) || (steps[i].after & failed) || (steps[i].after & ~attempt.done)) continue;
      started |= bit;
      ++running;
      bool refunded = refund_index < steps.size() && (attempt.done & (1u << refund_index));
      asio::co_spawn(executor, run_step(attempt, i, refunded),
                     [&, i](std::exception_ptr error, Outcome outcome) {
                       if (error) outcome = Outcome{Outcome::Kind::retryable, 0, "bug", "step threw an exception", {}, {}};
                       finished.emplace_back(i, std::move(outcome));
                       wake.cancel();
                     });
    }
    if (running == 0) break;
    if (finished.empty()) co_await wake.async_wait(asio::as_tuple(asio::use_awaitable));
    for (auto& [index, outcome] : finished) {
      --running;
      if (outcome.ok()) {
        attempt.done |= 1u << index;
      } else {
        failed |= 1u << index;
        if (!attempt.first_failure) attempt.first_failure.emplace(index, std::move(outcome));
      }
    }
    finished.clear();
  }
  co_return attempt.done == (1u << steps.size()) - 1;
}

asio::awaitable<Outcome> JobRunner::run_step(Attempt& attempt, std::size_t index, bool refunded) {
  auto role = attempt.plan.steps[index].role;
  auto provider = steps_.provider_for(role, attempt.job);
  auto started = std::chrono::steady_clock::now();
  auto outcome = co_await steps_.perform(role, attempt.job, refunded);
  metrics_.provider_request(provider, jobs::to_string(role), status_label(outcome), seconds_since(started));
  if (!outcome.ok()) co_return outcome;

  // Recorded the moment it succeeded: the smaller this window, the smaller the chance that
  // a crash repeats a step (money steps are covered by idempotency keys even then).
  redis::Request record;
  record.push("HSET", attempt.state_key, jobs::to_string(role), "done:" + outcome.reference);
  record.push("PEXPIRE", attempt.state_key, queue_.idempotency_window.count());
  auto written = co_await redis_.exec(std::move(record));
  if (!written.ok() || written.replies[0].is_error()) {
    co_return Outcome::transport_failure("recording step state: " +
                                         (written.ok() ? written.replies[0].text : written.error.message()));
  }
  co_return outcome;
}

asio::awaitable<bool> JobRunner::acknowledge(const std::string& stream_id) {
  redis::Request ack;
  ack.push("XACK", jobs_key_, queue_.group, stream_id);
  auto result = co_await redis_.exec(std::move(ack));
  if (!result.ok() || result.replies[0].is_error()) {
    log::warn("ack failed; the entry stays pending", {{"stream_id", stream_id},
              {"error", result.ok() ? result.replies[0].text : result.error.message()}});
    co_return false;
  }
  co_return true;
}

}  // namespace rescind::worker
