// Certificates for TLS tests, made with the openssl CLI into a fresh temporary folder (removed
// with the object): nothing is checked in that could expire or leak into a real trust store.
#pragma once
#include <string>

namespace rescind::testing {

struct Certificates {
  Certificates();  // throws std::runtime_error with openssl's words if a step fails
  ~Certificates();
  Certificates(const Certificates&) = delete;
  Certificates& operator=(const Certificates&) = delete;

  std::string dir;
  std::string ca;                             // the test CA's certificate (what clients trust)
  std::string server_cert, server_key;        // signed by `ca`, for IP 127.0.0.1 and DNS localhost
  std::string localhost_cert, localhost_key;  // signed by `ca`, for DNS localhost only (not 127.0.0.1)
  std::string client_cert, client_key;        // signed by `ca`, for clientAuth
  std::string other_ca;                       // a second CA that signed none of the above
};

}  // namespace rescind::testing
