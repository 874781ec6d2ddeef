// One connection to Redis over an Asio socket (TLS on it for rediss://). Concurrent callers
// share it: their requests are written back to back (pipelined) and replies matched in order, so many
// job coroutines acking at once cost one write and one read, not one round trip each.
// A connection that breaks fails what was in flight and reconnects on the next exec().
#pragma once
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "redis/endpoint.hpp"
#include "redis/reply.hpp"
#include "redis/request.hpp"

struct redisReader;
namespace boost::asio::ssl {
class context;
}

namespace rescind::redis {

namespace asio = boost::asio;

// How connect() fails besides Asio's and OpenSSL's errors. The messages never quote Redis's
// reply to AUTH: it names no secret today, but nothing here depends on that staying so.
enum class ConnectError {
  auth_refused = 1,  // AUTH: wrong user or password, or the user is disabled
  select_refused,    // SELECT: no such database, or the user may not SELECT
  tls_unusable,      // the TLS files could not be loaded (they did at start-up)
};
boost::system::error_code make_error_code(ConnectError error);

struct Result {
  boost::system::error_code error;  // transport failure: nothing in `replies` is valid
  std::vector<Reply> replies;       // one per command, in order; may hold error replies

  bool ok() const { return !error; }
  // The first command's reply when the round trip worked and Redis did not refuse it; else
  // null. What most callers ask: "did it work, and what did it say?"
  const Reply* first() const { return ok() && !replies.empty() && !replies[0].is_error() ? &replies[0] : nullptr; }
  Reply* first() { return ok() && !replies.empty() && !replies[0].is_error() ? &replies[0] : nullptr; }
  // Why first() is null: the transport error, or Redis's error text; empty when it is not.
  std::string failure() const {
    if (!ok()) return error.message();
    if (replies.empty()) return "no reply";
    return replies[0].is_error() ? replies[0].text : std::string();
  }
};

class Connection {
 public:
  // `reply_timeout`: a connection whose oldest outstanding request has had no reply byte for
  // this long is failed (and remade on the next exec): a hung Redis must not stall callers.
  // Connections that block on purpose (XREADGROUP BLOCK) need it longer than the block.
  Connection(asio::any_io_executor executor, Endpoint endpoint,
             std::chrono::milliseconds reply_timeout = std::chrono::seconds(10));
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Sends every command of `request` and waits for all their replies.
  asio::awaitable<Result> exec(Request request);

  // Connects (and AUTH/SELECTs) now rather than on first use: start-up fails fast.
  asio::awaitable<boost::system::error_code> connect();

  void close();
  const Endpoint& endpoint() const { return endpoint_; }
  asio::any_io_executor executor() const { return executor_; }

 private:
  using Handler = asio::any_completion_handler<void(boost::system::error_code, std::vector<Reply>)>;
  struct Pending {
    std::size_t expected;
    std::vector<Reply> replies;
    Handler handler;
  };
  struct State;  // shared with the reader and writer coroutines, which may outlive a close()

  void start_exec(Request request, Handler handler);
  void start_io();
  static asio::awaitable<void> read_loop(std::shared_ptr<State> state);
  static asio::awaitable<void> write_loop(std::shared_ptr<State> state);
  static asio::awaitable<void> watchdog(std::shared_ptr<State> state, std::chrono::milliseconds reply_timeout);
  static void fail_all(State& state, boost::system::error_code error);

  asio::any_io_executor executor_;
  Endpoint endpoint_;
  std::chrono::milliseconds reply_timeout_;
  // Built once (loading a CA store takes milliseconds): reconnects reuse it. Null for
  // redis://, and for rediss:// whose files no longer load (connect() then fails).
  std::shared_ptr<asio::ssl::context> tls_;
  std::shared_ptr<State> state_;
};

}  // namespace rescind::redis
