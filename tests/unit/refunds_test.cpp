// Classification of refund answers that issue 12 changed: pending is ok but not done,
// "already refunded" is ok, "not yet possible" retries, a saved 500 is indeterminate.
#include <gtest/gtest.h>

#include "clients/paypal.hpp"
#include "clients/square.hpp"
#include "clients/stripe.hpp"

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

TEST(StripeRefund, PendingAndRequiresActionAreOkButPending) {
  for (const char* status : {"pending", "requires_action"}) {
    auto outcome =
        clients::StripeRefunds::interpret(answer(200, std::string(R"({"id":"re_9","status":")") + status + "\"}"));
    EXPECT_EQ(outcome.kind, Kind::ok) << status;
    EXPECT_TRUE(outcome.pending) << status;
    EXPECT_EQ(outcome.reference, "re_9");
  }
  auto done = clients::StripeRefunds::interpret(answer(200, R"({"id":"re_9","status":"succeeded"})"));
  EXPECT_FALSE(done.pending);
  EXPECT_EQ(clients::StripeRefunds::state_of("requires_action"), clients::RefundState::Kind::pending);
  EXPECT_EQ(clients::StripeRefunds::state_of("canceled"), clients::RefundState::Kind::failed);
  EXPECT_EQ(clients::StripeRefunds::state_of("new_word"), clients::RefundState::Kind::unknown);
}

TEST(StripeRefund, A500StripeSaysNotToRetryIsPermanentAndIndeterminate) {
  auto outcome = clients::StripeRefunds::interpret(
      answer(500, R"({"error":{"type":"api_error","message":"boom"}})", {{"Stripe-Should-Retry", "false"}}));
  EXPECT_EQ(outcome.kind, Kind::permanent);
  EXPECT_EQ(outcome.status, 500);
  EXPECT_EQ(outcome.message.rfind("indeterminate: reconcile before replaying", 0), 0u) << outcome.message;
  auto plain = clients::StripeRefunds::interpret(answer(500, R"({"error":{"type":"api_error","message":"boom"}})"));
  EXPECT_EQ(plain.kind, Kind::retryable) << "without the header a 500 is retried under the same key";
  auto in_use = clients::StripeRefunds::interpret(
      answer(409, R"({"error":{"type":"idempotency_error","code":"idempotency_key_in_use","message":"x"}})",
             {{"Stripe-Should-Retry", "true"}}));
  EXPECT_EQ(in_use.kind, Kind::retryable);
  auto broke = clients::StripeRefunds::interpret(
      answer(400, R"({"error":{"type":"invalid_request_error","code":"balance_insufficient","message":"x"}})"));
  EXPECT_EQ(broke.kind, Kind::permanent);
  EXPECT_EQ(broke.code, "balance_insufficient");
  EXPECT_EQ(broke.message.find("indeterminate"), std::string::npos) << "a refusal is known not to have refunded";
}

TEST(PayPalRefund, PendingIsOkPendingDuplicateInvoiceIsDoneAndPendingCaptureRetries) {
  auto pending = clients::PayPalRefunds::interpret(
      answer(201, R"({"id":"5SB1","status":"PENDING","status_details":{"reason":"ECHECK"}})"));
  EXPECT_EQ(pending.kind, Kind::ok);
  EXPECT_TRUE(pending.pending);
  EXPECT_EQ(pending.reference, "5SB1");
  auto issue = [](const std::string& code) {
    return clients::PayPalRefunds::interpret(answer(
        422,
        R"({"name":"UNPROCESSABLE_ENTITY","message":"x","details":[{"issue":")" + code + R"(","description":"d"}]})"));
  };
  EXPECT_EQ(issue("DUPLICATE_INVOICE_ID").kind, Kind::ok) << "invoice_id is the job's: its refund exists";
  EXPECT_EQ(issue("CAPTURE_FULLY_REFUNDED").kind, Kind::ok);
  EXPECT_EQ(issue("PENDING_CAPTURE").kind, Kind::retryable) << "not yet possible";
  EXPECT_EQ(issue("REFUND_FAILED_INSUFFICIENT_FUNDS").kind, Kind::permanent);
  EXPECT_EQ(issue("REFUND_AMOUNT_EXCEEDED").kind, Kind::permanent);

  jobs::Job job;
  job.id = std::string(127, 'a');
  EXPECT_EQ(clients::PayPalRefunds::invoice_id(job), job.id);
  job.id = std::string(128, 'a');
  auto hashed = clients::PayPalRefunds::invoice_id(job);
  EXPECT_LE(hashed.size(), 127u) << "PayPal's invoice_id limit";
  EXPECT_EQ(hashed.rfind("rescind-", 0), 0u);
  job.id.back() = 'b';
  EXPECT_NE(clients::PayPalRefunds::invoice_id(job), hashed) << "a hash, not a cut: ids stay distinct";
}

TEST(SquareRefund, PendingIsOkPendingAndAnotherPendingRefundRetries) {
  auto pending = clients::SquareRefunds::interpret(answer(200, R"({"refund":{"id":"R1","status":"PENDING"}})"));
  EXPECT_EQ(pending.kind, Kind::ok);
  EXPECT_TRUE(pending.pending);
  auto busy = clients::SquareRefunds::interpret(
      answer(400, R"({"errors":[{"category":"INVALID_REQUEST_ERROR","code":"REFUND_ALREADY_PENDING","detail":"x"}]})"));
  EXPECT_EQ(busy.kind, Kind::retryable);
  jobs::Job job;
  job.id = std::string(128, 'z');
  job.refund.reason = "requested_by_customer";
  auto reason = clients::SquareRefunds::reason_for(job);
  EXPECT_LE(reason.size(), 192u) << "Square's reason limit, with the longest id";
  EXPECT_NE(reason.find(job.id), std::string::npos);
}

}  // namespace
}  // namespace rescind
