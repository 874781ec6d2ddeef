#include "clients/encoding.hpp"

#include <openssl/sha.h>

#include "common/log.hpp"

namespace rescind::clients {
namespace {

// RFC 3986 unreserved characters pass, every other byte is %XX.
void percent_encode(std::string& out, std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  for (unsigned char c : text) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                 c == '.' || c == '~';
    if (plain) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 0xf]);
    }
  }
}

}  // namespace

void append_form_field(std::string& body, std::string_view key, std::string_view value) {
  if (!body.empty()) body.push_back('&');
  percent_encode(body, key);
  body.push_back('=');
  percent_encode(body, value);
}

std::string path_segment(std::string_view text) {
  std::string out;
  // "." and ".." are unreserved characters but mean "here" and "up" in a path.
  if (text == "." || text == "..") return text == "." ? "%2E" : "%2E%2E";
  percent_encode(out, text);
  return out;
}

std::string mailbox(std::string_view name, std::string_view address) {
  if (name.empty()) return std::string(address);
  std::string out = "\"";
  for (std::size_t i = 0; i < name.size(); ++i) {
    auto c = static_cast<unsigned char>(name[i]);
    if (c < 0x20 || c == 0x7f) continue;  // CR LF would end the header; the rest has no place in a name
    if (c == 0xC2 && i + 1 < name.size() && static_cast<unsigned char>(name[i + 1]) <= 0x9f) {
      ++i;  // a C1 control (U+0080-U+009F)
      continue;
    }
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(static_cast<char>(c));
  }
  out += "\" <";
  out += address;
  out += '>';
  return out;
}

std::string base64(std::string_view bytes) {
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    unsigned n = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                 static_cast<unsigned char>(bytes[i + 2]);
    out += {alphabet[n >> 18], alphabet[(n >> 12) & 63], alphabet[(n >> 6) & 63], alphabet[n & 63]};
  }
  if (i + 1 == bytes.size()) {
    unsigned n = static_cast<unsigned char>(bytes[i]) << 16;
    out += {alphabet[n >> 18], alphabet[(n >> 12) & 63], '=', '='};
  } else if (i + 2 == bytes.size()) {
    unsigned n = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8);
    out += {alphabet[n >> 18], alphabet[(n >> 12) & 63], alphabet[(n >> 6) & 63], '='};
  }
  return out;
}

std::string basic_auth(std::string_view user, std::string_view password) {
  std::string credentials(user);
  credentials += ':';
  credentials += password;
  auto authorization = "Basic " + base64(credentials);
  // The encoded pair is as secret as the password, and a provider's error body may echo it.
  common::log::register_secret(authorization.substr(6));
  return authorization;
}

std::string sha256_base64url(std::string_view text) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  auto out = base64(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
  for (auto& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  while (!out.empty() && out.back() == '=') out.pop_back();
  return out;
}

}  // namespace rescind::clients
