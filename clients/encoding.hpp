// The small encodings provider requests need: form bodies and HTTP basic auth.
#pragma once
#include <string>
#include <string_view>

namespace rescind::clients {

// Appends key=value to an application/x-www-form-urlencoded body, percent-encoding both.
void append_form_field(std::string& body, std::string_view key, std::string_view value);

// One segment of a request path: percent-encoded, so a value from a job cannot add a "/" or
// climb with "..".
std::string path_segment(std::string_view text);

// An RFC 5322 mailbox: `"display name" <address>`, the name a quoted string (`"` and `\`
// escaped, control characters dropped), so no name can add a recipient to a list like
// Mailgun's `to`; the bare address when the name is empty.
std::string mailbox(std::string_view name, std::string_view address);

std::string base64(std::string_view bytes);

// base64url (no padding) of SHA-256: 43 characters, a fixed-length stand-in for a long id.
std::string sha256_base64url(std::string_view text);

// "Basic base64(user:password)"; the base64 value is registered as a log secret.
std::string basic_auth(std::string_view user, std::string_view password);

}  // namespace rescind::clients
