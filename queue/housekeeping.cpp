#include "queue/housekeeping.hpp"

#include "queue/info.hpp"
#include "queue/scripts.hpp"

namespace rescind::queue {

Housekeeping::Housekeeping(const Keys& keys, std::string group)
    : jobs_key_(keys.jobs()),
      dlq_key_(keys.dlq()),
      group_(std::move(group)),
      trim_(scripts::trim()),
      remove_consumer_(scripts::remove_consumer()) {}

asio::awaitable<std::optional<long long>> Housekeeping::trim_jobs(redis::Connection& redis) const {
  std::vector<std::string_view> keys{jobs_key_}, args;
  auto result = co_await trim_.run(redis, keys, args);
  if (!result.first()) co_return std::nullopt;
  co_return result.first()->integer;
}

asio::awaitable<std::optional<long long>> Housekeeping::expire_dead_letters(
    redis::Connection& redis, std::chrono::milliseconds retention, std::chrono::system_clock::time_point now) const {
  auto horizon = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) - retention;
  redis::Request trim;
  trim.push("XTRIM", dlq_key_, "MINID", std::to_string(horizon.count()));
  auto result = co_await redis.exec(std::move(trim));
  if (!result.first()) co_return std::nullopt;
  co_return result.first()->integer;
}

asio::awaitable<std::vector<std::string>> Housekeeping::remove_idle_consumers(redis::Connection& redis,
                                                                              std::chrono::milliseconds idle,
                                                                              const std::string& self) const {
  std::vector<std::string> removed;
  redis::Request list;
  list.push("XINFO", "CONSUMERS", jobs_key_, group_);
  auto result = co_await redis.exec(std::move(list));
  if (!result.first()) co_return removed;
  auto min_idle = std::to_string(idle.count());
  for (const auto& consumer : consumers_from(*result.first())) {
    if (consumer.name.empty() || consumer.name == self || consumer.pending > 0 || consumer.idle_ms < idle.count())
      continue;
    // Checked again inside the script: it may have read something since the
    // listing.
    std::vector<std::string_view> keys{jobs_key_}, args{group_, consumer.name, min_idle};
    auto deleted = co_await remove_consumer_.run(redis, keys, args);
    if (deleted.first() && deleted.first()->text == "deleted") removed.push_back(consumer.name);
  }
  co_return removed;
}

}  // namespace rescind::queue
