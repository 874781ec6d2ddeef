// HTTP/1.1 over Boost.Beast for every provider: a keep-alive pool per origin, TLS 1.2 or
// later with certificate and host-name verification for https://, deadlines on connect and
// on each exchange, answers of bounded size. It knows nothing of providers; a failure comes back as an error code.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "clients/http_options.hpp"
#include "clients/url.hpp"

namespace rescind::clients {

namespace asio = boost::asio;
namespace http = boost::beast::http;

using HttpRequest = http::request<http::string_body>;
using HttpResponse = http::response<http::string_body>;

// What send() answers once stop_sending() was called: the request never left this process.
inline constexpr auto not_sent = boost::asio::error::operation_aborted;

// What send() answers when every connection to the origin stayed busy for max_connection_wait:
// the request never left this process either, but the worker is not stopping, so it is a
// transport failure, retried with backoff like a connect that timed out.
boost::system::error_code no_free_connection();

struct Exchange {
  boost::system::error_code error;  // set: no (complete) response arrived
  HttpResponse response;
};

class HttpClient {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  // Throws std::runtime_error if options.ca_file cannot be loaded (check_ca_file() first).
  // `clock` is injected for tests: it decides when a pooled connection is too old.
  HttpClient(
      asio::any_io_executor executor, HttpOptions options,
      Clock clock = [] { return std::chrono::steady_clock::now(); });
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Whether a request that failed on a pooled connection before any byte of an answer may be
  // sent again on a fresh one. `never` for a call that moves money without an idempotency key
  // (a Magento credit memo): the server may have acted, and only the caller's look-up can tell.
  enum class Resend { once_if_stale, never };

  // Sets Host, sends, reads the whole response. A connection the server closed while it
  // sat idle in the pool is replaced once, transparently (unless `resend` is never); any other
  // failure is returned. After stop_sending(), a request not yet written fails with `not_sent`.
  asio::awaitable<Exchange> send(const Origin& origin, HttpRequest request, Resend resend = Resend::once_if_stale);

  // Shutdown: requests already written are still read to their answer (they were performed
  // or are being performed), but none is written any more — a call waiting for a pooled
  // connection is answered `not_sent` at once. Nothing then happens that the worker could
  // not record, and the job is handed back instead.
  void stop_sending();

  // Origins with a pool, and connections open in them. A pool is per origin and a Shopify
  // origin is per shop: a pool nobody has used for max_idle is closed and forgotten (looked
  // at, with every idle connection, at most once per max_idle, on the next send).
  std::size_t pools() const;
  std::size_t open_connections() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rescind::clients
