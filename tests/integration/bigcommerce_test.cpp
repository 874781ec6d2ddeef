// BigCommerce end to end, with the real worker and sandbox processes: a refund request for a
// store whose payment BigCommerce holds cancels the order (the store restocks it) and refunds
// it through a quote, once, whatever is lost or crashes between the refund and its record;
// the store's quota headers pace the worker, and a 429 is waited out, not hammered.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>

#include "common/bigcommerce_credentials.hpp"
#include "tests/support/stack.hpp"

namespace rescind::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* store_domain = "store-abc123.mybigcommerce.com";

// A refund request of an unfulfilled BigCommerce order paid through BigCommerce; no messages.
std::string bc_job(const std::string& id, long long total_minor = 14900, const std::string& order = "450789469") {
  auto json = replace(job_json(id, total_minor), R"("kind":"order.canceled")", R"("kind":"refund.requested")");
  json = replace(json, R"("platform":"shopify","domain":"acme-crafts.myshopify.com")",
                 std::string(R"("platform":"bigcommerce","domain":")") + store_domain + "\"");
  json = replace(json, R"("provider":"stripe")", R"("provider":"bigcommerce")");
  json = replace(json, R"("id":"450789469")", "\"id\":\"" + order + "\"");
  return replace(json, R"("notify":["email","sms","staff"])", R"("notify":[])");
}

struct BigCommerceStack {
  RedisServer redis;
  Sandbox sandbox;
  std::unique_ptr<Process> worker;

  void start(const std::string& retry = "base=20ms,cap=100ms") {
    worker = start_worker(redis, sandbox, {"--retry", retry, "--visibility-timeout", "1s"});
  }
  void run(const std::string& job, long long entries = 1) {
    auto ran = enqueue(redis, job + "\n");
    ASSERT_EQ(ran.exit_code, 0) << ran.err;
    ASSERT_TRUE(wait_until([&] { return queue_settled(redis, entries); }, 60s)) << worker->stderr_text();
  }
  std::vector<Effect> effects(const std::string& action, const std::string& job_id) {
    std::vector<Effect> out;
    for (auto& effect : sandbox.ledger()) {
      if (effect.provider == "bigcommerce" && effect.action == action && effect.job_id == job_id)
        out.push_back(std::move(effect));
    }
    return out;
  }
  long long stat(const std::string& name) {
    auto body = sandbox.control("bigcommerce", "stats", "{}");
    auto at = body.find("\"" + name + "\":");
    if (at == std::string::npos) throw std::runtime_error("no " + name + " in " + body);
    return std::stoll(body.substr(at + name.size() + 3));
  }
  long long dead() { return redis.integer({"XLEN", "rescind:dlq"}); }
};

TEST(BigCommerce, ARefundRequestCancelsRestocksAndRefundsOnce) {
  BigCommerceStack stack;
  stack.start();
  stack.run(bc_job("evt_bc_1"));
  EXPECT_EQ(stack.dead(), 0) << stack.worker->stderr_text();
  EXPECT_EQ(stack.effects("cancel", "evt_bc_1").size(), 1u);
  EXPECT_EQ(stack.effects("restock", "evt_bc_1").size(), 1u);
  auto refunds = stack.effects("refund", "evt_bc_1");
  ASSERT_EQ(refunds.size(), 1u) << stack.worker->stderr_text();
  EXPECT_EQ(refunds[0].amount_minor, 14900);
  EXPECT_EQ(refunds[0].currency, "usd");
}

TEST(BigCommerce, ACancelWhoseAnswerWasLostIsAlreadyCancelledOnTheRetry) {
  BigCommerceStack stack;
  stack.start();
  stack.sandbox.set_faults(R"({"bigcommerce":{"lose_response":1}})");  // the PUT's answer
  stack.run(bc_job("evt_bc_2"));
  EXPECT_EQ(stack.dead(), 0) << stack.worker->stderr_text();
  EXPECT_EQ(stack.effects("cancel", "evt_bc_2").size(), 1u) << "status 5 again changes nothing";
  EXPECT_EQ(stack.effects("refund", "evt_bc_2").size(), 1u);
}

TEST(BigCommerce, ARefundMadeButAnsweredWithAnErrorIsFoundByItsReasonNotMadeAgain) {
  BigCommerceStack stack;
  stack.start();
  stack.sandbox.control("bigcommerce", "after_effect", R"({"refund_errors":1})");
  stack.run(bc_job("evt_bc_3"));
  EXPECT_EQ(stack.dead(), 0) << stack.worker->stderr_text();
  EXPECT_EQ(stack.effects("refund", "evt_bc_3").size(), 1u) << stack.worker->stderr_text();
}

TEST(BigCommerce, ACrashBetweenTheRefundAndItsRecordLeavesOneRefund) {
  BigCommerceStack stack;
  // The failed refund answer sends the job to the retry set for a while: the crash comes first.
  stack.start("base=2s,cap=2s");
  stack.sandbox.control("bigcommerce", "after_effect", R"({"refund_errors":1})");
  auto ran = enqueue(stack.redis, bc_job("evt_bc_4") + "\n");
  ASSERT_EQ(ran.exit_code, 0) << ran.err;
  ASSERT_TRUE(wait_until([&] { return !stack.effects("refund", "evt_bc_4").empty(); }, 30s));
  stack.worker->signal(SIGKILL);
  ASSERT_EQ(stack.worker->wait(5s), 128 + SIGKILL);
  // A fresh process: nothing of the first one's memory survives.
  stack.start();
  ASSERT_TRUE(wait_until([&] { return queue_settled(stack.redis, 1); }, 60s)) << stack.worker->stderr_text();
  EXPECT_EQ(stack.dead(), 0) << stack.worker->stderr_text();
  EXPECT_EQ(stack.effects("refund", "evt_bc_4").size(), 1u) << stack.worker->stderr_text();
}

TEST(BigCommerce, TheStoresQuotaHeadersPaceTheWorkerBelowItsWindow) {
  BigCommerceStack stack;
  // Four calls for the job (cancel, refunds read, quote, refund) against two per window.
  stack.sandbox.control("bigcommerce", "quota", R"({"requests":2,"window_ms":1500})");
  stack.start();
  stack.run(bc_job("evt_bc_5"));
  EXPECT_EQ(stack.dead(), 0) << stack.worker->stderr_text();
  EXPECT_EQ(stack.effects("refund", "evt_bc_5").size(), 1u);
  EXPECT_EQ(stack.stat("throttled"), 0) << "Requests-Left 0 made the next call wait for the reset";
  EXPECT_LE(stack.stat("most_in_window"), 2);
  EXPECT_GE(stack.stat("requests"), 4);
}

TEST(BigCommerce, A429IsWaitedOutForTheWindowsReset) {
  BigCommerceStack stack;
  // The store's window is spent by another app when the job comes.
  stack.sandbox.control("bigcommerce", "quota", R"({"requests":10,"window_ms":1500,"exhausted":1})");
  stack.start();
  stack.run(bc_job("evt_bc_6"));
  EXPECT_EQ(stack.dead(), 0) << stack.worker->stderr_text();
  EXPECT_EQ(stack.effects("refund", "evt_bc_6").size(), 1u);
  EXPECT_EQ(stack.stat("throttled"), 1) << "the call after the 429 waited for X-Rate-Limit-Time-Reset-Ms";
}

TEST(BigCommerce, ServerErrorsAreRetried) {
  BigCommerceStack stack;
  stack.start();
  stack.sandbox.set_faults(R"({"bigcommerce":{"status":503,"count":3}})");
  stack.run(bc_job("evt_bc_7"));
  EXPECT_EQ(stack.dead(), 0) << stack.worker->stderr_text();
  EXPECT_EQ(stack.effects("refund", "evt_bc_7").size(), 1u);
}

TEST(BigCommerce, AnOverRefundAndAnUnknownOrderArePermanent) {
  BigCommerceStack stack;
  stack.start();
  stack.run(bc_job("evt_bc_8", 2'000'000));  // 20000.00 of an order that has 10000.00 to refund
  EXPECT_EQ(stack.dead(), 1) << stack.worker->stderr_text();
  EXPECT_TRUE(stack.effects("refund", "evt_bc_8").empty());
  stack.run(bc_job("evt_bc_9", 14900, "0"), 2);  // no order 0 in the store: 404
  EXPECT_EQ(stack.dead(), 2) << stack.worker->stderr_text();
  EXPECT_TRUE(stack.effects("cancel", "evt_bc_9").empty());
}

TEST(BigCommerce, RefundsOnOneOrderGoOneAfterAnotherAndEachJobRefundsOnce) {
  BigCommerceStack stack;
  // BigCommerce refuses a refund while another on the order is processing: the second job
  // meets 409s until the first is done, and is retried, not dead-lettered.
  stack.sandbox.control("bigcommerce", "processing", R"({"refund_processing_ms":150})");
  stack.start("base=100ms,cap=100ms");
  stack.run(bc_job("evt_bc_10", 1000) + "\n" + bc_job("evt_bc_11", 2000), 2);
  EXPECT_EQ(stack.dead(), 0) << stack.worker->stderr_text();
  auto first = stack.effects("refund", "evt_bc_10"), second = stack.effects("refund", "evt_bc_11");
  ASSERT_EQ(first.size(), 1u) << stack.worker->stderr_text();
  ASSERT_EQ(second.size(), 1u) << stack.worker->stderr_text();
  EXPECT_EQ(first[0].amount_minor + second[0].amount_minor, 3000);
}

// Configured as in production (no --sandbox): the shop's token and store hash from its flags.
std::unique_ptr<Process> configured_worker(const RedisServer& redis, const Sandbox& sandbox, std::string_view token) {
  std::vector<std::string> args{"--redis", redis.url(), "--metrics-listen", "127.0.0.1:0",
                                "--block", "100ms",     "--retry",          "base=20ms,cap=100ms"};
  for (auto& flag : provider_flags(sandbox.url())) args.push_back(flag);
  args.push_back("--bigcommerce-url");
  args.push_back(sandbox.url());
  args.push_back("--bigcommerce-token-for");
  args.push_back(std::string(store_domain) + "=" + std::string(token));
  args.push_back("--bigcommerce-stores");
  args.push_back(std::string(store_domain) + "=abc123");
  return std::make_unique<Process>(RESCIND_WORKER_BIN, args);
}

TEST(BigCommerce, AShopsOwnTokenAndStoreAreUsedAndAWrongTokenIsPermanent) {
  RedisServer redis;
  Sandbox sandbox;
  auto worker = configured_worker(redis, sandbox, sandbox_credentials::bigcommerce_access_token);
  ASSERT_EQ(enqueue(redis, bc_job("evt_bc_12") + "\n").exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return queue_settled(redis, 1); }, 30s)) << worker->stderr_text();
  EXPECT_EQ(redis.integer({"XLEN", "rescind:dlq"}), 0) << worker->stderr_text();
  EXPECT_EQ(sandbox.per_job("refund")["evt_bc_12"], 1) << worker->stderr_text();
  worker.reset();

  auto refused = configured_worker(redis, sandbox, "bc-not-the-token");
  ASSERT_EQ(enqueue(redis, bc_job("evt_bc_13") + "\n").exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return queue_settled(redis, 2); }, 30s)) << refused->stderr_text();
  EXPECT_EQ(redis.integer({"XLEN", "rescind:dlq"}), 1) << "401 is not retried";
  EXPECT_EQ(sandbox.per_job("cancel")["evt_bc_13"], 0);
  EXPECT_EQ(refused->stderr_text().find("bc-not-the-token"), std::string::npos) << "the token is redacted";
}

}  // namespace
}  // namespace rescind::testing
