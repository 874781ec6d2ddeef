#include "redis/tls.hpp"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/context.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace rescind::redis {
namespace {

namespace ssl = boost::asio::ssl;

// "certificate verify failed: hostname mismatch": the X509_V_ERR_* code as the value.
class VerifyCategory final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "rescind.redis.certificate"; }
  std::string message(int code) const override {
    return std::string("certificate verify failed: ") + X509_verify_cert_error_string(code);
  }
};

const VerifyCategory verify_category;

// A missing or unreadable file says so with errno's words; OpenSSL would only say "system lib".
bool readable(const std::string& path, const char* flag, std::string& error) {
  std::FILE* file = std::fopen(path.c_str(), "r");
  if (!file) {
    error = std::string(flag) + " " + path + ": cannot read it: " + std::strerror(errno);
    return false;
  }
  std::fclose(file);
  return true;
}

}  // namespace

std::shared_ptr<ssl::context> make_tls_context(const TlsFiles& files, std::string& error) {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_client);
  auto* native = context->native_handle();
  // Asio's tls_client allows TLS 1.0; nothing that speaks rediss:// needs less than 1.2.
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_verify(native, SSL_VERIFY_PEER, nullptr);
  boost::system::error_code ec;
  if (files.ca_file.empty()) {
    context->set_default_verify_paths(ec);
    if (ec) {
      error = "the system's CA store cannot be loaded (" + ec.message() + "); pass --redis-ca-file";
      return nullptr;
    }
  } else {
    if (!readable(files.ca_file, "--redis-ca-file", error)) return nullptr;
    context->load_verify_file(files.ca_file, ec);
    if (ec) {
      error = "--redis-ca-file " + files.ca_file + ": not a PEM certificate bundle (" + ec.message() + ")";
      return nullptr;
    }
  }
  if (!files.cert_file.empty()) {
    if (!readable(files.cert_file, "--redis-tls-cert", error)) return nullptr;
    if (!readable(files.key_file, "--redis-tls-key", error)) return nullptr;
    context->use_certificate_chain_file(files.cert_file, ec);
    if (ec) {
      error = "--redis-tls-cert " + files.cert_file + ": not a PEM certificate (" + ec.message() + ")";
      return nullptr;
    }
    context->use_private_key_file(files.key_file, ssl::context::pem, ec);
    if (ec || SSL_CTX_check_private_key(native) != 1) {
      error = "--redis-tls-key " + files.key_file + ": not the PEM private key of --redis-tls-cert" +
              (ec ? " (" + ec.message() + ")" : std::string());
      return nullptr;
    }
  }
  return context;
}

bool use_tls_files(Endpoint& endpoint, const TlsFiles& files, std::string& error) {
  bool any = !files.ca_file.empty() || !files.cert_file.empty() || !files.key_file.empty();
  if (any && !endpoint.tls) {
    error =
        "--redis-ca-file, --redis-tls-cert and --redis-tls-key need a rediss:// URL in --redis "
        "(with redis:// the connection is not encrypted)";
    return false;
  }
  if (files.cert_file.empty() != files.key_file.empty()) {
    error = "--redis-tls-cert and --redis-tls-key go together: give both or neither";
    return false;
  }
  if (!endpoint.tls) return true;
  if (!make_tls_context(files, error)) return false;
  endpoint.tls_files = files;
  return true;
}

bool expect_host(ssl_st* ssl, const std::string& host) {
  boost::system::error_code not_address;
  boost::asio::ip::make_address(host, not_address);
  if (!not_address) return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str()) == 1;
  return SSL_set_tlsext_host_name(ssl, host.c_str()) == 1 && SSL_set1_host(ssl, host.c_str()) == 1;
}

boost::system::error_code handshake_error(ssl_st* ssl, boost::system::error_code ec) {
  long verdict = SSL_get_verify_result(ssl);
  if (verdict != X509_V_OK) return {static_cast<int>(verdict), verify_category};
  return ec;
}

}  // namespace rescind::redis
