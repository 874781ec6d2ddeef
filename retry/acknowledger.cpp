#include "retry/acknowledger.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace rescind::retry {
namespace {

// KEYS: jobs. ARGV: group, consumer, ids… Acks the ids this consumer still owns (one XACK)
// and answers 1 or 0 per id, in order.
constexpr const char* ack_many_lua = R"lua(
local owned, answer = {}, {}
for i = 3, #ARGV do
  local owner = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if #owner > 0 and owner[1][2] == ARGV[2] then
    owned[#owned + 1] = ARGV[i]
    answer[i - 2] = 1
  else
    answer[i - 2] = 0
  end
end
if #owned > 0 then redis.call('XACK', KEYS[1], ARGV[1], unpack(owned)) end
return answer
)lua";

constexpr std::size_t max_batch = 1000;  // bounds one script's run time (and unpack's stack)

}  // namespace

Acknowledger::Acknowledger(const QueueKeys& keys, redis::Connection& redis, asio::any_io_executor executor)
    : keys_(keys), redis_(redis), executor_(executor), script_(ack_many_lua) {}

asio::awaitable<Finished> Acknowledger::acknowledge(std::string entry_id) {
  co_return co_await asio::async_initiate<const asio::use_awaitable_t<>, void(Finished)>(
      [this](auto handler, std::string id) { enqueue(std::move(id), Handler(std::move(handler))); }, asio::use_awaitable,
      std::move(entry_id));
}

void Acknowledger::enqueue(std::string entry_id, Handler done) {
  waiting_.push_back(Waiting{std::move(entry_id), std::move(done)});
  if (flush_scheduled_) return;
  flush_scheduled_ = true;
  // co_spawn posts: every ack asked for before the loop gets to it joins this batch.
  asio::co_spawn(executor_, flush(), asio::detached);
}

asio::awaitable<void> Acknowledger::flush() {
  flush_scheduled_ = false;
  std::vector<Waiting> batch;
  batch.swap(waiting_);
  for (std::size_t from = 0; from < batch.size(); from += max_batch) {
    auto to = std::min(batch.size(), from + max_batch);
    std::vector<std::string_view> keys{keys_.jobs};
    std::vector<std::string_view> args{keys_.group, keys_.consumer};
    for (auto i = from; i < to; ++i) args.push_back(batch[i].entry_id);
    auto result = co_await script_.run(redis_, keys, args);
    bool answered = result.ok() && result.replies[0].is_array() && result.replies[0].elements.size() == to - from;
    for (auto i = from; i < to; ++i) {
      auto finished = !answered ? Finished::failed
                      : result.replies[0].elements[i - from].integer == 1 ? Finished::done
                                                                           : Finished::stale;
      asio::post(executor_, [done = std::move(batch[i].done), finished]() mutable { std::move(done)(finished); });
    }
  }
}

}  // namespace rescind::retry
