// Magento's answers sorted out without sockets, and the OAuth 1.0a signature its integrations
// need: the base string against RFC 5849's own example, the HMAC-SHA256 over it against a
// value computed apart (Python's hmac module).
#include <gtest/gtest.h>

#include "clients/magento.hpp"

namespace rescind::clients {
namespace {

Exchange answer(unsigned status, std::string body) {
  Exchange exchange;
  exchange.response.result(status);
  exchange.response.body() = std::move(body);
  exchange.response.prepare_payload();
  return exchange;
}

// RFC 5849 §3.4.1.1: POST /request?b5=%3D%253D&a3=a&c%40=&a2=r%20b with body c2&a3=2+q, the
// parameters as decoded (§3.4.1.3.1).
const oauth1::Params rfc_params = {{"b5", "=%3D"},
                                   {"a3", "a"},
                                   {"c@", ""},
                                   {"a2", "r b"},
                                   {"oauth_consumer_key", "9djdj82h48djs9d2"},
                                   {"oauth_token", "kkk9d7dh3k39sjv7"},
                                   {"oauth_signature_method", "HMAC-SHA1"},
                                   {"oauth_timestamp", "137131201"},
                                   {"oauth_nonce", "7d8f3e4a"},
                                   {"c2", ""},
                                   {"a3", "2 q"}};

TEST(MagentoOAuth, TheBaseStringIsRfc5849sExample) {
  EXPECT_EQ(oauth1::base_string("POST", "http://example.com/request", rfc_params),
            "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D%253D%25253D%26c%2540%"
            "3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_method%"
            "3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7");
}

TEST(MagentoOAuth, TheBaseUriDropsTheDefaultPortAndLowersTheHost) {
  // RFC 5849 §3.4.1.2's examples.
  EXPECT_EQ(oauth1::base_uri(false, "EXAMPLE.COM", "80", "/r%20v/X"), "http://example.com/r%20v/X");
  EXPECT_EQ(oauth1::base_uri(true, "www.example.net", "8080", ""), "https://www.example.net:8080/");
  EXPECT_EQ(oauth1::base_uri(true, "shop.example", "443", "/rest/V1/orders/5"),
            "https://shop.example/rest/V1/orders/5");
}

TEST(MagentoOAuth, TheSignatureIsHmacSha256OfTheBaseStringUnderBothSecrets) {
  auto base = oauth1::base_string("POST", "http://example.com/request", rfc_params);
  // python3: base64(hmac.new(b"j49sk3j29djd&dh893hdasih9", base, sha256).digest())
  EXPECT_EQ(oauth1::signature(base, "j49sk3j29djd", "dh893hdasih9"), "lIfydhbOitvsm4DvUwgM0NdR1Mzd08HnXI+q+EG0QKo=");
  // Secrets are percent-encoded into the key (§3.4.2): a '&' in one cannot shift the split.
  EXPECT_NE(oauth1::signature(base, "a&b", "c"), oauth1::signature(base, "a", "b&c"));
}

TEST(MagentoOAuth, TheHeaderCarriesEveryProtocolParameterEncoded) {
  oauth1::Credentials credentials{"ck", "cs", "at", "ts"};
  auto header = oauth1::authorization(credentials, "GET", "https://shop.example/rest/V1/creditmemos",
                                      {{"searchCriteria[filter_groups][0][filters][0][field]", "order_id"}}, "n0nce",
                                      "1700000000");
  EXPECT_TRUE(header.starts_with("OAuth oauth_consumer_key=\"ck\",oauth_nonce=\"n0nce\"")) << header;
  EXPECT_NE(header.find("oauth_signature_method=\"HMAC-SHA256\""), std::string::npos) << header;
  EXPECT_NE(header.find("oauth_token=\"at\""), std::string::npos) << header;
  EXPECT_NE(header.find("oauth_signature=\""), std::string::npos) << header;
  EXPECT_EQ(header.find("cs"), std::string::npos) << "no secret travels";
  EXPECT_EQ(oauth1::percent("a b/+=&~"), "a%20b%2F%2B%3D%26~");
}

TEST(Magento, CancelAnswersTrueOrFalseAsHttp200) {
  auto [done, canceled] = MagentoOrders::interpret_cancel(answer(200, "true"));
  EXPECT_TRUE(done.ok());
  EXPECT_TRUE(canceled);
  auto [refused, not_canceled] = MagentoOrders::interpret_cancel(answer(200, "false\n"));
  EXPECT_TRUE(refused.ok()) << "false is an answer, judged by the order's state";
  EXPECT_FALSE(not_canceled);
  EXPECT_EQ(MagentoOrders::interpret_cancel(answer(200, "{}")).first.code, "unreadable_answer");
}

TEST(Magento, FalseIsDoneOnlyWhenTheOrderIsCanceledOrClosed) {
  MagentoOrder order;
  order.state = "canceled";
  EXPECT_EQ(MagentoOrders::judge_not_canceled(order, "5").code, "already_canceled");
  EXPECT_TRUE(MagentoOrders::judge_not_canceled(order, "5").ok());
  order.state = "closed";
  EXPECT_TRUE(MagentoOrders::judge_not_canceled(order, "5").ok());
  for (auto state : {"processing", "complete", "holded"}) {
    order.state = state;
    auto judged = MagentoOrders::judge_not_canceled(order, "5");
    EXPECT_EQ(judged.kind, Outcome::Kind::permanent) << state;
    EXPECT_EQ(judged.code, "not_cancelable");
  }
}

TEST(Magento, ErrorsAreClassifiedByStatusAndTheirParametersFilledForPeople) {
  auto over = MagentoOrders::interpret(
      answer(400, R"({"message":"The most money available to refund is %1.","parameters":["149.00"]})"));
  EXPECT_EQ(over.kind, Outcome::Kind::permanent);
  EXPECT_EQ(over.code, "bad_request");
  EXPECT_EQ(over.message, "The most money available to refund is 149.00.");
  auto auth = MagentoOrders::interpret(answer(
      401,
      R"({"message":"The consumer isn't authorized to access %resources.","parameters":{"resources":"Magento_Sales::sales"}})"));
  EXPECT_EQ(auth.kind, Outcome::Kind::permanent);
  EXPECT_EQ(auth.code, "unauthorized");
  EXPECT_EQ(auth.message, "The consumer isn't authorized to access Magento_Sales::sales.");
  EXPECT_EQ(MagentoOrders::interpret(answer(404, R"({"message":"x"})")).code, "not_found");
  EXPECT_EQ(MagentoOrders::interpret(answer(429, R"({"message":"Too Many Requests"})")).kind,
            Outcome::Kind::rate_limited);
  EXPECT_EQ(MagentoOrders::interpret(answer(503, "<html>")).kind, Outcome::Kind::retryable);
  Exchange lost;
  lost.error = boost::asio::error::connection_reset;
  EXPECT_EQ(MagentoOrders::interpret(lost).code, "transport");
}

TEST(Magento, TheOrderIsReadInMinorUnitsOfItsCurrency) {
  auto order = MagentoOrders::interpret_order(answer(
      200,
      R"({"entity_id":5,"state":"processing","order_currency_code":"USD","grand_total":149.5,"total_invoiced":149.5,
              "items":[{"item_id":1,"sku":"A","qty_invoiced":2,"qty_refunded":0},
                       {"item_id":2,"sku":"A-child","parent_item_id":1,"qty_invoiced":2}]})"));
  ASSERT_TRUE(order.outcome.ok()) << order.outcome.message;
  EXPECT_EQ(order.grand_total_minor, 14950);
  EXPECT_EQ(order.refunded_minor, 0) << "total_refunded is absent until a refund";
  EXPECT_EQ(order.invoiced_minor, 14950);
  ASSERT_EQ(order.items.size(), 1u) << "a configurable's child is refunded through its parent";
  EXPECT_EQ(order.items[0].qty_invoiced, 2);
  EXPECT_EQ(MagentoOrders::interpret_order(answer(200, R"({"entity_id":5})")).outcome.kind, Outcome::Kind::retryable);
}

TEST(Magento, ARefundAnswersTheCreditMemoId) {
  EXPECT_EQ(MagentoOrders::interpret_refund(answer(200, "3")).reference, "3");
  EXPECT_EQ(MagentoOrders::interpret_refund(answer(200, "\"12\"")).reference, "12");
  EXPECT_EQ(MagentoOrders::interpret_refund(answer(200, "null")).code, "unreadable_answer");
}

TEST(Magento, TheJobsCreditMemoIsKnownByItsMarkerAlone) {
  Outcome read;
  auto comments = [](std::string comment) {
    return answer(200, R"({"items":[{"comment":")" + comment + R"(","parent_id":3}],"total_count":1})");
  };
  EXPECT_TRUE(MagentoOrders::has_marker(comments(MagentoOrders::marker("evt_1")), "evt_1", read));
  EXPECT_TRUE(read.ok());
  EXPECT_FALSE(MagentoOrders::has_marker(comments(MagentoOrders::marker("evt_10")), "evt_1", read))
      << "another job whose id starts the same";
  EXPECT_FALSE(MagentoOrders::has_marker(comments("Refunded by hand"), "evt_1", read));
  EXPECT_FALSE(MagentoOrders::has_marker(answer(500, "{}"), "evt_1", read));
  EXPECT_EQ(read.kind, Outcome::Kind::retryable) << "a failed read is no verdict";
  auto list = MagentoOrders::interpret_list(
      answer(200, R"({"items":[{"entity_id":3,"state":2},{"entity_id":4,"state":1}],"total_count":2})"), read);
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[1], std::make_pair(std::string("4"), 1));
}

jobs::Job job_of(std::int64_t amount_minor) {
  jobs::Job job;
  job.id = "evt_\"quoted\"";
  job.order.id = "5";
  job.order.currency = "USD";
  job.refund.amount_minor = amount_minor;
  return job;
}

MagentoOrder paid_order() {
  MagentoOrder order;
  order.state = "processing";
  order.currency = "USD";
  order.grand_total_minor = order.invoiced_minor = 14900;
  order.items = {{1, "A", 2, 0}, {2, "B", 1, 1}};
  return order;
}

TEST(Magento, AWholeRefundReturnsEveryRemainingItemToStock) {
  std::string problem;
  auto body = MagentoOrders::refund_body(job_of(14900), paid_order(), true, problem);
  EXPECT_EQ(body,
            R"({"items":[{"order_item_id":1,"qty":2},{"order_item_id":2,"qty":0}],"isOnline":true,"notify":false,)"
            R"("appendComment":true,"comment":{"comment":"Refunded by Rescind. rescind_job_id: evt_\"quoted\"",)"
            R"("is_visible_on_front":0},"arguments":{"adjustment_positive":0.00,"adjustment_negative":0,)"
            R"("extension_attributes":{"return_to_stock_items":[1]}}})");
}

TEST(Magento, APartialRefundIsAnAdjustmentThatRestocksNothing) {
  std::string problem;
  auto body = MagentoOrders::refund_body(job_of(2500), paid_order(), false, problem);
  EXPECT_NE(body.find(R"("shipping_amount":0,"adjustment_positive":25.00)"), std::string::npos) << body;
  EXPECT_NE(body.find(R"("return_to_stock_items":[])"), std::string::npos) << body;
  EXPECT_EQ(body.find("isOnline"), std::string::npos) << body;
  EXPECT_NE(body.find(R"({"order_item_id":1,"qty":0})"), std::string::npos) << "listed with 0: none means all";
}

TEST(Magento, ARefundInAnotherCurrencyThanTheOrdersIsNotSent) {
  std::string problem;
  auto job = job_of(14900);
  job.order.currency = "EUR";
  EXPECT_TRUE(MagentoOrders::refund_body(job, paid_order(), true, problem).empty());
  EXPECT_NE(problem.find("USD"), std::string::npos) << problem;
}

}  // namespace
}  // namespace rescind::clients
