// Provider base URLs, parsed once at start-up into an origin (what a pooled connection
// is keyed by) and a path prefix.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace rescind::clients {

struct Origin {
  bool tls = true;
  std::string host;
  std::string port;

  std::string key() const { return (tls ? "https://" : "http://") + host + ":" + port; }
  std::string host_header() const;  // "host" or "host:port" when the port is not the default
};

struct Url {
  Origin origin;
  std::string path;  // without a trailing slash: "" or "/services/T…/B…/…"
};

// http:// or https:// only; nullopt with `error` naming what is wrong.
std::optional<Url> parse_url(std::string_view text, std::string& error);

// localhost, 127.0.0.0/8 or ::1: the only hosts a plain http:// URL is safe to (credentials
// and job data would otherwise cross a network in clear).
bool is_loopback(const Origin& origin);

}  // namespace rescind::clients
