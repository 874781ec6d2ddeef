// WooCommerce end to end against the sandbox's sites: a cancel that restocks, and refunds when
// WooCommerce holds the payment; an order cancelled or refunded already; a host's 429 and
// 5xx retried to one refund; an over-refund and a gateway's refusal permanent; and a refund
// whose answer was lost, or whose worker crashed before recording it, never made twice
// (the sandbox's ledger says so, not the logs).
#include <gtest/gtest.h>

#include <chrono>
#include <variant>

#include "clients/encoding.hpp"
#include "clients/http_client.hpp"
#include "clients/woocommerce.hpp"
#include "common/woocommerce_credentials.hpp"
#include "jobs/parse.hpp"
#include "tests/support/stack.hpp"

namespace rescind::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* site = "woo.example";

// A refund request for an unfulfilled order of a WooCommerce shop, paid through `payment`,
// telling the customer by email only.
std::string woo_job(const std::string& id, const std::string& payment = "woocommerce") {
  auto json = replace(job_json(id), R"("kind":"order.canceled")", R"("kind":"refund.requested")");
  json = replace(json, R"("platform":"shopify","domain":"acme-crafts.myshopify.com")",
                 R"("platform":"woocommerce","domain":"woo.example")");
  json = replace(json, R"("id":"450789469")", R"("id":"1001")");
  json = replace(json, R"("notify":["email","sms","staff"])", R"("notify":["email"])");
  return replace(json, R"("provider":"stripe")", R"("provider":")" + payment + R"(")");
}

std::string woo_url(const Sandbox& sandbox, const std::string& route) {
  return sandbox.url() + "/sites/" + site + "/wp-json/wc/v3/" + route;
}

std::vector<std::pair<std::string, std::string>> woo_auth(const std::string& job_id = {}) {
  std::vector<std::pair<std::string, std::string>> headers{
      {"Authorization", clients::basic_auth(sandbox_credentials::woocommerce_consumer_key,
                                            sandbox_credentials::woocommerce_consumer_secret)},
      {"Content-Type", "application/json"}};
  if (!job_id.empty()) headers.emplace_back("X-Rescind-Job", job_id);
  return headers;
}

struct WooStack {
  RedisServer redis;
  Sandbox sandbox;
  std::unique_ptr<Process> worker;

  WooStack() {
    worker = start_worker(redis, sandbox,
                          {"--log-level", "debug", "--retry", "base=20ms,cap=100ms", "--visibility-timeout", "1s"});
  }
  void order(const std::string& json) { sandbox.control("woocommerce", "order", json); }
  void run(const std::string& job) {
    auto ran = enqueue(redis, job + "\n");
    ASSERT_EQ(ran.exit_code, 0) << ran.err;
    ASSERT_TRUE(wait_until([&] { return queue_settled(redis, 1); }, 60s)) << worker->stderr_text();
  }
  std::vector<Effect> effects(const std::string& provider, const std::string& action, const std::string& job_id) {
    std::vector<Effect> out;
    for (auto& effect : sandbox.ledger()) {
      if (effect.provider == provider && effect.action == action && effect.job_id == job_id)
        out.push_back(std::move(effect));
    }
    return out;
  }
  std::string dead_letters() {
    std::string text;
    for (const auto& entry : stream_entries(redis, "rescind:dlq")) {
      for (const auto& [field, value] : entry) text += field + "=" + value + "\n";
    }
    return text;
  }
};

TEST(WooCommerce, ACancelRestocksAndRefundsOnceWhenWooCommerceHoldsThePayment) {
  WooStack stack;
  stack.order(R"({"site":"woo.example","id":"1001","total":"149.00","currency":"USD"})");
  stack.run(woo_job("evt_woo_cancel"));
  EXPECT_EQ(stack.redis.integer({"XLEN", "rescind:dlq"}), 0) << stack.dead_letters() << stack.worker->stderr_text();
  EXPECT_EQ(stack.effects("woocommerce", "cancel", "evt_woo_cancel").size(), 1u);
  EXPECT_EQ(stack.effects("woocommerce", "restock", "evt_woo_cancel").size(), 1u) << "cancelling is the restock";
  auto refunds = stack.effects("woocommerce", "refund", "evt_woo_cancel");
  ASSERT_EQ(refunds.size(), 1u) << stack.worker->stderr_text();
  EXPECT_EQ(refunds[0].amount_minor, 14900);
  EXPECT_EQ(refunds[0].currency, "usd");
  EXPECT_EQ(refunds[0].text, "api_refund") << "through the gateway, unless the shop is record-only";
  EXPECT_EQ(stack.effects("stripe", "refund", "evt_woo_cancel").size(), 0u);
  EXPECT_EQ(stack.effects("sendgrid", "email", "evt_woo_cancel").size(), 1u) << "told once refunded";
  EXPECT_EQ(stack.worker->stderr_text().find(std::string(sandbox_credentials::woocommerce_consumer_secret)),
            std::string::npos);
}

TEST(WooCommerce, ARecordOnlyShopRecordsTheRefundWithoutTheGateway) {
  RedisServer redis;
  Sandbox sandbox;
  auto worker =
      start_worker(redis, sandbox, {"--woocommerce-record-only", std::string(site), "--retry", "base=20ms,cap=100ms"});
  ASSERT_EQ(enqueue(redis, woo_job("evt_woo_record") + "\n").exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return queue_settled(redis, 1); }, 60s)) << worker->stderr_text();
  int recorded = 0;
  for (const auto& effect : sandbox.ledger()) {
    recorded += effect.provider == "woocommerce" && effect.action == "refund" && effect.text == "recorded";
  }
  EXPECT_EQ(recorded, 1) << worker->stderr_text();
}

TEST(WooCommerce, AnOrderCancelledAlreadyIsDoneAndThePaymentsProviderRefunds) {
  WooStack stack;
  stack.order(R"({"site":"woo.example","id":"1001","status":"cancelled"})");
  stack.run(woo_job("evt_woo_already", "stripe"));
  EXPECT_EQ(stack.redis.integer({"XLEN", "rescind:dlq"}), 0) << stack.dead_letters();
  EXPECT_EQ(stack.effects("woocommerce", "cancel", "evt_woo_already").size(), 0u) << "nothing changed at the site";
  EXPECT_EQ(stack.effects("stripe", "refund", "evt_woo_already").size(), 1u);
}

TEST(WooCommerce, AnOrderRefundedInFullByHandIsDoneWithoutASecondRefund) {
  WooStack stack;
  stack.order(R"({"site":"woo.example","id":"1001","total":"149.00","currency":"USD","refunded":"149.00"})");
  stack.run(woo_job("evt_woo_refunded"));
  EXPECT_EQ(stack.redis.integer({"XLEN", "rescind:dlq"}), 0) << stack.dead_letters() << stack.worker->stderr_text();
  EXPECT_EQ(stack.effects("woocommerce", "refund", "evt_woo_refunded").size(), 0u);
  EXPECT_EQ(stack.effects("woocommerce", "cancel", "evt_woo_refunded").size(), 1u);
}

TEST(WooCommerce, AnOverRefundIsPermanentAndNeverRetried) {
  WooStack stack;
  stack.order(R"({"site":"woo.example","id":"1001","total":"149.00","currency":"USD","refunded":"100.00"})");
  stack.run(woo_job("evt_woo_over"));
  auto dead = stack.dead_letters();
  EXPECT_EQ(stack.redis.integer({"XLEN", "rescind:dlq"}), 1) << stack.worker->stderr_text();
  EXPECT_NE(dead.find("woocommerce_rest_cannot_create_order_refund"), std::string::npos) << dead;
  EXPECT_EQ(stack.effects("woocommerce", "refund", "evt_woo_over").size(), 0u);
  EXPECT_EQ(stack.effects("sendgrid", "email", "evt_woo_over").size(), 0u) << "no one is told \"refunded\"";
}

TEST(WooCommerce, AGatewaysRefusalIsPermanent) {
  WooStack stack;
  stack.sandbox.control("woocommerce", "gateway", R"({"refusals":1})");
  stack.run(woo_job("evt_woo_declined"));
  EXPECT_EQ(stack.redis.integer({"XLEN", "rescind:dlq"}), 1) << stack.worker->stderr_text();
  EXPECT_EQ(stack.effects("woocommerce", "refund", "evt_woo_declined").size(), 0u);
}

TEST(WooCommerce, AHostsThrottlingAndTransientFailuresEndInOneRefund) {
  WooStack stack;
  stack.sandbox.set_faults(R"({"woocommerce":{"throttled":2}})");
  stack.run(woo_job("evt_woo_429"));
  stack.sandbox.set_faults(R"({"woocommerce":{"status":500,"count":3}})");
  stack.run(woo_job("evt_woo_500"));
  EXPECT_EQ(stack.redis.integer({"XLEN", "rescind:dlq"}), 0) << stack.dead_letters() << stack.worker->stderr_text();
  EXPECT_EQ(stack.effects("woocommerce", "refund", "evt_woo_429").size(), 1u);
  EXPECT_EQ(stack.effects("woocommerce", "refund", "evt_woo_500").size(), 1u);
  EXPECT_GE(stack.sandbox.summary("faults_injected"), 5);
}

TEST(WooCommerce, AnUnknownOrderIsPermanent) {
  WooStack stack;
  stack.order(R"({"site":"woo.example","id":"1001","missing":true})");
  stack.run(woo_job("evt_woo_404"));
  auto dead = stack.dead_letters();
  EXPECT_EQ(stack.redis.integer({"XLEN", "rescind:dlq"}), 1);
  EXPECT_NE(dead.find("woocommerce_rest_shop_order_invalid_id"), std::string::npos) << dead;
}

// A worker that made the refund and crashed before recording it: the refund exists at the
// site (made here as that worker made it), and the next worker, which knows nothing of it,
// finds it by the job's marker.
TEST(WooCommerce, ARefundMadeBeforeACrashIsFoundNotMadeAgain) {
  WooStack stack;
  auto made = http_call("POST", woo_url(stack.sandbox, "orders/1001/refunds"),
                        R"j({"amount":"149.00","reason":"requested_by_customer (rescind job evt_woo_crash)",)j"
                        R"("api_refund":true,"api_restock":false,"meta_data":[{"key":"rescind_job_id",)"
                        R"("value":"evt_woo_crash"}]})",
                        woo_auth("evt_woo_crash"));
  ASSERT_EQ(made.status, 201) << made.body;
  stack.run(woo_job("evt_woo_crash"));
  EXPECT_EQ(stack.redis.integer({"XLEN", "rescind:dlq"}), 0) << stack.dead_letters();
  EXPECT_EQ(stack.effects("woocommerce", "refund", "evt_woo_crash").size(), 1u) << "the first one, only";
  EXPECT_EQ(stack.effects("sendgrid", "email", "evt_woo_crash").size(), 1u);
}

// The client's side of a lost answer: the refund's answer lost on a pooled connection (which
// HttpClient would otherwise send again by itself) is a transport failure, and the next
// attempt finds the refund by its marker. One refund in the ledger.
TEST(WooCommerce, ARefundWhoseAnswerWasLostIsFoundNotMadeAgain) {
  Sandbox sandbox;
  jobs::JobParser parser;
  auto parsed = parser.parse(woo_job("evt_woo_lost"));
  ASSERT_TRUE(std::holds_alternative<jobs::Job>(parsed));
  const auto& job = std::get<jobs::Job>(parsed);
  std::string error;
  clients::WooCommerceSettings settings;
  settings.any_shop = clients::WooShop{*clients::parse_url(sandbox.url(), error),
                                       std::string(sandbox_credentials::woocommerce_consumer_key),
                                       std::string(sandbox_credentials::woocommerce_consumer_secret), false};
  std::vector<clients::Outcome> outcomes;
  clients::RefundState before;
  run_sync([&](boost::asio::any_io_executor ex) -> boost::asio::awaitable<void> {
    clients::HttpClient http(ex, {});
    clients::WooCommerceOrders orders(http, settings);
    before = co_await orders.find_refund(job);  // leaves a pooled connection
    sandbox.set_faults(R"({"woocommerce":{"lose_response":1}})");
    outcomes.push_back(co_await orders.create_refund(job));
    outcomes.push_back(co_await orders.refund(job));
  });
  EXPECT_EQ(before.kind, clients::RefundState::Kind::none);
  ASSERT_EQ(outcomes.size(), 2u);
  EXPECT_EQ(outcomes[0].code, "transport") << outcomes[0].message;
  EXPECT_TRUE(outcomes[1].ok()) << outcomes[1].code << ": " << outcomes[1].message;
  EXPECT_EQ(outcomes[1].code, "found_by_marker");
  std::vector<Effect> refunds;
  for (const auto& effect : sandbox.ledger()) {
    if (effect.provider == "woocommerce" && effect.action == "refund") refunds.push_back(effect);
  }
  ASSERT_EQ(refunds.size(), 1u) << "neither HttpClient nor the next attempt refunded again";
  EXPECT_EQ(refunds[0].job_id, "evt_woo_lost");
  EXPECT_EQ(outcomes[1].reference, refunds[0].ref);
}

// The fake is as strict as WooCommerce where the worker could go wrong.
TEST(WooCommerce, TheSandboxRefusesWithoutKeysUnknownOrdersAndOverRefunds) {
  Sandbox sandbox;
  auto anonymous = http_call("GET", woo_url(sandbox, "orders/1001"));
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_NE(anonymous.body.find(R"("code":"woocommerce_rest_cannot_view")"), std::string::npos) << anonymous.body;
  EXPECT_NE(anonymous.body.find(R"("data":{"status":401})"), std::string::npos) << anonymous.body;
  auto wrong = http_call("GET", woo_url(sandbox, "orders/1001"), {},
                         {{"Authorization", clients::basic_auth("ck_wrong", "cs_wrong")}});
  EXPECT_EQ(wrong.status, 401);
  EXPECT_NE(wrong.body.find("woocommerce_rest_authentication_error"), std::string::npos) << wrong.body;
  sandbox.control("woocommerce", "order", R"({"site":"woo.example","id":"404","missing":true})");
  auto unknown = http_call("GET", woo_url(sandbox, "orders/404"), {}, woo_auth());
  EXPECT_EQ(unknown.status, 404);
  EXPECT_NE(unknown.body.find("woocommerce_rest_shop_order_invalid_id"), std::string::npos) << unknown.body;
  EXPECT_EQ(http_call("GET", woo_url(sandbox, "orders/abc"), {}, woo_auth()).status, 404);
  sandbox.control("woocommerce", "order", R"({"site":"woo.example","id":"7","total":"10.00","currency":"USD"})");
  auto refund = [&](const std::string& amount) {
    return http_call("POST", woo_url(sandbox, "orders/7/refunds"), R"({"amount":")" + amount + R"("})", woo_auth());
  };
  EXPECT_EQ(refund("6.00").status, 201);
  auto over = refund("6.00");
  EXPECT_EQ(over.status, 500);
  EXPECT_NE(over.body.find(R"("code":"woocommerce_rest_cannot_create_order_refund")"), std::string::npos) << over.body;
  EXPECT_EQ(refund("4.00").status, 201) << "what is left can be refunded; no idempotency refuses a repeat";
  auto order = http_call("GET", woo_url(sandbox, "orders/7"), {}, woo_auth());
  EXPECT_NE(order.body.find(R"("status":"refunded")"), std::string::npos) << order.body;
  int refunds = 0;
  for (const auto& effect : sandbox.ledger()) refunds += effect.provider == "woocommerce" && effect.action == "refund";
  EXPECT_EQ(refunds, 2);
}

}  // namespace
}  // namespace rescind::testing
