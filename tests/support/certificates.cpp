#include "tests/support/certificates.hpp"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <vector>

#include "tests/support/process.hpp"

namespace rescind::testing {
namespace {

void openssl(const std::vector<std::string>& args) {
  auto ran = run_command("openssl", args);
  if (ran.exit_code != 0) throw std::runtime_error("openssl " + args.front() + " failed: " + ran.err);
}

// A self-signed CA. P-256 keys: made in milliseconds, unlike RSA.
void make_ca(const std::string& dir, const std::string& name, const std::string& subject) {
  openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj",
           "/CN=" + subject, "-keyout", dir + "/" + name + ".key", "-out", dir + "/" + name + ".crt"});
}

// A leaf certificate signed by the CA `ca`, with these extensions (subjectAltName, usage).
void make_leaf(const std::string& dir, const std::string& name, const std::string& ca, const std::string& serial,
               const std::string& extensions) {
  auto base = dir + "/" + name;
  std::ofstream(base + ".ext") << "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
                               << extensions;
  openssl({"req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=" + name,
           "-keyout", base + ".key", "-out", base + ".csr"});
  openssl({"x509", "-req", "-in", base + ".csr", "-CA", dir + "/" + ca + ".crt", "-CAkey", dir + "/" + ca + ".key",
           "-set_serial", serial, "-days", "2", "-extfile", base + ".ext", "-out", base + ".crt"});
}

}  // namespace

Certificates::Certificates() {
  char pattern[] = "/tmp/rescind-test-tls-XXXXXX";
  if (!mkdtemp(pattern)) throw std::runtime_error("mkdtemp failed");
  dir = pattern;
  make_ca(dir, "ca", "Rescind test CA");
  make_ca(dir, "other-ca", "Some other CA");
  make_leaf(dir, "server", "ca", "1", "extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n");
  make_leaf(dir, "localhost", "ca", "2", "extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost\n");
  make_leaf(dir, "client", "ca", "3", "extendedKeyUsage=clientAuth\n");
  ca = dir + "/ca.crt";
  other_ca = dir + "/other-ca.crt";
  server_cert = dir + "/server.crt";
  server_key = dir + "/server.key";
  localhost_cert = dir + "/localhost.crt";
  localhost_key = dir + "/localhost.key";
  client_cert = dir + "/client.crt";
  client_key = dir + "/client.key";
}

Certificates::~Certificates() {
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
}

}  // namespace rescind::testing
