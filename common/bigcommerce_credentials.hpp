// The BigCommerce test token the sandbox accepts and `rescind-worker --sandbox URL` sends,
// shared by the two so they cannot drift apart; not a real secret. BigCommerce's own header,
// so that adding the provider touched only its files.
#pragma once
#include <string_view>

namespace rescind::sandbox_credentials {

inline constexpr std::string_view bigcommerce_access_token = "bc-rescind-sandbox-token";
// The store a sandbox job's shop maps to when its domain is not store-HASH.mybigcommerce.com.
inline constexpr std::string_view bigcommerce_store_hash = "rescindsbx";

}  // namespace rescind::sandbox_credentials
