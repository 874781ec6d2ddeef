#include "metrics/server.hpp"

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <stdexcept>

#include "common/async.hpp"

namespace rescind::metrics {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using common::use_tuple;

Server::Server(asio::any_io_executor executor, prometheus::Registry& registry, Readiness readiness, ServerLimits limits)
    : executor_(executor),
      registry_(registry),
      readiness_(std::move(readiness)),
      limits_(limits),
      acceptor_(executor) {}

unsigned short Server::listen(const std::string& host_port) {
  auto colon = host_port.rfind(':');
  if (colon == std::string::npos) throw std::runtime_error("'" + host_port + "' is not HOST:PORT");
  auto host = host_port.substr(0, colon);
  if (host.size() > 1 && host.front() == '[') host = host.substr(1, host.size() - 2);
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host.empty() ? "0.0.0.0" : host, ec);
  if (ec) throw std::runtime_error("'" + host + "' is not an IP address");
  unsigned long port = 0;
  try {
    port = std::stoul(host_port.substr(colon + 1));
  } catch (const std::exception&) {
    port = 65536;
  }
  if (port > 65535) throw std::runtime_error("the port in '" + host_port + "' is not 0-65535");
  tcp::endpoint endpoint(address, static_cast<unsigned short>(port));
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  acceptor_.bind(endpoint, ec);
  if (ec) throw std::runtime_error("cannot bind " + host_port + ": " + ec.message());
  acceptor_.listen();
  return acceptor_.local_endpoint().port();
}

void Server::stop() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
}

asio::awaitable<void> Server::serve() {
  for (;;) {
    auto [ec, socket] = co_await acceptor_.async_accept(use_tuple);
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
    if (ec) {  // a failed accept (e.g. out of descriptors) must neither stop the endpoint nor spin
      co_await common::sleep_for(limits_.accept_backoff);
      continue;
    }
    if (sessions_ >= limits_.max_sessions) {
      // Closed before a byte is read: the descriptor is back at once. Sessions end within
      // the request deadline when idle, so a health check gets in again soon.
      boost::system::error_code ignored;
      socket.close(ignored);
      continue;
    }
    ++sessions_;
    asio::co_spawn(executor_, session(std::move(socket)), [this](std::exception_ptr) { --sessions_; });
  }
}

asio::awaitable<void> Server::session(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  for (;;) {
    // One deadline for each request's headers, the first one and each next one on a
    // kept-alive connection: a client that connects and says nothing leaves within it.
    stream.expires_after(limits_.request_deadline);
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(limits_.max_header_bytes));
    parser.body_limit(limits_.max_body_bytes);
    auto [rec, read] = co_await http::async_read(stream, buffer, parser, use_tuple);
    if (rec) co_return;
    auto request = parser.release();

    http::response<http::string_body> response{http::status::ok, request.version()};
    response.set(http::field::content_type, "text/plain; charset=utf-8");
    auto target = request.target();
    if (auto query = target.find('?'); query != target.npos) target = target.substr(0, query);
    if (request.method() != http::verb::get && request.method() != http::verb::head) {
      response.result(http::status::method_not_allowed);
      response.body() = "GET only\n";
    } else if (target == "/metrics") {
      response.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
      if (before_scrape_) before_scrape_();
      response.body() = prometheus::TextSerializer().Serialize(registry_.Collect());
    } else if (target == "/healthz") {
      response.body() = "ok\n";
    } else if (target == "/readyz") {
      if (auto why = readiness_()) {
        response.result(http::status::service_unavailable);
        response.body() = *why + "\n";
      } else {
        response.body() = "ready\n";
      }
    } else {
      response.result(http::status::not_found);
      response.body() = "try /metrics, /healthz or /readyz\n";
    }
    response.keep_alive(request.keep_alive());
    response.prepare_payload();
    stream.expires_after(limits_.write_deadline);
    auto [wec, written] = co_await http::async_write(stream, response, use_tuple);
    if (wec || !response.keep_alive()) co_return;
  }
}

}  // namespace rescind::metrics
