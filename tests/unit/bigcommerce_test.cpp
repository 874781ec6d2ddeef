// BigCommerce's answers as the client reads them: the quota headers, the v2 order after a
// cancel, the v3 refunds list (this job's refund known by its reason), the refund quote and
// the refund, classified by status and BigCommerce's fields, never by an error's title.
#include <gtest/gtest.h>

#include "clients/bigcommerce.hpp"

namespace rescind::clients {
namespace {

using Kind = Outcome::Kind;

Exchange answer(int status, std::string body, std::vector<std::pair<std::string, std::string>> headers = {}) {
  Exchange exchange;
  exchange.response.result(status);
  exchange.response.body() = std::move(body);
  for (auto& [name, value] : headers) exchange.response.set(name, value);
  return exchange;
}

std::string v3_error(int status, const std::string& title = "whatever it says") {
  return R"({"status":)" + std::to_string(status) + R"(,"title":")" + title +
         R"(","type":"https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes","errors":{}})";
}

TEST(BigCommerce, TheFourQuotaHeadersAreRead) {
  auto exchange = answer(200, "{}",
                         {{"X-Rate-Limit-Requests-Left", "0"},
                          {"X-Rate-Limit-Time-Reset-Ms", "1234"},
                          {"X-Rate-Limit-Requests-Quota", "150"},
                          {"X-Rate-Limit-Time-Window-Ms", "30000"}});
  auto quota = BigCommerceOrders::read_quota(exchange.response);
  EXPECT_EQ(quota.left, 0);
  EXPECT_EQ(quota.reset_ms, 1234);
  EXPECT_EQ(quota.quota, 150);
  EXPECT_EQ(quota.window_ms, 30000);
  auto junk = answer(200, "{}", {{"X-Rate-Limit-Requests-Left", "-3"}, {"X-Rate-Limit-Time-Reset-Ms", "1e9"}});
  auto unread = BigCommerceOrders::read_quota(junk.response);
  EXPECT_FALSE(unread.left);
  EXPECT_FALSE(unread.reset_ms);
  EXPECT_FALSE(unread.quota);
}

TEST(BigCommerce, A429IsRateLimitedForTheResetOfTheWindow) {
  auto outcome = BigCommerceOrders::classify(answer(429, v3_error(429), {{"X-Rate-Limit-Time-Reset-Ms", "2500"}}));
  EXPECT_EQ(outcome.kind, Kind::rate_limited);
  ASSERT_TRUE(outcome.retry_after);
  EXPECT_EQ(outcome.retry_after->count(), 2500);
}

TEST(BigCommerce, StatusesDecideNotTitles) {
  EXPECT_EQ(BigCommerceOrders::classify(answer(500, v3_error(500))).kind, Kind::retryable);
  EXPECT_EQ(BigCommerceOrders::classify(answer(503, v3_error(503))).kind, Kind::retryable);
  EXPECT_EQ(BigCommerceOrders::classify(answer(423, v3_error(423))).kind, Kind::retryable);
  EXPECT_EQ(BigCommerceOrders::classify(answer(401, v3_error(401))).kind, Kind::permanent);
  EXPECT_EQ(BigCommerceOrders::classify(answer(403, v3_error(403))).kind, Kind::permanent);
  auto missing = BigCommerceOrders::interpret_cancel(answer(404, v3_error(404)));
  EXPECT_EQ(missing.kind, Kind::permanent);
  EXPECT_EQ(missing.code, "order_not_found");
}

TEST(BigCommerce, ACancelIsDoneOnlyWhenTheOrderSaysCancelled) {
  auto done = BigCommerceOrders::interpret_cancel(answer(200, R"({"id":118,"status_id":5,"status":"Cancelled"})"));
  EXPECT_EQ(done.kind, Kind::ok);
  EXPECT_EQ(done.reference, "118");
  EXPECT_EQ(BigCommerceOrders::interpret_cancel(answer(200, R"({"id":118,"status_id":11})")).kind, Kind::retryable);
  EXPECT_EQ(BigCommerceOrders::interpret_cancel(answer(200, "not json")).kind, Kind::retryable);
}

TEST(BigCommerce, TheJobsRefundIsKnownByItsReasonAndEveryRefundCounts) {
  std::string body =
      R"({"data":[{"id":7,"reason":"by hand","total_amount":10.5,"items":[{"item_type":"ORDER","reason":"x"}]},)"
      R"({"id":9,"reason":"Rescind job evt_1","total_amount":149.00}],"meta":{}})";
  auto read = BigCommerceOrders::interpret_refunds(answer(200, body), "Rescind job evt_1", 2);
  EXPECT_EQ(read.outcome.kind, Kind::ok);
  EXPECT_EQ(read.job_refund, "9");
  EXPECT_EQ(read.refunded_minor, 15950);
  auto other = BigCommerceOrders::interpret_refunds(answer(200, body), "Rescind job evt_10", 2);
  EXPECT_TRUE(other.job_refund.empty()) << "a marker is the whole reason, not a prefix";
  auto in_items = BigCommerceOrders::interpret_refunds(
      answer(200, R"({"data":[{"id":3,"total_amount":1,"items":[{"reason":"Rescind job evt_1"}]}]})"),
      "Rescind job evt_1", 2);
  EXPECT_EQ(in_items.job_refund, "3");
  EXPECT_EQ(BigCommerceOrders::interpret_refunds(answer(200, R"({"meta":{}})"), "m", 2).outcome.kind, Kind::retryable);
}

TEST(BigCommerce, TheQuotePicksTheFirstOnlineMethodThatIsNotStoreCredit) {
  std::string body = R"({"data":{"order_id":1,"total_refund_amount":149.0,"refund_methods":[)"
                     R"([{"provider_id":"storecredit","amount":149.0,"offline":false}],)"
                     R"([{"provider_id":"custom","amount":149.0,"offline":true}],)"
                     R"([{"provider_id":"braintree","amount":149.0,"offline":false}]]},"meta":{}})";
  auto quote = BigCommerceOrders::interpret_quote(answer(201, body), 2);
  EXPECT_EQ(quote.outcome.kind, Kind::ok);
  EXPECT_EQ(quote.refundable_minor, 14900);
  ASSERT_EQ(quote.payments.size(), 1u);
  EXPECT_EQ(quote.payments[0].first, "braintree");
  auto refused = BigCommerceOrders::interpret_quote(answer(422, v3_error(422)), 2);
  EXPECT_EQ(refused.outcome.kind, Kind::permanent) << "an over-refund is never retried";
  EXPECT_EQ(refused.outcome.code, "refund_refused");
}

TEST(BigCommerce, ARefundIsOkWithItsIdAConflictIsRetriedAnInvalidOneIsNot) {
  auto made = BigCommerceOrders::interpret_refund(answer(201, R"({"data":{"id":42,"order_id":1},"meta":{}})"));
  EXPECT_EQ(made.kind, Kind::ok);
  EXPECT_EQ(made.reference, "42");
  EXPECT_EQ(BigCommerceOrders::interpret_refund(answer(409, v3_error(409))).kind, Kind::retryable);
  EXPECT_EQ(BigCommerceOrders::interpret_refund(answer(422, v3_error(422))).kind, Kind::permanent);
  auto unreadable = BigCommerceOrders::interpret_refund(answer(201, "{}"));
  EXPECT_EQ(unreadable.kind, Kind::retryable) << "it may exist: the next attempt reads the refunds first";
}

TEST(BigCommerce, OnlyAStoreDomainNamesItsHash) {
  EXPECT_EQ(BigCommerceOrders::hash_of_domain("store-abc123.mybigcommerce.com"), "abc123");
  EXPECT_EQ(BigCommerceOrders::hash_of_domain("store-a/b.mybigcommerce.com"), "");
  EXPECT_EQ(BigCommerceOrders::hash_of_domain("shop.example.com"), "");
}

}  // namespace
}  // namespace rescind::clients
