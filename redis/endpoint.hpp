// Where Redis is and who we are there: parsed once from a
// redis[s]://[[USER]:PASSWORD@]HOST[:PORT][/DB] URL (user info percent-decoded).
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace rescind::redis {

// The PEM files of a TLS connection; empty ones are not used (an empty CA file: the system store).
struct TlsFiles {
  std::string ca_file;    // trusted CAs instead of the system store
  std::string cert_file;  // client certificate (chain), for --tls-auth-clients servers
  std::string key_file;   // its private key
};

struct Endpoint {
  bool tls = false;  // rediss://: certificate and host name verified, TLS 1.2 or later
  std::string host = "127.0.0.1";
  std::string port = "6379";
  std::string user;      // empty: AUTH with the password alone (the default user)
  std::string password;  // empty and no user: no AUTH
  int db = 0;
  TlsFiles tls_files;  // only with tls

  // redis[s]://host:port/db: what every message shows; never the user info (M3).
  std::string display() const;
};

// nullopt with `error` set when the URL is not of that shape. `error` never quotes the
// user info: the URL may hold a password.
std::optional<Endpoint> parse_endpoint(std::string_view url, std::string& error);

}  // namespace rescind::redis
