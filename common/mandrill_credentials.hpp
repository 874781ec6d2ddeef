// The Mandrill test key the sandbox accepts and `rescind-worker --sandbox URL` sends, shared
// by the two so they cannot drift apart; not a real secret. Mandrill's own header rather than
// a line in common/sandbox_credentials.hpp, so that adding the provider touched only its files.
#pragma once
#include <string_view>

namespace rescind::sandbox_credentials {

inline constexpr std::string_view mandrill_api_key = "md-rescind-sandbox-key";

}  // namespace rescind::sandbox_credentials
