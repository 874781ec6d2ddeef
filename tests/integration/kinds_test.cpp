// Every kind end to end with the providers of the seed flows: the ledger holds exactly the
// expected effects, in the order that matters, and none that must not happen.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "tests/support/stack.hpp"

// Job specs name only the fields that differ from the sample (designated initializers).
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace rescind::testing {
namespace {

using namespace std::chrono_literals;

struct JobSpec {
  std::string id;
  std::string kind = "order.canceled";
  std::string payment = "stripe";
  std::string reference = "pi_3MtwBwLkdIwHu7ix28a3tqPa";
  std::string fulfillment = "unfulfilled";
  std::string notify = R"(["email","sms","staff"])";
  std::string extra;  // more top-level fields, each starting with a comma
  std::string created_at;
};

std::string make(const JobSpec& spec) {
  auto json = job_json(spec.id);
  json = replace(json, R"("kind":"order.canceled")", R"("kind":")" + spec.kind + "\"");
  json = replace(json, R"("provider":"stripe","reference":"pi_3MtwBwLkdIwHu7ix28a3tqPa")",
                 R"("provider":")" + spec.payment + R"(","reference":")" + spec.reference + "\"");
  json = replace(json, R"("fulfillment_status":"unfulfilled")", R"("fulfillment_status":")" + spec.fulfillment + "\"");
  json = replace(json, R"("notify":["email","sms","staff"])", R"("notify":)" + spec.notify + spec.extra);
  // Recent enough for the refund policy whatever today's date.
  json = replace(json, R"("occurred_at":"2026-11-22T16:00:00Z")", R"("occurred_at":")" + std::string("2099-01-01T00:00:00Z") + "\"");
  if (!spec.created_at.empty()) json = replace(json, R"("name":"#1001",)", R"("name":"#1001","created_at":")" + spec.created_at + "\",");
  return json;
}

struct Flow {
  RedisServer redis;
  Sandbox sandbox;
  std::unique_ptr<Process> worker;

  explicit Flow(std::vector<std::string> flags = {}) {
    flags.insert(flags.end(), {"--retry", "base=20ms,cap=100ms", "--visibility-timeout", "1s"});
    worker = start_worker(redis, sandbox, flags);
  }
  void enqueue(const std::vector<std::string>& jobs) {
    std::string input;
    for (const auto& job : jobs) input += job + "\n";
    auto ran = testing::enqueue(redis, input);
    if (ran.exit_code != 0) throw std::runtime_error(ran.err);
  }
  bool settled(long long jobs) { return queue_settled(redis, jobs); }
  // provider/action → count, for one job
  std::map<std::string, int> effects_of(const std::string& job_id) {
    std::map<std::string, int> out;
    for (const auto& e : sandbox.ledger()) {
      if (e.job_id == job_id) ++out[e.provider + "/" + e.action];
    }
    return out;
  }
  long long first_at(const std::string& job_id, const std::string& action) {
    long long at = -1;
    for (const auto& e : sandbox.ledger()) {
      if (e.job_id == job_id && e.action == action && (at < 0 || e.at_ms < at)) at = e.at_ms;
    }
    return at;
  }
};

using Effects = std::map<std::string, int>;

TEST(Kinds, EligibleRefundRequestCancelsAtShopifyThenRefundsThenTells) {
  Flow run;
  run.enqueue({make({.id = "evt_rr", .kind = "refund.requested"})});
  ASSERT_TRUE(wait_until([&] { return run.settled(1); }, 30s)) << run.worker->stderr_text();
  EXPECT_EQ(run.effects_of("evt_rr"), (Effects{{"shopify/cancel", 1}, {"shopify/restock", 1}, {"stripe/refund", 1},
                                               {"sendgrid/email", 1}, {"twilio/sms", 1}, {"slack/staff", 1}}));
  EXPECT_LE(run.first_at("evt_rr", "cancel"), run.first_at("evt_rr", "refund")) << "canceled before the money moves";
  EXPECT_LE(run.first_at("evt_rr", "refund"), run.first_at("evt_rr", "email")) << "told only after the refund";
  EXPECT_EQ(run.redis.integer({"XLEN", "rescind:dlq"}), 0);
}

TEST(Kinds, RefundRequestForAShippedOrderOpensAReturnTicketAndMovesNoMoney) {
  Flow run;
  run.enqueue({make({.id = "evt_shipped", .kind = "refund.requested", .fulfillment = "fulfilled"})});
  ASSERT_TRUE(wait_until([&] { return run.settled(1); }, 30s)) << run.worker->stderr_text();
  EXPECT_EQ(run.effects_of("evt_shipped"), (Effects{{"zendesk/ticket", 1}, {"sendgrid/email", 1}}));
}

TEST(Kinds, RefundRequestOutsideThePolicyOnlyTellsTheCustomer) {
  Flow run;
  run.enqueue({make({.id = "evt_late", .kind = "refund.requested", .created_at = "2020-01-01T00:00:00Z"})});
  ASSERT_TRUE(wait_until([&] { return run.settled(1); }, 30s)) << run.worker->stderr_text();
  EXPECT_EQ(run.effects_of("evt_late"), (Effects{{"sendgrid/email", 1}}));
}

TEST(Kinds, DisputeStopsShipmentAlertsStaffOpensATicketAndNeverRefunds) {
  Flow run;
  run.enqueue({make({.id = "evt_dispute", .kind = "dispute.opened", .notify = R"(["staff"])",
                     .extra = R"(,"dispute":{"reason":"fraudulent","evidence_due_by":"2099-02-01T00:00:00Z"})"})});
  ASSERT_TRUE(wait_until([&] { return run.settled(1); }, 30s)) << run.worker->stderr_text();
  EXPECT_EQ(run.effects_of("evt_dispute"), (Effects{{"shopify/cancel", 1}, {"shopify/restock", 1}, {"slack/staff", 1}, {"zendesk/ticket", 1}}))
      << "no refund, no customer message";
}

TEST(Kinds, UnfulfillableOrderPaidWithPayPalIsCanceledRefundedAndApologisedFor) {
  Flow run;
  run.enqueue({make({.id = "evt_oos", .kind = "order.unfulfillable", .payment = "paypal", .reference = "2GG279541U471931P"})});
  ASSERT_TRUE(wait_until([&] { return run.settled(1); }, 30s)) << run.worker->stderr_text();
  EXPECT_EQ(run.effects_of("evt_oos"), (Effects{{"shopify/cancel", 1}, {"shopify/restock", 1}, {"paypal/refund", 1},
                                                {"sendgrid/email", 1}, {"twilio/sms", 1}, {"slack/staff", 1}}));
  for (const auto& e : run.sandbox.ledger()) {
    if (e.action == "refund") {
      EXPECT_EQ(e.amount_minor, 14900);
      EXPECT_EQ(e.currency, "usd");
    }
  }
}

TEST(Kinds, WhenShopifyHoldsThePaymentTheCancelRefundsAndNoProviderIsCalled) {
  Flow run;
  run.enqueue({make({.id = "evt_platform", .kind = "order.unfulfillable", .payment = "shopify", .reference = "450789469"})});
  ASSERT_TRUE(wait_until([&] { return run.settled(1); }, 30s)) << run.worker->stderr_text();
  EXPECT_EQ(run.effects_of("evt_platform"), (Effects{{"shopify/cancel", 1}, {"shopify/restock", 1}, {"shopify/refund", 1},
                                                     {"sendgrid/email", 1}, {"twilio/sms", 1}, {"slack/staff", 1}}));
}

TEST(Kinds, SquareRefundMailgunEmailAndASignedBackOfficeRecord) {
  RedisServer redis;
  Sandbox sandbox;
  auto worker = start_worker(redis, sandbox, {"--email-provider", "mailgun", "--record-webhook", sandbox.url() + "/hooks/ledger"});
  auto job = make({.id = "evt_sq", .payment = "square", .reference = "R2B3Z8WMVt3EAmzYWLZvz7Y69EbZY"});
  ASSERT_EQ(enqueue(redis, job + "\n").exit_code, 0);
  ASSERT_TRUE(wait_until([&] { auto s = group_state(redis); return s && s->entries_read == 1 && s->pending == 0; }, 30s))
      << worker->stderr_text();
  std::map<std::string, int> effects;
  for (const auto& e : sandbox.ledger()) ++effects[e.provider + "/" + e.action];
  EXPECT_EQ(effects, (Effects{{"square/refund", 1}, {"mailgun/email", 1}, {"twilio/sms", 1}, {"slack/staff", 1}, {"webhook/record", 1}}))
      << "the sandbox files a record only for a correctly signed webhook";
  EXPECT_EQ(redis.integer({"XLEN", "rescind:dlq"}), 0);
}

TEST(Kinds, PayPalTokenExpiringMidRunRefundsEveryJobOnce) {
  Flow run({"--max-in-flight", "4"});
  run.sandbox.set_faults(R"({"paypal":{"delay_ms":20}})");
  std::vector<std::string> jobs;
  for (int i = 0; i < 40; ++i) {
    jobs.push_back(make({.id = "evt_pp_" + std::to_string(i), .payment = "paypal", .reference = "CAP" + std::to_string(1000 + i), .notify = "[]"}));
  }
  run.enqueue(jobs);
  ASSERT_TRUE(wait_until([&] { return run.sandbox.count_by_action()["refund"] >= 10; }, 30s));
  auto expired = http_call("POST", run.sandbox.url() + "/__paypal/expire-tokens");
  ASSERT_EQ(expired.status, 200);
  ASSERT_TRUE(wait_until([&] { return run.settled(40); }, 30s)) << run.worker->stderr_text();
  std::map<std::string, int> refunds;
  for (const auto& e : run.sandbox.ledger()) ++refunds[e.job_id];
  EXPECT_EQ(refunds.size(), 40u);
  for (const auto& [id, n] : refunds) EXPECT_EQ(n, 1) << id;
  EXPECT_EQ(run.redis.integer({"XLEN", "rescind:dlq"}), 0) << "a dropped token is refreshed, not a failure";
}

TEST(Kinds, AnOrderAlreadyCanceledAtShopifyCountsAsCanceled) {
  Flow run;
  // Someone canceled it by hand first.
  auto first = http_call("POST", run.sandbox.url() + "/shops/acme-crafts.myshopify.com/admin/api/2024-10/graphql.json",
                         R"({"query":"mutation { orderCancel(orderId: $orderId, reason: $reason, refund: $refund, restock: $restock) { job { id } } }","variables":{"orderId":"gid://shopify/Order/450789469","reason":"STAFF","refund":false,"restock":true}})",
                         {{"X-Shopify-Access-Token", "shpat_rescind_sandbox"}, {"Content-Type", "application/json"}, {"X-Rescind-Job", "by_hand"}});
  ASSERT_EQ(first.status, 200) << first.body;
  run.enqueue({make({.id = "evt_again", .kind = "refund.requested"})});
  ASSERT_TRUE(wait_until([&] { return run.settled(1); }, 30s)) << run.worker->stderr_text();
  EXPECT_EQ(run.effects_of("evt_again"), (Effects{{"stripe/refund", 1}, {"sendgrid/email", 1}, {"twilio/sms", 1}, {"slack/staff", 1}}))
      << "no second cancel, and the flow went on";
  EXPECT_EQ(run.redis.integer({"XLEN", "rescind:dlq"}), 0);
}

TEST(Kinds, EveryStepOutcomeIsInTheAuditTrail) {
  Flow run;
  run.sandbox.set_faults(R"({"twilio":{"status":503,"count":1}})");
  run.enqueue({make({.id = "evt_audit"})});
  ASSERT_TRUE(wait_until([&] { return run.settled(1); }, 30s)) << run.worker->stderr_text();
  std::map<std::string, int> trail;
  for (auto& entry : stream_entries(run.redis, "rescind:audit")) {
    EXPECT_EQ(entry["job_id"], "evt_audit");
    ++trail[entry["step"] + ":" + entry["outcome"]];
    if (entry["step"] == "refund") {
      EXPECT_EQ(entry["amount_minor"], "14900");
      EXPECT_EQ(entry["currency"], "USD");
      EXPECT_EQ(entry["ref"].substr(0, 3), "re_");
    }
  }
  EXPECT_EQ(trail, (std::map<std::string, int>{{"refund:ok", 1}, {"email:ok", 1}, {"sms:retryable", 1}, {"sms:ok", 1}, {"staff:ok", 1}}))
      << "the retry ran only the failed step";
}

}  // namespace
}  // namespace rescind::testing

namespace rescind::testing {
namespace {

std::string for_shop(std::string job, const std::string& domain) {
  auto at = job.find("acme-crafts.myshopify.com");
  return job.replace(at, 25, domain);
}

TEST(Kinds, EachShopCanHaveItsOwnEmailProviderRecordsAndStripeAccount) {
  RedisServer redis;
  Sandbox sandbox;
  auto worker = start_worker(redis, sandbox, {
      "--email-provider-for", "north.myshopify.com=mailgun",
      "--record-webhook-for", "north.myshopify.com=" + sandbox.url() + "/hooks/north-books",
      "--stripe-api-key-for", "south.myshopify.com=sk_test_not_the_sandbox_key",
      "--retry", "base=20ms,cap=100ms"});
  std::string input = make({.id = "evt_acme"}) + "\n" + for_shop(make({.id = "evt_north"}), "north.myshopify.com") + "\n" +
                      for_shop(make({.id = "evt_south"}), "south.myshopify.com") + "\n";
  ASSERT_EQ(enqueue(redis, input).exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return queue_settled(redis, 3); }, 30s)) << worker->stderr_text();

  std::map<std::string, Effects> by_job;
  for (const auto& e : sandbox.ledger()) ++by_job[e.job_id][e.provider + "/" + e.action];
  EXPECT_EQ(by_job["evt_acme"], (Effects{{"stripe/refund", 1}, {"sendgrid/email", 1}, {"twilio/sms", 1}, {"slack/staff", 1}}));
  EXPECT_EQ(by_job["evt_north"], (Effects{{"stripe/refund", 1}, {"mailgun/email", 1}, {"twilio/sms", 1}, {"slack/staff", 1},
                                          {"webhook/record", 1}}));
  EXPECT_TRUE(by_job["evt_south"].empty()) << "its own (wrong) Stripe key was used, so nothing happened";
  auto dead = stream_entries(redis, "rescind:dlq");
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0]["status"], "401");
  EXPECT_NE(dead[0]["job"].find("evt_south"), std::string::npos);
}

}  // namespace
}  // namespace rescind::testing

namespace rescind::testing {
namespace {

TEST(Kinds, PayPalAndSquareCredentialsCanBeAShopsOwn) {
  RedisServer redis;
  Sandbox sandbox;
  auto worker = start_worker(redis, sandbox, {
      "--paypal-credentials-for", "east.myshopify.com=someone_else:not_our_secret",
      "--square-token-for", "west.myshopify.com=EAAA_not_the_sandbox_token", "--retry", "base=20ms,cap=100ms"});
  auto paypal = [](const std::string& id) { return make({.id = id, .payment = "paypal", .reference = "CAP9", .notify = "[]"}); };
  auto square = [](const std::string& id) { return make({.id = id, .payment = "square", .reference = "SQ9", .notify = "[]"}); };
  std::string input = paypal("evt_pp_default") + "\n" + for_shop(paypal("evt_pp_east"), "east.myshopify.com") + "\n" +
                      square("evt_sq_default") + "\n" + for_shop(square("evt_sq_west"), "west.myshopify.com") + "\n";
  ASSERT_EQ(enqueue(redis, input).exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return queue_settled(redis, 4); }, 30s)) << worker->stderr_text();

  std::map<std::string, int> refunds;
  for (const auto& e : sandbox.ledger()) ++refunds[e.job_id];
  EXPECT_EQ(refunds, (std::map<std::string, int>{{"evt_pp_default", 1}, {"evt_sq_default", 1}}))
      << "the shops with their own (wrong) credentials were refused";
  std::set<std::string> dead;
  for (auto& entry : stream_entries(redis, "rescind:dlq")) dead.insert(entry["job"].substr(entry["job"].find("evt_"), 11));
  EXPECT_EQ(dead, (std::set<std::string>{"evt_pp_east", "evt_sq_west"}));
}

}  // namespace
}  // namespace rescind::testing
