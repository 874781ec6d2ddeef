#include "redis/endpoint.hpp"

#include <charconv>

#include "common/text.hpp"

namespace rescind::redis {
namespace {

constexpr const char* shape = "redis[s]://[[USER]:PASSWORD@]HOST[:PORT][/DB]";

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 3986 user info: a password with ':', '@' or '/' in it can only be written %3A, %40, %2F.
std::optional<std::string> percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    int high = hex_digit(text[i + 1]), low = hex_digit(text[i + 2]);
    if (high < 0 || low < 0) return std::nullopt;
    out.push_back(static_cast<char>(high * 16 + low));
    i += 2;
  }
  return out;
}

}  // namespace

std::string Endpoint::display() const {
  auto shown = host.find(':') == std::string::npos ? host : "[" + host + "]";  // an IPv6 address
  return (tls ? "rediss://" : "redis://") + shown + ":" + port + "/" + std::to_string(db);
}

std::optional<Endpoint> parse_endpoint(std::string_view url, std::string& error) {
  Endpoint ep;
  std::string_view rest;
  if (url.starts_with("redis://")) {
    rest = url.substr(8);
  } else if (url.starts_with("rediss://")) {
    ep.tls = true;
    rest = url.substr(9);
  } else {
    // Only the scheme is quoted: the rest may be a password.
    auto scheme = url.find("://");
    error = std::string("expected ") + shape +
            (scheme == std::string_view::npos
                 ? std::string(", got no scheme")
                 : ", got a " + std::string(url.substr(0, std::min<std::size_t>(scheme, 20))) + ":// URL");
    return std::nullopt;
  }
  // The last '@': a password may hold an unencoded one, a host never does.
  if (auto at = rest.rfind('@'); at != std::string_view::npos) {
    auto auth = rest.substr(0, at);
    auto colon = auth.find(':');
    auto user = percent_decode(colon == std::string_view::npos ? std::string_view{} : auth.substr(0, colon));
    auto password = percent_decode(colon == std::string_view::npos ? auth : auth.substr(colon + 1));
    if (!user || !password) {
      error = "the user info of a redis URL has a '%' that is not followed by two hex digits (write '%' as %25)";
      return std::nullopt;
    }
    ep.user = std::move(*user);
    ep.password = std::move(*password);
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
  // An IPv6 address is written in brackets (RFC 3986), its colons then are not the port's.
  std::optional<std::string_view> bracketed;
  if (rest.starts_with('[')) {
    auto close = rest.find(']');
    if (close == std::string_view::npos || close == 1 || (close + 1 < rest.size() && rest[close + 1] != ':')) {
      error = "the host in the redis URL '" + common::url_for_display(url) + "…' is not a [bracketed] IPv6 address";
      return std::nullopt;
    }
    bracketed = rest.substr(1, close - 1);
    rest = rest.substr(close + 1);  // "" or ":PORT"
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
  if (bracketed)
    ep.host = std::string(*bracketed);
  else if (!rest.empty())
    ep.host = std::string(rest);
  return ep;
}

}  // namespace rescind::redis
