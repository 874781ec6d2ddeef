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
inline constexpr std::string_view paypal_client_id = "rescind_sandbox_paypal_client";
inline constexpr std::string_view paypal_secret = "rescind_sandbox_paypal_secret";
inline constexpr std::string_view square_access_token = "EAAAsandbox_rescind_square";
inline constexpr std::string_view shopify_access_token = "shpat_rescind_sandbox";
inline constexpr std::string_view mailgun_api_key = "key-rescind-sandbox";
inline constexpr std::string_view mailgun_domain = "mg.rescind.test";
inline constexpr std::string_view zendesk_email = "support@rescind.test";
inline constexpr std::string_view zendesk_api_token = "rescind_sandbox_zendesk_token";
// Standard Webhooks secret: "whsec_" + base64 of the HMAC key ("rescind-sandbox-webhook-key").
inline constexpr std::string_view webhook_secret = "whsec_cmVzY2luZC1zYW5kYm94LXdlYmhvb2sta2V5";

}  // namespace rescind::sandbox_credentials
