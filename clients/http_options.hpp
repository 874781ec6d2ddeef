// How the provider HTTP client behaves: plain settings, apart from the client so that the
// worker's configuration does not pull Beast into every file that reads it.
#pragma once
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

namespace rescind::clients {

struct HttpOptions {
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds request_timeout{30000};
  std::size_t max_connections_per_origin = 256;          // callers past it wait for a free one…
  std::chrono::milliseconds max_connection_wait{30000};  // …this long at most, then no_free_connection()
  std::string ca_file;                                   // empty: the system's trust store
  std::size_t max_response_bytes = 1 << 20;              // provider answers are small; a huge one is an error
  // Pooled connections idle longer are not reused: servers close idle keep-alive connections
  // (often after 30-60 s) and a request racing that close fails.
  std::chrono::milliseconds max_idle{15000};
};

// What a --ca-file is wrong with (unreadable, no certificate in it), or nullopt if it loads.
std::optional<std::string> check_ca_file(const std::string& path);

}  // namespace rescind::clients
