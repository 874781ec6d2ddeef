// The back-office receivers that answered 410 Gone, kept in Redis (queue::Keys::gone_receivers,
// a hash: receiver id → when, which job, which host) so that no worker of the fleet calls them
// again. On-call re-enables one by deleting its field (docs/runbook.md).
#pragma once
#include <string>

#include "clients/gone_receivers.hpp"
#include "metrics/metrics.hpp"
#include "redis/connection.hpp"

namespace rescind::worker {

class RedisGoneReceivers final : public clients::GoneReceivers {
 public:
  RedisGoneReceivers(redis::Connection& redis, std::string key, metrics::Metrics& metrics)
      : redis_(redis), key_(std::move(key)), metrics_(metrics) {}

  boost::asio::awaitable<std::set<std::string>> load() override;
  boost::asio::awaitable<void> add(std::string receiver, std::string host, std::string job_id) override;

 private:
  redis::Connection& redis_;
  std::string key_;
  metrics::Metrics& metrics_;
};

}  // namespace rescind::worker
