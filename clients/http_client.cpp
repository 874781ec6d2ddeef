#include "clients/http_client.hpp"

#include <sys/socket.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <cerrno>
#include <deque>
#include <optional>
#include <stdexcept>
#include <unordered_map>
#include <vector>

#include "common/async.hpp"

namespace rescind::clients {
namespace {

namespace beast = boost::beast;
namespace ssl = asio::ssl;
using boost::system::error_code;
using tcp = asio::ip::tcp;
using common::use_tuple;

struct Connection {
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;
  bool reused = false;
  std::chrono::steady_clock::time_point idle_since;

  tcp::socket& socket() { return secure ? beast::get_lowest_layer(*secure).socket() : plain->socket(); }

  // Whether the server has closed this idle connection (or sent something unasked): a peek
  // that does not block. Cheaper than learning it from a failed request.
  bool closed_by_peer() {
    char byte;
    auto n = ::recv(socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) || n > 0;
  }
};

template <class Stream>
asio::awaitable<error_code> round_trip(Stream& stream, beast::flat_buffer& buffer, const HttpRequest& request,
                                       HttpResponse& response, const HttpOptions& options, bool& got_some) {
  beast::get_lowest_layer(stream).expires_after(options.request_timeout);
  auto [wec, written] = co_await http::async_write(stream, request, use_tuple);
  if (wec) co_return wec;
  http::response_parser<http::string_body> parser;
  parser.body_limit(options.max_response_bytes);
  auto [rec, read] = co_await http::async_read(stream, buffer, parser, use_tuple);
  got_some = parser.got_some();
  if (rec) co_return rec;
  beast::get_lowest_layer(stream).expires_never();
  response = parser.release();
  co_return error_code{};
}

bool stale_connection_error(const error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == ssl::error::stream_truncated;
}

// The client side of TLS to providers, pinned rather than left to the library's defaults
// (Asio's tls_client allows TLS 1.0; only OpenSSL 3's security level refused it): TLS 1.2 or
// later, no compression (CRIME), no renegotiation. `ca_file` empty: the system store.
ssl::context client_tls(const std::string& ca_file, error_code& ec) {
  ssl::context tls(ssl::context::tls_client);
  if (SSL_CTX_set_min_proto_version(tls.native_handle(), TLS1_2_VERSION) != 1) {
    ec = error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category());
    return tls;
  }
  tls.set_options(ssl::context::no_compression | SSL_OP_NO_RENEGOTIATION, ec);
  if (!ec) tls.set_verify_mode(ssl::verify_peer, ec);
  if (ec) return tls;
  if (ca_file.empty()) {
    tls.set_default_verify_paths(ec);
  } else {
    tls.load_verify_file(ca_file, ec);
  }
  return tls;
}

ssl::context client_tls_or_throw(const std::string& ca_file) {
  error_code ec;
  auto tls = client_tls(ca_file, ec);
  if (ec) throw std::runtime_error("cannot load the CA file '" + ca_file + "': " + ec.message());
  return tls;
}

class PoolCategory final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "rescind.http_pool"; }
  std::string message(int) const override {
    return "no connection to the provider came free in time (all --http-max-connections busy)";
  }
};

const PoolCategory pool_category;

}  // namespace

error_code no_free_connection() { return {1, pool_category}; }

struct HttpClient::Impl {
  struct Pool {
    std::optional<tcp::resolver::results_type> endpoints;
    std::vector<std::unique_ptr<Connection>> idle;
    std::size_t open = 0;     // idle plus in use
    std::size_t senders = 0;  // send() calls holding this pool: it is not evicted meanwhile
    // Callers waiting for a connection, oldest first, each on its own timer set to its
    // deadline: a connection coming free wakes the oldest (cancel), a deadline ends that wait.
    std::deque<asio::steady_timer*> waiting;
  };

  Impl(asio::any_io_executor ex, HttpOptions opts, Clock clock_)
      : executor(ex), options(std::move(opts)), clock(std::move(clock_)), tls(client_tls_or_throw(options.ca_file)) {}

  Pool& pool_for(const Origin& origin) {
    auto now = clock();
    if (now - last_sweep >= options.max_idle) sweep(now);
    auto key = origin.key();
    auto it = pools.find(key);
    if (it == pools.end()) it = pools.emplace(key, std::make_unique<Pool>()).first;
    return *it->second;
  }

  bool too_old(const Connection& connection, std::chrono::steady_clock::time_point now) const {
    return now - connection.idle_since > options.max_idle;
  }

  // Idle connections too old to reuse are closed (a server that hung up leaves them in
  // CLOSE_WAIT, holding a descriptor), and a pool left with none, that no send() holds, goes.
  void sweep(std::chrono::steady_clock::time_point now) {
    last_sweep = now;
    std::erase_if(pools, [&](auto& item) {
      Pool& pool = *item.second;
      auto before = pool.idle.size();
      std::erase_if(pool.idle, [&](const auto& connection) { return too_old(*connection, now); });
      pool.open -= before - pool.idle.size();
      return pool.senders == 0 && pool.open == 0;
    });
  }

  void release(Pool& pool) {
    --pool.open;
    wake_one(pool);
  }

  void check_in(Pool& pool, std::unique_ptr<Connection> connection) {
    connection->reused = true;
    connection->idle_since = clock();
    pool.idle.push_back(std::move(connection));
    wake_one(pool);
  }

  // Taken off the queue as it is woken: the next free connection wakes the next waiter.
  static void wake_one(Pool& pool) {
    if (pool.waiting.empty()) return;
    pool.waiting.front()->cancel();
    pool.waiting.pop_front();
  }

  // False: the deadline came first. The deadline is on the real steady clock, not the
  // injected one (which only ages pooled connections).
  asio::awaitable<bool> wait_for_connection(Pool& pool, std::chrono::steady_clock::time_point deadline) {
    asio::steady_timer woken(executor, deadline);
    pool.waiting.push_back(&woken);
    struct Leave {  // however this frame ends, wake_one() must not find a timer that is gone
      std::deque<asio::steady_timer*>& waiting;
      asio::steady_timer* timer;
      ~Leave() { std::erase(waiting, timer); }
    } leave{pool.waiting, &woken};
    auto [error] = co_await woken.async_wait(use_tuple);
    co_return error == asio::error::operation_aborted;
  }

  // A pooled connection the server may have dropped (closed, or idle past what servers
  // commonly keep) is discarded here rather than failing a request; `fresh` skips the pool.
  // A full pool is waited on for max_connection_wait at most, however often a connection
  // comes free and a newer caller takes it first: then the caller is answered no_free_connection().
  asio::awaitable<std::unique_ptr<Connection>> check_out(const Origin& origin, Pool& pool, error_code& ec, bool fresh) {
    auto deadline = std::chrono::steady_clock::now() + options.max_connection_wait;
    for (;;) {
      while (pool.idle.empty() && pool.open >= options.max_connections_per_origin && !stopped) {
        // A deadline that came with a connection freed for this caller (the wake-up then
        // finds the timer expired) is not a refusal: that connection would wake nobody.
        if (!co_await wait_for_connection(pool, deadline) && pool.idle.empty() &&
            pool.open >= options.max_connections_per_origin && !stopped) {
          ec = no_free_connection();
          co_return nullptr;
        }
      }
      if (stopped) {
        ec = not_sent;
        co_return nullptr;
      }
      if (pool.idle.empty() || (fresh && pool.open < options.max_connections_per_origin)) break;
      auto connection = std::move(pool.idle.back());
      pool.idle.pop_back();
      bool stale = too_old(*connection, clock());
      if (!fresh && !stale && !connection->closed_by_peer()) co_return connection;
      --pool.open;  // dropped: its slot goes to a new connection
      if (fresh) break;
    }
    ++pool.open;
    auto connection = co_await connect(origin, pool, ec);
    if (!connection) release(pool);
    co_return connection;
  }

  asio::awaitable<std::unique_ptr<Connection>> connect(const Origin& origin, Pool& pool, error_code& ec) {
    if (!pool.endpoints) {
      tcp::resolver resolver(executor);
      auto [rec, results] = co_await resolver.async_resolve(origin.host, origin.port, use_tuple);
      if (rec) {
        ec = rec;
        co_return nullptr;
      }
      pool.endpoints = std::move(results);
    }
    beast::tcp_stream stream(executor);
    stream.expires_after(options.connect_timeout);
    auto [cec, endpoint] = co_await stream.async_connect(*pool.endpoints, use_tuple);
    if (cec) {
      pool.endpoints.reset();  // the address may have moved: resolve again next time
      ec = cec;
      co_return nullptr;
    }
    stream.socket().set_option(tcp::no_delay(true));
    auto connection = std::make_unique<Connection>();
    if (!origin.tls) {
      stream.expires_never();
      connection->plain.emplace(std::move(stream));
      co_return connection;
    }
    auto& secure = connection->secure.emplace(std::move(stream), tls);
    if (!SSL_set_tlsext_host_name(secure.native_handle(), origin.host.c_str())) {
      ec = error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category());
      co_return nullptr;
    }
    secure.set_verify_callback(ssl::host_name_verification(origin.host));
    auto [hec] = co_await secure.async_handshake(ssl::stream_base::client, use_tuple);
    if (hec) {
      ec = hec;
      co_return nullptr;
    }
    beast::get_lowest_layer(secure).expires_never();
    co_return connection;
  }

  asio::any_io_executor executor;
  HttpOptions options;
  Clock clock;
  ssl::context tls;
  std::unordered_map<std::string, std::unique_ptr<Pool>> pools;
  std::chrono::steady_clock::time_point last_sweep{};
  bool stopped = false;  // stop_sending(): no request is written any more
};

HttpClient::HttpClient(asio::any_io_executor executor, HttpOptions options, Clock clock)
    : impl_(std::make_unique<Impl>(executor, std::move(options), std::move(clock))) {}

HttpClient::~HttpClient() = default;

std::optional<std::string> check_ca_file(const std::string& path) {
  error_code ec;
  client_tls(path, ec);
  if (ec) return ec.message();
  return std::nullopt;
}

std::size_t HttpClient::pools() const { return impl_->pools.size(); }

std::size_t HttpClient::open_connections() const {
  std::size_t open = 0;
  for (const auto& [origin, pool] : impl_->pools) open += pool->open;
  return open;
}

void HttpClient::stop_sending() {
  impl_->stopped = true;
  for (auto& [origin, pool] : impl_->pools) {  // every waiter learns it now
    while (!pool->waiting.empty()) Impl::wake_one(*pool);
  }
}

asio::awaitable<Exchange> HttpClient::send(const Origin& origin, HttpRequest request, Resend resend) {
  auto& pool = impl_->pool_for(origin);
  ++pool.senders;
  struct Leave {  // however this call ends, the pool may be evicted afterwards
    Impl::Pool& pool;
    ~Leave() { --pool.senders; }
  } leave{pool};
  request.set(http::field::host, origin.host_header());
  request.prepare_payload();
  for (int attempt = 0;; ++attempt) {
    error_code ec;
    if (impl_->stopped) co_return Exchange{not_sent, {}};
    auto connection = co_await impl_->check_out(origin, pool, ec, attempt > 0);
    if (!connection) co_return Exchange{ec, {}};
    if (impl_->stopped) {  // stopped while connecting: the request has not left
      impl_->check_in(pool, std::move(connection));
      co_return Exchange{not_sent, {}};
    }
    Exchange exchange;
    bool got_some = false;
    const auto& options = impl_->options;
    if (connection->secure) {
      ec = co_await round_trip(*connection->secure, connection->buffer, request, exchange.response, options, got_some);
    } else {
      ec = co_await round_trip(*connection->plain, connection->buffer, request, exchange.response, options, got_some);
    }
    if (!ec) {
      if (exchange.response.keep_alive()) {
        impl_->check_in(pool, std::move(connection));
      } else {
        impl_->release(pool);
      }
      co_return exchange;
    }
    bool reused = connection->reused;
    connection.reset();
    impl_->release(pool);
    // A pooled connection that fails before any byte of a response is almost always one
    // the server closed while it sat idle, racing our write: one fresh try is made. In the
    // rare case the server did act, money-moving calls carry idempotency keys, and those
    // without one ask for no resend.
    if (resend == Resend::once_if_stale && reused && !got_some && attempt == 0 && stale_connection_error(ec)) continue;
    co_return Exchange{ec, {}};
  }
}

}  // namespace rescind::clients
