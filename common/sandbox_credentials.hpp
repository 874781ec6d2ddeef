// The test credentials the sandbox accepts and `rescind-worker --sandbox URL` sends.
// Shared so the two can never drift apart; none of them is a real secret.
#pragma once
#include <string_view>

namespace rescind::sandbox_credentials {

inline constexpr std::string_view stripe_api_key = "sk_test_rescind_sandbox";
inline constexpr std::string_view sendgrid_api_key = "SG.rescind_sandbox";
inline constexpr std::string_view sendgrid_from = "orders@rescind.test";
inline constexpr std::string_view twilio_account_sid = "AC00000000000000000000000000000001";
inline constexpr std::string_view twilio_auth_token = "rescind_sandbox_token";
inline constexpr std::string_view twilio_from = "+15005550006";
inline constexpr std::string_view slack_webhook_path = "/services/T0RESCIND/B0SANDBOX/rescind_sandbox_hook";

}  // namespace rescind::sandbox_credentials
