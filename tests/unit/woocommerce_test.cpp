// WooCommerce's answers as the client reads them: WP REST's error shape by status and code
// (never by message), the refund refusal judged by the order's state, the order and its
// refunds, and the job's marker in what a refund stores.
#include <gtest/gtest.h>

#include <CLI/CLI.hpp>

#include "clients/providers.hpp"
#include "clients/woocommerce.hpp"
#include "common/secret_options.hpp"

namespace rescind::clients {
namespace {

using Kind = Outcome::Kind;
using Woo = WooCommerceOrders;

Exchange answer(int status, std::string body, std::vector<std::pair<std::string, std::string>> headers = {}) {
  Exchange exchange;
  exchange.response.result(status);
  exchange.response.body() = std::move(body);
  for (auto& [name, value] : headers) exchange.response.set(name, value);
  return exchange;
}

std::string wp_error(const std::string& code, int status, const std::string& message = "whatever it says") {
  return R"({"code":")" + code + R"(","message":")" + message + R"(","data":{"status":)" + std::to_string(status) +
         "}}";
}

jobs::Job job_of(std::int64_t amount = 14900) {
  jobs::Job job;
  job.id = "evt_woo_1";
  job.shop = {"woocommerce", "woo.example"};
  job.order.id = "1001";
  job.order.currency = "USD";
  job.order.total_minor = amount;
  job.refund.amount_minor = amount;
  job.refund.reason = "requested_by_customer";
  job.payment.provider = "woocommerce";
  return job;
}

TEST(WooCommerce, TheRefundRefusalIsPermanentWhereAnyOther500IsRetried) {
  auto refused = Woo::interpret(answer(500, wp_error("woocommerce_rest_cannot_create_order_refund", 500)));
  EXPECT_EQ(refused.kind, Kind::permanent);
  EXPECT_EQ(refused.code, "woocommerce_rest_cannot_create_order_refund");
  auto fatal = Woo::interpret(answer(500, wp_error("internal_server_error", 500)));
  EXPECT_EQ(fatal.kind, Kind::retryable);
  // A proxy's page has no code: the status decides.
  auto proxy = Woo::interpret(answer(503, "<html>Service Unavailable</html>"));
  EXPECT_EQ(proxy.kind, Kind::retryable);
  EXPECT_TRUE(proxy.code.empty());
}

TEST(WooCommerce, AHostsTooManyRequestsIsRateLimitedWithItsRetryAfter) {
  auto outcome = Woo::interpret(answer(429, "<html>429 Too Many Requests</html>", {{"Retry-After", "9"}}));
  EXPECT_EQ(outcome.kind, Kind::rate_limited);
  EXPECT_EQ(outcome.retry_after, std::chrono::seconds(9));
}

TEST(WooCommerce, AuthRefusalsAndUnknownOrdersArePermanentWithTheirCodes) {
  auto key = Woo::interpret(answer(401, wp_error("woocommerce_rest_authentication_error", 401)));
  EXPECT_EQ(key.kind, Kind::permanent);
  EXPECT_EQ(key.code, "woocommerce_rest_authentication_error");
  EXPECT_EQ(Woo::interpret(answer(401, wp_error("woocommerce_rest_cannot_view", 401))).kind, Kind::permanent);
  auto missing = Woo::interpret_order(answer(404, wp_error("woocommerce_rest_shop_order_invalid_id", 404)));
  EXPECT_EQ(missing.outcome.kind, Kind::permanent);
  EXPECT_EQ(missing.outcome.code, "woocommerce_rest_shop_order_invalid_id");
}

TEST(WooCommerce, AnOrderIsReadWithItsRefundsNegativeTotals) {
  auto order = Woo::interpret_order(answer(
      200,
      R"({"id":1001,"status":"processing","currency":"USD","total":"149.00","refunds":[{"id":7,"reason":"","total":"-10.00"},{"id":8,"reason":"x","total":"-0.50"}]})"));
  ASSERT_TRUE(order.outcome.ok()) << order.outcome.message;
  EXPECT_EQ(order.status, "processing");
  EXPECT_EQ(order.total_minor, 14900);
  EXPECT_EQ(order.refunded_minor, 1050);
  auto html = Woo::interpret_order(answer(200, "<html>cached page</html>"));
  EXPECT_EQ(html.outcome.kind, Kind::retryable) << "a 200 that is no order proves nothing";
}

TEST(WooCommerce, TheJobsRefundIsFoundByItsMetaDataOrItsReason) {
  auto by_meta = Woo::interpret_refunds(
      answer(200, R"([{"id":11,"reason":"","meta_data":[{"id":1,"key":"rescind_job_id","value":"evt_woo_10"}]},)"
                  R"({"id":12,"reason":"","meta_data":[{"id":2,"key":"rescind_job_id","value":"evt_woo_1"}]}])"),
      "evt_woo_1");
  ASSERT_TRUE(by_meta.outcome.ok());
  EXPECT_EQ(by_meta.found, "12") << "evt_woo_10 is another job";
  auto by_reason = Woo::interpret_refunds(
      answer(200, R"j([{"id":13,"reason":"requested_by_customer (rescind job evt_woo_1)","meta_data":[]}])j"),
      "evt_woo_1");
  EXPECT_EQ(by_reason.found, "13");
  auto none = Woo::interpret_refunds(
      answer(200, R"j([{"id":14,"reason":"requested_by_customer (rescind job evt_woo_10)","meta_data":[]}])j",
             {{"X-WP-TotalPages", "3"}}),
      "evt_woo_1");
  EXPECT_TRUE(none.outcome.ok());
  EXPECT_TRUE(none.found.empty());
  EXPECT_EQ(none.total_pages, 3);
  EXPECT_EQ(Woo::interpret_refunds(answer(200, R"({"not":"a list"})"), "evt_woo_1").outcome.kind, Kind::retryable);
}

TEST(WooCommerce, ARefusedRefundIsDoneOnlyWhenTheOrderIsRefundedInFull) {
  auto refused = Woo::interpret(answer(500, wp_error("woocommerce_rest_cannot_create_order_refund", 500)));
  WooOrder full{Outcome::success(""), "refunded", "USD", 14900, 14900};
  auto done = Woo::judge_refused_refund(job_of(), full, refused);
  EXPECT_TRUE(done.ok());
  EXPECT_EQ(done.code, "already_refunded");
  WooOrder partly{Outcome::success(""), "processing", "USD", 14900, 10000};
  auto stop = Woo::judge_refused_refund(job_of(), partly, refused);
  EXPECT_EQ(stop.kind, Kind::permanent) << "over-refund: never retried blindly";
  EXPECT_EQ(stop.code, "woocommerce_rest_cannot_create_order_refund");
  WooOrder unread{Outcome::retryable(0, "transport", "reset"), {}, {}, {}, 0};
  EXPECT_EQ(Woo::judge_refused_refund(job_of(), unread, refused).kind, Kind::retryable)
      << "without the order's state nothing is concluded";
}

TEST(WooCommerce, TheRefundCarriesTheJobAndLeavesTheStockToTheCancel) {
  auto body = Woo::refund_body(job_of(), false);
  EXPECT_EQ(body, R"j({"amount":"149.00","reason":"requested_by_customer (rescind job evt_woo_1)","api_refund":true,)j"
                  R"("api_restock":false,"meta_data":[{"key":"rescind_job_id","value":"evt_woo_1"}]})");
  EXPECT_NE(Woo::refund_body(job_of(), true).find(R"("api_refund":false)"), std::string::npos);
  auto created = Woo::interpret_refund_created(answer(201, R"({"id":9001,"amount":"149.00"})"));
  EXPECT_TRUE(created.ok());
  EXPECT_EQ(created.reference, "9001");
}

TEST(WooCommerce, DecimalsAreReadExactlyOrNotAtAll) {
  EXPECT_EQ(Woo::minor_of("149.00", 2), 14900);
  EXPECT_EQ(Woo::minor_of("-10.5", 2), -1050);
  EXPECT_EQ(Woo::minor_of("1490", 0), 1490);
  EXPECT_EQ(Woo::minor_of("1.005", 2), std::nullopt);
  EXPECT_EQ(Woo::minor_of("abc", 2), std::nullopt);
}

// The worker's options as it parses them, without --sandbox: real credentials for the
// required providers, and `woo` for WooCommerce.
void configure(std::vector<std::string> woo) {
  std::vector<std::string> args = {"rescind-worker",
                                   "--stripe-api-key",
                                   "sk_test_x",
                                   "--twilio-account-sid",
                                   "AC1",
                                   "--twilio-auth-token",
                                   "t",
                                   "--twilio-from",
                                   "+15005550006",
                                   "--slack-webhook-url",
                                   "https://hooks.slack.com/services/T/B/x",
                                   "--sendgrid-api-key",
                                   "SG.x",
                                   "--email-from",
                                   "orders@shop.example"};
  args.insert(args.end(), woo.begin(), woo.end());
  ProviderOptions options;
  CLI::App app;
  common::SecretOptions secrets(app);
  options.add_options(app, secrets);
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  app.parse(static_cast<int>(argv.size()), argv.data());
  options.finish("", false);
}

TEST(WooCommerceOptions, AShopNeedsBothKeysAndAnHttpsSite) {
  EXPECT_NO_THROW(configure({}));  // optional while no job names it
  EXPECT_NO_THROW(configure({"--woocommerce-key-for", "woo.example=ck_1", "--woocommerce-secret-for",
                             "woo.example=cs_1", "--woocommerce-sites", "woo.example=https://woo.example/shop"}));
  EXPECT_THROW(configure({"--woocommerce-key-for", "woo.example=ck_1"}), OptionError);
  EXPECT_THROW(configure({"--woocommerce-secret-for", "woo.example=cs_1"}), OptionError);
  // The keys would travel in clear to a host that is not this machine.
  EXPECT_THROW(configure({"--woocommerce-key-for", "woo.example=ck_1", "--woocommerce-secret-for", "woo.example=cs_1",
                          "--woocommerce-sites", "woo.example=http://woo.example"}),
               OptionError);
  EXPECT_NO_THROW(configure({"--woocommerce-key-for", "woo.example=ck_1", "--woocommerce-secret-for",
                             "woo.example=cs_1", "--woocommerce-sites", "woo.example=http://127.0.0.1:8080"}));
}

}  // namespace
}  // namespace rescind::clients
