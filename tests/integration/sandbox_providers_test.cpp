// The sandbox's PayPal, Square, Shopify, Mailgun, Zendesk and webhook fakes speak their wire
// formats: happy paths land in the ledger, replays and duplicates do not, errors keep the
// providers' shapes.
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <simdjson.h>

#include <gtest/gtest.h>

#include <ctime>
#include <set>

#include "clients/encoding.hpp"
#include "common/sandbox_credentials.hpp"
#include "tests/support/stack.hpp"

namespace rescind::testing {
namespace {

namespace creds = sandbox_credentials;
using Headers = std::vector<std::pair<std::string, std::string>>;

// The string (or the number, as text) at a JSON pointer of `body`; "<absent>" when missing.
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

std::vector<Effect> effects_of(Sandbox& sandbox, const std::string& provider) {
  std::vector<Effect> out;
  for (auto& effect : sandbox.ledger()) {
    if (effect.provider == provider) out.push_back(effect);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// PayPal

std::string paypal_token(Sandbox& sandbox) {
  Headers headers{{"Authorization", clients::basic_auth(creds::paypal_client_id, creds::paypal_secret)},
                  {"Content-Type", "application/x-www-form-urlencoded"}};
  auto answer = http_call("POST", sandbox.url() + "/v1/oauth2/token", "grant_type=client_credentials", headers);
  EXPECT_EQ(answer.status, 200) << answer.body;
  return at(answer.body, "/access_token");
}

HttpAnswer paypal_refund(Sandbox& sandbox, const std::string& token, const std::string& capture,
                         const std::string& request_id, const std::string& body, const std::string& job = "evt_pp") {
  Headers headers{{"Authorization", "Bearer " + token},
                  {"Content-Type", "application/json"},
                  {"PayPal-Request-Id", request_id},
                  {"Prefer", "return=representation"},
                  {"X-Rescind-Job", job}};
  return http_call("POST", sandbox.url() + "/v2/payments/captures/" + capture + "/refund", body, headers);
}

TEST(SandboxProviders, PayPalTokensAreIssuedAndExpire) {
  Sandbox sandbox;
  Headers wrong{{"Authorization", clients::basic_auth(creds::paypal_client_id, "nope")},
                {"Content-Type", "application/x-www-form-urlencoded"}};
  auto refused = http_call("POST", sandbox.url() + "/v1/oauth2/token", "grant_type=client_credentials", wrong);
  EXPECT_EQ(refused.status, 401);
  EXPECT_EQ(at(refused.body, "/error"), "invalid_client");
  EXPECT_EQ(at(refused.body, "/error_description"), "Client Authentication failed");

  Headers good{{"Authorization", clients::basic_auth(creds::paypal_client_id, creds::paypal_secret)},
               {"Content-Type", "application/x-www-form-urlencoded"}};
  auto issued = http_call("POST", sandbox.url() + "/v1/oauth2/token", "grant_type=client_credentials", good);
  ASSERT_EQ(issued.status, 200) << issued.body;
  EXPECT_EQ(at(issued.body, "/token_type"), "Bearer");
  EXPECT_EQ(at(issued.body, "/expires_in"), "32400") << "the default lifetime is 9 h";
  EXPECT_EQ(at(issued.body, "/app_id").rfind("APP-", 0), 0u) << issued.body;
  std::string token = at(issued.body, "/access_token");
  ASSERT_EQ(token.rfind("A21", 0), 0u) << issued.body;

  const std::string amount = R"({"amount":{"value":"10.00","currency_code":"USD"}})";
  EXPECT_EQ(paypal_refund(sandbox, token, "CAP1", "r1", amount).status, 201);

  auto expired = http_call("POST", sandbox.url() + "/__paypal/expire-tokens");
  ASSERT_EQ(expired.status, 200) << expired.body;
  auto stale = paypal_refund(sandbox, token, "CAP1", "r2", amount);
  EXPECT_EQ(stale.status, 401);
  EXPECT_EQ(at(stale.body, "/error"), "invalid_token");
  EXPECT_EQ(at(stale.body, "/error_description"), "Access Token not found in cache");

  EXPECT_EQ(paypal_refund(sandbox, paypal_token(sandbox), "CAP1", "r2", amount).status, 201)
      << "a fresh token works again";
  EXPECT_EQ(effects_of(sandbox, "paypal").size(), 2u) << "the refused call did nothing";

  Sandbox short_lived({"--paypal-token-ttl", "90s"});
  auto brief = http_call("POST", short_lived.url() + "/v1/oauth2/token", "grant_type=client_credentials", good);
  EXPECT_EQ(at(brief.body, "/expires_in"), "90");
}

TEST(SandboxProviders, PayPalRefundsReplayByRequestIdAndCheckDecimals) {
  Sandbox sandbox;
  std::string token = paypal_token(sandbox);
  const std::string usd =
      R"({"amount":{"value":"149.00","currency_code":"USD"},"invoice_id":"evt_inv","note_to_payer":"sorry"})";
  auto first = paypal_refund(sandbox, token, "2GG279541U471931P", "req-1", usd);
  ASSERT_EQ(first.status, 201) << first.body;
  EXPECT_EQ(at(first.body, "/status"), "COMPLETED");
  EXPECT_EQ(at(first.body, "/id").size(), 17u) << first.body;
  EXPECT_EQ(at(first.body, "/amount/value"), "149.00");
  auto replay = paypal_refund(sandbox, token, "2GG279541U471931P", "req-1", usd);
  EXPECT_EQ(replay.status, 201);
  EXPECT_EQ(replay.body, first.body) << "same PayPal-Request-Id: the original answer";

  EXPECT_EQ(
      paypal_refund(sandbox, token, "CAPJPY", "req-jpy", R"({"amount":{"value":"1490","currency_code":"JPY"}})").status,
      201);
  EXPECT_EQ(paypal_refund(sandbox, token, "CAPKWD", "req-kwd", R"({"amount":{"value":"1.234","currency_code":"KWD"}})")
                .status,
            201);

  auto imprecise =
      paypal_refund(sandbox, token, "CAPX", "req-x", R"({"amount":{"value":"149.0","currency_code":"USD"}})");
  EXPECT_EQ(imprecise.status, 422);
  EXPECT_EQ(at(imprecise.body, "/name"), "UNPROCESSABLE_ENTITY");
  EXPECT_EQ(at(imprecise.body, "/details/0/issue"), "DECIMAL_PRECISION");
  EXPECT_EQ(at(imprecise.body, "/details/0/field"), "/amount/value");
  EXPECT_NE(at(imprecise.body, "/debug_id"), "<absent>");
  auto yen_cents =
      paypal_refund(sandbox, token, "CAPX", "req-y", R"({"amount":{"value":"1490.00","currency_code":"JPY"}})");
  EXPECT_EQ(at(yen_cents.body, "/details/0/issue"), "DECIMAL_PRECISION") << yen_cents.body;

  // A refund without an amount refunds the whole capture; another one finds nothing left.
  EXPECT_EQ(paypal_refund(sandbox, token, "CAPFULL", "req-full-1", "{}").status, 201);
  auto again =
      paypal_refund(sandbox, token, "CAPFULL", "req-full-2", R"({"amount":{"value":"1.00","currency_code":"USD"}})");
  EXPECT_EQ(again.status, 422);
  EXPECT_EQ(at(again.body, "/details/0/issue"), "CAPTURE_FULLY_REFUNDED") << again.body;

  auto effects = effects_of(sandbox, "paypal");
  ASSERT_EQ(effects.size(), 4u);
  EXPECT_EQ(effects[0].action, "refund");
  EXPECT_EQ(effects[0].job_id, "evt_pp");
  EXPECT_EQ(effects[0].amount_minor, 14900);
  EXPECT_EQ(effects[0].currency, "usd");
  EXPECT_EQ(effects[1].amount_minor, 1490);
  EXPECT_EQ(effects[1].currency, "jpy");
  EXPECT_EQ(effects[2].amount_minor, 1234);
  EXPECT_EQ(effects[2].currency, "kwd");
  EXPECT_EQ(effects[3].amount_minor, 1'000'000'000'000)
      << "a full refund: what was left of the capture (the default capture)";
  EXPECT_EQ(sandbox.summary("replayed"), 1);
}

TEST(SandboxProviders, PayPalFaultsHitRefundsNotTokens) {
  Sandbox sandbox;
  sandbox.set_faults(R"({"paypal":{"status":429,"count":1,"retry_after_s":1}})");
  std::string token = paypal_token(sandbox);  // not spent on the token fetch
  const std::string body = R"({"amount":{"value":"5.00","currency_code":"EUR"}})";
  auto limited = paypal_refund(sandbox, token, "CAPRL", "req-rl", body);
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(at(limited.body, "/name"), "RATE_LIMIT_REACHED");
  EXPECT_EQ(at(limited.body, "/message"), "Too many requests. Blocked due to rate limiting.");
  EXPECT_EQ(paypal_refund(sandbox, token, "CAPRL", "req-rl", body).status, 201);
  EXPECT_EQ(effects_of(sandbox, "paypal").size(), 1u);
}

// ---------------------------------------------------------------------------------------------
// Square

HttpAnswer square_refund(Sandbox& sandbox, const std::string& body, bool with_version = true) {
  Headers headers{{"Authorization", "Bearer " + std::string(creds::square_access_token)},
                  {"Content-Type", "application/json"},
                  {"X-Rescind-Job", "evt_sq"}};
  if (with_version) headers.emplace_back("Square-Version", "2024-10-17");
  return http_call("POST", sandbox.url() + "/v2/refunds", body, headers);
}

std::string square_body(const std::string& key, long long amount) {
  return R"({"idempotency_key":")" + key + R"(","payment_id":"pay_1","amount_money":{"amount":)" +
         std::to_string(amount) + R"(,"currency":"USD"},"reason":"customer canceled"})";
}

TEST(SandboxProviders, SquareRefundsHonourIdempotencyKeys) {
  Sandbox sandbox;
  auto first = square_refund(sandbox, square_body("key-1", 14900));
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(at(first.body, "/refund/status"), "COMPLETED") << "PENDING only when asked (POST /__square/refunds)";
  EXPECT_EQ(at(first.body, "/refund/payment_id"), "pay_1");
  EXPECT_EQ(at(first.body, "/refund/amount_money/amount"), "14900");
  auto replay = square_refund(sandbox, square_body("key-1", 14900));
  EXPECT_EQ(replay.status, 200);
  EXPECT_EQ(replay.body, first.body) << "same key, same data: the same refund";
  auto reused = square_refund(sandbox, square_body("key-1", 100));
  EXPECT_EQ(reused.status, 400);
  EXPECT_EQ(at(reused.body, "/errors/0/code"), "IDEMPOTENCY_KEY_REUSED") << reused.body;

  auto too_long = square_refund(sandbox, square_body(std::string(46, 'k'), 14900));
  EXPECT_EQ(too_long.status, 400);
  EXPECT_EQ(at(too_long.body, "/errors/0/category"), "INVALID_REQUEST_ERROR");
  EXPECT_EQ(at(too_long.body, "/errors/0/code"), "VALUE_TOO_LONG");
  EXPECT_EQ(at(too_long.body, "/errors/0/field"), "idempotency_key");
  EXPECT_EQ(square_refund(sandbox, square_body(std::string(45, 'k'), 14900)).status, 200) << "45 is allowed";
  EXPECT_EQ(square_refund(sandbox, square_body("key-2", 1), false).status, 400) << "Square-Version is required";

  sandbox.set_faults(R"({"square":{"status":429,"count":1}})");
  auto limited = square_refund(sandbox, square_body("key-3", 1));
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(at(limited.body, "/errors/0/category"), "RATE_LIMIT_ERROR");
  EXPECT_EQ(at(limited.body, "/errors/0/code"), "RATE_LIMITED");

  auto effects = effects_of(sandbox, "square");
  ASSERT_EQ(effects.size(), 2u);
  EXPECT_EQ(effects[0].action, "refund");
  EXPECT_EQ(effects[0].job_id, "evt_sq");
  EXPECT_EQ(effects[0].amount_minor, 14900);
  EXPECT_EQ(effects[0].currency, "usd");
}

// ---------------------------------------------------------------------------------------------
// Shopify

const std::string cancel_query =
    "mutation Cancel($orderId: ID!, $reason: OrderCancelReason!, $refund: Boolean!, $restock: Boolean!) "
    "{ orderCancel(orderId: $orderId, reason: $reason, refund: $refund, restock: $restock) "
    "{ job { id done } orderCancelUserErrors { field message code } userErrors { field message } } }";
// The form of 2025-07 on (SH2, SH3), with 2026-10's jobResult (SH5).
const std::string cancel_2026_10 =
    "mutation Cancel($orderId: ID!, $reason: OrderCancelReason!, $refundMethod: OrderCancelRefundMethodInput!, "
    "$restock: Boolean!) { orderCancel(orderId: $orderId, reason: $reason, refundMethod: $refundMethod, restock: "
    "$restock) "
    "{ job { id done } jobResult { id done status errors { field message code } } orderCancelUserErrors { field "
    "message code } } }";
const std::string order_query = "query Order($id: ID!) { order(id: $id) { id cancelledAt } }";
const std::string job_query = "query Job($id: ID!) { job(id: $id) { id done } }";

HttpAnswer shopify_call(Sandbox& sandbox, const std::string& query, const std::string& variables,
                        const std::string& token = std::string(creds::shopify_access_token),
                        const std::string& version = "2024-10") {
  std::string body = R"({"query":")" + query + R"(","variables":)" + variables + "}";
  Headers headers{{"X-Shopify-Access-Token", token}, {"Content-Type", "application/json"}, {"X-Rescind-Job", "evt_sh"}};
  return http_call("POST", sandbox.url() + "/shops/demo.myshopify.com/admin/api/" + version + "/graphql.json", body,
                   headers);
}

HttpAnswer at_version(Sandbox& sandbox, const std::string& version, const std::string& query,
                      const std::string& variables) {
  return shopify_call(sandbox, query, variables, std::string(creds::shopify_access_token), version);
}

// The version that answers a request for `version` (X-Shopify-API-Version).
std::string served_version(Sandbox& sandbox, const std::string& version) {
  return at_version(sandbox, version, order_query, R"({"id":"gid://shopify/Order/1"})").header("X-Shopify-API-Version");
}

void shopify_scenario(Sandbox& sandbox, const std::string& json) {
  auto set = http_call("POST", sandbox.url() + "/__shopify/scenario", json);
  ASSERT_EQ(set.status, 200) << set.body;
}

TEST(SandboxProviders, ShopifyCancelsOnceAndReportsTheSecondAsAUserError) {
  Sandbox sandbox;
  const std::string vars = R"({"orderId":"gid://shopify/Order/1001","reason":"CUSTOMER","refund":true,"restock":true})";
  auto first = shopify_call(sandbox, cancel_query, vars);
  ASSERT_EQ(first.status, 200) << first.body;
  std::string job = at(first.body, "/data/orderCancel/job/id");
  EXPECT_EQ(job.rfind("gid://shopify/Job/", 0), 0u) << first.body;
  EXPECT_EQ(at(first.body, "/data/orderCancel/job/done"), "true")
      << "by default a job has run when the answer is written";
  EXPECT_EQ(at(first.body, "/data/orderCancel/orderCancelUserErrors"), "[]");
  EXPECT_NE(at(first.body, "/extensions/cost/throttleStatus/maximumAvailable"), "<absent>");

  auto polled = shopify_call(sandbox, job_query, R"({"id":")" + job + R"("})");
  EXPECT_EQ(at(polled.body, "/data/job/done"), "true") << polled.body;
  EXPECT_EQ(at(polled.body, "/data/job/id"), job);
  auto order = shopify_call(sandbox, order_query, R"({"id":"gid://shopify/Order/1001"})");
  EXPECT_NE(at(order.body, "/data/order/cancelledAt"), "null") << order.body;

  auto second = shopify_call(sandbox, cancel_query, vars);
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(at(second.body, "/data/orderCancel/job"), "null") << second.body;
  EXPECT_EQ(at(second.body, "/data/orderCancel/orderCancelUserErrors/0/code"), "INVALID")
      << "SH7 has no code of its own for it";
  EXPECT_EQ(at(second.body, "/data/orderCancel/userErrors/0/field/0"), "orderId");

  auto effects = effects_of(sandbox, "shopify");
  ASSERT_EQ(effects.size(), 3u) << "cancel, restock and refund, once";
  EXPECT_EQ(effects[0].action, "cancel");
  EXPECT_EQ(effects[1].action, "restock");
  EXPECT_EQ(effects[2].action, "refund");
  for (const auto& effect : effects) {
    EXPECT_EQ(effect.job_id, "evt_sh");
    EXPECT_EQ(effect.ref, "gid://shopify/Order/1001");
  }

  // Without refund or restock only the cancel happens; after /__reset an order is open again.
  auto plain =
      shopify_call(sandbox, cancel_query,
                   R"({"orderId":"gid://shopify/Order/1002","reason":"FRAUD","refund":false,"restock":false})");
  EXPECT_EQ(at(plain.body, "/data/orderCancel/userErrors"), "[]") << plain.body;
  EXPECT_EQ(effects_of(sandbox, "shopify").size(), 4u);
  ASSERT_EQ(http_call("POST", sandbox.url() + "/__reset").status, 200);
  EXPECT_EQ(
      at(shopify_call(sandbox, order_query, R"({"id":"gid://shopify/Order/1001"})").body, "/data/order/cancelledAt"),
      "null");
  auto fresh = shopify_call(sandbox, cancel_query, vars);
  EXPECT_NE(at(fresh.body, "/data/orderCancel/job/id"), "null") << fresh.body;
}

TEST(SandboxProviders, ShopifyRefusesBadTokensAndVariablesAndThrottlesOnRequest) {
  Sandbox sandbox;
  const std::string vars = R"({"orderId":"gid://shopify/Order/7","reason":"OTHER","refund":false,"restock":true})";
  auto unauthorized = shopify_call(sandbox, cancel_query, vars, "shpat_wrong");
  EXPECT_EQ(unauthorized.status, 401);
  EXPECT_EQ(at(unauthorized.body, "/errors"),
            "[API] Invalid API key or access token (unrecognized login or wrong password)");

  auto bad_id =
      shopify_call(sandbox, cancel_query, R"({"orderId":"7","reason":"OTHER","refund":false,"restock":true})");
  EXPECT_EQ(bad_id.status, 200);
  EXPECT_EQ(at(bad_id.body, "/errors/0/message"), "Invalid global id '7'") << bad_id.body;
  EXPECT_EQ(at(bad_id.body, "/data"), "<absent>");
  auto bad_reason = shopify_call(
      sandbox, cancel_query, R"({"orderId":"gid://shopify/Order/7","reason":"BORED","refund":false,"restock":true})");
  EXPECT_NE(at(bad_reason.body, "/errors/0/message").find("$reason"), std::string::npos) << bad_reason.body;
  auto null_restock =
      shopify_call(sandbox, cancel_query, R"({"orderId":"gid://shopify/Order/7","reason":"OTHER","refund":false})");
  EXPECT_EQ(at(null_restock.body, "/errors/0/message"), "Variable $restock of type Boolean! was provided invalid value")
      << null_restock.body;
  auto undeclared = shopify_call(
      sandbox,
      "mutation { orderCancel(orderId: $orderId, reason: OTHER, refund: false, restock: true) { job { id } } }",
      R"({"orderId":"gid://shopify/Order/7"})");
  EXPECT_EQ(at(undeclared.body, "/errors/0/extensions/code"), "variableNotDefined") << undeclared.body;
  auto unparsable = shopify_call(sandbox, "mutation { orderCancel(", "{}");
  EXPECT_EQ(unparsable.status, 200);
  EXPECT_NE(at(unparsable.body, "/errors/0/message").find("Parse error"), std::string::npos) << unparsable.body;
  EXPECT_EQ(effects_of(sandbox, "shopify").size(), 0u) << "nothing refused did anything";

  sandbox.set_faults(R"({"shopify":{"throttled":2}})");
  auto faults = http_call("GET", sandbox.url() + "/__faults");
  EXPECT_EQ(at(faults.body, "/shopify/throttled"), "2") << faults.body;
  for (int i = 0; i < 2; ++i) {
    auto throttled = shopify_call(sandbox, cancel_query, vars);
    EXPECT_EQ(throttled.status, 200) << "GraphQL throttles with HTTP 200";
    EXPECT_EQ(at(throttled.body, "/errors/0/message"), "Throttled");
    EXPECT_EQ(at(throttled.body, "/errors/0/extensions/code"), "THROTTLED");
    EXPECT_EQ(at(throttled.body, "/extensions/cost/throttleStatus/currentlyAvailable"), "0");
  }
  auto through = shopify_call(sandbox, cancel_query, vars);
  EXPECT_EQ(at(through.body, "/data/orderCancel/userErrors"), "[]") << through.body;
  auto counts = sandbox.count_by_action();
  EXPECT_EQ(counts["cancel"], 1);
  EXPECT_EQ(counts["restock"], 1);
  EXPECT_EQ(counts["refund"], 0);

  auto unknown = http_call("POST", sandbox.url() + "/__faults", R"({"shopify":{"throttle":1}})");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_NE(unknown.body.find("throttled"), std::string::npos) << "the known fields are listed: " << unknown.body;
}

TEST(SandboxProviders, ShopifyServesTheSchemaOfTheVersionItAnswersWith) {
  Sandbox sandbox;
  const std::string refund_vars =
      R"({"orderId":"gid://shopify/Order/21","reason":"OTHER","refund":false,"restock":true})";
  const std::string method_vars =
      R"({"orderId":"gid://shopify/Order/22","reason":"OTHER","refundMethod":{"originalPaymentMethodsRefund":true},"restock":true})";
  // On 2026-12-01 the stable versions are 2026-01 … 2026-10; older ones fall forward (SH4).
  EXPECT_EQ(served_version(sandbox, "2026-10"), "2026-10");
  EXPECT_EQ(served_version(sandbox, "2024-10"), "2026-01");
  EXPECT_EQ(served_version(sandbox, "2027-01"), "2027-01") << "the release candidate";
  EXPECT_EQ(at_version(sandbox, "2099-01", order_query, R"({"id":"gid://shopify/Order/1"})").status, 404);
  EXPECT_EQ(at_version(sandbox, "2026-05", order_query, R"({"id":"gid://shopify/Order/1"})").status, 404)
      << "not a release";

  // 2026-10: no `refund` any more (the sandbox's cut-off, 2026-07), refundMethod and jobResult.
  auto refund_late = at_version(sandbox, "2026-10", cancel_query, refund_vars);
  EXPECT_EQ(refund_late.status, 200);
  EXPECT_EQ(at(refund_late.body, "/errors/0/extensions/code"), "argumentNotAccepted") << refund_late.body;
  EXPECT_EQ(at(refund_late.body, "/errors/0/extensions/argumentName"), "refund");
  EXPECT_EQ(at(refund_late.body, "/errors/0/message"), "Field 'orderCancel' doesn't accept argument 'refund'");
  auto method = at_version(sandbox, "2026-10", cancel_2026_10, method_vars);
  EXPECT_EQ(at(method.body, "/data/orderCancel/jobResult/status"), "SUCCEEDED") << method.body;
  EXPECT_EQ(at(method.body, "/data/orderCancel/jobResult/errors"), "[]");
  // 2026-01 (what 2024-10 falls forward to): `refund` deprecated but taken, no jobResult yet.
  auto deprecated = at_version(sandbox, "2024-10", cancel_query, refund_vars);
  EXPECT_EQ(at(deprecated.body, "/data/orderCancel/orderCancelUserErrors"), "[]") << deprecated.body;
  auto too_early = at_version(sandbox, "2026-07", cancel_2026_10, method_vars);
  EXPECT_EQ(at(too_early.body, "/errors/0/extensions/code"), "undefinedField") << too_early.body;
  EXPECT_EQ(at(too_early.body, "/errors/0/extensions/fieldName"), "jobResult");

  // As it was before 2025-07: refund is required and refundMethod does not exist.
  shopify_scenario(sandbox, R"({"latest_version":"2025-04"})");
  EXPECT_EQ(served_version(sandbox, "2024-10"), "2024-10");
  const std::string method_only =
      "mutation Cancel($orderId: ID!, $reason: OrderCancelReason!, $refundMethod: OrderCancelRefundMethodInput!, "
      "$restock: Boolean!) { orderCancel(orderId: $orderId, reason: $reason, refundMethod: $refundMethod, restock: "
      "$restock) "
      "{ job { id } } }";
  auto old = at_version(sandbox, "2024-10", method_only, method_vars);
  std::set<std::string> codes;
  for (int i = 0; i < 3; ++i) codes.insert(at(old.body, "/errors/" + std::to_string(i) + "/extensions/code"));
  EXPECT_EQ(codes,
            (std::set<std::string>{"variableRequiresValidType", "argumentNotAccepted", "missingRequiredArguments"}))
      << old.body;
  EXPECT_EQ(at_version(sandbox, "2024-10", cancel_query, refund_vars).status, 200);
  EXPECT_EQ(sandbox.count_by_action()["refund"], 1) << "only 2026-10's refundMethod asked for one";
}

TEST(SandboxProviders, ShopifyJobsTakePollsCanFailAndOnlyASuccessCancels) {
  Sandbox sandbox;
  shopify_scenario(sandbox, R"({"job_polls":2,"failing_jobs":1})");
  const std::string vars =
      R"({"orderId":"gid://shopify/Order/31","reason":"OTHER","refundMethod":{"originalPaymentMethodsRefund":false},"restock":true})";
  auto started = at_version(sandbox, "2026-10", cancel_2026_10, vars);
  EXPECT_EQ(at(started.body, "/data/orderCancel/jobResult/status"), "STARTED") << started.body;
  std::string job = at(started.body, "/data/orderCancel/job/id");
  auto poll = [&] {
    return at(at_version(sandbox, "2026-10", job_query, R"({"id":")" + job + R"("})").body, "/data/job/done");
  };
  auto cancelled_at = [&] {
    return at(at_version(sandbox, "2026-10", order_query, R"({"id":"gid://shopify/Order/31"})").body,
              "/data/order/cancelledAt");
  };
  EXPECT_EQ(poll(), "false");
  EXPECT_EQ(poll(), "true") << "done at the second request after the mutation";
  EXPECT_EQ(cancelled_at(), "null") << "the job finished and failed: the order is still open";
  EXPECT_EQ(effects_of(sandbox, "shopify").size(), 0u);

  auto again = at_version(sandbox, "2026-10", cancel_2026_10, vars);
  EXPECT_EQ(at(again.body, "/data/orderCancel/orderCancelUserErrors"), "[]") << again.body;
  EXPECT_EQ(cancelled_at(), "null");
  EXPECT_NE(cancelled_at(), "null") << "any request to the shop counts: the second job ran";
  auto effects = effects_of(sandbox, "shopify");
  ASSERT_EQ(effects.size(), 2u);
  EXPECT_EQ(effects[0].action, "cancel");
  EXPECT_EQ(effects[0].job_id, "evt_sh") << "filed under the mutation's job, not the poll's";
}

TEST(SandboxProviders, ShopifyAnswersInternalErrorsAndRefusalsOnRequest) {
  Sandbox sandbox;
  shopify_scenario(sandbox, R"({"internal_server_errors":1,"internal_errors":1,"unrestockable_orders":["41"]})");
  const std::string vars =
      R"({"orderId":"gid://shopify/Order/41","reason":"OTHER","refundMethod":{"originalPaymentMethodsRefund":true},"restock":true})";
  auto internal = at_version(sandbox, "2026-10", cancel_2026_10, vars);
  EXPECT_EQ(internal.status, 200) << "instead of a 500 (SH10)";
  EXPECT_EQ(at(internal.body, "/errors/0/extensions/code"), "INTERNAL_SERVER_ERROR") << internal.body;
  EXPECT_NE(at(internal.body, "/errors/0/extensions/requestId"), "<absent>");
  auto user_error = at_version(sandbox, "2026-10", cancel_2026_10, vars);
  EXPECT_EQ(at(user_error.body, "/data/orderCancel/orderCancelUserErrors/0/code"), "INTERNAL_ERROR") << user_error.body;
  auto unrestockable = at_version(sandbox, "2026-10", cancel_2026_10, vars);
  EXPECT_EQ(at(unrestockable.body, "/data/orderCancel/orderCancelUserErrors/0/field/0"), "restock")
      << unrestockable.body;
  EXPECT_EQ(effects_of(sandbox, "shopify").size(), 0u);
  auto without_restock =
      at_version(sandbox, "2026-10", cancel_2026_10, replace(vars, R"("restock":true)", R"("restock":false)"));
  EXPECT_EQ(at(without_restock.body, "/data/orderCancel/jobResult/status"), "SUCCEEDED") << without_restock.body;
  EXPECT_EQ(http_call("POST", sandbox.url() + "/__shopify/scenario", R"({"job_poll":1})").status, 400);
}

TEST(SandboxProviders, ShopifyOrdersKnowWhatWasRefundedByACancelOrByHand) {
  Sandbox sandbox;
  const std::string money_query =
      "query Order($id: ID!) { order(id: $id) { cancelledAt displayFinancialStatus "
      "totalRefundedSet { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } } } }";
  auto order = [&](const std::string& id, const std::string& version = "2026-10") {
    return at_version(sandbox, version, money_query, R"({"id":"gid://shopify/Order/)" + id + R"("})").body;
  };
  auto cancel = [&](const std::string& id, bool refund) {
    return at_version(sandbox, "2026-10", cancel_2026_10,
                      R"({"orderId":"gid://shopify/Order/)" + id +
                          R"(","reason":"OTHER","refundMethod":{"originalPaymentMethodsRefund":)" +
                          (refund ? "true" : "false") + R"(},"restock":false})");
  };
  // An order no scenario described: paid 10000.00 USD, nothing refunded.
  auto open = order("51");
  EXPECT_EQ(at(open, "/data/order/displayFinancialStatus"), "PAID") << open;
  EXPECT_EQ(at(open, "/data/order/totalRefundedSet/shopMoney/amount"), "0.0");
  EXPECT_EQ(at(open, "/data/order/totalRefundedSet/presentmentMoney/currencyCode"), "USD");

  // A cancel that refunds to the original payment methods refunds all that was paid; one that
  // does not, nothing.
  EXPECT_EQ(at(cancel("51", true).body, "/data/orderCancel/jobResult/status"), "SUCCEEDED");
  EXPECT_EQ(at(order("51"), "/data/order/displayFinancialStatus"), "REFUNDED");
  EXPECT_EQ(at(order("51"), "/data/order/totalRefundedSet/shopMoney/amount"), "10000.0");
  EXPECT_EQ(at(cancel("52", false).body, "/data/orderCancel/jobResult/status"), "SUCCEEDED");
  EXPECT_NE(at(order("52"), "/data/order/cancelledAt"), "null");
  EXPECT_EQ(at(order("52"), "/data/order/displayFinancialStatus"), "PAID");
  // The deprecated `refund: true` of 2026-01 (what 2024-10 falls forward to) refunds as well.
  auto legacy = shopify_call(sandbox, cancel_query,
                             R"({"orderId":"gid://shopify/Order/53","reason":"OTHER","refund":true,"restock":false})");
  EXPECT_EQ(at(legacy.body, "/data/orderCancel/orderCancelUserErrors"), "[]") << legacy.body;
  EXPECT_EQ(at(order("53", "2024-10"), "/data/order/displayFinancialStatus"), "REFUNDED");

  // Canceled by hand in the admin: with its refund, a part of it, or none; then a cancel is refused.
  shopify_scenario(
      sandbox, R"({"canceled_by_hand":[)"
               R"({"shop":"demo.myshopify.com","order":"61","total":"149.00","currency":"EUR","refund":true},)"
               R"({"shop":"demo.myshopify.com","order":"gid://shopify/Order/62","total":"149.00","refunded":"50.5"},)"
               R"({"shop":"demo.myshopify.com","order":"63","total":"1.234","currency":"KWD"},)"
               R"({"shop":"other.myshopify.com","order":"64"}]})");
  auto refunded = order("61");
  EXPECT_NE(at(refunded, "/data/order/cancelledAt"), "null") << refunded;
  EXPECT_EQ(at(refunded, "/data/order/displayFinancialStatus"), "REFUNDED");
  EXPECT_EQ(at(refunded, "/data/order/totalRefundedSet/shopMoney/amount"), "149.0");
  EXPECT_EQ(at(refunded, "/data/order/totalRefundedSet/shopMoney/currencyCode"), "EUR");
  EXPECT_EQ(at(order("62"), "/data/order/displayFinancialStatus"), "PARTIALLY_REFUNDED");
  EXPECT_EQ(at(order("62"), "/data/order/totalRefundedSet/presentmentMoney/amount"), "50.5");
  EXPECT_EQ(at(order("63"), "/data/order/displayFinancialStatus"), "PAID");
  EXPECT_EQ(at(order("63"), "/data/order/totalRefundedSet/shopMoney/amount"), "0.0");
  EXPECT_EQ(at(order("64"), "/data/order/cancelledAt"), "null") << "another shop's order 64";
  EXPECT_EQ(at(cancel("63", true).body, "/data/orderCancel/orderCancelUserErrors/0/code"), "INVALID");
  EXPECT_EQ(at(order("63"), "/data/order/displayFinancialStatus"), "PAID") << "a refused cancel refunds nothing";
  EXPECT_EQ(sandbox.count_by_action()["cancel"], 3) << "what the merchant did is no effect of the API";
  EXPECT_EQ(sandbox.count_by_action()["refund"], 2);

  // The schema: money is an object (selections needed), its fields are Shopify's.
  auto bare = at_version(sandbox, "2026-10", "query O($id: ID!) { order(id: $id) { totalRefundedSet } }",
                         R"({"id":"gid://shopify/Order/61"})");
  EXPECT_EQ(at(bare.body, "/errors/0/extensions/code"), "selectionMismatch") << bare.body;
  auto wrong = at_version(sandbox, "2026-10",
                          "query O($id: ID!) { order(id: $id) { totalRefundedSet { shopMoney { value } } } }",
                          R"({"id":"gid://shopify/Order/61"})");
  EXPECT_EQ(at(wrong.body, "/errors/0/extensions/code"), "undefinedField") << wrong.body;

  for (const char* bad :
       {R"({"canceled_by_hand":[{"order":"70"}]})",
        R"({"canceled_by_hand":[{"shop":"demo.myshopify.com","order":"70","refund":true,"refunded":"1.00"}]})",
        R"({"canceled_by_hand":[{"shop":"demo.myshopify.com","order":"70","total":"10.00","refunded":"10.01"}]})",
        R"({"canceled_by_hand":[{"shop":"demo.myshopify.com","order":"70","total":"1.2345"}]})",
        R"({"canceled_by_hand":[{"shop":"demo.myshopify.com","order":"70","currency":"usd"}]})",
        R"({"canceled_by_hand":[{"shop":"demo.myshopify.com","order":"70","refund":"yes"}]})",
        R"({"canceled_by_hand":[{"shop":"demo.myshopify.com","order":"70","note":"x"}]})",
        R"({"canceled_by_hand":{"shop":"demo.myshopify.com","order":"70"}})"}) {
    EXPECT_EQ(http_call("POST", sandbox.url() + "/__shopify/scenario", bad).status, 400) << bad;
  }
  EXPECT_EQ(at(order("70"), "/data/order/cancelledAt"), "null") << "a refused scenario cancels nothing";
}

// ---------------------------------------------------------------------------------------------
// Mailgun

HttpAnswer mailgun_send(Sandbox& sandbox, const std::string& body,
                        const std::string& domain = std::string(creds::mailgun_domain)) {
  Headers headers{{"Authorization", clients::basic_auth("api", creds::mailgun_api_key)},
                  {"Content-Type", "application/x-www-form-urlencoded"}};
  return http_call("POST", sandbox.url() + "/v3/" + domain + "/messages", body, headers);
}

TEST(SandboxProviders, MailgunQueuesMessagesAndRepeatsThemWhenAskedTwice) {
  Sandbox sandbox;
  const std::string body =
      "from=orders%40rescind.test&to=Ana%20%3Cana%40example.com%3E&subject=Canceled&text=Sorry&v%3Arescind_job_id=evt_"
      "mg";
  auto sent = mailgun_send(sandbox, body);
  ASSERT_EQ(sent.status, 200) << sent.body;
  EXPECT_EQ(at(sent.body, "/message"), "Queued. Thank you.");
  std::string id = at(sent.body, "/id");
  EXPECT_EQ(id.front(), '<');
  EXPECT_NE(id.find("@" + std::string(creds::mailgun_domain) + ">"), std::string::npos) << id;

  // Mailgun has no idempotency: a second send is a second mail.
  EXPECT_EQ(mailgun_send(sandbox, body).status, 200);
  auto effects = effects_of(sandbox, "mailgun");
  ASSERT_EQ(effects.size(), 2u);
  EXPECT_EQ(effects[0].action, "email");
  EXPECT_EQ(effects[0].job_id, "evt_mg") << "taken from v:rescind_job_id";
  EXPECT_EQ(effects[0].ref, id);

  auto no_to = mailgun_send(sandbox, "from=orders%40rescind.test&subject=x&text=y");
  EXPECT_EQ(no_to.status, 400);
  EXPECT_EQ(at(no_to.body, "/message"), "'to' parameter is missing");
  auto other_domain = mailgun_send(sandbox, body, "mg.other.test");
  EXPECT_EQ(other_domain.status, 404);
  EXPECT_EQ(at(other_domain.body, "/message"), "Domain not found: mg.other.test");
  Headers wrong{{"Authorization", clients::basic_auth("api", "key-wrong")},
                {"Content-Type", "application/x-www-form-urlencoded"}};
  EXPECT_EQ(
      http_call("POST", sandbox.url() + "/v3/" + std::string(creds::mailgun_domain) + "/messages", body, wrong).status,
      401);
  EXPECT_EQ(effects_of(sandbox, "mailgun").size(), 2u);
}

// ---------------------------------------------------------------------------------------------
// Zendesk

Headers zendesk_headers() {
  return {
      {"Authorization", clients::basic_auth(std::string(creds::zendesk_email) + "/token", creds::zendesk_api_token)},
      {"Content-Type", "application/json"},
      {"X-Rescind-Job", "evt_zd"}};
}

TEST(SandboxProviders, ZendeskCreatesTicketsAndFindsThemByExternalId) {
  Sandbox sandbox;
  const std::string ticket =
      R"({"ticket":{"subject":"Dispute on #1001","comment":{"body":"A dispute was opened."},"priority":"urgent",)"
      R"("requester":{"email":"ana@example.com","name":"Ana"},"external_id":"rescind-evt_zd","tags":["rescind","dispute"]}})";
  auto before =
      http_call("GET", sandbox.url() + "/api/v2/tickets.json?external_id=rescind-evt_zd", "", zendesk_headers());
  ASSERT_EQ(before.status, 200) << before.body;
  EXPECT_EQ(at(before.body, "/count"), "0");

  auto created = http_call("POST", sandbox.url() + "/api/v2/tickets.json", ticket, zendesk_headers());
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(at(created.body, "/ticket/id"), "35436");
  EXPECT_EQ(at(created.body, "/ticket/status"), "new");
  EXPECT_EQ(at(created.body, "/ticket/priority"), "urgent");
  EXPECT_EQ(at(created.body, "/ticket/external_id"), "rescind-evt_zd");
  EXPECT_EQ(at(created.body, "/ticket/tags/1"), "dispute");

  auto found =
      http_call("GET", sandbox.url() + "/api/v2/tickets.json?external_id=rescind-evt_zd", "", zendesk_headers());
  EXPECT_EQ(at(found.body, "/count"), "1") << found.body;
  EXPECT_EQ(at(found.body, "/tickets/0/id"), "35436");
  auto other =
      http_call("GET", sandbox.url() + "/api/v2/tickets.json?external_id=rescind-other", "", zendesk_headers());
  EXPECT_EQ(at(other.body, "/count"), "0");

  auto invalid = http_call("POST", sandbox.url() + "/api/v2/tickets.json",
                           R"({"ticket":{"subject":"x","comment":{"body":""},"priority":"asap"}})", zendesk_headers());
  EXPECT_EQ(invalid.status, 422);
  EXPECT_EQ(at(invalid.body, "/error"), "RecordInvalid");
  EXPECT_EQ(at(invalid.body, "/description"), "Record validation errors");
  EXPECT_EQ(at(invalid.body, "/details/description/0/error"), "BlankValue") << invalid.body;
  EXPECT_EQ(at(invalid.body, "/details/priority/0/error"), "InvalidValue") << invalid.body;

  auto headers = zendesk_headers();
  headers[0].second = clients::basic_auth(std::string(creds::zendesk_email), creds::zendesk_api_token);  // no /token
  auto unauthorized = http_call("POST", sandbox.url() + "/api/v2/tickets.json", ticket, headers);
  EXPECT_EQ(unauthorized.status, 401);
  EXPECT_EQ(at(unauthorized.body, "/error"), "Couldn't authenticate you");

  auto effects = effects_of(sandbox, "zendesk");
  ASSERT_EQ(effects.size(), 1u);
  EXPECT_EQ(effects[0].action, "ticket");
  EXPECT_EQ(effects[0].job_id, "evt_zd");
  EXPECT_EQ(effects[0].ref, "35436");
}

// ---------------------------------------------------------------------------------------------
// Signed webhooks

std::string sign(const std::string& id, const std::string& timestamp, const std::string& body) {
  std::string secret(creds::webhook_secret.substr(6));  // after "whsec_"
  std::string key(secret.size(), '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(key.data()),
                          reinterpret_cast<const unsigned char*>(secret.data()), static_cast<int>(secret.size()));
  key.resize(static_cast<std::size_t>(n) - (secret.size() - secret.find_last_not_of('=') - 1));
  std::string content = id + "." + timestamp + "." + body;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(content.data()),
       content.size(), mac, &length);
  return "v1," + clients::base64(std::string_view(reinterpret_cast<const char*>(mac), length));
}

HttpAnswer deliver(Sandbox& sandbox, const std::string& id, const std::string& timestamp, const std::string& signature,
                   const std::string& body) {
  Headers headers{{"webhook-id", id},
                  {"webhook-timestamp", timestamp},
                  {"webhook-signature", signature},
                  {"Content-Type", "application/json"},
                  {"X-Rescind-Job", "evt_wh"}};
  return http_call("POST", sandbox.url() + "/hooks/erp", body, headers);
}

TEST(SandboxProviders, WebhooksCheckSignaturesAndDeduplicateIds) {
  Sandbox sandbox;
  const std::string body = R"({"type":"rescind.canceled","data":{"job_id":"evt_wh"}})";
  const std::string now = std::to_string(std::time(nullptr));

  auto forged = deliver(sandbox, "msg_1", now, sign("msg_1", now, body + " "), body);
  EXPECT_EQ(forged.status, 401);
  EXPECT_EQ(at(forged.body, "/error"), "invalid signature");
  EXPECT_EQ(deliver(sandbox, "msg_1", now, "", body).status, 401) << "a missing signature";
  const std::string old = std::to_string(std::time(nullptr) - 600);
  auto stale = deliver(sandbox, "msg_1", old, sign("msg_1", old, body), body);
  EXPECT_EQ(stale.status, 401);
  EXPECT_EQ(at(stale.body, "/error"), "stale timestamp");
  EXPECT_TRUE(effects_of(sandbox, "webhook").empty());

  // Several signatures (a key rotation): one valid is enough.
  auto accepted = deliver(sandbox, "msg_1", now, "v1,bm90IHRoaXMgb25l " + sign("msg_1", now, body), body);
  ASSERT_EQ(accepted.status, 200) << accepted.body;
  EXPECT_EQ(at(accepted.body, "/ok"), "true");
  auto redelivered = deliver(sandbox, "msg_1", now, sign("msg_1", now, body), body);
  EXPECT_EQ(redelivered.status, 200) << "a repeated webhook-id is acknowledged";

  auto effects = effects_of(sandbox, "webhook");
  ASSERT_EQ(effects.size(), 1u) << "and recorded once";
  EXPECT_EQ(effects[0].action, "record");
  EXPECT_EQ(effects[0].job_id, "evt_wh");
  EXPECT_EQ(effects[0].ref, "erp:msg_1");
}

}  // namespace
}  // namespace rescind::testing
