// The sandbox's payment providers are as strict as the real ones (issue 12): payments have
// state, idempotency saves refusals and 500s, refunds can be pending, funding refusals can be
// switched on and off. Each test here failed against the sandbox before: it kept no payment
// state, saved only successes and never answered pending.
#include <simdjson.h>

#include <gtest/gtest.h>

#include "clients/encoding.hpp"
#include "common/sandbox_credentials.hpp"
#include "tests/support/stack.hpp"

namespace rescind::testing {
namespace {

namespace creds = sandbox_credentials;
using Headers = std::vector<std::pair<std::string, std::string>>;

std::string at(const std::string& body, const std::string& pointer) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(body).get(root)) return "<not json>";
  simdjson::dom::element value;
  if (root.at_pointer(pointer).get(value)) return "<absent>";
  if (value.is_string()) return std::string(value.get_string().value());
  if (value.is_null()) return "null";
  return simdjson::minify(value);
}

std::vector<Effect> refunds_of(Sandbox& sandbox, const std::string& provider) {
  std::vector<Effect> out;
  for (auto& effect : sandbox.ledger()) {
    if (effect.provider == provider && effect.action == "refund") out.push_back(effect);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Stripe

HttpAnswer stripe_refund(Sandbox& sandbox, const std::string& body, const std::string& key) {
  Headers headers{{"Authorization", "Bearer " + std::string(creds::stripe_api_key)},
                  {"Content-Type", "application/x-www-form-urlencoded"},
                  {"X-Rescind-Job", "evt_st"}};
  if (!key.empty()) headers.emplace_back("Idempotency-Key", key);
  return http_call("POST", sandbox.url() + "/v1/refunds", body, headers);
}

HttpAnswer stripe_get(Sandbox& sandbox, const std::string& target) {
  return http_call("GET", sandbox.url() + target, "",
                   {{"Authorization", "Bearer " + std::string(creds::stripe_api_key)}});
}

TEST(PaymentsSandbox, StripeSavesRefusalsAnd500sUnderTheKeyForADay) {
  Sandbox sandbox;
  sandbox.control("stripe", "payment", R"({"id":"pi_cap","captured_minor":1000,"currency":"usd"})");
  ASSERT_EQ(stripe_refund(sandbox, "payment_intent=pi_cap&amount=600", "k-ok").status, 200);

  // A business refusal is the endpoint's answer: the same key gets it again.
  auto too_large = stripe_refund(sandbox, "payment_intent=pi_cap&amount=600", "k-big");
  EXPECT_EQ(too_large.status, 400);
  EXPECT_EQ(at(too_large.body, "/error/code"), "amount_too_large") << too_large.body;
  auto again = stripe_refund(sandbox, "payment_intent=pi_cap&amount=600", "k-big");
  EXPECT_EQ(again.body, too_large.body);
  EXPECT_EQ(again.header("idempotent-replayed"), "true");

  // balance_insufficient, then the balance is fixed: the key still answers the refusal.
  sandbox.control("stripe", "funds", R"({"insufficient":true})");
  auto broke = stripe_refund(sandbox, "payment_intent=pi_cap&amount=100", "k-bal");
  EXPECT_EQ(broke.status, 400);
  EXPECT_EQ(at(broke.body, "/error/code"), "balance_insufficient") << broke.body;
  sandbox.control("stripe", "funds", R"({"insufficient":false})");
  EXPECT_EQ(at(stripe_refund(sandbox, "payment_intent=pi_cap&amount=100", "k-bal").body, "/error/code"),
            "balance_insufficient")
      << "saved for the key, even after the fix";

  // A 500 inside the endpoint is saved too, and says a retry will not help.
  sandbox.set_faults(R"({"stripe":{"status":500,"count":1}})");
  auto failed = stripe_refund(sandbox, "payment_intent=pi_cap&amount=50", "k-500");
  EXPECT_EQ(failed.status, 500);
  EXPECT_EQ(at(failed.body, "/error/type"), "api_error");
  EXPECT_EQ(failed.header("stripe-should-retry"), "false");
  auto replayed = stripe_refund(sandbox, "payment_intent=pi_cap&amount=50", "k-500");
  EXPECT_EQ(replayed.status, 500) << "the fault is spent, the key replays it";
  EXPECT_EQ(replayed.header("stripe-should-retry"), "false");
  EXPECT_EQ(replayed.header("idempotent-replayed"), "true");

  // Not saved: validation failures, 429 (the limiter runs first), 409 (in use; retry says true), 503.
  EXPECT_EQ(stripe_refund(sandbox, "payment_intent=pi_cap&amount=x", "k-val").status, 400);
  EXPECT_EQ(stripe_refund(sandbox, "payment_intent=pi_cap&amount=10", "k-val").status, 200);
  sandbox.set_faults(R"({"stripe":{"status":429,"count":1}})");
  EXPECT_EQ(stripe_refund(sandbox, "payment_intent=pi_cap&amount=10", "k-429").status, 429);
  EXPECT_EQ(stripe_refund(sandbox, "payment_intent=pi_cap&amount=10", "k-429").status, 200);
  sandbox.set_faults(R"({"stripe":{"status":409,"count":1}})");
  auto in_use = stripe_refund(sandbox, "payment_intent=pi_cap&amount=10", "k-409");
  EXPECT_EQ(in_use.status, 409);
  EXPECT_EQ(in_use.header("stripe-should-retry"), "true");
  EXPECT_EQ(stripe_refund(sandbox, "payment_intent=pi_cap&amount=10", "k-409").status, 200);

  // Keys are pruned after 24 h: the refused key now acts (the balance is fixed).
  sandbox.advance_clock(24 * 3600 + 1);
  auto later = stripe_refund(sandbox, "payment_intent=pi_cap&amount=100", "k-bal");
  EXPECT_EQ(later.status, 200) << later.body;
  EXPECT_EQ(later.header("idempotent-replayed"), "") << "not a replay";

  auto refunds = refunds_of(sandbox, "stripe");
  ASSERT_EQ(refunds.size(), 5u) << "600, 10, 10, 10 and 100: one effect per refund created";
  long long total = 0;
  for (auto& refund : refunds) total += refund.amount_minor;
  EXPECT_EQ(total, 730);
}

TEST(PaymentsSandbox, StripePaymentsHaveStateAndRefundsTakeTheirCurrency) {
  Sandbox sandbox;
  sandbox.control("stripe", "payment",
                  R"({"id":"pi_jpy","captured_minor":5000,"currency":"jpy","refunded_minor":1000})");
  auto part = stripe_refund(sandbox, "payment_intent=pi_jpy&amount=3000&metadata%5Bcurrency%5D=usd", "j1");
  ASSERT_EQ(part.status, 200) << part.body;
  EXPECT_EQ(at(part.body, "/currency"), "jpy") << "the payment's currency, not metadata[currency]";
  EXPECT_EQ(at(part.body, "/charge"), "ch_jpy");
  auto rest = stripe_refund(sandbox, "payment_intent=pi_jpy", "j2");
  ASSERT_EQ(rest.status, 200) << rest.body;
  EXPECT_EQ(at(rest.body, "/amount"), "1000") << "no amount: what is left after the refund by hand";
  auto done = stripe_refund(sandbox, "payment_intent=pi_jpy&amount=1", "j3");
  EXPECT_EQ(done.status, 400);
  EXPECT_EQ(at(done.body, "/error/code"), "charge_already_refunded");
  EXPECT_EQ(at(done.body, "/error/type"), "invalid_request_error");

  sandbox.control("stripe", "payment", R"({"id":"ch_locked","refundable":false})");
  EXPECT_EQ(at(stripe_refund(sandbox, "charge=ch_locked&amount=1", "j4").body, "/error/code"), "charge_not_refundable");

  auto refunds = refunds_of(sandbox, "stripe");
  ASSERT_EQ(refunds.size(), 2u);
  EXPECT_EQ(refunds[0].currency, "jpy");
  EXPECT_EQ(refunds[0].status, "succeeded");
  EXPECT_EQ(refunds[1].amount_minor, 1000);
}

TEST(PaymentsSandbox, StripeListsRefundsByPaymentPageByPage) {
  Sandbox sandbox;
  sandbox.control("stripe", "payment", R"({"id":"pi_list","refunded_minor":7})");  // by hand: no metadata
  for (int i = 0; i < 4; ++i) {
    auto body = "payment_intent=pi_list&amount=" + std::to_string(10 + i) + "&metadata%5Brescind_job_id%5D=evt_" +
                std::to_string(i);
    ASSERT_EQ(stripe_refund(sandbox, body, "l" + std::to_string(i)).status, 200);
  }
  ASSERT_EQ(stripe_refund(sandbox, "payment_intent=pi_other&amount=5", "lo").status, 200);

  std::vector<std::string> seen;
  std::string after;
  int pages = 0;
  for (bool more = true; more; ++pages) {
    auto page = stripe_get(
        sandbox, "/v1/refunds?payment_intent=pi_list&limit=2" + (after.empty() ? "" : "&starting_after=" + after));
    ASSERT_EQ(page.status, 200) << page.body;
    EXPECT_EQ(at(page.body, "/object"), "list");
    simdjson::dom::parser parser;
    auto root = parser.parse(page.body);
    for (auto item : root["data"].get_array()) {
      seen.emplace_back(item["metadata"]["rescind_job_id"].is_string()
                            ? std::string(item["metadata"]["rescind_job_id"].get_string().value())
                            : "-");
      after = std::string(item["id"].get_string().value());
    }
    more = at(page.body, "/has_more") == "true";
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen, (std::vector<std::string>{"evt_3", "evt_2", "evt_1", "evt_0", "-"}))
      << "newest first, the one by hand too";
  EXPECT_EQ(at(stripe_get(sandbox, "/v1/refunds?charge=ch_list&limit=1").body, "/data/0/metadata/rescind_job_id"),
            "evt_3");

  auto one = stripe_get(sandbox, "/v1/refunds/" + after);
  EXPECT_EQ(at(one.body, "/id"), after);
  auto missing = stripe_get(sandbox, "/v1/refunds/re_nope");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(at(missing.body, "/error/code"), "resource_missing");
  EXPECT_EQ(stripe_get(sandbox, "/v1/refunds?limit=0").status, 400);
}

TEST(PaymentsSandbox, StripeRefundsArePendingUntilSettled) {
  Sandbox sandbox;
  sandbox.control("stripe", "payment", R"({"id":"pi_p","captured_minor":100})");
  sandbox.control("stripe", "refunds", R"({"next_pending":1})");
  auto pending = stripe_refund(sandbox, "payment_intent=pi_p&amount=100", "p1");
  EXPECT_EQ(at(pending.body, "/status"), "pending");
  EXPECT_EQ(at(stripe_refund(sandbox, "payment_intent=pi_p&amount=1", "p2").body, "/error/code"),
            "charge_already_refunded")
      << "pending money is spoken for";
  EXPECT_EQ(refunds_of(sandbox, "stripe").at(0).status, "pending");

  auto settled = sandbox.control("stripe", "refunds", R"({"settle":"failed"})");
  EXPECT_EQ(at(settled, "/settled"), "1");
  auto read = stripe_get(sandbox, "/v1/refunds/" + at(pending.body, "/id"));
  EXPECT_EQ(at(read.body, "/status"), "failed");
  EXPECT_EQ(at(read.body, "/failure_reason"), "declined");
  EXPECT_EQ(refunds_of(sandbox, "stripe").at(0).status, "failed") << "the ledger shows how it ended";
  EXPECT_EQ(stripe_refund(sandbox, "payment_intent=pi_p&amount=100", "p3").status, 200)
      << "a failed refund gives the money back";
  EXPECT_EQ(refunds_of(sandbox, "stripe").at(1).status, "succeeded");
}

// ---------------------------------------------------------------------------------------------
// PayPal

std::string paypal_token(Sandbox& sandbox) {
  Headers headers{{"Authorization", clients::basic_auth(creds::paypal_client_id, creds::paypal_secret)},
                  {"Content-Type", "application/x-www-form-urlencoded"}};
  return at(http_call("POST", sandbox.url() + "/v1/oauth2/token", "grant_type=client_credentials", headers).body,
            "/access_token");
}

HttpAnswer paypal_refund(Sandbox& sandbox, const std::string& token, const std::string& capture,
                         const std::string& request_id, const std::string& body) {
  Headers headers{{"Authorization", "Bearer " + token},
                  {"Content-Type", "application/json"},
                  {"PayPal-Request-Id", request_id},
                  {"Prefer", "return=representation"},
                  {"X-Rescind-Job", "evt_pp"}};
  return http_call("POST", sandbox.url() + "/v2/payments/captures/" + capture + "/refund", body, headers);
}

HttpAnswer paypal_get(Sandbox& sandbox, const std::string& token, const std::string& path) {
  return http_call("GET", sandbox.url() + path, "", {{"Authorization", "Bearer " + token}});
}

std::string usd(const std::string& value, const std::string& invoice) {
  return R"({"amount":{"value":")" + value + R"(","currency_code":"USD"},"invoice_id":")" + invoice + R"("})";
}

TEST(PaymentsSandbox, PayPalCapturesHaveStateAndRequestIdsReplayFailures) {
  Sandbox sandbox;
  std::string token = paypal_token(sandbox);
  sandbox.control("paypal", "payment",
                  R"({"id":"CAP1","captured_minor":10000,"currency":"usd","refunded_minor":2000})");
  auto exceeded = paypal_refund(sandbox, token, "CAP1", "r1", usd("90.00", "evt_a"));
  EXPECT_EQ(exceeded.status, 422);
  EXPECT_EQ(at(exceeded.body, "/details/0/issue"), "REFUND_AMOUNT_EXCEEDED") << exceeded.body;
  auto part = paypal_refund(sandbox, token, "CAP1", "r2", usd("50.00", "evt_a"));
  ASSERT_EQ(part.status, 201) << part.body;
  EXPECT_EQ(at(part.body, "/invoice_id"), "evt_a");
  auto duplicate = paypal_refund(sandbox, token, "CAP1", "r3", usd("10.00", "evt_a"));
  EXPECT_EQ(at(duplicate.body, "/details/0/issue"), "DUPLICATE_INVOICE_ID")
      << "the invoice id refunded a capture already";
  auto rest = paypal_refund(sandbox, token, "CAP1", "r4", R"({"invoice_id":"evt_b"})");
  ASSERT_EQ(rest.status, 201) << rest.body;
  EXPECT_EQ(at(rest.body, "/amount/value"), "30.00") << "no amount: what is left";
  EXPECT_EQ(at(paypal_refund(sandbox, token, "CAP1", "r5", usd("1.00", "evt_c")).body, "/details/0/issue"),
            "CAPTURE_FULLY_REFUNDED");
  auto capture = paypal_get(sandbox, token, "/v2/payments/captures/CAP1");
  EXPECT_EQ(at(capture.body, "/status"), "REFUNDED") << capture.body;
  EXPECT_EQ(at(capture.body, "/amount/value"), "100.00");

  sandbox.control("paypal", "payment", R"({"id":"CAPE","pending_capture":true})");
  EXPECT_EQ(at(paypal_refund(sandbox, token, "CAPE", "r6", usd("1.00", "evt_e")).body, "/details/0/issue"),
            "PENDING_CAPTURE");
  EXPECT_EQ(at(paypal_get(sandbox, token, "/v2/payments/captures/CAPE").body, "/status"), "PENDING");

  // Insufficient funds, fixed: the request id still answers the refusal; a new id works.
  sandbox.control("paypal", "funds", R"({"insufficient":true})");
  auto broke = paypal_refund(sandbox, token, "CAPF", "r7", usd("5.00", "evt_f"));
  EXPECT_EQ(broke.status, 422);
  EXPECT_EQ(at(broke.body, "/details/0/issue"), "REFUND_FAILED_INSUFFICIENT_FUNDS");
  sandbox.control("paypal", "funds", R"({"insufficient":false})");
  EXPECT_EQ(paypal_refund(sandbox, token, "CAPF", "r7", usd("5.00", "evt_f")).body, broke.body)
      << "replayed, failures too";
  sandbox.advance_clock(44 * 86400);
  token = paypal_token(sandbox);  // the old one lapsed with the clock
  EXPECT_EQ(paypal_refund(sandbox, token, "CAPF", "r7", usd("5.00", "evt_f")).status, 422) << "kept 45 days";
  EXPECT_EQ(paypal_refund(sandbox, paypal_token(sandbox), "CAPF", "r8", usd("5.00", "evt_f")).status, 201);

  auto too_long = paypal_refund(sandbox, paypal_token(sandbox), "CAPL", "r9", usd("1.00", std::string(128, 'i')));
  EXPECT_EQ(too_long.status, 400);
  EXPECT_EQ(at(too_long.body, "/details/0/issue"), "INVALID_STRING_LENGTH");

  auto refunds = refunds_of(sandbox, "paypal");
  ASSERT_EQ(refunds.size(), 3u);
  EXPECT_EQ(refunds[0].amount_minor, 5000);
  EXPECT_EQ(refunds[1].amount_minor, 3000);
}

TEST(PaymentsSandbox, PayPalRefundsArePendingUntilSettled) {
  Sandbox sandbox;
  std::string token = paypal_token(sandbox);
  sandbox.control("paypal", "refunds", R"({"next_pending":1})");
  auto pending = paypal_refund(sandbox, token, "CAPP", "p1", usd("2.00", "evt_p"));
  ASSERT_EQ(pending.status, 201);
  EXPECT_EQ(at(pending.body, "/status"), "PENDING");
  EXPECT_EQ(at(pending.body, "/status_details/reason"), "ECHECK");
  std::string id = at(pending.body, "/id");
  sandbox.control("paypal", "refunds", R"({"settle":"succeeded"})");
  auto read = paypal_get(sandbox, token, "/v2/payments/refunds/" + id);
  EXPECT_EQ(at(read.body, "/status"), "COMPLETED") << read.body;
  EXPECT_EQ(at(read.body, "/invoice_id"), "evt_p");
  EXPECT_EQ(refunds_of(sandbox, "paypal").at(0).status, "succeeded");
  EXPECT_EQ(paypal_get(sandbox, token, "/v2/payments/refunds/NOPE").status, 404);
}

// ---------------------------------------------------------------------------------------------
// Square

HttpAnswer square_refund(Sandbox& sandbox, const std::string& key, const std::string& payment, long long amount) {
  Headers headers{{"Authorization", "Bearer " + std::string(creds::square_access_token)},
                  {"Content-Type", "application/json"},
                  {"Square-Version", "2024-10-17"},
                  {"X-Rescind-Job", "evt_sq"}};
  std::string body = R"({"idempotency_key":")" + key + R"(","payment_id":")" + payment +
                     R"(","amount_money":{"amount":)" + std::to_string(amount) +
                     R"(,"currency":"USD"},"reason":"requested_by_customer"})";
  return http_call("POST", sandbox.url() + "/v2/refunds", body, headers);
}

HttpAnswer square_get(Sandbox& sandbox, const std::string& path) {
  return http_call(
      "GET", sandbox.url() + path, "",
      {{"Authorization", "Bearer " + std::string(creds::square_access_token)}, {"Square-Version", "2024-10-17"}});
}

TEST(PaymentsSandbox, SquarePaymentsRefuseOverRefundsPendingAndUnrefundable) {
  Sandbox sandbox;
  sandbox.control("square", "payment", R"({"id":"PAY1","captured_minor":1000,"currency":"usd","refunded_minor":400})");
  auto over = square_refund(sandbox, "s1", "PAY1", 700);
  EXPECT_EQ(over.status, 400);
  EXPECT_EQ(at(over.body, "/errors/0/code"), "REFUND_AMOUNT_INVALID") << over.body;
  sandbox.control("square", "refunds", R"({"next_pending":1})");
  auto pending = square_refund(sandbox, "s2", "PAY1", 100);
  ASSERT_EQ(pending.status, 200) << pending.body;
  EXPECT_EQ(at(pending.body, "/refund/status"), "PENDING");
  EXPECT_EQ(at(square_refund(sandbox, "s3", "PAY1", 100).body, "/errors/0/code"), "REFUND_ALREADY_PENDING");
  sandbox.control("square", "refunds", R"({"settle":"succeeded"})");
  auto payment = square_get(sandbox, "/v2/payments/PAY1");
  EXPECT_EQ(at(payment.body, "/payment/refunded_money/amount"), "500") << payment.body;
  EXPECT_EQ(at(payment.body, "/payment/refund_ids/1"), at(pending.body, "/refund/id"));
  EXPECT_EQ(at(square_get(sandbox, "/v2/refunds/" + at(pending.body, "/refund/id")).body, "/refund/status"),
            "COMPLETED");
  EXPECT_EQ(square_refund(sandbox, "s3", "PAY1", 500).status, 200);
  EXPECT_EQ(at(square_refund(sandbox, "s4", "PAY1", 1).body, "/errors/0/code"), "REFUND_AMOUNT_INVALID")
      << "nothing left";

  sandbox.control("square", "payment", R"({"id":"PAYX","refundable":false})");
  EXPECT_EQ(at(square_refund(sandbox, "s5", "PAYX", 1).body, "/errors/0/code"), "PAYMENT_NOT_REFUNDABLE");
  EXPECT_EQ(square_get(sandbox, "/v2/refunds/NOPE").status, 404);

  auto refunds = refunds_of(sandbox, "square");
  ASSERT_EQ(refunds.size(), 2u);
  EXPECT_EQ(refunds[0].status, "succeeded") << "settled";
}

}  // namespace
}  // namespace rescind::testing
