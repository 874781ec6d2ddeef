// Keeps the queue's keys bounded without ever losing data: the jobs stream is
// trimmed only below what every group still needs, the DLQ only by an explicit
// retention policy, and a consumer is deleted only when it owns nothing
// (deleting one that does strands entries).
#pragma once
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "queue/keys.hpp"
#include "redis/connection.hpp"
#include "redis/script.hpp"

namespace rescind::queue {

namespace asio = boost::asio;

class Housekeeping {
 public:
  Housekeeping(const Keys& keys, std::string group);

  // Removes jobs-stream entries older than every group's oldest pending entry
  // and last delivered id: acknowledged history only. Returns how many went
  // (nullopt on error).
  asio::awaitable<std::optional<long long>> trim_jobs(redis::Connection& redis) const;

  // Removes DLQ entries older than `retention` at `now` (the caller's clock: a
  // letter's id is the time Redis wrote it). Only ever called when an operator
  // set one.
  asio::awaitable<std::optional<long long>> expire_dead_letters(redis::Connection& redis,
                                                                std::chrono::milliseconds retention,
                                                                std::chrono::system_clock::time_point now) const;

  // Deletes consumers of the group idle longer than `idle` that own no pending
  // entry, never `self`. Returns their names.
  asio::awaitable<std::vector<std::string>> remove_idle_consumers(redis::Connection& redis,
                                                                  std::chrono::milliseconds idle,
                                                                  const std::string& self) const;

 private:
  std::string jobs_key_, dlq_key_, group_;
  redis::Script trim_;
  redis::Script remove_consumer_;
};

}  // namespace rescind::queue
