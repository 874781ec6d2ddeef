// Every kind end to end with the providers of the seed flows: the ledger holds exactly the
// expected effects, in the order that matters, and none that must not happen.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

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
  json = replace(json, R"("occurred_at":"2026-11-22T16:00:00Z")",
                 R"("occurred_at":")" + std::string("2099-01-01T00:00:00Z") + "\"");
  if (!spec.created_at.empty())
    json = replace(json, R"("name":"#1001",)", R"("name":"#1001","created_at":")" + spec.created_at + "\",");
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
  EXPECT_EQ(run.effects_of("evt_rr"), (Effects{{"shopify/cancel", 1},
                                               {"shopify/restock", 1},
                                               {"stripe/refund", 1},
                                               {"sendgrid/email", 1},
                                               {"twilio/sms", 1},
                                               {"slack/staff", 1}}));
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
  run.enqueue({make({.id = "evt_dispute",
                     .kind = "dispute.opened",
                     .notify = R"(["staff"])",
                     .extra = R"(,"dispute":{"reason":"fraudulent","evidence_due_by":"2099-02-01T00:00:00Z"})"})});
  ASSERT_TRUE(wait_until([&] { return run.settled(1); }, 30s)) << run.worker->stderr_text();
  EXPECT_EQ(run.effects_of("evt_dispute"),
            (Effects{{"shopify/cancel", 1}, {"shopify/restock", 1}, {"slack/staff", 1}, {"zendesk/ticket", 1}}))
      << "no refund, no customer message";
}

TEST(Kinds, UnfulfillableOrderPaidWithPayPalIsCanceledRefundedAndApologisedFor) {
  Flow run;
  run.enqueue(
      {make({.id = "evt_oos", .kind = "order.unfulfillable", .payment = "paypal", .reference = "2GG279541U471931P"})});
  ASSERT_TRUE(wait_until([&] { return run.settled(1); }, 30s)) << run.worker->stderr_text();
  EXPECT_EQ(run.effects_of("evt_oos"), (Effects{{"shopify/cancel", 1},
                                                {"shopify/restock", 1},
                                                {"paypal/refund", 1},
                                                {"sendgrid/email", 1},
                                                {"twilio/sms", 1},
                                                {"slack/staff", 1}}));
  for (const auto& e : run.sandbox.ledger()) {
    if (e.action == "refund") {
      EXPECT_EQ(e.amount_minor, 14900);
      EXPECT_EQ(e.currency, "usd");
    }
  }
}

TEST(Kinds, WhenShopifyHoldsThePaymentTheCancelRefundsAndNoProviderIsCalled) {
  Flow run;
  run.enqueue(
      {make({.id = "evt_platform", .kind = "order.unfulfillable", .payment = "shopify", .reference = "450789469"})});
  ASSERT_TRUE(wait_until([&] { return run.settled(1); }, 30s)) << run.worker->stderr_text();
  EXPECT_EQ(run.effects_of("evt_platform"), (Effects{{"shopify/cancel", 1},
                                                     {"shopify/restock", 1},
                                                     {"shopify/refund", 1},
                                                     {"sendgrid/email", 1},
                                                     {"twilio/sms", 1},
                                                     {"slack/staff", 1}}));
}

TEST(Kinds, SquareRefundMailgunEmailAndASignedBackOfficeRecord) {
  RedisServer redis;
  Sandbox sandbox;
  auto worker = start_worker(redis, sandbox,
                             {"--email-provider", "mailgun", "--record-webhook", sandbox.url() + "/hooks/ledger"});
  auto job = make({.id = "evt_sq", .payment = "square", .reference = "R2B3Z8WMVt3EAmzYWLZvz7Y69EbZY"});
  ASSERT_EQ(enqueue(redis, job + "\n").exit_code, 0);
  ASSERT_TRUE(wait_until(
      [&] {
        auto s = group_state(redis);
        return s && s->entries_read == 1 && s->pending == 0;
      },
      30s))
      << worker->stderr_text();
  std::map<std::string, int> effects;
  for (const auto& e : sandbox.ledger()) ++effects[e.provider + "/" + e.action];
  EXPECT_EQ(
      effects,
      (Effects{
          {"square/refund", 1}, {"mailgun/email", 1}, {"twilio/sms", 1}, {"slack/staff", 1}, {"webhook/record", 1}}))
      << "the sandbox files a record only for a correctly signed webhook";
  EXPECT_EQ(redis.integer({"XLEN", "rescind:dlq"}), 0);
}

TEST(Kinds, PayPalTokenExpiringMidRunRefundsEveryJobOnce) {
  Flow run({"--max-in-flight", "4"});
  run.sandbox.set_faults(R"({"paypal":{"delay_ms":20}})");
  std::vector<std::string> jobs;
  for (int i = 0; i < 40; ++i) {
    jobs.push_back(make({.id = "evt_pp_" + std::to_string(i),
                         .payment = "paypal",
                         .reference = "CAP" + std::to_string(1000 + i),
                         .notify = "[]"}));
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
  // Someone canceled it by hand first. The sandbox's refusal of a second cancel has a wording
  // of its own that no client matches: the worker must learn it from the order's cancelledAt.
  auto first = http_call(
      "POST", run.sandbox.url() + "/shops/acme-crafts.myshopify.com/admin/api/2026-10/graphql.json",
      R"({"query":"mutation C($orderId: ID!, $reason: OrderCancelReason!, $restock: Boolean!) { orderCancel(orderId: $orderId, reason: $reason, restock: $restock) { job { id } } }","variables":{"orderId":"gid://shopify/Order/450789469","reason":"STAFF","restock":true}})",
      {{"X-Shopify-Access-Token", "shpat_rescind_sandbox"},
       {"Content-Type", "application/json"},
       {"X-Rescind-Job", "by_hand"}});
  ASSERT_EQ(first.status, 200) << first.body;
  ASSERT_EQ(run.effects_of("by_hand"), (Effects{{"shopify/cancel", 1}, {"shopify/restock", 1}})) << first.body;
  run.enqueue({make({.id = "evt_again", .kind = "refund.requested"})});
  ASSERT_TRUE(wait_until([&] { return run.settled(1); }, 30s)) << run.worker->stderr_text();
  EXPECT_EQ(run.effects_of("evt_again"),
            (Effects{{"stripe/refund", 1}, {"sendgrid/email", 1}, {"twilio/sms", 1}, {"slack/staff", 1}}))
      << "no second cancel, and the flow went on";
  EXPECT_EQ(run.redis.integer({"XLEN", "rescind:dlq"}), 0);
}

// POST /__shopify/scenario: how the fake Shopify behaves from now on.
void shopify_scenario(Flow& run, const std::string& json) {
  auto set = http_call("POST", run.sandbox.url() + "/__shopify/scenario", json);
  ASSERT_EQ(set.status, 200) << set.body;
}

// step:outcome → count, from the audit trail
std::map<std::string, int> audit_of(RedisServer& redis, const std::string& job_id) {
  std::map<std::string, int> trail;
  for (auto& entry : stream_entries(redis, "rescind:audit")) {
    if (entry["job_id"] == job_id) ++trail[entry["step"] + ":" + entry["outcome"]];
  }
  return trail;
}

// The customer-facing texts (SMS, Slack) the sandbox took for one job, one per line.
std::string texts_of(Flow& run, const std::string& job_id) {
  std::string texts;
  for (const auto& e : run.sandbox.ledger()) {
    if (e.job_id == job_id && !e.text.empty()) texts += e.provider + ": " + e.text + "\n";
  }
  return texts;
}

// Shopify holds the payment: the cancel is what refunds (refundMethod originalPaymentMethodsRefund).
std::string platform_paid(const std::string& id) {
  return make({.id = id, .kind = "order.unfulfillable", .payment = "shopify", .reference = "450789469"});
}

TEST(Kinds, AnOrderCanceledByHandWithItsRefundCountsAsCanceledAndRefunded) {
  Flow run;
  // A merchant canceled and refunded order 450789469 (paid 149.00 USD) in the admin first.
  shopify_scenario(
      run,
      R"({"canceled_by_hand":[{"shop":"acme-crafts.myshopify.com","order":"450789469","total":"149.00","currency":"USD","refund":true}]})");
  run.enqueue({platform_paid("evt_hand_refunded")});
  ASSERT_TRUE(wait_until([&] { return run.settled(1); }, 30s)) << run.worker->stderr_text();
  EXPECT_EQ(run.effects_of("evt_hand_refunded"),
            (Effects{{"sendgrid/email", 1}, {"twilio/sms", 1}, {"slack/staff", 1}}))
      << "no second cancel (the merchant's was the one), no refund of Rescind's own, and the customer is told";
  EXPECT_EQ(run.sandbox.count_by_action()["cancel"], 0) << "the order was canceled once, by hand";
  auto texts = texts_of(run, "evt_hand_refunded");
  EXPECT_NE(texts.find("twilio: Sorry, order #1001 could not be fulfilled and was canceled. Refund of"),
            std::string::npos)
      << texts;
  EXPECT_NE(texts.find("Refunded"), std::string::npos) << "the staff alert says refunded: " << texts;
  EXPECT_EQ(audit_of(run.redis, "evt_hand_refunded")["cancel:ok"], 1);
  EXPECT_EQ(run.redis.integer({"XLEN", "rescind:dlq"}), 0);
}

TEST(Kinds, AnOrderCanceledByHandWithoutARefundIsDeadLetteredAndNoOneIsToldRefunded) {
  Flow run;
  // Canceled in the admin, refunded nothing (evt_hand_kept) or 50.00 of 149.00 (evt_hand_partial).
  shopify_scenario(
      run,
      R"({"canceled_by_hand":[)"
      R"({"shop":"acme-crafts.myshopify.com","order":"450789469","total":"149.00","currency":"USD"},)"
      R"({"shop":"north.myshopify.com","order":"450789469","total":"149.00","currency":"USD","refunded":"50.00"}]})");
  run.enqueue({platform_paid("evt_hand_kept"),
               replace(platform_paid("evt_hand_partial"), "acme-crafts.myshopify.com", "north.myshopify.com")});
  ASSERT_TRUE(wait_until([&] { return run.settled(2); }, 30s)) << run.worker->stderr_text();
  for (const std::string id : {"evt_hand_kept", "evt_hand_partial"}) {
    EXPECT_EQ(run.effects_of(id), Effects{}) << id << ": no cancel, no refund, no email, SMS or staff alert";
    EXPECT_EQ(texts_of(run, id), "") << id;
  }
  std::set<std::string> dead;
  for (auto& entry : stream_entries(run.redis, "rescind:dlq")) {
    EXPECT_EQ(entry["step"], "cancel");
    EXPECT_EQ(entry["code"], "canceled_without_refund") << entry["error"];
    EXPECT_NE(entry["error"].find("Shopify"), std::string::npos) << entry["error"];
    dead.insert(entry["job"].find("evt_hand_kept") != std::string::npos ? "evt_hand_kept" : "evt_hand_partial");
  }
  EXPECT_EQ(dead, (std::set<std::string>{"evt_hand_kept", "evt_hand_partial"}));
  EXPECT_EQ(run.redis.integer({"ZCARD", "rescind:retry"}), 0) << "permanent: only a person can refund the rest";
  EXPECT_EQ(run.sandbox.count_by_action()["refund"], 0);
}

TEST(Kinds, ACancelThatFailsInsideItsJobIsNoCancelAndTheCustomerIsNotToldSo) {
  Flow run;
  // Shopify's job runs and fails (jobResult FAILED); the order stays open.
  shopify_scenario(run, R"({"failing_jobs":100,"failing_job_code":"INVALID"})");
  run.enqueue({make({.id = "evt_cancel_fails", .kind = "refund.requested"})});
  ASSERT_TRUE(wait_until([&] { return run.settled(1); }, 30s)) << run.worker->stderr_text();
  EXPECT_EQ(run.effects_of("evt_cancel_fails"), Effects{}) << "no cancel, no refund, no email, SMS or staff alert";
  auto dead = stream_entries(run.redis, "rescind:dlq");
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0]["step"], "cancel");
  EXPECT_EQ(dead[0]["code"], "INVALID") << dead[0]["error"];
  EXPECT_EQ(run.redis.integer({"ZCARD", "rescind:retry"}), 0);
}

TEST(Kinds, ACancelJobThatFailsOnceIsTriedAgainAndOnlyThenRefundsAndTells) {
  Flow run;
  // The job takes two requests to finish, so the worker polls it and then reads the order:
  // done, but not canceled. The second try cancels.
  shopify_scenario(run, R"({"job_polls":2,"failing_jobs":1})");
  run.enqueue({make({.id = "evt_cancel_retry", .kind = "refund.requested"})});
  ASSERT_TRUE(wait_until([&] { return run.settled(1); }, 30s)) << run.worker->stderr_text();
  EXPECT_EQ(run.effects_of("evt_cancel_retry"), (Effects{{"shopify/cancel", 1},
                                                         {"shopify/restock", 1},
                                                         {"stripe/refund", 1},
                                                         {"sendgrid/email", 1},
                                                         {"twilio/sms", 1},
                                                         {"slack/staff", 1}}));
  EXPECT_LE(run.first_at("evt_cancel_retry", "cancel"), run.first_at("evt_cancel_retry", "refund"));
  EXPECT_EQ(audit_of(run.redis, "evt_cancel_retry")["cancel:retryable"], 1)
      << "the failed job was not taken for a cancel";
  EXPECT_EQ(audit_of(run.redis, "evt_cancel_retry")["cancel:ok"], 1);
  EXPECT_EQ(run.redis.integer({"XLEN", "rescind:dlq"}), 0);
}

TEST(Kinds, TransientShopifyErrorsAreTriedAgainNotDeadLettered) {
  Flow run;
  // INTERNAL_SERVER_ERROR inside an HTTP 200 (SH10), then an INTERNAL_ERROR user error (SH7).
  shopify_scenario(run, R"({"internal_server_errors":1,"internal_errors":1})");
  run.enqueue({make({.id = "evt_transient", .kind = "refund.requested"})});
  ASSERT_TRUE(wait_until([&] { return run.settled(1); }, 30s)) << run.worker->stderr_text();
  EXPECT_EQ(run.effects_of("evt_transient"), (Effects{{"shopify/cancel", 1},
                                                      {"shopify/restock", 1},
                                                      {"stripe/refund", 1},
                                                      {"sendgrid/email", 1},
                                                      {"twilio/sms", 1},
                                                      {"slack/staff", 1}}));
  EXPECT_EQ(audit_of(run.redis, "evt_transient"), (std::map<std::string, int>{{"cancel:retryable", 2},
                                                                              {"cancel:ok", 1},
                                                                              {"refund:ok", 1},
                                                                              {"email:ok", 1},
                                                                              {"sms:ok", 1},
                                                                              {"staff:ok", 1}}));
  EXPECT_EQ(run.redis.integer({"XLEN", "rescind:dlq"}), 0);
}

TEST(Kinds, CancelsGoOnOnceShopifyNoLongerServesTheDeprecatedRefundArgument) {
  Flow run;
  // The day the oldest version served is 2026-07 (the sandbox's cut-off for `refund`): a
  // client pinned to an older version falls forward into a schema without it.
  shopify_scenario(run, R"({"latest_version":"2027-04"})");
  run.enqueue({make(
      {.id = "evt_platform_late", .kind = "order.unfulfillable", .payment = "shopify", .reference = "450789469"})});
  ASSERT_TRUE(wait_until([&] { return run.settled(1); }, 30s)) << run.worker->stderr_text();
  EXPECT_EQ(run.effects_of("evt_platform_late"), (Effects{{"shopify/cancel", 1},
                                                          {"shopify/restock", 1},
                                                          {"shopify/refund", 1},
                                                          {"sendgrid/email", 1},
                                                          {"twilio/sms", 1},
                                                          {"slack/staff", 1}}))
      << "refundMethod asked Shopify to refund";
  EXPECT_EQ(run.redis.integer({"XLEN", "rescind:dlq"}), 0);
}

long long lines_with(const std::string& text, const std::vector<std::string>& parts) {
  long long n = 0;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    bool all = true;
    for (const auto& part : parts) all = all && line.find(part) != std::string::npos;
    n += all;
  }
  return n;
}

TEST(Kinds, TheShopifyVersionThatAnswersIsLoggedAndAFallForwardWarnedOnce) {
  {
    Flow pinned;
    pinned.enqueue(
        {make({.id = "evt_v1", .kind = "refund.requested"}), make({.id = "evt_v2", .kind = "refund.requested"})});
    ASSERT_TRUE(wait_until([&] { return pinned.settled(2); }, 30s)) << pinned.worker->stderr_text();
    auto log = pinned.worker->stderr_text();
    EXPECT_EQ(lines_with(log, {"\"info\"", "pinned API version", "2026-10"}), 1) << log;
    EXPECT_EQ(lines_with(log, {"\"warn\"", "API version"}), 0) << log;
  }
  // 2025-10 is no longer served on 2026-12-01: Shopify answers from 2026-01.
  Flow old({"--shopify-api-version", "2025-10"});
  std::vector<std::string> jobs;
  for (int i = 0; i < 3; ++i) jobs.push_back(make({.id = "evt_old_" + std::to_string(i), .kind = "refund.requested"}));
  old.enqueue(jobs);
  ASSERT_TRUE(wait_until([&] { return old.settled(3); }, 30s)) << old.worker->stderr_text();
  auto log = old.worker->stderr_text();
  EXPECT_EQ(lines_with(log, {"\"warn\"", "\"requested\":\"2025-10\"", "\"served\":\"2026-01\""}), 1)
      << "once, not per job: " << log;
  // One order for the three jobs: canceled once, then known to be canceled.
  EXPECT_EQ(old.sandbox.count_by_action()["cancel"], 1) << "the schema of 2026-01 still takes what 2025-10 sends";
  EXPECT_EQ(old.sandbox.count_by_action()["refund"], 3);
  EXPECT_EQ(old.redis.integer({"XLEN", "rescind:dlq"}), 0);
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
  EXPECT_EQ(trail, (std::map<std::string, int>{
                       {"refund:ok", 1}, {"email:ok", 1}, {"sms:retryable", 1}, {"sms:ok", 1}, {"staff:ok", 1}}))
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
  auto worker = start_worker(redis, sandbox,
                             {"--email-provider-for", "north.myshopify.com=mailgun", "--record-webhook-for",
                              "north.myshopify.com=" + sandbox.url() + "/hooks/north-books", "--stripe-api-key-for",
                              "south.myshopify.com=sk_test_not_the_sandbox_key", "--retry", "base=20ms,cap=100ms"});
  std::string input = make({.id = "evt_acme"}) + "\n" + for_shop(make({.id = "evt_north"}), "north.myshopify.com") +
                      "\n" + for_shop(make({.id = "evt_south"}), "south.myshopify.com") + "\n";
  ASSERT_EQ(enqueue(redis, input).exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return queue_settled(redis, 3); }, 30s)) << worker->stderr_text();

  std::map<std::string, Effects> by_job;
  for (const auto& e : sandbox.ledger()) ++by_job[e.job_id][e.provider + "/" + e.action];
  EXPECT_EQ(by_job["evt_acme"],
            (Effects{{"stripe/refund", 1}, {"sendgrid/email", 1}, {"twilio/sms", 1}, {"slack/staff", 1}}));
  EXPECT_EQ(
      by_job["evt_north"],
      (Effects{
          {"stripe/refund", 1}, {"mailgun/email", 1}, {"twilio/sms", 1}, {"slack/staff", 1}, {"webhook/record", 1}}));
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
  auto worker =
      start_worker(redis, sandbox,
                   {"--paypal-credentials-for", "east.myshopify.com=someone_else:not_our_secret", "--square-token-for",
                    "west.myshopify.com=EAAA_not_the_sandbox_token", "--retry", "base=20ms,cap=100ms"});
  auto paypal = [](const std::string& id) {
    return make({.id = id, .payment = "paypal", .reference = "CAP9", .notify = "[]"});
  };
  auto square = [](const std::string& id) {
    return make({.id = id, .payment = "square", .reference = "SQ9", .notify = "[]"});
  };
  std::string input = paypal("evt_pp_default") + "\n" + for_shop(paypal("evt_pp_east"), "east.myshopify.com") + "\n" +
                      square("evt_sq_default") + "\n" + for_shop(square("evt_sq_west"), "west.myshopify.com") + "\n";
  ASSERT_EQ(enqueue(redis, input).exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return queue_settled(redis, 4); }, 30s)) << worker->stderr_text();

  std::map<std::string, int> refunds;
  for (const auto& e : sandbox.ledger()) ++refunds[e.job_id];
  EXPECT_EQ(refunds, (std::map<std::string, int>{{"evt_pp_default", 1}, {"evt_sq_default", 1}}))
      << "the shops with their own (wrong) credentials were refused";
  std::set<std::string> dead;
  for (auto& entry : stream_entries(redis, "rescind:dlq"))
    dead.insert(entry["job"].substr(entry["job"].find("evt_"), 11));
  EXPECT_EQ(dead, (std::set<std::string>{"evt_pp_east", "evt_sq_west"}));
}

}  // namespace
}  // namespace rescind::testing
