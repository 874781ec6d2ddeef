#include "redis/connection.hpp"

#include <hiredis/hiredis.h>
#include <hiredis/read.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <optional>
#include <tuple>

#include "common/async.hpp"
#include "redis/tls.hpp"

namespace rescind::redis {
namespace {

using boost::system::error_code;
using common::use_tuple;
constexpr auto connect_timeout = std::chrono::seconds(5);

error_code protocol_error() { return boost::system::errc::make_error_code(boost::system::errc::protocol_error); }

class ConnectCategory final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "rescind.redis.connect"; }
  std::string message(int code) const override {
    switch (static_cast<ConnectError>(code)) {
      case ConnectError::auth_refused:
        return "Redis refused the user name or password of the URL (AUTH)";
      case ConnectError::select_refused:
        return "Redis refused to SELECT the database of the URL";
      case ConnectError::tls_unusable:
        return "the TLS files (--redis-ca-file, --redis-tls-cert, --redis-tls-key) cannot be loaded";
    }
    return "unknown Redis connection error";
  }
};

const ConnectCategory connect_category;

}  // namespace

error_code make_error_code(ConnectError error) { return {static_cast<int>(error), connect_category}; }

struct Connection::State {
  explicit State(asio::any_io_executor ex) : executor(ex), socket(ex), reader(redisReaderCreate()), connected(ex) {}
  ~State() { redisReaderFree(reader); }

  // The TCP socket under everything: for options, and to close it whatever runs on top.
  asio::ip::tcp::socket& lowest() { return tls ? tls->next_layer() : socket; }

  // One awaitable each for the reader and the writer, plain or TLS: the connection logic
  // above them is the same. (An SSL stream allows one read and one write at a time, which
  // is what the read and write loops do.)
  asio::awaitable<std::tuple<error_code, std::size_t>> write(asio::const_buffer data) {
    if (tls) co_return co_await asio::async_write(*tls, data, use_tuple);
    co_return co_await asio::async_write(socket, data, use_tuple);
  }
  asio::awaitable<std::tuple<error_code, std::size_t>> read_some(asio::mutable_buffer into) {
    if (tls) co_return co_await tls->async_read_some(into, use_tuple);
    co_return co_await socket.async_read_some(into, use_tuple);
  }

  asio::any_io_executor executor;
  asio::ip::tcp::socket socket;  // moved into `tls` once connected, for rediss://
  // Declared before `tls` so it is destroyed after it: the stream may outlast the Connection.
  std::shared_ptr<asio::ssl::context> tls_context;
  std::optional<asio::ssl::stream<asio::ip::tcp::socket>> tls;
  redisReader* reader;
  std::string outbox;  // encoded commands not yet handed to the socket
  bool writing = false;
  bool ready = false;        // connected and authenticated: exec() may use it
  bool connecting = false;   // a connect() is under way; others wait for it on `connected`
  common::Signal connected;  // the connect() under way has ended, however it ended
  bool broken = false;
  std::deque<Pending> pending;
  // When the oldest outstanding request last made progress (sent, or a reply byte arrived).
  std::chrono::steady_clock::time_point progress = std::chrono::steady_clock::now();
};

Connection::Connection(asio::any_io_executor executor, Endpoint endpoint, std::chrono::milliseconds reply_timeout)
    : executor_(executor), endpoint_(std::move(endpoint)), reply_timeout_(reply_timeout) {
  std::string ignored;  // the files were checked at start-up; connect() reports tls_unusable
  if (endpoint_.tls) tls_ = make_tls_context(endpoint_.tls_files, ignored);
}

Connection::~Connection() { close(); }

void Connection::close() {
  if (state_) fail_all(*state_, asio::error::operation_aborted);
  state_.reset();
}

asio::awaitable<error_code> Connection::connect() {
  // Callers that arrive while another is connecting wait for that attempt's outcome (held:
  // a close() meanwhile drops state_, and the attempt still ends and wakes them).
  while (state_ && state_->connecting) {
    auto attempt = state_;
    co_await attempt->connected.wait();
  }
  if (state_ && state_->ready && !state_->broken) co_return error_code{};

  auto state = std::make_shared<State>(executor_);
  state_ = state;
  state->connecting = true;
  // However this attempt ends (an error, success, or a close() meanwhile), its waiters look again.
  struct Ended {
    State& state;
    ~Ended() {
      state.connecting = false;
      state.connected.notify_all();
    }
  } ended{*state};
  auto finish = [&](error_code ec) {
    if (ec) fail_all(*state, ec);
    return ec;
  };

  asio::ip::tcp::resolver resolver(executor_);
  auto [rec, endpoints] = co_await resolver.async_resolve(endpoint_.host, endpoint_.port, use_tuple);
  if (state_ != state) co_return asio::error::operation_aborted;  // closed while resolving
  if (rec) co_return finish(rec);
  if (endpoint_.tls && !tls_) co_return finish(make_error_code(ConnectError::tls_unusable));

  // Asio's connect and handshake have no deadline of their own: a timer closes the socket
  // if either hangs (a TLS port that never answers the ClientHello, say).
  asio::steady_timer deadline(executor_, connect_timeout);
  deadline.async_wait([state](error_code ec) {
    if (!ec) state->lowest().close(ec);
  });
  auto [cec, ep] = co_await asio::async_connect(state->socket, endpoints, use_tuple);
  if (cec) co_return finish(cec);
  if (state_ != state) co_return asio::error::operation_aborted;  // closed while connecting
  state->socket.set_option(asio::ip::tcp::no_delay(true));
  // A Redis host that vanishes without a reset (failover, a dropped NAT flow) is then
  // noticed by the kernel instead of leaving requests waiting forever.
  state->socket.set_option(asio::socket_base::keep_alive(true));
  if (tls_) {
    state->tls_context = tls_;
    auto& stream = state->tls.emplace(std::move(state->socket), *tls_);
    if (!expect_host(stream.native_handle(), endpoint_.host)) {
      co_return finish(make_error_code(ConnectError::tls_unusable));
    }
    auto [tec] = co_await stream.async_handshake(asio::ssl::stream_base::client, use_tuple);
    if (tec) co_return finish(handshake_error(stream.native_handle(), tec));
    if (state_ != state) co_return asio::error::operation_aborted;  // closed during the handshake
  }
  deadline.cancel();
  asio::co_spawn(executor_, read_loop(state), asio::detached);
  asio::co_spawn(executor_, watchdog(state, reply_timeout_), asio::detached);

  Request hello;
  // AUTH user password (Redis 6 ACLs) when the URL names a user; AUTH password is the default user.
  if (!endpoint_.user.empty())
    hello.push("AUTH", endpoint_.user, endpoint_.password);
  else if (!endpoint_.password.empty())
    hello.push("AUTH", endpoint_.password);
  bool auth = !hello.empty();
  if (endpoint_.db != 0) hello.push("SELECT", endpoint_.db);
  if (!hello.empty()) {
    auto [hec, replies] = co_await asio::async_initiate<decltype(use_tuple), void(error_code, std::vector<Reply>)>(
        [this](auto handler, Request req) { start_exec(std::move(req), Handler(std::move(handler))); }, use_tuple,
        std::move(hello));
    if (hec) co_return finish(hec);
    for (std::size_t i = 0; i < replies.size(); ++i) {
      if (!replies[i].is_error()) continue;
      co_return finish(make_error_code(auth && i == 0 ? ConnectError::auth_refused : ConnectError::select_refused));
    }
  }
  state->ready = true;
  co_return finish(error_code{});
}

asio::awaitable<Result> Connection::exec(Request request) {
  if (!state_ || !state_->ready || state_->broken) {
    if (auto ec = co_await connect()) co_return Result{ec, {}};
    if (!state_) co_return Result{asio::error::operation_aborted, {}};  // closed meanwhile
  }
  auto [ec, replies] = co_await asio::async_initiate<decltype(use_tuple), void(error_code, std::vector<Reply>)>(
      [this](auto handler, Request req) { start_exec(std::move(req), Handler(std::move(handler))); }, use_tuple,
      std::move(request));
  co_return Result{ec, std::move(replies)};
}

void Connection::start_exec(Request request, Handler handler) {
  auto& state = *state_;
  if (state.broken) {
    asio::post(executor_,
               [h = std::move(handler)]() mutable { std::move(h)(asio::error::not_connected, std::vector<Reply>{}); });
    return;
  }
  state.outbox += request.payload();
  if (state.pending.empty()) state.progress = std::chrono::steady_clock::now();
  state.pending.push_back(Pending{request.commands(), {}, std::move(handler)});
  state.pending.back().replies.reserve(request.commands());
  if (!state.writing) {
    state.writing = true;
    asio::co_spawn(executor_, write_loop(state_), asio::detached);
  }
}

asio::awaitable<void> Connection::write_loop(std::shared_ptr<State> state) {
  std::string sending;
  while (!state->outbox.empty() && !state->broken) {
    sending.clear();
    std::swap(sending, state->outbox);  // callers keep appending while this one is written
    auto [ec, n] = co_await state->write(asio::buffer(sending));
    if (ec) {
      fail_all(*state, ec);
      break;
    }
  }
  state->writing = false;
}

asio::awaitable<void> Connection::read_loop(std::shared_ptr<State> state) {
  std::vector<char> buffer(64 * 1024);
  for (;;) {
    auto [ec, n] = co_await state->read_some(asio::buffer(buffer));
    if (ec) {
      fail_all(*state, ec);
      co_return;
    }
    state->progress = std::chrono::steady_clock::now();
    if (redisReaderFeed(state->reader, buffer.data(), n) != REDIS_OK) {
      fail_all(*state, protocol_error());
      co_return;
    }
    for (;;) {
      void* raw = nullptr;
      if (redisReaderGetReply(state->reader, &raw) != REDIS_OK) {
        fail_all(*state, protocol_error());
        co_return;
      }
      if (!raw) break;
      Reply reply = to_reply(static_cast<redisReply*>(raw));
      freeReplyObject(raw);
      if (state->pending.empty()) {  // a reply nobody asked for: the stream is out of step
        fail_all(*state, protocol_error());
        co_return;
      }
      auto& front = state->pending.front();
      front.replies.push_back(std::move(reply));
      if (front.replies.size() == front.expected) {
        // Posted, not called: the woken caller may exec() again while we iterate.
        asio::post(state->executor, [h = std::move(front.handler), r = std::move(front.replies)]() mutable {
          std::move(h)(error_code{}, std::move(r));
        });
        state->pending.pop_front();
      }
    }
  }
}

// Replies come in order, so one that never comes blocks every request behind it: the whole
// connection is failed, its callers get timed_out, and the next exec() connects afresh.
asio::awaitable<void> Connection::watchdog(std::shared_ptr<State> state, std::chrono::milliseconds reply_timeout) {
  auto tick = std::max(std::chrono::milliseconds(100), reply_timeout / 4);
  asio::steady_timer timer(state->executor);
  while (!state->broken) {
    timer.expires_after(tick);
    co_await timer.async_wait(use_tuple);
    if (state->broken) break;
    if (!state->pending.empty() && std::chrono::steady_clock::now() - state->progress > reply_timeout) {
      fail_all(*state, asio::error::timed_out);
    }
  }
}

void Connection::fail_all(State& state, error_code error) {
  state.broken = true;
  state.ready = false;
  error_code ignored;
  state.lowest().close(ignored);  // no TLS close_notify: the reader and writer may be mid-operation
  state.outbox.clear();
  for (auto& pending : state.pending) {
    asio::post(state.executor,
               [h = std::move(pending.handler), error]() mutable { std::move(h)(error, std::vector<Reply>{}); });
  }
  state.pending.clear();
}

}  // namespace rescind::redis
