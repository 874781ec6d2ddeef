// The worker's own HTTP endpoint: /metrics (Prometheus text), /healthz (the process serves)
// and /readyz (Redis reachable, group present, not draining). Served on the worker's
// io_context, so readiness reads the worker's state without locks or extra threads.
// It shares that thread and the process's descriptors with every job, so what a client can
// take is bounded: a few sessions at a time, small requests, short deadlines.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>

namespace prometheus {
class Registry;
}

namespace rescind::metrics {

namespace asio = boost::asio;

struct ServerLimits {
  // Prometheus, a kubelet and an operator's curl need a handful; past this many open
  // sessions a new connection is closed at once, so idle clients cannot take the
  // descriptors provider and Redis connections need.
  std::size_t max_sessions = 64;
  std::chrono::milliseconds request_deadline{5000};  // headers of a request, the first or the next
  std::chrono::milliseconds write_deadline{10000};   // one answer (a big /metrics included)
  std::size_t max_header_bytes = 8192;
  std::size_t max_body_bytes = 1024;  // GET and HEAD only: nothing needs a body
  // An accept that fails (out of descriptors, mostly) is retried after this, not at once:
  // the connection stays queued and the listening socket stays readable, so an immediate
  // retry would spin on the worker's only thread.
  std::chrono::milliseconds accept_backoff{50};
};

class Server {
 public:
  // nullopt when ready; otherwise why not (the body of the 503).
  using Readiness = std::function<std::optional<std::string>()>;

  Server(asio::any_io_executor executor, prometheus::Registry& registry, Readiness readiness, ServerLimits limits = {});

  // Binds HOST:PORT (port 0: any free one) and returns the bound port; throws
  // std::runtime_error with a readable message if it cannot.
  unsigned short listen(const std::string& host_port);

  asio::awaitable<void> serve();  // accepts until stop()
  // Called before each /metrics answer is collected: for gauges cheaper to read than to track.
  void before_scrape(std::function<void()> refresh) { before_scrape_ = std::move(refresh); }
  void stop();

 private:
  asio::awaitable<void> session(asio::ip::tcp::socket socket);

  asio::any_io_executor executor_;
  prometheus::Registry& registry_;
  Readiness readiness_;
  std::function<void()> before_scrape_;
  ServerLimits limits_;
  asio::ip::tcp::acceptor acceptor_;
  std::size_t sessions_ = 0;
};

}  // namespace rescind::metrics
