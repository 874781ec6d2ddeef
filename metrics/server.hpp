// The worker's own HTTP endpoint: /metrics (Prometheus text), /healthz (the process serves)
// and /readyz (Redis reachable, group present, not draining). Served on the worker's
// io_context, so readiness reads the worker's state without locks or extra threads.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <optional>
#include <string>

namespace prometheus {
class Registry;
}

namespace rescind::metrics {

namespace asio = boost::asio;

class Server {
 public:
  // nullopt when ready; otherwise why not (the body of the 503).
  using Readiness = std::function<std::optional<std::string>()>;

  Server(asio::any_io_executor executor, prometheus::Registry& registry, Readiness readiness);

  // Binds HOST:PORT (port 0: any free one) and returns the bound port; throws
  // std::runtime_error with a readable message if it cannot.
  unsigned short listen(const std::string& host_port);

  asio::awaitable<void> serve();  // accepts until stop()
  void stop();

 private:
  asio::awaitable<void> session(asio::ip::tcp::socket socket);

  asio::any_io_executor executor_;
  prometheus::Registry& registry_;
  Readiness readiness_;
  asio::ip::tcp::acceptor acceptor_;
};

}  // namespace rescind::metrics
