#include "worker/queue_sampler.hpp"

#include "common/async.hpp"

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
  request.push("XINFO", "GROUPS", queue_.jobs_key());
  request.push("XLEN", queue_.jobs_key());
  request.push("ZCARD", queue_.retry_key());
  request.push("XLEN", queue_.dlq_key());
  request.push("ZCARD", queue_.pending_refunds_key());
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
  bool found = false;
  for (const auto& group : groups.elements) {
    bool ours = false;
    long long lag = -1, pending = 0;
    for (std::size_t i = 0; i + 1 < group.elements.size(); i += 2) {
      const auto& key = group.elements[i].text;
      const auto& value = group.elements[i + 1];
      if (key == "name")
        ours = value.text == queue_.group;
      else if (key == "pending")
        pending = value.integer;
      else if (key == "lag" && !value.is_nil())
        lag = value.integer;  // nil: Redis cannot tell
    }
    if (!ours) continue;
    found = true;
    sample.pending = pending;
    sample.lag = lag;
  }
  if (!found) {
    problem_ = "consumer group '" + queue_.group + "' does not exist on " + queue_.jobs_key();
    co_return;
  }
  metrics_.queue_sampled(sample);
  problem_.reset();
}

}  // namespace rescind::worker
