#include "worker/queue_sampler.hpp"

#include "common/async.hpp"

#include "queue/info.hpp"

namespace rescind::worker {

namespace asio = boost::asio;

QueueSampler::QueueSampler(const QueueConfig& queue, redis::Connection& redis, metrics::Metrics& metrics,
                           std::chrono::milliseconds interval)
    : queue_(queue), redis_(redis), metrics_(metrics), interval_(interval) {}

asio::awaitable<void> QueueSampler::run() {
  while (!stopping_) {
    co_await sample();
    co_await common::sleep_for(interval_);
  }
}

asio::awaitable<void> QueueSampler::sample() {
  redis::Request request;  // one round trip for all five
  request.push("XINFO", "GROUPS", queue_.keys.jobs());
  request.push("XLEN", queue_.keys.jobs());
  request.push("ZCARD", queue_.keys.retry());
  request.push("XLEN", queue_.keys.dlq());
  request.push("ZCARD", queue_.keys.pending_refunds());
  auto result = co_await redis_.exec(std::move(request));
  if (!result.ok()) {
    problem_ = "Redis unreachable: " + result.error.message();
    co_return;
  }
  const auto& groups = result.replies[0];
  if (groups.is_error()) {
    problem_ = "XINFO GROUPS failed: " + groups.text;
    co_return;
  }
  metrics::Metrics::QueueSample sample;
  sample.length = result.replies[1].integer;
  sample.retry_scheduled = result.replies[2].integer;
  sample.dlq_depth = result.replies[3].integer;
  sample.pending_refunds = result.replies[4].integer;
  auto group = queue::group_named(groups, queue_.group);
  if (!group) {
    problem_ = "consumer group '" + queue_.group + "' does not exist on " + queue_.keys.jobs();
    co_return;
  }
  sample.pending = group->pending;
  sample.lag = group->lag.value_or(-1);  // -1: Redis cannot tell
  metrics_.queue_sampled(sample);
  problem_.reset();
}

}  // namespace rescind::worker
