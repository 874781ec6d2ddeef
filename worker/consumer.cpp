#include "worker/consumer.hpp"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>

#include "common/async.hpp"
#include "common/duration.hpp"
#include "common/log.hpp"
#include "redis/streams.hpp"
#include "worker/upkeep_schedule.hpp"

namespace rescind::worker {

namespace asio = boost::asio;
namespace log = common::log;

Consumer::Consumer(const QueueConfig& queue, const queue::JobQueue& job_queue, redis::Connection& reader,
                   redis::Connection& commands, JobRunner& runner, metrics::Metrics& metrics,
                   const common::Clock& clock)
    : queue_(queue),
      job_queue_(job_queue),
      reader_(reader),
      commands_(commands),
      runner_(runner),
      metrics_(metrics),
      clock_(clock),
      housekeeping_(queue.keys, queue.group),
      room_freed_(reader.executor()),
      in_flight_(reader.executor()) {}

asio::awaitable<bool> Consumer::join_group() {
  redis::Request create;
  // From id 0, not $: jobs enqueued before the first worker ever started are work too.
  create.push("XGROUP", "CREATE", queue_.keys.jobs(), queue_.group, "0", "MKSTREAM");
  auto result = co_await reader_.exec(std::move(create));
  if (!result.ok()) {
    log::error("cannot reach Redis", {{"redis", queue_.redis.display()}, {"error", result.error.message()}});
    co_return false;
  }
  const auto& reply = result.replies[0];
  if (reply.is_error() && !reply.error_is("BUSYGROUP")) {
    log::error("cannot create the consumer group", {{"stream", queue_.keys.jobs()}, {"error", reply.text}});
    co_return false;
  }
  co_return true;
}

asio::awaitable<void> Consumer::run() {
  auto backoff = std::chrono::milliseconds(100);
  while (!stopping_) {
    while (room() == 0 && !stopping_) co_await room_freed_.wait();
    if (stopping_) break;

    redis::Request read;
    read.push("XREADGROUP", "GROUP", queue_.group, queue_.consumer, "COUNT", std::min(queue_.read_batch, room()),
              "BLOCK", queue_.block.count(), "STREAMS", queue_.keys.jobs(), ">");
    auto result = co_await reader_.exec(std::move(read));
    if (stopping_) break;
    auto* entries = result.first();
    if (!entries) {
      log::warn("reading the jobs stream failed; retrying",
                {{"error", result.failure()}, {"retry_in_ms", backoff.count()}});
      if (result.ok() && result.replies[0].error_is("NOGROUP")) co_await join_group();
      co_await common::sleep_for(clock_, backoff);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
      continue;
    }
    backoff = std::chrono::milliseconds(100);
    for (auto& entry : redis::entries_from_xreadgroup(std::move(*entries))) start_job(std::move(entry));
  }
}

std::size_t Consumer::room() const {
  return running_.size() >= queue_.max_in_flight ? 0 : queue_.max_in_flight - running_.size();
}

void Consumer::start_job(redis::StreamEntry entry, long long deliveries) {
  if (!running_.insert(entry.id).second) return;  // already running here
  in_flight_.enter();
  metrics_.jobs_in_flight(static_cast<long long>(running_.size()));
  auto stream_id = entry.id;
  auto job = deliveries > queue_.max_deliveries ? runner_.dead_letter_poison(std::move(entry), deliveries)
                                                : runner_.run(std::move(entry));
  asio::co_spawn(reader_.executor(), std::move(job), [this, stream_id](std::exception_ptr error) {
    if (error) {
      // A bug, not bad data (that is handled as a value): log it, keep serving.
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        log::error("job coroutine threw; entry left pending", {{"stream_id", stream_id}, {"error", e.what()}});
      } catch (...) {
        log::error("job coroutine threw; entry left pending", {{"stream_id", stream_id}});
      }
    }
    running_.erase(stream_id);
    metrics_.jobs_in_flight(static_cast<long long>(running_.size()));
    room_freed_.notify_one();
    in_flight_.leave();
  });
}

asio::awaitable<void> Consumer::upkeep() {
  UpkeepSchedule schedule(queue_, clock_.steady_now());
  // While draining, running jobs still need their heartbeat; nothing new is taken on.
  while (!stopping_ || !running_.empty()) {
    co_await promote_due_retries();
    if (schedule.heartbeat_due(clock_.steady_now())) co_await heartbeat();
    if (schedule.claim_due(clock_.steady_now(), room() > 0, stopping_)) co_await claim_idle();
    if (schedule.housekeeping_due(clock_.steady_now(), stopping_)) co_await keep_house();
    co_await common::sleep_for(clock_, schedule.between_turns());
  }
}

asio::awaitable<void> Consumer::promote_due_retries() {
  constexpr long long promote_batch = 500;
  // Batch after batch while full ones come back: a backlog of due retries is not left to wait
  // a turn per batch.
  while (!stopping_) {
    auto moved = co_await job_queue_.promote_due(commands_, clock_.system_now(), promote_batch);
    if (!moved || *moved == 0) break;
    metrics_.retries_promoted(*moved);
    if (*moved < promote_batch) break;
  }
}

asio::awaitable<void> Consumer::heartbeat() {
  std::vector<queue::Running> running;
  running.reserve(running_.size());
  for (const auto& id : running_) running.push_back({id, std::string(runner_.lease_of(id))});
  co_await job_queue_.heartbeat(commands_, running, queue_.visibility_timeout);
}

asio::awaitable<void> Consumer::claim_idle() {
  auto claimed = co_await job_queue_.claim_idle(commands_, queue_.visibility_timeout, static_cast<long long>(room()));
  if (!claimed.empty()) {
    metrics_.redelivered(static_cast<long long>(claimed.size()));
    log::info("claimed jobs of a silent consumer", {{"entries", claimed.size()}});
  }
  for (auto& [entry, deliveries] : claimed) start_job(std::move(entry), deliveries);
}

asio::awaitable<void> Consumer::keep_house() {
  if (auto trimmed = co_await housekeeping_.trim_jobs(commands_); trimmed && *trimmed > 0) {
    metrics_.housekeeping_removed("jobs_entries", *trimmed);
    log::debug("trimmed acknowledged history from the jobs stream", {{"entries", *trimmed}});
  }
  if (queue_.dlq_retention.count() > 0) {
    auto expired = co_await housekeeping_.expire_dead_letters(commands_, queue_.dlq_retention, clock_.system_now());
    if (expired && *expired > 0) {
      metrics_.housekeeping_removed("dlq_entries", *expired);
      log::warn("DLQ retention removed dead letters",
                {{"entries", *expired}, {"retention", common::format_duration(queue_.dlq_retention)}});
    }
  }
  if (queue_.prune_consumers_after.count() > 0) {
    auto removed =
        co_await housekeeping_.remove_idle_consumers(commands_, queue_.prune_consumers_after, queue_.consumer);
    for (const auto& name : removed) log::info("removed an idle consumer that owned nothing", {{"consumer", name}});
    if (!removed.empty()) metrics_.housekeeping_removed("consumers", static_cast<long long>(removed.size()));
  }
}

void Consumer::stop() {
  stopping_ = true;
  room_freed_.notify_all();
  reader_.close();
}

asio::awaitable<bool> Consumer::drain(std::chrono::milliseconds timeout) {
  co_return co_await in_flight_.wait_empty(timeout);
}

}  // namespace rescind::worker
