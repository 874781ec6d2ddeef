#include "ctl/redis_session.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>

namespace rescind::ctl {

RedisSession::RedisSession(redis::Endpoint endpoint) : connection_(io_.get_executor(), std::move(endpoint)) {}

std::vector<redis::Reply> RedisSession::exec(redis::Request request) {
  redis::Result result;
  bool done = false;
  boost::asio::co_spawn(
      io_,
      [&]() -> boost::asio::awaitable<void> {
        result = co_await connection_.exec(std::move(request));
        done = true;
      },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  // Not run(): the connection's reader keeps the context busy for as long as it is open.
  while (!done) io_.run_one();
  if (!result.ok()) {
    throw OperationalError("Redis at " + connection_.endpoint().display() + ": " + result.error.message());
  }
  return std::move(result.replies);
}

}  // namespace rescind::ctl
