// Accept loop and HTTP sessions. Errors are values (as_tuple) checked where they happen; a
// bad connection ends its own coroutine and nothing else.
#include "sandbox/server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <charconv>
#include <exception>

#include "common/async.hpp"
#include "common/log.hpp"

namespace rescind::sandbox {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

using common::use_tuple;

// Logs what escapes a coroutine; with as_tuple everywhere that is only bad_alloc and bugs.
auto log_failure(std::string_view what) {
  return [what](std::exception_ptr failure) {
    if (!failure) return;
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      common::log::error("coroutine failed", {{"in", what}, {"error", e.what()}});
    }
  };
}

bool is_parse_error(const boost::system::error_code& ec) {
  return ec.category() == beast::http::make_error_code(beast::http::error::bad_target).category();
}

// The status for a request the parser refused; nullopt when the peer went away or timed out.
std::optional<http::status> refusal_for(const boost::system::error_code& ec) {
  if (ec == http::error::body_limit) return http::status::payload_too_large;
  if (ec == http::error::header_limit) return http::status::request_header_fields_too_large;
  if (ec == http::error::end_of_stream || ec == http::error::partial_message) return std::nullopt;
  if (is_parse_error(ec)) return http::status::bad_request;
  return std::nullopt;
}

void close(beast::tcp_stream& stream) {
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream.socket().close(ignored);
}

}  // namespace

Server::Server(asio::io_context& io, Sandbox& sandbox, ServerOptions options)
    : io_(io), sandbox_(sandbox), options_(options), acceptor_(io) {
  acceptor_.open(options_.listen.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  acceptor_.bind(options_.listen);
  acceptor_.listen(asio::socket_base::max_listen_connections);
}

void Server::start() { asio::co_spawn(acceptor_.get_executor(), accept_loop(), log_failure("accept loop")); }

asio::awaitable<void> Server::accept_loop() {
  for (;;) {
    asio::any_io_executor executor =
        options_.strands ? asio::any_io_executor(asio::make_strand(io_)) : asio::any_io_executor(io_.get_executor());
    auto [ec, socket] = co_await acceptor_.async_accept(executor, use_tuple);
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) {
      // Out of file descriptors, most likely: wait instead of spinning on the error.
      common::log::warn("accept failed", {{"error", ec.message()}});
      co_await common::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    asio::co_spawn(executor, serve(std::move(socket)), log_failure("connection"));
  }
}

asio::awaitable<void> Server::serve(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(max_body_bytes);
    stream.expires_after(options_.idle_timeout);
    auto [read_error, read_bytes] = co_await http::async_read(stream, buffer, parser, use_tuple);
    if (read_error) {
      if (auto refusal = refusal_for(read_error)) {
        // The rest of the request is unread: answer, then close rather than resynchronise.
        Response response = text_response(*refusal, std::string(http::obsolete_reason(*refusal)));
        response.keep_alive(false);
        response.prepare_payload();
        stream.expires_after(options_.idle_timeout);
        co_await http::async_write(stream, response, use_tuple);
      }
      break;
    }

    Request& request = parser.get();
    if (auto wait = sandbox_.delay_for(request); wait.count() > 0) co_await common::sleep_for(wait);
    Outcome outcome = sandbox_.handle(request, Instant::now());
    if (outcome.drop_connection) break;

    stream.expires_after(options_.idle_timeout);
    auto [write_error, written] = co_await http::async_write(stream, outcome.response, use_tuple);
    if (write_error || !outcome.response.keep_alive()) break;
  }
  close(stream);
}

std::optional<tcp::endpoint> parse_listen_address(std::string_view text) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  std::string_view host = text.substr(0, colon);
  std::string_view port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return std::nullopt;  // an IPv6 address needs brackets
  }
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc{} || end != port_text.data() + port_text.size() || port > 65535) {
    return std::nullopt;
  }
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code bad;
  auto address = asio::ip::make_address(std::string(host), bad);
  if (bad) return std::nullopt;
  return tcp::endpoint(address, static_cast<unsigned short>(port));
}

std::string format_endpoint(const tcp::endpoint& endpoint) {
  std::string host = endpoint.address().to_string();
  if (endpoint.address().is_v6()) host = "[" + host + "]";
  return host + ":" + std::to_string(endpoint.port());
}

}  // namespace rescind::sandbox
