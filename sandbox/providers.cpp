// The list of fake providers: a new provider is one line here.
#include "sandbox/providers.hpp"

namespace rescind::sandbox {

std::vector<std::unique_ptr<Provider>> make_providers(const ProviderOptions& options) {
  std::vector<std::unique_ptr<Provider>> providers;
  providers.push_back(make_stripe());
  providers.push_back(make_sendgrid());
  providers.push_back(make_twilio());
  providers.push_back(make_slack());
  providers.push_back(make_paypal(options.paypal_token_ttl, options.paypal_claimed_expires_in));
  providers.push_back(make_square());
  providers.push_back(make_shopify());
  providers.push_back(make_mailgun());
  providers.push_back(make_zendesk());
  providers.push_back(make_webhooks());
  return providers;
}

}  // namespace rescind::sandbox
