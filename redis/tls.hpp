// TLS for rediss:// connections: the client context (TLS 1.2 or later, the server's certificate
// verified against --redis-ca-file or the system store, an optional client certificate) and
// the per-connection host name check. The files are checked at start-up, so a bad one is a
// usage error there rather than a connection that fails forever after.
#pragma once
#include <boost/system/error_code.hpp>
#include <memory>
#include <string>

#include "redis/endpoint.hpp"

namespace boost::asio::ssl {
class context;
}
struct ssl_st;

namespace rescind::redis {

// The context the connections to one endpoint share. nullptr with `error` set, naming the
// flag and the file ("--redis-ca-file /etc/x.pem: cannot read it: No such file or directory").
// The flag names are the worker's and rescindctl's alike.
std::shared_ptr<boost::asio::ssl::context> make_tls_context(const TlsFiles& files, std::string& error);

// Gives `endpoint` the TLS files of the command line once they load; false with `error` set
// when one does not, when only one of certificate and key is given, or when files are given
// for a redis:// URL (they would be ignored, and the connection sent in clear).
bool use_tls_files(Endpoint& endpoint, const TlsFiles& files, std::string& error);

// Before the handshake: SNI (host names only: RFC 6066 has no IP literals) and the name or
// address the certificate must be issued for. OpenSSL's own check rather than Asio's
// host_name_verification callback: a mismatch then fails with a reason ("hostname
// mismatch") that handshake_error() can tell, instead of a bare "certificate verify failed".
bool expect_host(ssl_st* ssl, const std::string& host);

// The error of a failed handshake: why the certificate was refused when it was, else `ec`.
boost::system::error_code handshake_error(ssl_st* ssl, boost::system::error_code ec);

}  // namespace rescind::redis
