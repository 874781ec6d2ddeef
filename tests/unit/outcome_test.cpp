// Classification of provider answers: ok, retryable or permanent, per provider rules.
#include <gtest/gtest.h>

#include "clients/sendgrid.hpp"
#include "clients/slack.hpp"
#include "clients/stripe.hpp"
#include "clients/twilio.hpp"
#include "retry/outcome.hpp"

namespace rescind {
namespace {

using Kind = retry::Outcome::Kind;

clients::Exchange answer(int status, std::string body, std::vector<std::pair<std::string, std::string>> headers = {}) {
  clients::Exchange exchange;
  exchange.response.result(status);
  exchange.response.body() = std::move(body);
  for (auto& [k, v] : headers) exchange.response.set(k, v);
  return exchange;
}

TEST(Outcome, StatusClasses) {
  EXPECT_EQ(retry::classify_status(200), Kind::ok);
  EXPECT_EQ(retry::classify_status(202), Kind::ok);
  for (int s : {408, 409, 425, 500, 502, 503, 504}) EXPECT_EQ(retry::classify_status(s), Kind::retryable) << s;
  EXPECT_EQ(retry::classify_status(429), Kind::rate_limited);
  for (int s : {400, 401, 403, 404, 410, 422}) EXPECT_EQ(retry::classify_status(s), Kind::permanent) << s;
}

TEST(Outcome, RetryAfterSecondsAndHttpDate) {
  auto now = std::chrono::system_clock::from_time_t(1445412480);  // Wed, 21 Oct 2015 07:28:00 GMT
  EXPECT_EQ(retry::parse_retry_after("2", now), std::chrono::seconds(2));
  EXPECT_EQ(retry::parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now), std::chrono::seconds(30));
  EXPECT_FALSE(retry::parse_retry_after("soon", now));
}

TEST(Outcome, TransportFailureIsRetryable) {
  clients::Exchange exchange;
  exchange.error = boost::asio::error::connection_refused;
  auto outcome = clients::StripeRefunds::interpret(exchange);
  EXPECT_EQ(outcome.kind, Kind::retryable);
  EXPECT_EQ(outcome.status, 0);
}

TEST(Stripe, RefundObjectIsOkWithItsId) {
  auto outcome = clients::StripeRefunds::interpret(answer(200, R"({"id":"re_123","object":"refund","status":"succeeded"})"));
  EXPECT_EQ(outcome.kind, Kind::ok);
  EXPECT_EQ(outcome.reference, "re_123");
}

TEST(Stripe, AlreadyRefundedIsOk) {
  auto outcome = clients::StripeRefunds::interpret(answer(
      400, R"({"error":{"type":"invalid_request_error","code":"charge_already_refunded","message":"already"}})"));
  EXPECT_EQ(outcome.kind, Kind::ok);
}

TEST(Stripe, ShouldRetryHeaderWins) {
  auto body = R"({"error":{"type":"api_error","code":"lock_timeout","message":"busy"}})";
  EXPECT_EQ(clients::StripeRefunds::interpret(answer(400, body, {{"Stripe-Should-Retry", "true"}})).kind, Kind::retryable);
  EXPECT_EQ(clients::StripeRefunds::interpret(answer(500, body, {{"Stripe-Should-Retry", "false"}})).kind, Kind::permanent);
}

TEST(Stripe, InvalidRequestIsPermanentWithCodeAndMessage) {
  auto outcome = clients::StripeRefunds::interpret(answer(
      400, R"({"error":{"type":"invalid_request_error","code":"parameter_missing","message":"Missing amount","param":"amount"}})"));
  EXPECT_EQ(outcome.kind, Kind::permanent);
  EXPECT_EQ(outcome.code, "parameter_missing");
  EXPECT_EQ(outcome.message, "Missing amount");
}

TEST(Stripe, RateLimitIsItsOwnOutcomeWithRetryAfter) {
  auto outcome = clients::StripeRefunds::interpret(answer(
      429, R"({"error":{"type":"invalid_request_error","code":"rate_limit"}})", {{"Retry-After", "3"}}));
  EXPECT_EQ(outcome.kind, Kind::rate_limited);
  EXPECT_EQ(outcome.retry_after, std::chrono::seconds(3));
}

TEST(Twilio, InvalidNumberIsPermanentWithCode) {
  auto outcome = clients::TwilioSms::interpret(answer(
      400, R"({"code": 21211, "message": "The 'To' number is not valid.", "status": 400})"));
  EXPECT_EQ(outcome.kind, Kind::permanent);
  EXPECT_EQ(outcome.code, "21211");
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

TEST(Slack, PlainTextErrorsBecomeCodes) {
  auto outcome = clients::SlackStaffAlert::interpret(answer(404, "channel_not_found"));
  EXPECT_EQ(outcome.kind, Kind::permanent);
  EXPECT_EQ(outcome.code, "channel_not_found");
  EXPECT_EQ(clients::SlackStaffAlert::interpret(answer(500, "rollup_error")).kind, Kind::retryable);
}

}  // namespace
}  // namespace rescind
