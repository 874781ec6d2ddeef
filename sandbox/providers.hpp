// The fake providers this sandbox serves, in routing order.
#pragma once
#include <memory>
#include <vector>

#include "sandbox/provider.hpp"

namespace rescind::sandbox {

std::unique_ptr<Provider> make_stripe();
std::unique_ptr<Provider> make_sendgrid();
std::unique_ptr<Provider> make_twilio();
std::unique_ptr<Provider> make_slack();

std::vector<std::unique_ptr<Provider>> make_providers();

}  // namespace rescind::sandbox
