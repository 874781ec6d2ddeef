// The payment clients against the real sandbox (issue 12): pending refunds, reconcile
// (find_refund walks every page / every refund of the payment and finds the job's own),
// polling (refund_status), "already refunded" decided from the payment's state, and lost
// answers on every payment provider ending with exactly one refund per job.
#include <gtest/gtest.h>

#include <boost/asio/any_io_executor.hpp>

#include "clients/http_client.hpp"
#include "clients/paypal.hpp"
#include "clients/square.hpp"
#include "clients/stripe.hpp"
#include "common/sandbox_credentials.hpp"
#include "tests/support/stack.hpp"

namespace rescind::testing {
namespace {

using namespace std::chrono_literals;
namespace creds = sandbox_credentials;
using Kind = clients::Outcome::Kind;
using State = clients::RefundState::Kind;
using Headers = std::vector<std::pair<std::string, std::string>>;

clients::Url url_of(const Sandbox& sandbox) {
  std::string error;
  auto url = clients::parse_url(sandbox.url(), error);
  if (!url) throw std::runtime_error(error);
  return *url;
}

jobs::Job job_paid(const std::string& id, const std::string& provider, const std::string& reference,
                   std::int64_t amount = 1000) {
  jobs::Job job;
  job.id = id;
  job.shop.domain = "acme-crafts.myshopify.com";
  job.order.id = "450789469";
  job.order.name = "#1001";
  job.order.currency = "USD";
  job.order.total_minor = amount;
  job.payment.provider = provider;
  job.payment.reference = reference;
  job.refund.amount_minor = amount;
  return job;
}

// Runs `body` with a Stripe, a PayPal and a Square client pointed at the sandbox.
struct Clients {
  clients::HttpClient& http;
  clients::StripeRefunds stripe;
  clients::PayPalRefunds paypal;
  clients::SquareRefunds square;
};

void with_clients(const Sandbox& sandbox, const std::function<boost::asio::awaitable<void>(Clients&)>& body) {
  run_sync([&](boost::asio::any_io_executor ex) -> boost::asio::awaitable<void> {
    clients::HttpClient http(ex, {});
    auto base = url_of(sandbox);
    Clients all{http, clients::StripeRefunds(http, {base, std::string(creds::stripe_api_key), {}, {}}),
                clients::PayPalRefunds(
                    http, {base, std::string(creds::paypal_client_id), std::string(creds::paypal_secret), {}}, ex),
                clients::SquareRefunds(http, {base, std::string(creds::square_access_token), "2024-10-17", {}})};
    co_await body(all);
  });
}

std::string ref_of(Sandbox& sandbox, const std::string& job_id) {
  for (auto& effect : sandbox.ledger()) {
    if (effect.action == "refund" && effect.job_id == job_id) return effect.ref;
  }
  return "<none>";
}

// ---------------------------------------------------------------------------------------------
// Stripe

TEST(PaymentClients, StripeFindRefundWalksEveryPageAndFindsTheJobsOwn) {
  Sandbox sandbox;
  Headers headers{{"Authorization", "Bearer " + std::string(creds::stripe_api_key)},
                  {"Content-Type", "application/x-www-form-urlencoded"}};
  sandbox.control("stripe", "payment", R"({"id":"pi_many","refunded_minor":3})");
  for (int i = 0; i < 150; ++i) {  // two pages of 100: the job's refund is on the second (oldest)
    auto body = "payment_intent=pi_many&amount=1&metadata%5Brescind_job_id%5D=evt_" + std::to_string(i);
    ASSERT_EQ(http_call("POST", sandbox.url() + "/v1/refunds", body, headers).status, 200);
  }
  std::string expected = ref_of(sandbox, "evt_7");
  with_clients(sandbox, [&](Clients& c) -> boost::asio::awaitable<void> {
    auto found = co_await c.stripe.find_refund(job_paid("evt_7", "stripe", "pi_many"));
    EXPECT_EQ(found.kind, State::succeeded) << found.detail;
    EXPECT_EQ(found.reference, expected);
    auto by_charge = co_await c.stripe.find_refund(job_paid("evt_149", "stripe", "ch_many"));
    EXPECT_EQ(by_charge.kind, State::succeeded) << "ch_ references list by charge";
    auto none = co_await c.stripe.find_refund(job_paid("evt_1500", "stripe", "pi_many"));
    EXPECT_EQ(none.kind, State::none) << "evt_1500 is not evt_150…: an exact match; " << none.detail;
    sandbox.set_faults(R"({"stripe":{"status":503,"count":1}})");
    auto failed = co_await c.stripe.find_refund(job_paid("evt_7", "stripe", "pi_many"));
    EXPECT_EQ(failed.kind, State::unknown) << "a failed lookup concludes nothing";
    EXPECT_EQ(failed.lookup.status, 503);
    EXPECT_EQ(failed.lookup.kind, Kind::retryable);
  });
}

TEST(PaymentClients, StripePendingRefundIsOkPendingAndIsPolledToItsEnd) {
  Sandbox sandbox;
  sandbox.control("stripe", "refunds", R"({"next_pending":1})");
  with_clients(sandbox, [&](Clients& c) -> boost::asio::awaitable<void> {
    auto job = job_paid("evt_pending", "stripe", "pi_pending");
    auto outcome = co_await c.stripe.refund(job, "rescind:evt_pending:refund");
    EXPECT_EQ(outcome.kind, Kind::ok);
    EXPECT_TRUE(outcome.pending) << "pending is not done";
    EXPECT_FALSE(outcome.reference.empty());
    auto polled = co_await c.stripe.refund_status(job, outcome.reference);
    EXPECT_EQ(polled.kind, State::pending);
    sandbox.control("stripe", "refunds", R"({"settle":"failed"})");
    auto ended = co_await c.stripe.refund_status(job, outcome.reference);
    EXPECT_EQ(ended.kind, State::failed);
    EXPECT_NE(ended.detail.find("declined"), std::string::npos) << ended.detail;
    auto missing = co_await c.stripe.refund_status(job, "re_nope");
    EXPECT_EQ(missing.kind, State::unknown);
    EXPECT_EQ(missing.lookup.status, 404);
  });
}

TEST(PaymentClients, StripeSaved500IsIndeterminateAndAFullRefundByHandIsOk) {
  Sandbox sandbox;
  sandbox.set_faults(R"({"stripe":{"status":500,"count":1}})");
  sandbox.control("stripe", "payment", R"({"id":"pi_by_hand","captured_minor":1000,"refunded_minor":1000})");
  with_clients(sandbox, [&](Clients& c) -> boost::asio::awaitable<void> {
    auto job = job_paid("evt_500", "stripe", "pi_x500");
    for (int attempt = 0; attempt < 2; ++attempt) {  // the second gets the saved 500
      auto outcome = co_await c.stripe.refund(job, "rescind:evt_500:refund");
      EXPECT_EQ(outcome.kind, Kind::permanent) << attempt;
      EXPECT_EQ(outcome.status, 500);
      EXPECT_NE(outcome.message.find("indeterminate: reconcile before replaying"), std::string::npos)
          << outcome.message;
    }
    auto by_hand = co_await c.stripe.refund(job_paid("evt_hand", "stripe", "pi_by_hand"), "rescind:evt_hand:refund");
    EXPECT_EQ(by_hand.kind, Kind::ok) << by_hand.code << " " << by_hand.message;
    EXPECT_EQ(by_hand.code, "charge_already_refunded");
  });
  EXPECT_EQ(sandbox.summary("replayed"), 1);
  EXPECT_TRUE(sandbox.ledger().empty());
}

// ---------------------------------------------------------------------------------------------
// PayPal

TEST(PaymentClients, PayPalDuplicateInvoiceMeansTheJobsRefundExistsAndPendingIsPolled) {
  Sandbox sandbox;
  with_clients(sandbox, [&](Clients& c) -> boost::asio::awaitable<void> {
    auto job = job_paid("evt_pp_dup", "paypal", "CAPDUP");
    auto none = co_await c.paypal.find_refund(job);
    EXPECT_EQ(none.kind, State::none) << "nothing refunded on the capture: " << none.detail;
    auto first = co_await c.paypal.refund(job, "rescind:evt_pp_dup:refund");
    EXPECT_EQ(first.kind, Kind::ok) << first.message;
    // A new request id for the same job (a replay under a new key): PayPal refuses the invoice id again.
    auto second = co_await c.paypal.refund(job, "rescind:evt_pp_dup:refund:2");
    EXPECT_EQ(second.kind, Kind::ok) << second.code << " " << second.message;
    EXPECT_EQ(second.code, "DUPLICATE_INVOICE_ID");
    auto after = co_await c.paypal.find_refund(job);
    EXPECT_EQ(after.kind, State::unknown) << "the capture shows a refund but not whose";
    EXPECT_EQ(after.lookup.status, 200);

    sandbox.control("paypal", "payment", R"({"id":"CAPECHECK","pending_capture":true})");
    auto clearing = co_await c.paypal.refund(job_paid("evt_pp_e", "paypal", "CAPECHECK"), "rescind:evt_pp_e:refund");
    EXPECT_EQ(clearing.kind, Kind::retryable) << "PENDING_CAPTURE: not yet possible";

    sandbox.control("paypal", "refunds", R"({"next_pending":1})");
    auto slow_job = job_paid("evt_pp_slow", "paypal", "CAPSLOW");
    auto slow = co_await c.paypal.refund(slow_job, "rescind:evt_pp_slow:refund");
    EXPECT_EQ(slow.kind, Kind::ok);
    EXPECT_TRUE(slow.pending);
    EXPECT_EQ((co_await c.paypal.refund_status(slow_job, slow.reference)).kind, State::pending);
    sandbox.control("paypal", "refunds", R"({"settle":"succeeded"})");
    EXPECT_EQ((co_await c.paypal.refund_status(slow_job, slow.reference)).kind, State::succeeded);
  });
  EXPECT_EQ(sandbox.per_job("refund")["evt_pp_dup"], 1) << "one refund for the job, two keys";
}

TEST(PaymentClients, PayPalInvoiceIdOfALongJobIdFitsPayPalsLimit) {
  Sandbox sandbox;
  with_clients(sandbox, [&](Clients& c) -> boost::asio::awaitable<void> {
    auto job = job_paid(std::string(128, 'L'), "paypal", "CAPLONG");
    auto outcome = co_await c.paypal.refund(job, "rescind:long:refund");
    EXPECT_EQ(outcome.kind, Kind::ok) << "was INVALID_STRING_LENGTH with the 128-character id: " << outcome.message;
  });
}

// ---------------------------------------------------------------------------------------------
// Square

TEST(PaymentClients, SquareAlreadyRefundedIsDecidedFromThePaymentsState) {
  Sandbox sandbox;
  sandbox.control("square", "payment",
                  R"({"id":"PAYHAND","captured_minor":1000,"currency":"usd","refunded_minor":1000})");
  sandbox.control("square", "payment",
                  R"({"id":"PAYPART","captured_minor":1000,"currency":"usd","refunded_minor":500})");
  sandbox.control("square", "payment", R"({"id":"PAYBUSY","captured_minor":5000,"currency":"usd"})");
  with_clients(sandbox, [&](Clients& c) -> boost::asio::awaitable<void> {
    auto by_hand = co_await c.square.refund(job_paid("evt_sq_hand", "square", "PAYHAND"), "k-hand");
    EXPECT_EQ(by_hand.kind, Kind::ok) << "refunded in full by hand: " << by_hand.code << " " << by_hand.message;
    auto part = co_await c.square.refund(job_paid("evt_sq_part", "square", "PAYPART"), "k-part");
    EXPECT_EQ(part.kind, Kind::permanent) << "half refunded by hand, the job asks for all: not done";
    EXPECT_EQ(part.code, "REFUND_AMOUNT_INVALID");

    // The job's own refund pending, then asked again under another key: it is the job's, so done (pending).
    sandbox.control("square", "refunds", R"({"next_pending":1})");
    auto job = job_paid("evt_sq_busy", "square", "PAYBUSY");
    auto first = co_await c.square.refund(job, "k-busy-1");
    EXPECT_TRUE(first.pending);
    auto again = co_await c.square.refund(job, "k-busy-2");
    EXPECT_EQ(again.kind, Kind::ok) << again.code;
    EXPECT_TRUE(again.pending);
    EXPECT_EQ(again.reference, first.reference);
    auto other = co_await c.square.refund(job_paid("evt_sq_other", "square", "PAYBUSY"), "k-other");
    EXPECT_EQ(other.kind, Kind::retryable) << "someone else's pending refund: wait";

    auto found = co_await c.square.find_refund(job);
    EXPECT_EQ(found.kind, State::pending);
    EXPECT_EQ(found.reference, first.reference);
    EXPECT_EQ((co_await c.square.find_refund(job_paid("evt_sq_bus", "square", "PAYBUSY"))).kind, State::none)
        << "evt_sq_bus is not evt_sq_busy";
    sandbox.control("square", "refunds", R"({"settle":"succeeded"})");
    EXPECT_EQ((co_await c.square.refund_status(job, first.reference)).kind, State::succeeded);
  });
  EXPECT_EQ(sandbox.per_job("refund")["evt_sq_busy"], 1);
  EXPECT_EQ(sandbox.per_job("refund").count("evt_sq_hand"), 0u);
}

// ---------------------------------------------------------------------------------------------
// Through a worker: every first answer lost, on every payment provider.

TEST(PaymentClients, AThousandJobsWithLostAnswersOnEveryPaymentProviderRefundOnceEach) {
  RedisServer redis;
  Sandbox sandbox;
  const int jobs = 1000;
  std::map<std::string, int> per_provider;
  std::string input;
  for (int i = 0; i < jobs; ++i) {
    std::string id = "evt_lost_" + std::to_string(i);
    std::string provider = i % 3 == 0 ? "stripe" : i % 3 == 1 ? "paypal" : "square";
    std::string reference = provider == "stripe" ? "pi_lost_" + std::to_string(i) : "LOST" + std::to_string(i);
    ++per_provider[provider];
    auto job = replace(job_json(id, 1000 + i), R"("provider":"stripe","reference":"pi_3MtwBwLkdIwHu7ix28a3tqPa")",
                       R"("provider":")" + provider + R"(","reference":")" + reference + "\"");
    input += replace(job, R"("notify":["email","sms","staff"])", R"("notify":[])") + "\n";
  }
  sandbox.set_faults(R"({"stripe":{"lose_response":)" + std::to_string(per_provider["stripe"]) +
                     R"(},"paypal":{"lose_response":)" + std::to_string(per_provider["paypal"]) +
                     R"(},"square":{"lose_response":)" + std::to_string(per_provider["square"]) + "}}");
  auto worker = start_worker(redis, sandbox, {"--retry", "base=20ms,cap=100ms", "--visibility-timeout", "5s"});
  ASSERT_EQ(enqueue(redis, input).exit_code, 0);
  ASSERT_TRUE(
      wait_until([&] { return queue_settled(redis, jobs) && sandbox.summary("faults_injected") == jobs; }, 240s))
      << "faults " << sandbox.summary("faults_injected") << "\n"
      << worker->stderr_text().substr(0, 4000);

  std::map<std::string, int> refunds;
  std::map<std::string, int> by_provider;
  for (const auto& effect : sandbox.ledger()) {
    if (effect.action != "refund") continue;
    ++refunds[effect.job_id];
    ++by_provider[effect.provider];
  }
  EXPECT_EQ(refunds.size(), static_cast<std::size_t>(jobs));
  for (const auto& [job, count] : refunds) EXPECT_EQ(count, 1) << job;
  EXPECT_EQ(by_provider, per_provider);
  EXPECT_EQ(sandbox.summary("faults_injected"), jobs) << "every provider lost its first answers";
  EXPECT_EQ(sandbox.summary("replayed"), jobs) << "each lost answer was asked for again and replayed, never redone";
  EXPECT_EQ(redis.integer({"XLEN", "rescind:dlq"}), 0);
}

}  // namespace
}  // namespace rescind::testing
