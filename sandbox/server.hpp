// The HTTP/1.1 front: accepts connections and runs one coroutine per connection (keep-alive,
// a timeout on every read and write), handing each request to the Sandbox.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "sandbox/sandbox.hpp"

namespace rescind::sandbox {

struct ServerOptions {
  boost::asio::ip::tcp::endpoint listen;
  std::chrono::milliseconds idle_timeout{60'000};  // a silent keep-alive connection is closed
  bool strands = false;  // one strand per connection: needed when the io_context runs on threads
};

class Server {
 public:
  // Binds and listens; throws boost::system::system_error when the address is unusable.
  Server(boost::asio::io_context& io, Sandbox& sandbox, ServerOptions options);

  boost::asio::ip::tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }
  void start();

 private:
  boost::asio::awaitable<void> accept_loop();
  boost::asio::awaitable<void> serve(boost::asio::ip::tcp::socket socket);

  boost::asio::io_context& io_;
  Sandbox& sandbox_;
  ServerOptions options_;
  boost::asio::ip::tcp::acceptor acceptor_;
};

// "HOST:PORT" or "[V6HOST]:PORT" with a numeric address; nullopt otherwise.
std::optional<boost::asio::ip::tcp::endpoint> parse_listen_address(std::string_view text);
// 127.0.0.1:8099, [::1]:8099
std::string format_endpoint(const boost::asio::ip::tcp::endpoint& endpoint);

}  // namespace rescind::sandbox
