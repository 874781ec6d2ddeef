// The fake providers this sandbox serves, in routing order (the list is providers.cpp).
#pragma once
#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include "sandbox/provider.hpp"

namespace rescind::sandbox {

// Settings of individual providers, from the command line.
struct ProviderOptions {
  std::chrono::seconds paypal_token_ttl{std::chrono::hours(9)};  // PayPal's expires_in
  // Set: the expires_in the token answer claims, whatever the token really lives (which
  // stays paypal_token_ttl): a negative or absurd number, as a broken provider might send.
  std::optional<long long> paypal_claimed_expires_in;
};

// Each provider's own file defines make_NAME(const ProviderOptions&); providers.cpp lists them.
std::vector<std::unique_ptr<Provider>> make_providers(const ProviderOptions& options = {});

}  // namespace rescind::sandbox
