// The Magento integration's test credentials the sandbox accepts and `rescind-worker --sandbox
// URL` signs with, shared by the two so they cannot drift apart; not real secrets. Magento's
// own header, so that adding the provider touched only its files. An integration has four:
// the consumer's key and secret, and the access token and its secret (32 characters each,
// like Magento's).
#pragma once
#include <string_view>

namespace rescind::sandbox_credentials {

inline constexpr std::string_view magento_consumer_key = "mgck0rescind0sandbox0consumer000";
inline constexpr std::string_view magento_consumer_secret = "mgcs0rescind0sandbox0secret00000";
inline constexpr std::string_view magento_access_token = "mgat0rescind0sandbox0token000000";
inline constexpr std::string_view magento_access_token_secret = "mgts0rescind0sandbox0tokensecret";

}  // namespace rescind::sandbox_credentials
