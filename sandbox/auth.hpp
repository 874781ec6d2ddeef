// Credentials as providers read them from the Authorization header: Bearer tokens (Stripe,
// SendGrid) and HTTP basic auth (Twilio, later Mailgun and Zendesk).
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "sandbox/http.hpp"

namespace rescind::sandbox {

// The token after "Bearer "; nullopt when the header is absent or uses another scheme.
std::optional<std::string_view> bearer_token(const Request& request);

struct BasicCredentials {
  std::string user;
  std::string password;
};

// nullopt when the header is absent, uses another scheme or is not valid base64 "user:password".
std::optional<BasicCredentials> basic_credentials(const Request& request);

// Standard alphabet, padding optional; nullopt on any other character.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace rescind::sandbox
