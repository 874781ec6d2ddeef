#include "queue/acknowledger.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "queue/scripts.hpp"

namespace rescind::queue {
namespace {

constexpr std::size_t max_batch = 1000;  // bounds one script's run time (and unpack's stack)

}  // namespace

Acknowledger::Acknowledger(const JobQueue& queue, redis::Connection& redis, asio::any_io_executor executor)
    : queue_(queue), redis_(redis), executor_(executor), script_(scripts::acknowledge()) {}

asio::awaitable<Moved> Acknowledger::acknowledge(std::string entry_id, std::string lease_key) {
  co_return co_await asio::async_initiate<const asio::use_awaitable_t<>, void(Moved)>(
      [this](auto handler, std::string id, std::string lease) {
        enqueue(std::move(id), std::move(lease), Handler(std::move(handler)));
      },
      asio::use_awaitable, std::move(entry_id), std::move(lease_key));
}

void Acknowledger::enqueue(std::string entry_id, std::string lease_key, Handler done) {
  waiting_.push_back(Waiting{std::move(entry_id), std::move(lease_key), std::move(done)});
  if (flush_scheduled_) return;
  flush_scheduled_ = true;
  // co_spawn posts: every ack asked for before the loop gets to it joins this
  // batch.
  asio::co_spawn(executor_, flush(), asio::detached);
}

asio::awaitable<void> Acknowledger::flush() {
  flush_scheduled_ = false;
  std::vector<Waiting> batch;
  batch.swap(waiting_);
  // Leased entries first: the script pairs KEYS[1 + i] with the i-th id. (An
  // order of indices, not a reordering of `batch`: Boost 1.81's
  // any_completion_handler recurses forever when a standard algorithm copies
  // one.)
  std::vector<std::size_t> order;
  order.reserve(batch.size());
  for (std::size_t i = 0; i < batch.size(); ++i)
    if (!batch[i].lease_key.empty()) order.push_back(i);
  for (std::size_t i = 0; i < batch.size(); ++i)
    if (batch[i].lease_key.empty()) order.push_back(i);
  for (std::size_t from = 0; from < order.size(); from += max_batch) {
    auto to = std::min(order.size(), from + max_batch);
    std::vector<std::string_view> keys{queue_.jobs_key()};
    for (auto i = from; i < to && !batch[order[i]].lease_key.empty(); ++i) keys.push_back(batch[order[i]].lease_key);
    auto leased = std::to_string(keys.size() - 1);
    std::vector<std::string_view> args{queue_.group(), queue_.consumer(), leased};
    for (auto i = from; i < to; ++i) args.push_back(batch[order[i]].entry_id);
    auto result = co_await script_.run(redis_, keys, args);
    const auto* answer = result.first();
    bool answered = answer && answer->is_array() && answer->elements.size() == to - from;
    for (auto i = from; i < to; ++i) {
      auto moved = !answered                                 ? Moved::failed
                   : answer->elements[i - from].integer == 1 ? Moved::moved
                                                             : Moved::not_owner;
      asio::post(executor_, [done = std::move(batch[order[i]].done), moved]() mutable { std::move(done)(moved); });
    }
  }
}

}  // namespace rescind::queue
