// The WooCommerce test consumer key and secret the sandbox accepts and `rescind-worker
// --sandbox URL` sends, shared by the two so they cannot drift apart; not real secrets.
// WooCommerce's own header, so that adding the provider touched only its files.
#pragma once
#include <string_view>

namespace rescind::sandbox_credentials {

inline constexpr std::string_view woocommerce_consumer_key = "ck_rescind_sandbox_0f9d2c41b7e8";
inline constexpr std::string_view woocommerce_consumer_secret = "cs_rescind_sandbox_5a3e81c06d92";

}  // namespace rescind::sandbox_credentials
