// Magento end to end: real redis-server, rescind-sandbox and rescind-worker. A shop on
// Magento gets its order canceled there (restocking what was not invoiced) and, when Magento
// holds the payment, refunded with exactly one credit memo (restocking what it refunds),
// whatever is lost or crashes between the memo and the worker's record of it. The requests
// are OAuth 1.0a-signed and the fake verifies each signature; it answers like Magento.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <ctime>

#include "common/magento_credentials.hpp"
#include "tests/support/stack.hpp"

namespace rescind::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* shop = "shop.magento.test";

// A refund request (cancel, then refund) for order 450789469 of the Magento shop, paid
// through `payment` ("magento": the platform holds the money and refunds it).
std::string magento_job(const std::string& id, const std::string& payment = "magento") {
  auto job = replace(job_json(id), R"("kind":"order.canceled")", R"("kind":"refund.requested")");
  job = replace(job, R"("platform":"shopify","domain":"acme-crafts.myshopify.com")",
                std::string(R"("platform":"magento","domain":")") + shop + "\"");
  return replace(job, R"("provider":"stripe")", "\"provider\":\"" + payment + "\"");
}

struct MagentoStack {
  RedisServer redis;
  Sandbox sandbox;
  std::unique_ptr<Process> worker;

  MagentoStack() { start(); }
  void start() {
    worker = start_worker(redis, sandbox,
                          {"--log-level", "debug", "--retry", "base=20ms,cap=100ms", "--visibility-timeout", "1s"});
  }
  // The order as the shop has it: two of one item at 74.50 USD, invoiced (paid) or not.
  void place(bool invoiced, const std::string& state = "processing", long long price_minor = 7450) {
    sandbox.control("magento", "orders",
                    std::string(R"({"shop":")") + shop + R"(","id":"450789469","currency":"USD","state":")" + state +
                        R"(","invoiced":)" + (invoiced ? "true" : "false") +
                        R"(,"items":[{"sku":"ACR-RED-500","qty":2,"price_minor":)" + std::to_string(price_minor) +
                        "}]}");
  }
  void run(const std::string& job, long long jobs = 1) {
    auto ran = enqueue(redis, job + "\n");
    ASSERT_EQ(ran.exit_code, 0) << ran.err;
    ASSERT_TRUE(wait_until([&] { return queue_settled(redis, jobs); }, 60s)) << worker->stderr_text();
  }
  std::map<std::string, int> effects(const std::string& job_id, const std::string& provider = "magento") {
    std::map<std::string, int> out;
    for (const auto& effect : sandbox.ledger()) {
      if (effect.job_id == job_id && effect.provider == provider) ++out[effect.action];
    }
    return out;
  }
  std::vector<Effect> refunds() {
    std::vector<Effect> out;
    for (const auto& effect : sandbox.ledger()) {
      if (effect.provider == "magento" && effect.action == "refund") out.push_back(effect);
    }
    return out;
  }
  long long dead_letters() { return redis.integer({"XLEN", "rescind:dlq"}); }
  std::string dlq_text() {
    std::string text;
    for (const auto& entry : stream_entries(redis, "rescind:dlq")) {
      for (const auto& [field, value] : entry) text += field + "=" + value + "\n";
    }
    return text;
  }
};

using Counts = std::map<std::string, int>;

TEST(Magento, APaidOrderIsRefundedWithOneCreditMemoThatRestocksIt) {
  MagentoStack stack;
  stack.place(true);
  stack.run(magento_job("evt_mg_refund"));
  EXPECT_EQ(stack.dead_letters(), 0) << stack.dlq_text() << stack.worker->stderr_text();
  // All of it invoiced: the memo refunds and restocks it and closes the order; no cancel call
  // is needed (Magento would answer false), and the customer is told.
  EXPECT_EQ(stack.effects("evt_mg_refund"), (Counts{{"refund", 1}, {"restock", 1}}));
  auto refunds = stack.refunds();
  ASSERT_EQ(refunds.size(), 1u);
  EXPECT_EQ(refunds[0].amount_minor, 14900);
  EXPECT_EQ(refunds[0].currency, "usd");
  EXPECT_EQ(stack.effects("evt_mg_refund", "sendgrid"), (Counts{{"email", 1}}));
  auto output = stack.worker->stderr_text();
  for (auto secret : {sandbox_credentials::magento_consumer_secret, sandbox_credentials::magento_access_token_secret,
                      sandbox_credentials::magento_access_token}) {
    EXPECT_EQ(output.find(std::string(secret)), std::string::npos);
  }
}

TEST(Magento, AnOrderNotYetInvoicedIsCanceledAndRestockedThere) {
  MagentoStack stack;
  stack.place(false, "pending");
  stack.run(magento_job("evt_mg_cancel", "stripe"));
  EXPECT_EQ(stack.dead_letters(), 0) << stack.dlq_text();
  EXPECT_EQ(stack.effects("evt_mg_cancel"), (Counts{{"cancel", 1}, {"restock", 1}}));
  EXPECT_EQ(stack.effects("evt_mg_cancel", "stripe"), (Counts{{"refund", 1}})) << "the money is Stripe's";
}

TEST(Magento, AnOrderAlreadyCanceledCountsAsCanceled) {
  MagentoStack stack;
  stack.place(false, "canceled");
  stack.run(magento_job("evt_mg_again", "stripe"));
  EXPECT_EQ(stack.dead_letters(), 0) << stack.dlq_text();
  EXPECT_TRUE(stack.effects("evt_mg_again").empty()) << "no second cancel";
  EXPECT_EQ(stack.effects("evt_mg_again", "stripe"), (Counts{{"refund", 1}})) << "and the flow went on";
}

TEST(Magento, AShippedOrderThatCannotBeCanceledIsPermanent) {
  MagentoStack stack;
  stack.place(true, "complete");
  stack.run(magento_job("evt_mg_shipped", "stripe"));
  EXPECT_EQ(stack.dead_letters(), 1);
  EXPECT_NE(stack.dlq_text().find("not_cancelable"), std::string::npos) << stack.dlq_text();
  EXPECT_TRUE(stack.effects("evt_mg_shipped", "stripe").empty()) << "no refund after a failed cancel";
}

TEST(Magento, ALostAnswerToTheRefundLeavesOneCreditMemo) {
  MagentoStack stack;
  stack.place(true);
  // The memo is made, its answer never arrives: the client looks the job's memo up before
  // anything else (no second POST, no resend by the HTTP pool).
  stack.sandbox.set_faults(R"({"magento":{"lose_response":1}})");
  stack.run(magento_job("evt_mg_lost"));
  EXPECT_EQ(stack.sandbox.summary("faults_injected"), 1) << "the answer was lost";
  EXPECT_EQ(stack.dead_letters(), 0) << stack.dlq_text() << stack.worker->stderr_text();
  EXPECT_EQ(stack.refunds().size(), 1u);
  EXPECT_EQ(stack.effects("evt_mg_lost"), (Counts{{"refund", 1}, {"restock", 1}}));
}

TEST(Magento, ACrashBetweenTheCreditMemoAndItsRecordLeavesOneCreditMemo) {
  MagentoStack stack;
  stack.place(true);
  stack.run(magento_job("evt_mg_crash"));
  ASSERT_EQ(stack.refunds().size(), 1u);
  // What a crash after the memo and before the record leaves: a worker with no memory of it
  // and no step state in Redis, and the job delivered again.
  stack.worker->signal(SIGKILL);
  stack.worker->wait(10s);
  stack.redis.command({"DEL", "rescind:job:evt_mg_crash"});
  stack.start();
  stack.run(magento_job("evt_mg_crash"), 2);
  EXPECT_EQ(stack.dead_letters(), 0) << stack.dlq_text() << stack.worker->stderr_text();
  EXPECT_EQ(stack.refunds().size(), 1u) << "the job's memo was found by its marker, not refunded again";
}

TEST(Magento, RateLimitedAndTransientFailuresAreRetriedToOneCreditMemo) {
  MagentoStack stack;
  stack.place(true);
  // Magento has no rate limit of its own on admin REST; a CDN in front can answer 429.
  stack.sandbox.set_faults(R"({"magento":{"status":429,"count":2,"retry_after_s":1}})");
  stack.run(magento_job("evt_mg_429"));
  EXPECT_EQ(stack.dead_letters(), 0) << stack.dlq_text();
  EXPECT_EQ(stack.refunds().size(), 1u);

  stack.place(true);
  stack.sandbox.set_faults(R"({"magento":{"status":503,"count":2}})");
  stack.run(magento_job("evt_mg_503"), 2);
  EXPECT_EQ(stack.dead_letters(), 0) << stack.dlq_text();
  EXPECT_EQ(stack.effects("evt_mg_503"), (Counts{{"refund", 1}, {"restock", 1}}));
}

TEST(Magento, AnOverRefundIsMagentos400AndPermanent) {
  MagentoStack stack;
  stack.place(true, "processing", 5000);  // 100.00 invoiced; the job asks for 149.00
  stack.run(magento_job("evt_mg_over"));
  EXPECT_EQ(stack.dead_letters(), 1);
  EXPECT_NE(stack.dlq_text().find("bad_request"), std::string::npos) << stack.dlq_text();
  EXPECT_TRUE(stack.refunds().empty());
}

// The fake is as strict as Magento where the worker could go wrong.
TEST(Magento, TheSandboxRefusesWrongSignaturesAndUnknownOrdersAndAnswersFalse) {
  Sandbox sandbox;
  std::string base = sandbox.url() + "/magento/" + shop + "/rest/V1/orders/";
  auto bearer = std::string("Bearer ") + std::string(sandbox_credentials::magento_access_token);
  auto refused = http_call("GET", base + "450789469", {}, {{"Authorization", bearer}});
  EXPECT_EQ(refused.status, 401) << "an integration token is no bearer by default";
  EXPECT_NE(refused.body.find(R"("parameters":{"resources":)"), std::string::npos) << refused.body;
  auto forged =
      http_call("GET", base + "450789469", {},
                {{"Authorization", std::string(R"(OAuth oauth_consumer_key=")") +
                                       std::string(sandbox_credentials::magento_consumer_key) +
                                       R"(",oauth_nonce="n1",oauth_signature_method="HMAC-SHA256",oauth_timestamp=")" +
                                       std::to_string(std::time(nullptr)) + R"(",oauth_token=")" +
                                       std::string(sandbox_credentials::magento_access_token) +
                                       R"(",oauth_version="1.0",oauth_signature="AAAA")"}});
  EXPECT_EQ(forged.status, 401) << "a wrong signature";
  http_call("POST", sandbox.url() + "/__magento/integration_as_bearer", R"({"enabled":true})");
  auto unknown = http_call("GET", base + "1", {}, {{"Authorization", bearer}});
  EXPECT_EQ(unknown.status, 404);
  EXPECT_NE(unknown.body.find(R"("message":)"), std::string::npos) << unknown.body;
  sandbox.control(
      "magento", "orders",
      std::string(R"({"shop":")") + shop +
          R"(","id":"7","currency":"USD","invoiced":true,"items":[{"sku":"A","qty":1,"price_minor":100}]})");
  auto invoiced =
      http_call("POST", base + "7/cancel", "{}", {{"Authorization", bearer}, {"Content-Type", "application/json"}});
  EXPECT_EQ(invoiced.status, 200);
  EXPECT_EQ(invoiced.body, "false") << "an invoiced order cannot be canceled, and Magento says so with false";
}

}  // namespace
}  // namespace rescind::testing
