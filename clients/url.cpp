#include "clients/url.hpp"

#include <boost/asio/ip/address.hpp>
#include <charconv>

#include "common/text.hpp"

namespace rescind::clients {

std::string Origin::host_header() const {
  bool default_port = (tls && port == "443") || (!tls && port == "80");
  return default_port ? host : host + ":" + port;
}

bool is_loopback(const Origin& origin) {
  std::string_view host = origin.host;
  if (host == "localhost") return true;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(std::string(host), ec);
  return !ec && address.is_loopback();
}

std::optional<Url> parse_url(std::string_view text, std::string& error) {
  // Errors name the URL by scheme and host only: its path or user part can be the secret
  // (a Slack or record webhook), and usage errors end up in container logs.
  const std::string shown = common::url_for_display(text);
  Url url;
  if (text.starts_with("https://")) {
    url.origin.tls = true;
    text.remove_prefix(8);
  } else if (text.starts_with("http://")) {
    url.origin.tls = false;
    text.remove_prefix(7);
  } else {
    error = shown == "(not a URL)" ? "the value is not an http:// or https:// URL (not shown: it may be a secret)"
                                   : "'" + shown + "…' is not an http:// or https:// URL";
    return std::nullopt;
  }
  auto slash = text.find('/');
  auto authority = text.substr(0, slash);
  if (slash != std::string_view::npos) url.path = std::string(text.substr(slash));
  while (!url.path.empty() && url.path.back() == '/') url.path.pop_back();
  if (authority.find('@') != std::string_view::npos) {
    error = "credentials do not belong in a URL; configure them separately";
    return std::nullopt;
  }
  auto colon = authority.rfind(':');
  if (colon != std::string_view::npos && authority.find(']') == std::string_view::npos) {
    url.origin.port = std::string(authority.substr(colon + 1));
    authority = authority.substr(0, colon);
    int port = 0;
    auto [end, ec] = std::from_chars(url.origin.port.data(), url.origin.port.data() + url.origin.port.size(), port);
    if (ec != std::errc{} || end != url.origin.port.data() + url.origin.port.size() || port <= 0 || port > 65535) {
      error = "the port in '" + shown + "…' must be 1-65535";
      return std::nullopt;
    }
  } else {
    url.origin.port = url.origin.tls ? "443" : "80";
  }
  if (authority.empty()) {
    error = "the URL '" + shown + "…' has no host";
    return std::nullopt;
  }
  url.origin.host = std::string(authority);
  return url;
}

}  // namespace rescind::clients
