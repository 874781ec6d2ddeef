#include "redis/endpoint.hpp"

#include <charconv>

#include "common/text.hpp"

namespace rescind::redis {

std::string Endpoint::display() const {
  return host + ":" + port + "/" + std::to_string(db);
}

std::optional<Endpoint> parse_endpoint(std::string_view url, std::string& error) {
  constexpr std::string_view scheme = "redis://";
  if (url.substr(0, scheme.size()) != scheme) {
    // Scheme and host only: the rest of a Redis URL can be its password.
    error = "expected redis://[:password@]host[:port][/db], got " +
            (url.find("://") == std::string_view::npos ? std::string("a value that is not a URL (not shown)")
                                                       : "'" + common::url_for_display(url) + "…'");
    return std::nullopt;
  }
  Endpoint ep;
  auto rest = url.substr(scheme.size());
  if (auto at = rest.rfind('@'); at != std::string_view::npos) {
    auto auth = rest.substr(0, at);
    auto colon = auth.find(':');
    ep.password = std::string(colon == std::string_view::npos ? auth : auth.substr(colon + 1));
    rest = rest.substr(at + 1);
  }
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    auto db = rest.substr(slash + 1);
    if (!db.empty()) {
      auto [end, ec] = std::from_chars(db.data(), db.data() + db.size(), ep.db);
      if (ec != std::errc{} || end != db.data() + db.size() || ep.db < 0) {
        error = "the database in the redis URL '" + common::url_for_display(url) + "…' is not a number";
        return std::nullopt;
      }
    }
    rest = rest.substr(0, slash);
  }
  if (auto colon = rest.rfind(':'); colon != std::string_view::npos) {
    ep.port = std::string(rest.substr(colon + 1));
    rest = rest.substr(0, colon);
    int port = 0;
    auto [end, ec] = std::from_chars(ep.port.data(), ep.port.data() + ep.port.size(), port);
    if (ec != std::errc{} || end != ep.port.data() + ep.port.size() || port <= 0 || port > 65535) {
      error = "the port in the redis URL '" + common::url_for_display(url) + "…' is not 1-65535";
      return std::nullopt;
    }
  }
  if (!rest.empty()) ep.host = std::string(rest);
  return ep;
}

}  // namespace rescind::redis
