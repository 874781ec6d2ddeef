#include "worker/consumer.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <algorithm>

#include "common/log.hpp"
#include "redis/streams.hpp"

namespace rescind::worker {

namespace asio = boost::asio;
namespace log = common::log;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

Consumer::Consumer(const QueueConfig& queue, redis::Connection& reader, JobRunner& runner, metrics::Metrics& metrics)
    : queue_(queue),
      reader_(reader),
      runner_(runner),
      metrics_(metrics),
      room_(reader.executor(), asio::steady_timer::time_point::max()) {}

asio::awaitable<bool> Consumer::join_group() {
  redis::Request create;
  // From id 0, not $: jobs enqueued before the first worker ever started are work too.
  create.push("XGROUP", "CREATE", queue_.jobs_key(), queue_.group, "0", "MKSTREAM");
  auto result = co_await reader_.exec(std::move(create));
  if (!result.ok()) {
    log::error("cannot reach Redis", {{"redis", queue_.redis.display()}, {"error", result.error.message()}});
    co_return false;
  }
  const auto& reply = result.replies[0];
  if (reply.is_error() && !reply.error_is("BUSYGROUP")) {
    log::error("cannot create the consumer group", {{"stream", queue_.jobs_key()}, {"error", reply.text}});
    co_return false;
  }
  co_return true;
}

asio::awaitable<void> Consumer::run() {
  auto executor = co_await asio::this_coro::executor;
  auto backoff = std::chrono::milliseconds(100);
  while (!stopping_) {
    while (in_flight_ >= queue_.max_in_flight && !stopping_) co_await room_.async_wait(use_tuple);
    if (stopping_) break;

    auto room = std::min(queue_.read_batch, queue_.max_in_flight - in_flight_);
    redis::Request read;
    read.push("XREADGROUP", "GROUP", queue_.group, queue_.consumer, "COUNT", room, "BLOCK",
              queue_.block.count(), "STREAMS", queue_.jobs_key(), ">");
    auto result = co_await reader_.exec(std::move(read));
    if (stopping_) break;
    if (!result.ok() || result.replies[0].is_error()) {
      auto error = result.ok() ? result.replies[0].text : result.error.message();
      log::warn("reading the jobs stream failed; retrying", {{"error", error}, {"retry_in_ms", backoff.count()}});
      if (result.ok() && result.replies[0].error_is("NOGROUP")) co_await join_group();
      asio::steady_timer pause(executor, backoff);
      co_await pause.async_wait(use_tuple);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
      continue;
    }
    backoff = std::chrono::milliseconds(100);
    for (auto& entry : redis::entries_from_xreadgroup(std::move(result.replies[0]))) start_job(std::move(entry));
  }
}

void Consumer::start_job(redis::StreamEntry entry) {
  ++in_flight_;
  metrics_.jobs_in_flight(static_cast<long long>(in_flight_));
  auto stream_id = entry.id;
  asio::co_spawn(reader_.executor(), runner_.run(std::move(entry)),
                 [this, stream_id](std::exception_ptr error) {
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
                   --in_flight_;
                   metrics_.jobs_in_flight(static_cast<long long>(in_flight_));
                   room_.cancel_one();
                 });
}

void Consumer::stop() {
  stopping_ = true;
  room_.cancel();
  reader_.close();
}

asio::awaitable<bool> Consumer::drain(std::chrono::milliseconds timeout) {
  auto executor = co_await asio::this_coro::executor;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (in_flight_ > 0 && std::chrono::steady_clock::now() < deadline) {
    asio::steady_timer tick(executor, std::chrono::milliseconds(10));
    co_await tick.async_wait(use_tuple);
  }
  co_return in_flight_ == 0;
}

}  // namespace rescind::worker
