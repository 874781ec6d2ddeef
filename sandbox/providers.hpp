// The fake providers this sandbox serves, in routing order.
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

std::unique_ptr<Provider> make_stripe();
std::unique_ptr<Provider> make_sendgrid();
std::unique_ptr<Provider> make_twilio();
std::unique_ptr<Provider> make_slack();
std::unique_ptr<Provider> make_paypal(std::chrono::seconds token_ttl, std::optional<long long> claimed_expires_in = {});
std::unique_ptr<Provider> make_square();
std::unique_ptr<Provider> make_shopify();
std::unique_ptr<Provider> make_mailgun();
std::unique_ptr<Provider> make_zendesk();
std::unique_ptr<Provider> make_webhooks();

std::vector<std::unique_ptr<Provider>> make_providers(const ProviderOptions& options = {});

}  // namespace rescind::sandbox
