#include "worker/gone_receivers.hpp"

#include "common/log.hpp"
#include "common/time.hpp"

namespace rescind::worker {

namespace log = common::log;

boost::asio::awaitable<std::set<std::string>> RedisGoneReceivers::load() {
  redis::Request request;
  request.push("HGETALL", key_);
  auto read = co_await redis_.exec(std::move(request));
  std::set<std::string> gone;
  const auto* hash = read.first();
  if (!hash || !hash->is_array()) co_return gone;  // call them: a 410 again costs nothing
  const auto& fields = hash->elements;
  for (std::size_t i = 0; i + 1 < fields.size(); i += 2) gone.insert(fields[i].text);
  co_return gone;
}

boost::asio::awaitable<void> RedisGoneReceivers::add(std::string receiver, std::string host, std::string job_id) {
  redis::Request request;
  request.push(
      "HSET", key_, receiver,
      "at=" + common::format_rfc3339_ms(std::chrono::system_clock::now()) + " host=" + host + " job=" + job_id);
  auto written = co_await redis_.exec(std::move(request));
  bool kept = written.first() != nullptr;
  metrics_.receiver_disabled();
  log::warn(kept
                ? "record receiver answered 410 Gone: no worker calls it again until it is re-enabled"
                : "record receiver answered 410 Gone, but Redis did not take it: it will be called (and skipped) again",
            {{"receiver", receiver}, {"host", host}, {"job_id", job_id}, {"key", key_}});
}

}  // namespace rescind::worker
