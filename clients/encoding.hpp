// The small encodings provider requests need: form bodies and HTTP basic auth.
#pragma once
#include <string>
#include <string_view>

namespace rescind::clients {

// Appends key=value to an application/x-www-form-urlencoded body, percent-encoding both.
void append_form_field(std::string& body, std::string_view key, std::string_view value);

std::string base64(std::string_view bytes);

// "Basic base64(user:password)"
std::string basic_auth(std::string_view user, std::string_view password);

}  // namespace rescind::clients
