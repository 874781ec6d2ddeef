// The list of fake providers: a new provider is one line here.
#include "sandbox/providers.hpp"

namespace rescind::sandbox {

std::vector<std::unique_ptr<Provider>> make_providers() {
  std::vector<std::unique_ptr<Provider>> providers;
  providers.push_back(make_stripe());
  providers.push_back(make_sendgrid());
  providers.push_back(make_twilio());
  providers.push_back(make_slack());
  return providers;
}

}  // namespace rescind::sandbox
