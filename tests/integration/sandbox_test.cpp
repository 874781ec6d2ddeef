// The sandbox speaks the providers' wire formats: what the worker's tests rely on it for.
#include <gtest/gtest.h>

#include "common/sandbox_credentials.hpp"
#include "tests/support/stack.hpp"

namespace rescind::testing {
namespace {

namespace creds = sandbox_credentials;
using Headers = std::vector<std::pair<std::string, std::string>>;

Headers stripe_headers(const std::string& key) {
  return {{"Authorization", "Bearer " + std::string(creds::stripe_api_key)},
          {"Content-Type", "application/x-www-form-urlencoded"},
          {"Idempotency-Key", key},
          {"X-Rescind-Job", "evt_sbx"}};
}

TEST(Sandbox, StripeReplaysTheSameKeyAndRejectsChangedParameters) {
  Sandbox sandbox;
  auto body = "payment_intent=pi_1&amount=500&metadata%5Bcurrency%5D=EUR";
  auto first = http_call("POST", sandbox.url() + "/v1/refunds", body, stripe_headers("k1"));
  ASSERT_EQ(first.status, 200) << first.body;
  auto replay = http_call("POST", sandbox.url() + "/v1/refunds", body, stripe_headers("k1"));
  EXPECT_EQ(replay.status, 200);
  EXPECT_EQ(replay.body, first.body) << "same key, same parameters: the same refund";
  auto changed =
      http_call("POST", sandbox.url() + "/v1/refunds", "payment_intent=pi_1&amount=600", stripe_headers("k1"));
  EXPECT_EQ(changed.status, 400);
  EXPECT_NE(changed.body.find("idempotency_error"), std::string::npos) << changed.body;

  auto ledger = sandbox.ledger();
  ASSERT_EQ(ledger.size(), 1u);
  EXPECT_EQ(ledger[0].action, "refund");
  EXPECT_EQ(ledger[0].job_id, "evt_sbx");
  EXPECT_EQ(ledger[0].amount_minor, 500);
}

TEST(Sandbox, ChecksCredentials) {
  Sandbox sandbox;
  auto headers = stripe_headers("k2");
  headers[0].second = "Bearer sk_test_wrong";
  EXPECT_EQ(http_call("POST", sandbox.url() + "/v1/refunds", "payment_intent=pi_1&amount=5", headers).status, 401);
  auto twilio = http_call(
      "POST", sandbox.url() + "/2010-04-01/Accounts/" + std::string(creds::twilio_account_sid) + "/Messages.json",
      "To=%2B15555550100&From=%2B15005550006&Body=hi",
      {{"Authorization", "Basic QUMwOndyb25n"}, {"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(twilio.status, 401);
  EXPECT_EQ(http_call("POST", sandbox.url() + "/services/T0/B0/guess", R"({"text":"x"})").status, 404);
  EXPECT_TRUE(sandbox.ledger().empty());
}

TEST(Sandbox, FaultsFailThenRecoverAndLoseResponsesAfterActing) {
  Sandbox sandbox;
  sandbox.set_faults(R"({"slack":{"status":503,"count":2,"retry_after_s":1},"stripe":{"lose_response":1}})");
  auto slack = [&] {
    return http_call("POST", sandbox.url() + std::string(creds::slack_webhook_path), R"({"text":"x"})",
                     {{"Content-Type", "application/json"}, {"X-Rescind-Job", "evt_f"}});
  };
  EXPECT_EQ(slack().status, 503);
  EXPECT_EQ(slack().status, 503);
  EXPECT_EQ(slack().status, 200);

  auto lost = http_call("POST", sandbox.url() + "/v1/refunds", "payment_intent=pi_9&amount=700", stripe_headers("k9"));
  EXPECT_EQ(lost.status, 0) << "the connection closes without an answer";
  auto retried =
      http_call("POST", sandbox.url() + "/v1/refunds", "payment_intent=pi_9&amount=700", stripe_headers("k9"));
  EXPECT_EQ(retried.status, 200) << retried.body;
  auto counts = sandbox.count_by_action();
  EXPECT_EQ(counts["refund"], 1) << "performed once although answered only the second time";
  EXPECT_EQ(counts["staff"], 1);

  auto bad = http_call("POST", sandbox.url() + "/__faults", R"({"stripe":{"status":"x"}})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("stripe.status"), std::string::npos) << bad.body;
}

}  // namespace
}  // namespace rescind::testing
