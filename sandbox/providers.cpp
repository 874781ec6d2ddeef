// The list of fake providers, in routing order: a new provider is its own file (a Provider
// and make_NAME()) and one line here.
#include "sandbox/providers.hpp"

namespace rescind::sandbox {

#define RESCIND_SANDBOX_PROVIDERS(X) \
  X(stripe)                          \
  X(sendgrid)                        \
  X(twilio)                          \
  X(slack)                           \
  X(paypal)                          \
  X(square)                          \
  X(shopify)                         \
  X(woocommerce)                     \
  X(bigcommerce)                     \
  X(magento)                         \
  X(mailgun)                         \
  X(mandrill)                        \
  X(zendesk)                         \
  X(webhooks)

#define RESCIND_DECLARE_FAKE(name) std::unique_ptr<Provider> make_##name(const ProviderOptions& options);
RESCIND_SANDBOX_PROVIDERS(RESCIND_DECLARE_FAKE)
#undef RESCIND_DECLARE_FAKE

std::vector<std::unique_ptr<Provider>> make_providers(const ProviderOptions& options) {
  std::vector<std::unique_ptr<Provider>> providers;
#define RESCIND_MAKE_FAKE(name) providers.push_back(make_##name(options));
  RESCIND_SANDBOX_PROVIDERS(RESCIND_MAKE_FAKE)
#undef RESCIND_MAKE_FAKE
  return providers;
}

}  // namespace rescind::sandbox
