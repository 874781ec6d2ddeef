// Where Redis is: parsed once from a redis://[:password@]host[:port][/db] URL.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace rescind::redis {

struct Endpoint {
  std::string host = "127.0.0.1";
  std::string port = "6379";
  std::string password;  // empty: no AUTH
  int db = 0;

  std::string display() const;  // host:port/db, never the password
};

// nullopt with `error` set when the URL is not of that shape.
std::optional<Endpoint> parse_endpoint(std::string_view url, std::string& error);

}  // namespace rescind::redis
