// Classification of provider answers: ok, retryable or permanent, per provider rules.
#include <gtest/gtest.h>

#include "clients/mailgun.hpp"
#include "clients/outcome.hpp"
#include "clients/paypal.hpp"
#include "clients/sendgrid.hpp"
#include "clients/shopify.hpp"
#include "clients/slack.hpp"
#include "clients/square.hpp"
#include "clients/stripe.hpp"
#include "clients/twilio.hpp"
#include "clients/webhooks.hpp"
#include "clients/zendesk.hpp"

namespace rescind {
namespace {

using Kind = clients::Outcome::Kind;

clients::Exchange answer(int status, std::string body, std::vector<std::pair<std::string, std::string>> headers = {}) {
  clients::Exchange exchange;
  exchange.response.result(status);
  exchange.response.body() = std::move(body);
  for (auto& [k, v] : headers) exchange.response.set(k, v);
  return exchange;
}

TEST(Outcome, StatusClasses) {
  EXPECT_EQ(clients::classify_status(200), Kind::ok);
  EXPECT_EQ(clients::classify_status(202), Kind::ok);
  for (int s : {408, 409, 425, 500, 502, 503, 504}) EXPECT_EQ(clients::classify_status(s), Kind::retryable) << s;
  EXPECT_EQ(clients::classify_status(429), Kind::rate_limited);
  for (int s : {400, 401, 403, 404, 410, 422}) EXPECT_EQ(clients::classify_status(s), Kind::permanent) << s;
}

TEST(Outcome, RetryAfterSecondsAndHttpDate) {
  auto now = std::chrono::system_clock::from_time_t(1445412480);  // Wed, 21 Oct 2015 07:28:00 GMT
  EXPECT_EQ(clients::parse_retry_after("2", now), std::chrono::seconds(2));
  EXPECT_EQ(clients::parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now), std::chrono::seconds(30));
  EXPECT_FALSE(clients::parse_retry_after("soon", now));
  EXPECT_EQ(clients::parse_retry_after("31536000", now), std::chrono::hours(1)) << "a year is capped at an hour";
  EXPECT_EQ(clients::parse_retry_after("99999999999999999", now), std::chrono::hours(1)) << "no overflow";
  EXPECT_EQ(clients::parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now), std::chrono::hours(1));
}

TEST(Outcome, TransportFailureIsRetryable) {
  clients::Exchange exchange;
  exchange.error = boost::asio::error::connection_refused;
  auto outcome = clients::StripeRefunds::interpret(exchange);
  EXPECT_EQ(outcome.kind, Kind::retryable);
  EXPECT_EQ(outcome.status, 0);
}

TEST(Stripe, RefundObjectIsOkWithItsId) {
  auto outcome =
      clients::StripeRefunds::interpret(answer(200, R"({"id":"re_123","object":"refund","status":"succeeded"})"));
  EXPECT_EQ(outcome.kind, Kind::ok);
  EXPECT_EQ(outcome.reference, "re_123");
}

TEST(Refunds, AcceptedButEndedIsPermanentForEveryProvider) {
  auto stripe = clients::StripeRefunds::interpret(answer(200, R"({"id":"re_9","status":"failed"})"));
  EXPECT_EQ(stripe.kind, Kind::permanent);
  EXPECT_EQ(stripe.code, "refund_failed");
  EXPECT_EQ(clients::PayPalRefunds::interpret(answer(201, R"({"id":"P1","status":"CANCELLED"})")).kind,
            Kind::permanent);
  EXPECT_EQ(clients::SquareRefunds::interpret(answer(200, R"({"refund":{"id":"S1","status":"REJECTED"}})")).kind,
            Kind::permanent);
  EXPECT_EQ(clients::StripeRefunds::interpret(answer(200, R"({"id":"re_8","status":"pending"})")).kind, Kind::ok)
      << "pending is accepted: the money is on its way";
}

TEST(Stripe, AlreadyRefundedIsOk) {
  auto outcome = clients::StripeRefunds::interpret(answer(
      400, R"({"error":{"type":"invalid_request_error","code":"charge_already_refunded","message":"already"}})"));
  EXPECT_EQ(outcome.kind, Kind::ok);
}

TEST(Stripe, ShouldRetryHeaderWins) {
  auto body = R"({"error":{"type":"api_error","code":"lock_timeout","message":"busy"}})";
  EXPECT_EQ(clients::StripeRefunds::interpret(answer(400, body, {{"Stripe-Should-Retry", "true"}})).kind,
            Kind::retryable);
  EXPECT_EQ(clients::StripeRefunds::interpret(answer(500, body, {{"Stripe-Should-Retry", "false"}})).kind,
            Kind::permanent);
}

TEST(Stripe, InvalidRequestIsPermanentWithCodeAndMessage) {
  auto outcome = clients::StripeRefunds::interpret(answer(
      400,
      R"({"error":{"type":"invalid_request_error","code":"parameter_missing","message":"Missing amount","param":"amount"}})"));
  EXPECT_EQ(outcome.kind, Kind::permanent);
  EXPECT_EQ(outcome.code, "parameter_missing");
  EXPECT_EQ(outcome.message, "Missing amount");
}

TEST(Stripe, RateLimitIsItsOwnOutcomeWithRetryAfter) {
  auto outcome = clients::StripeRefunds::interpret(
      answer(429, R"({"error":{"type":"invalid_request_error","code":"rate_limit"}})", {{"Retry-After", "3"}}));
  EXPECT_EQ(outcome.kind, Kind::rate_limited);
  EXPECT_EQ(outcome.retry_after, std::chrono::seconds(3));
}

TEST(Twilio, InvalidNumberIsPermanentWithCode) {
  auto outcome = clients::TwilioSms::interpret(
      answer(400, R"({"code": 21211, "message": "The 'To' number is not valid.", "status": 400})"));
  EXPECT_EQ(outcome.kind, Kind::permanent);
  EXPECT_EQ(outcome.code, "21211");
}

TEST(Twilio, FullSenderQueueWaitsForTheQueueToDrain) {
  const std::string body =
      R"({"code":21611,"message":"This 'From' number has exceeded the maximum number of queued messages",)"
      R"("more_info":"https://www.twilio.com/docs/errors/21611","status":400})";
  auto outcome = clients::TwilioSms::interpret(answer(400, body));
  EXPECT_EQ(outcome.kind, Kind::rate_limited) << "congestion: the sender pauses, no attempt is used";
  EXPECT_EQ(outcome.code, "21611");
  EXPECT_EQ(outcome.retry_after, std::chrono::minutes(1));
  EXPECT_EQ(clients::TwilioSms::interpret(answer(400, body), std::chrono::seconds(5)).retry_after,
            std::chrono::seconds(5));
  EXPECT_EQ(clients::TwilioSms::interpret(answer(400, body, {{"Retry-After", "7"}})).retry_after,
            std::chrono::seconds(7))
      << "a Retry-After, if Twilio ever sends one, wins";
}

TEST(Twilio, CreatedMessageIsOkWithSid) {
  auto outcome = clients::TwilioSms::interpret(answer(201, R"({"sid":"SM1","status":"queued"})"));
  EXPECT_EQ(outcome.kind, Kind::ok);
  EXPECT_EQ(outcome.reference, "SM1");
}

TEST(SendGrid, AcceptedIsOkWithMessageId) {
  auto outcome = clients::SendGridEmail::interpret(answer(202, "", {{"X-Message-Id", "msg-1"}}));
  EXPECT_EQ(outcome.kind, Kind::ok);
  EXPECT_EQ(outcome.reference, "msg-1");
}

TEST(SendGrid, OnlyTheTemporaryBlockOf403IsRetried) {
  auto block = clients::SendGridEmail::interpret(answer(
      403,
      R"({"errors":[{"message":"You have been temporarily blocked from sending emails due to repeated bad requests","field":null}]})"));
  EXPECT_EQ(block.kind, Kind::rate_limited);
  EXPECT_EQ(block.code, "temporary_block");
  EXPECT_EQ(block.retry_after, clients::SendGridEmail::temporary_block_wait);
  EXPECT_EQ(clients::SendGridEmail::interpret(
                answer(403, R"({"errors":[{"message":"Too many bad requests. Temporary block"}]})"))
                .kind,
            Kind::rate_limited)
      << "the wording of SendGrid's error table";
  auto sender = clients::SendGridEmail::interpret(answer(
      403,
      R"({"errors":[{"message":"The from address does not match a verified Sender Identity. Mail cannot be sent until this error is resolved.","field":"from","help":null}]})"));
  EXPECT_EQ(sender.kind, Kind::permanent);
  EXPECT_EQ(sender.code, "from");
  EXPECT_EQ(
      clients::SendGridEmail::interpret(answer(403, R"({"errors":[{"field":null,"message":"access forbidden"}]})"))
          .kind,
      Kind::permanent);
}

TEST(SendGrid, RateLimitWaitsUntilXRateLimitReset) {
  auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));
  auto in_42s = clients::SendGridEmail::interpret(
      answer(429, R"({"errors":[{"message":"too many requests"}]})", {{"X-RateLimit-Reset", "1800000042"}}), now);
  EXPECT_EQ(in_42s.kind, Kind::rate_limited);
  EXPECT_EQ(in_42s.retry_after, std::chrono::seconds(42));
  auto past = clients::SendGridEmail::interpret(answer(429, "{}", {{"X-RateLimit-Reset", "1799999000"}}), now);
  EXPECT_EQ(past.retry_after, std::chrono::seconds(1))
      << "a reset already past (clock skew) waits a second, never zero";
  auto far = clients::SendGridEmail::interpret(answer(429, "{}", {{"X-RateLimit-Reset", "1900000000"}}), now);
  EXPECT_EQ(far.retry_after, std::chrono::hours(1));
  auto both = clients::SendGridEmail::interpret(
      answer(429, "{}", {{"Retry-After", "5"}, {"X-RateLimit-Reset", "1800000042"}}), now);
  EXPECT_EQ(both.retry_after, std::chrono::seconds(5)) << "a Retry-After wins";
}

TEST(Slack, PlainTextErrorsBecomeCodes) {
  auto outcome = clients::SlackStaffAlert::interpret(answer(404, "channel_not_found"));
  EXPECT_EQ(outcome.kind, Kind::permanent);
  EXPECT_EQ(outcome.code, "channel_not_found");
  EXPECT_EQ(clients::SlackStaffAlert::interpret(answer(500, "rollup_error")).kind, Kind::retryable);
}

TEST(PayPal, FullyRefundedIsOkRateLimitIsItsOwnAndValidationIsPermanent) {
  auto refunded = clients::PayPalRefunds::interpret(
      answer(422, R"({"name":"UNPROCESSABLE_ENTITY","message":"x","details":[{"issue":"CAPTURE_FULLY_REFUNDED"}]})"));
  EXPECT_EQ(refunded.kind, Kind::ok);
  EXPECT_EQ(
      clients::PayPalRefunds::interpret(answer(429, R"({"name":"RATE_LIMIT_REACHED","message":"slow down"})")).kind,
      Kind::rate_limited);
  auto invalid = clients::PayPalRefunds::interpret(answer(
      422, R"({"name":"UNPROCESSABLE_ENTITY","details":[{"field":"/amount/value","issue":"DECIMAL_PRECISION"}]})"));
  EXPECT_EQ(invalid.kind, Kind::permanent);
  EXPECT_EQ(invalid.code, "DECIMAL_PRECISION");
  auto created = clients::PayPalRefunds::interpret(answer(201, R"({"id":"1JU08902781691411","status":"COMPLETED"})"));
  EXPECT_EQ(created.kind, Kind::ok);
  EXPECT_EQ(created.reference, "1JU08902781691411");
}

TEST(Square, IdempotencyKeyIsAFullHashWithinTheLimitAndErrorsAreClassified) {
  auto key = clients::SquareRefunds::idempotency_key("rescind:" + std::string(128, 'x') + ":refund");
  EXPECT_EQ(key.size(), 43u);
  EXPECT_NE(key, clients::SquareRefunds::idempotency_key("rescind:" + std::string(128, 'x') + ":refunD"));
  EXPECT_EQ(key.find_first_of("+/="), std::string::npos) << "base64url";
  EXPECT_EQ(clients::SquareRefunds::interpret(
                answer(429, R"({"errors":[{"category":"RATE_LIMIT_ERROR","code":"RATE_LIMITED"}]})"))
                .kind,
            Kind::rate_limited);
  auto bad = clients::SquareRefunds::interpret(
      answer(400, R"({"errors":[{"category":"INVALID_REQUEST_ERROR","code":"VALUE_TOO_LONG","detail":"d"}]})"));
  EXPECT_EQ(bad.kind, Kind::permanent);
  EXPECT_EQ(bad.code, "VALUE_TOO_LONG");
  EXPECT_EQ(clients::SquareRefunds::interpret(answer(200, R"({"refund":{"id":"R1","status":"PENDING"}})")).reference,
            "R1");
}

TEST(Shopify, ThrottlingTransientErrorsAndUserErrorsByCode) {
  auto throttled = clients::ShopifyOrders::interpret_cancel(
      answer(200, R"({"errors":[{"message":"Throttled","extensions":{"code":"THROTTLED"}}]})"));
  EXPECT_EQ(throttled.outcome.kind, Kind::rate_limited);
  // "returned instead of 500 Internal Server Error in most circumstances" (SH10): try again.
  auto internal = clients::ShopifyOrders::interpret_cancel(answer(
      200,
      R"({"errors":[{"message":"Internal error. Looks like something went wrong on our end.","extensions":{"code":"INTERNAL_SERVER_ERROR","requestId":"r1"}}]})"));
  EXPECT_EQ(internal.outcome.kind, Kind::retryable);
  EXPECT_EQ(internal.outcome.code, "INTERNAL_SERVER_ERROR");
  auto schema = clients::ShopifyOrders::interpret_cancel(answer(
      200,
      R"({"errors":[{"message":"Field 'orderCancel' doesn't accept argument 'refund'","extensions":{"code":"argumentNotAccepted"}}]})"));
  EXPECT_EQ(schema.outcome.kind, Kind::permanent);
  // A user error is a refusal whose verdict waits for the order's state; no wording matters.
  auto refused = clients::ShopifyOrders::interpret_cancel(answer(
      200,
      R"({"data":{"orderCancel":{"job":null,"orderCancelUserErrors":[{"field":["orderId"],"message":"Cannot cancel an order that has already been canceled.","code":"INVALID"}]}}})"));
  EXPECT_TRUE(refused.refused);
  EXPECT_EQ(refused.outcome.kind, Kind::permanent);
  EXPECT_EQ(refused.outcome.code, "INVALID");
  auto internal_error = clients::ShopifyOrders::interpret_cancel(answer(
      200,
      R"({"data":{"orderCancel":{"job":null,"orderCancelUserErrors":[{"field":null,"message":"x","code":"INTERNAL_ERROR"}]}}})"));
  EXPECT_TRUE(internal_error.refused);
  EXPECT_EQ(internal_error.outcome.kind, Kind::retryable) << "SH7: Shopify's own fault";
  auto started = clients::ShopifyOrders::interpret_cancel(answer(
      200,
      R"({"data":{"orderCancel":{"job":{"id":"gid://shopify/Job/1","done":false},"jobResult":{"id":"gid://shopify/Job/1","done":false,"status":"STARTED","errors":[]},"orderCancelUserErrors":[]}}})"));
  EXPECT_EQ(started.outcome.kind, Kind::ok);
  EXPECT_FALSE(started.refused);
  EXPECT_EQ(started.job, clients::CancelAnswer::Job::running);
  EXPECT_EQ(started.job_id, "gid://shopify/Job/1");
  auto failed = clients::ShopifyOrders::interpret_cancel(answer(
      200,
      R"({"data":{"orderCancel":{"job":{"id":"gid://shopify/Job/2","done":true},"jobResult":{"id":"gid://shopify/Job/2","done":true,"status":"FAILED","errors":[{"field":["restock"],"message":"m","code":"INVALID"}]},"orderCancelUserErrors":[]}}})"));
  EXPECT_EQ(failed.job, clients::CancelAnswer::Job::failed);
  EXPECT_TRUE(failed.refused);
  EXPECT_EQ(failed.outcome.code, "INVALID");
  auto succeeded = clients::ShopifyOrders::interpret_cancel(answer(
      200,
      R"({"data":{"orderCancel":{"job":{"id":"gid://shopify/Job/3","done":true},"jobResult":{"id":"gid://shopify/Job/3","done":true,"status":"SUCCEEDED","errors":[]},"orderCancelUserErrors":[]}}})"));
  EXPECT_EQ(succeeded.job, clients::CancelAnswer::Job::succeeded);
  EXPECT_EQ(clients::ShopifyOrders::interpret_cancel(answer(401, R"({"errors":"[API] Invalid API key"})")).outcome.kind,
            Kind::permanent);
}

TEST(Shopify, TheOrdersStateIsReadFromCancelledAt) {
  auto canceled = clients::ShopifyOrders::interpret_order(
      answer(200, R"({"data":{"order":{"id":"gid://shopify/Order/1","cancelledAt":"2026-12-01T10:00:00Z"}}})"));
  EXPECT_TRUE(canceled.outcome.ok());
  EXPECT_TRUE(canceled.canceled);
  auto open = clients::ShopifyOrders::interpret_order(
      answer(200, R"({"data":{"order":{"id":"gid://shopify/Order/1","cancelledAt":null}}})"));
  EXPECT_TRUE(open.outcome.ok());
  EXPECT_FALSE(open.canceled);
  auto missing = clients::ShopifyOrders::interpret_order(answer(200, R"({"data":{"order":null}})"));
  EXPECT_EQ(missing.outcome.kind, Kind::permanent) << "no order: no verdict, never 'canceled'";
  EXPECT_FALSE(missing.canceled);
  auto transient = clients::ShopifyOrders::interpret_order(
      answer(200, R"({"errors":[{"message":"Internal error.","extensions":{"code":"INTERNAL_SERVER_ERROR"}}]})"));
  EXPECT_EQ(transient.outcome.kind, Kind::retryable);
  clients::Outcome polled;
  EXPECT_TRUE(clients::ShopifyOrders::interpret_job(answer(200, R"({"data":{"job":{"id":"j","done":true}}})"), polled));
  EXPECT_FALSE(
      clients::ShopifyOrders::interpret_job(answer(200, R"({"data":{"job":{"id":"j","done":false}}})"), polled));
  EXPECT_TRUE(polled.ok());
}

// An already canceled order, as the refund query answers for it.
clients::OrderState refunds_answer(const std::string& bag, std::string_view currency = "USD") {
  return clients::ShopifyOrders::interpret_order(
      answer(200, R"({"data":{"order":{"id":"gid://shopify/Order/1","cancelledAt":"2026-12-01T10:00:00Z",)"
                  R"("displayFinancialStatus":"PAID","totalRefundedSet":)" +
                      bag + "}}}"),
      currency);
}

std::string bag(const std::string& shop, const std::string& shop_currency, const std::string& customer,
                const std::string& customer_currency) {
  return R"({"shopMoney":{"amount":")" + shop + R"(","currencyCode":")" + shop_currency +
         R"("},"presentmentMoney":{"amount":")" + customer + R"(","currencyCode":")" + customer_currency + R"("}})";
}

TEST(Shopify, TheRefundedTotalIsReadInTheJobsCurrency) {
  EXPECT_EQ(refunds_answer(bag("149.0", "USD", "149.0", "USD")).refunded_minor, 14900) << "BigDecimal's one decimal";
  EXPECT_EQ(refunds_answer(bag("149.00", "USD", "149.00", "USD")).refunded_minor, 14900);
  EXPECT_EQ(refunds_answer(bag("149", "USD", "149", "USD")).refunded_minor, 14900);
  EXPECT_EQ(refunds_answer(bag("0.0", "USD", "0.0", "USD")).refunded_minor, 0);
  // A customer who paid in euros in a dollar shop: the job's amount is the customer's.
  EXPECT_EQ(refunds_answer(bag("160.00", "USD", "149.00", "EUR"), "EUR").refunded_minor, 14900);
  EXPECT_EQ(refunds_answer(bag("160.00", "USD", "149.00", "EUR"), "usd").refunded_minor, 16000);
  EXPECT_EQ(refunds_answer(bag("1490.0", "JPY", "1490.0", "JPY"), "JPY").refunded_minor, 1490);
  EXPECT_EQ(refunds_answer(bag("1.234", "KWD", "1.234", "KWD"), "KWD").refunded_minor, 1234);
  EXPECT_EQ(refunds_answer(bag("1.5", "JPY", "1.5", "JPY"), "JPY").refunded_minor, std::nullopt) << "no half yen";
  EXPECT_EQ(refunds_answer(bag("149.00", "USD", "149.00", "USD"), "GBP").refunded_minor, std::nullopt);
  EXPECT_EQ(refunds_answer(bag("-1.00", "USD", "-1.00", "USD")).refunded_minor, std::nullopt);
  EXPECT_EQ(refunds_answer(bag("149.00", "USD", "149.00", "USD")).financial_status, "PAID");
  auto shapeless = refunds_answer("null");
  EXPECT_EQ(shapeless.outcome.kind, Kind::retryable) << "no amounts: no verdict";
  // Without a currency (no platform refund) the amounts are not asked for and not needed.
  auto plain = clients::ShopifyOrders::interpret_order(
      answer(200, R"({"data":{"order":{"id":"gid://shopify/Order/1","cancelledAt":"2026-12-01T10:00:00Z"}}})"));
  EXPECT_TRUE(plain.outcome.ok());
  EXPECT_EQ(plain.refunded_minor, std::nullopt);
}

TEST(Shopify, AnOrderCanceledWithoutTheRefundIsNoCancelThatRefunded) {
  jobs::Job job;
  job.order.currency = "USD";
  job.refund.amount_minor = 14900;
  jobs::Plan platform;
  platform.refund_by_platform = true;
  const std::string gid = "gid://shopify/Order/1";
  auto judge = [&](const jobs::Plan& plan, const clients::OrderState& state) {
    return clients::ShopifyOrders::judge_already_canceled(job, plan, state, gid);
  };
  auto refunded = judge(platform, refunds_answer(bag("149.0", "USD", "149.0", "USD")));
  EXPECT_TRUE(refunded.ok());
  EXPECT_EQ(refunded.code, "already_canceled");
  EXPECT_TRUE(judge(platform, refunds_answer(bag("200.0", "USD", "200.0", "USD"))).ok())
      << "more than this job's refund";
  auto kept = judge(platform, refunds_answer(bag("0.0", "USD", "0.0", "USD")));
  EXPECT_EQ(kept.kind, Kind::permanent);
  EXPECT_EQ(kept.code, "canceled_without_refund");
  EXPECT_NE(kept.message.find("only 0.00 USD of the 149.00 USD"), std::string::npos) << kept.message;
  EXPECT_NE(kept.message.find("PAID"), std::string::npos) << kept.message;
  auto partial = judge(platform, refunds_answer(bag("50.0", "USD", "50.0", "USD")));
  EXPECT_EQ(partial.code, "canceled_without_refund");
  auto other_currency = judge(platform, refunds_answer(bag("149.0", "GBP", "149.0", "GBP")));
  EXPECT_EQ(other_currency.kind, Kind::permanent);
  EXPECT_EQ(other_currency.code, "refund_unconfirmed");
  // No platform refund wanted: canceled is all the step needs, as before.
  clients::OrderState canceled;
  canceled.canceled = true;
  EXPECT_TRUE(judge(jobs::Plan{}, canceled).ok());
}

TEST(Shopify, ALowCostBucketSlowsDownBeforeAThrottle) {
  auto low = clients::ShopifyOrders::interpret_cancel(answer(
      200,
      R"({"data":{"orderCancel":{"job":{"id":"gid://shopify/Job/2","done":false},"orderCancelUserErrors":[]}},)"
      R"("extensions":{"cost":{"requestedQueryCost":10,"throttleStatus":{"maximumAvailable":2000.0,"currentlyAvailable":50,"restoreRate":100.0}}}})"));
  EXPECT_EQ(low.outcome.kind, Kind::ok);
  ASSERT_TRUE(low.outcome.slow_down);
  EXPECT_EQ(low.outcome.slow_down->count(), 1501) << "(200 - 50) / 100 per second";
  auto plenty = clients::ShopifyOrders::interpret_cancel(answer(
      200,
      R"({"data":{"orderCancel":{"job":{"id":"gid://shopify/Job/3"},"orderCancelUserErrors":[]}},)"
      R"("extensions":{"cost":{"throttleStatus":{"maximumAvailable":2000.0,"currentlyAvailable":1990,"restoreRate":100.0}}}})"));
  EXPECT_FALSE(plenty.outcome.slow_down);
}

// Found by fuzz/provider_answer_fuzzer: restoreRate 0.01 gave a 5-hour pause, and 1e-300 an
// infinite one converted to milliseconds (undefined behaviour).
TEST(Shopify, ASlowDownIsAtMostAnHour) {
  for (const char* rate : {"0.01", "1e-300"}) {
    auto slow = clients::ShopifyOrders::slow_down(
        std::string(
            R"({"extensions":{"cost":{"throttleStatus":{"maximumAvailable":2000.0,"currentlyAvailable":0,"restoreRate":)") +
        rate + "}}}}");
    ASSERT_TRUE(slow) << rate;
    EXPECT_EQ(*slow, std::chrono::hours(1)) << rate;
  }
}

TEST(Zendesk, AKeyUsedWithAnotherBodyMeansTheTicketExists) {
  auto reused = clients::ZendeskTickets::interpret(answer(
      400,
      R"({"error":"IdempotentRequestError","description":"Request parameters don't match the given idempotency key"})"));
  EXPECT_EQ(reused.kind, Kind::ok) << "opened by an earlier attempt: not a second ticket, not a dead letter";
  EXPECT_EQ(clients::ZendeskTickets::interpret(answer(400, R"({"error":"InvalidValue","description":"x"})")).kind,
            Kind::permanent);
}

TEST(MailgunAndZendesk, ErrorsArePermanentAndSuccessCarriesTheirIds) {
  EXPECT_EQ(clients::MailgunEmail::interpret(answer(400, R"({"message":"'to' parameter is missing"})")).kind,
            Kind::permanent);
  EXPECT_EQ(
      clients::MailgunEmail::interpret(answer(200, R"({"id":"<1@mg>","message":"Queued. Thank you."})")).reference,
      "<1@mg>");
  EXPECT_EQ(clients::ZendeskTickets::interpret(
                answer(422, R"({"error":"RecordInvalid","description":"Record validation errors"})"))
                .kind,
            Kind::permanent);
  EXPECT_EQ(clients::ZendeskTickets::interpret(answer(201, R"({"ticket":{"id":35436,"status":"new"}})")).reference,
            "35436");
  EXPECT_EQ(clients::ZendeskTickets::interpret(answer(429, "")).kind, Kind::rate_limited);
}

TEST(Webhooks, SignatureMatchesTheStandardWebhooksExample) {
  // The example in the Standard Webhooks specification.
  auto key = clients::decode_webhook_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  ASSERT_EQ(key.size(), 24u);
  EXPECT_EQ(
      clients::BackOfficeWebhooks::sign(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", R"({"test": 2432232314})"),
      "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  EXPECT_TRUE(clients::decode_webhook_secret("not-a-secret").empty());
}

}  // namespace
}  // namespace rescind
