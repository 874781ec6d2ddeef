// The worker's money rules against providers that remember: a refused refund replayed after
// the cause is fixed (new key only after a reconcile), an answer that might hide a success
// (the key never changes), and pending refunds (told "on its way", polled, dead-lettered when
// they fail). A real redis-server, sandbox, worker and rescindctl; assertions on the sandbox's
// ledger, the streams, step states and metrics.
#include <gtest/gtest.h>

#include "tests/support/stack.hpp"

namespace rescind::testing {
namespace {

using namespace std::chrono_literals;

// Each job refunds its own Stripe payment, so one job's refunds never meet another's.
std::string stripe_job(const std::string& id) {
  return replace(job_json(id), "pi_3MtwBwLkdIwHu7ix28a3tqPa", "pi_" + id);
}

const std::vector<std::string> fast_worker{"--retry",
                                           "base=20ms,cap=100ms",
                                           "--visibility-timeout",
                                           "2s",
                                           "--pending-refund-check",
                                           "200ms",
                                           "--sample-interval",
                                           "100ms"};

struct Refunds {
  int succeeded = 0, failed = 0, pending = 0;
};
Refunds refunds_of(Sandbox& sandbox, const std::string& job_id) {
  Refunds refunds;
  for (const auto& effect : sandbox.ledger()) {
    if (effect.action != "refund" || effect.job_id != job_id) continue;
    if (effect.status == "failed")
      ++refunds.failed;
    else if (effect.status == "pending")
      ++refunds.pending;
    else
      ++refunds.succeeded;
  }
  return refunds;
}

std::string texts_of(Sandbox& sandbox, const std::string& job_id) {
  std::string texts;
  for (const auto& effect : sandbox.ledger()) {
    if (effect.job_id == job_id && !effect.text.empty()) texts += effect.text + "\n";
  }
  return texts;
}

long long dlq_length(RedisServer& redis) { return redis.integer({"XLEN", "rescind:dlq"}); }

std::string refund_state(RedisServer& redis, const std::string& job_id) {
  auto reply = redis.command({"HGET", "rescind:job:" + job_id, "refund"});
  return reply.is_nil() ? "<none>" : reply.text;
}

// Runs `job` until its refund is done, then replaces its step state with a refusal of key
// generation 0 — as if the success had been lost and a refusal recorded instead — and enqueues
// it again. The refund reference first recorded, or empty if a run did not finish.
std::string rerun_as_if_refused(RedisServer& redis, const std::string& job, const std::string& id) {
  auto done = [&](long long runs) {
    return wait_until([&] { return queue_settled(redis, runs) && refund_state(redis, id).starts_with("done:"); }, 30s);
  };
  if (enqueue(redis, job + "\n").exit_code != 0 || !done(1)) return {};
  auto reference = refund_state(redis, id).substr(5);
  redis.command({"DEL", "rescind:job:" + id});
  redis.command({"HSET", "rescind:job:" + id, "refund", "refused:0"});
  if (enqueue(redis, job + "\n").exit_code != 0 || !done(2)) return {};
  return reference;
}

// The issue's case: Stripe refuses for insufficient balance, the job is dead-lettered; the
// balance is fixed and the entry replayed. Under the same key Stripe would replay its saved
// refusal for 24 h; the worker reconciles (no refund exists) and refunds under a new key.
TEST(RefundReplay, ARefusalForBalanceIsRefundedOnceWhenReplayedAfterTheFix) {
  RedisServer redis;
  Sandbox sandbox;
  auto worker = start_worker(redis, sandbox, fast_worker);
  sandbox.control("stripe", "funds", R"({"insufficient":true})");
  ASSERT_EQ(enqueue(redis, stripe_job("evt_balance") + "\n").exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return dlq_length(redis) == 1 && queue_settled(redis, 1); }, 30s))
      << worker->stderr_text();
  auto dead = stream_entries(redis, "rescind:dlq");
  EXPECT_EQ(dead[0]["step"], "refund");
  EXPECT_EQ(dead[0]["code"], "balance_insufficient");
  EXPECT_EQ(refund_state(redis, "evt_balance"), "refused:0") << "the refusal is kept for the replay";
  EXPECT_EQ(refunds_of(sandbox, "evt_balance").succeeded, 0);
  EXPECT_EQ(texts_of(sandbox, "evt_balance").find("efund"), std::string::npos)
      << "nobody was told about a refund that did not happen:\n"
      << texts_of(sandbox, "evt_balance");

  // Fixed: the same key would still be refused (the sandbox replays it as Stripe does).
  sandbox.control("stripe", "funds", R"({"insufficient":false})");
  auto replayed = ctl(redis, {"dlq", "replay", "--all", "--yes"});
  ASSERT_EQ(replayed.exit_code, 0) << replayed.err;
  ASSERT_TRUE(wait_until(
      [&] {
        return dlq_length(redis) == 0 && queue_settled(redis, 2) &&
               refund_state(redis, "evt_balance").starts_with("done:");
      },
      30s))
      << worker->stderr_text();
  auto refunds = refunds_of(sandbox, "evt_balance");
  EXPECT_EQ(refunds.succeeded, 1) << "exactly one refund";
  EXPECT_EQ(refunds.pending + refunds.failed, 0);
  auto base = metrics_base(*worker);
  EXPECT_EQ(metric(base, "rescind_refund_reconciles_total", {"provider=\"stripe\"", "result=\"none\""}), 1);
  EXPECT_NE(texts_of(sandbox, "evt_balance").find("Refund of"), std::string::npos) << "now the customer hears of it";
}

// After an answer that might hide a success the key must not change: Stripe's saved 500
// (Stripe-Should-Retry: false) is replayed under it, and only once Stripe has forgotten the
// key (24 h) does the same key refund — once.
TEST(RefundReplay, AnIndeterminateAnswerKeepsTheKeyEvenAcrossAReplay) {
  RedisServer redis;
  Sandbox sandbox;
  auto worker = start_worker(redis, sandbox, fast_worker);
  sandbox.set_faults(R"({"stripe":{"status":500,"count":1}})");
  ASSERT_EQ(enqueue(redis, stripe_job("evt_unsure") + "\n").exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return dlq_length(redis) == 1 && queue_settled(redis, 1); }, 30s))
      << worker->stderr_text();
  auto first = stream_entries(redis, "rescind:dlq");
  EXPECT_EQ(first[0]["status"], "500");
  EXPECT_NE(first[0]["error"].find("indeterminate"), std::string::npos) << first[0]["error"];
  EXPECT_EQ(refund_state(redis, "evt_unsure"), "<none>") << "no refusal recorded: the key stays generation 0";

  // Replayed at once: the same key, so Stripe answers its saved 500 again — no reconcile, no new key.
  ASSERT_EQ(ctl(redis, {"dlq", "replay", "--all", "--yes"}).exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return dlq_length(redis) == 1 && queue_settled(redis, 2); }, 30s))
      << worker->stderr_text();
  EXPECT_EQ(refunds_of(sandbox, "evt_unsure").succeeded, 0);
  EXPECT_EQ(metric(metrics_base(*worker), "rescind_refund_reconciles_total"), 0);

  // A day later Stripe has pruned the key: the same key now refunds, once.
  sandbox.advance_clock(25 * 3600);
  ASSERT_EQ(ctl(redis, {"dlq", "replay", "--all", "--yes"}).exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return dlq_length(redis) == 0 && queue_settled(redis, 3); }, 30s))
      << worker->stderr_text();
  EXPECT_EQ(refunds_of(sandbox, "evt_unsure").succeeded, 1);
}

// A refusal recorded for a job whose refund in fact exists (its success was recorded nowhere):
// the reconcile finds it, and nothing is refunded again.
TEST(RefundReplay, AReconcileThatFindsTheJobsRefundRecordsItAndRefundsNothing) {
  RedisServer redis;
  Sandbox sandbox;
  auto worker = start_worker(redis, sandbox, fast_worker);
  auto reference = rerun_as_if_refused(redis, stripe_job("evt_found"), "evt_found");
  ASSERT_FALSE(reference.empty()) << worker->stderr_text();
  EXPECT_EQ(refund_state(redis, "evt_found"), "done:" + reference) << "the refund found is the one recorded";
  EXPECT_EQ(refunds_of(sandbox, "evt_found").succeeded, 1) << "not refunded twice";
  EXPECT_EQ(metric(metrics_base(*worker), "rescind_refund_reconciles_total", {"result=\"found\""}), 1);
}

// A PayPal job whose capture was partly refunded by hand: the capture cannot say whose
// refunds it has, so a reconcile cannot prove "none". PayPal itself refuses a second refund
// for the job (invoice_id), so the new request id is safe: refunded once after the fix.
std::string paypal_job(const std::string& id, const std::string& capture) {
  return replace(job_json(id), R"("provider":"stripe","reference":"pi_3MtwBwLkdIwHu7ix28a3tqPa")",
                 R"("provider":"paypal","reference":")" + capture + "\"");
}

TEST(RefundReplay, PayPalRefusedForFundsOnAPartlyRefundedCaptureIsRefundedOnceAfterTheFix) {
  RedisServer redis;
  Sandbox sandbox;
  auto worker = start_worker(redis, sandbox, fast_worker);
  sandbox.control("paypal", "payment", R"({"id":"CAP_PARTLY","captured_minor":100000,"refunded_minor":500})");
  sandbox.control("paypal", "funds", R"({"insufficient":true})");
  ASSERT_EQ(enqueue(redis, paypal_job("evt_pp_funds", "CAP_PARTLY") + "\n").exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return dlq_length(redis) == 1 && queue_settled(redis, 1); }, 30s))
      << worker->stderr_text();
  EXPECT_EQ(stream_entries(redis, "rescind:dlq")[0]["code"], "REFUND_FAILED_INSUFFICIENT_FUNDS");
  EXPECT_EQ(refund_state(redis, "evt_pp_funds"), "refused:0");

  sandbox.control("paypal", "funds", R"({"insufficient":false})");
  ASSERT_EQ(ctl(redis, {"dlq", "replay", "--all", "--yes"}).exit_code, 0);
  ASSERT_TRUE(wait_until(
      [&] {
        return dlq_length(redis) == 0 && queue_settled(redis, 2) &&
               refund_state(redis, "evt_pp_funds").starts_with("done:");
      },
      30s))
      << worker->stderr_text();
  EXPECT_EQ(refunds_of(sandbox, "evt_pp_funds").succeeded, 1);
  EXPECT_EQ(
      metric(metrics_base(*worker), "rescind_refund_reconciles_total", {"provider=\"paypal\"", "result=\"guarded\""}),
      1);
}

// The guard is real: the job's PayPal refund exists but a refusal was recorded instead; the
// reconcile cannot tell, the new request id is refused as DUPLICATE_INVOICE_ID, which is done.
TEST(RefundReplay, PayPalRefusesASecondRefundForTheJobUnderANewRequestId) {
  RedisServer redis;
  Sandbox sandbox;
  auto worker = start_worker(redis, sandbox, fast_worker);
  ASSERT_FALSE(rerun_as_if_refused(redis, paypal_job("evt_pp_twice", "CAP_TWICE"), "evt_pp_twice").empty())
      << worker->stderr_text();
  EXPECT_EQ(refunds_of(sandbox, "evt_pp_twice").succeeded, 1) << "not refunded twice";
  EXPECT_EQ(dlq_length(redis), 0);
}

// A pending refund is on its way, not done: the customer is told so, it is counted and
// shown, and when it fails it is dead-lettered once; the replay refunds under a new key.
TEST(PendingRefunds, APendingRefundThatFailsIsDeadLetteredAndItsReplayRefundsOnce) {
  RedisServer redis;
  Sandbox sandbox;
  auto worker = start_worker(redis, sandbox, fast_worker);
  sandbox.control("stripe", "refunds", R"({"next_pending":1})");
  ASSERT_EQ(enqueue(redis, stripe_job("evt_pending") + "\n").exit_code, 0);
  auto origin = stream_entries(redis, "rescind:jobs").at(0)["_id"];
  ASSERT_TRUE(wait_until([&] { return queue_settled(redis, 1) && sandbox.count_by_action()["staff"] >= 1; }, 30s))
      << worker->stderr_text();
  EXPECT_EQ(refunds_of(sandbox, "evt_pending").pending, 1);
  auto texts = texts_of(sandbox, "evt_pending");
  EXPECT_NE(texts.find("on its way"), std::string::npos) << texts;
  EXPECT_EQ(texts.find("issued"), std::string::npos) << "not told it arrived:\n" << texts;
  EXPECT_EQ(texts.find("Refunded"), std::string::npos) << "nor the staff:\n" << texts;
  EXPECT_EQ(redis.integer({"ZCARD", "rescind:refunds:pending"}), 1);
  auto base = metrics_base(*worker);
  EXPECT_TRUE(wait_until([&] { return metric(base, "rescind_refunds_pending") == 1; }, 10s));
  EXPECT_EQ(metric(base, "rescind_pending_refunds_total", {"outcome=\"pending\""}), 1);
  auto stats = ctl(redis, {"stats", "--json", "--window", "0s"});
  EXPECT_NE(stats.out.find(R"("pending_refunds":{"key":"rescind:refunds:pending","count":1)"), std::string::npos)
      << stats.out << stats.err;

  // Still pending at the next checks: nothing changes.
  ASSERT_TRUE(wait_until(
      [&] {
        auto checks = redis.command({"HGET", "rescind:refund:evt_pending", "checks"}).text;
        return !checks.empty() && checks != "0";
      },
      10s));
  EXPECT_EQ(dlq_length(redis), 0);

  sandbox.control("stripe", "refunds", R"({"settle":"failed"})");
  ASSERT_TRUE(wait_until([&] { return dlq_length(redis) == 1; }, 10s)) << worker->stderr_text();
  auto dead = stream_entries(redis, "rescind:dlq");
  EXPECT_EQ(dead[0]["reason"], "refund_failed");
  EXPECT_EQ(dead[0]["step"], "refund");
  EXPECT_EQ(dead[0]["provider"], "stripe");
  EXPECT_FALSE(dead[0]["ref"].empty());
  // The shape of every other letter (worker/dead_letters.hpp): where the job began, when and
  // by whom it failed, our code (the provider's words are in error).
  EXPECT_EQ(dead[0]["job"], stripe_job("evt_pending"));
  EXPECT_EQ(dead[0]["origin_id"], origin);
  EXPECT_EQ(dead[0]["code"], "refund_failed");
  EXPECT_EQ(dead[0]["status"], "0");
  EXPECT_EQ(dead[0]["attempt"], "0");
  EXPECT_FALSE(dead[0]["failed_at"].empty());
  EXPECT_FALSE(dead[0]["worker"].empty());
  EXPECT_NE(dead[0]["error"].find("failed"), std::string::npos) << dead[0]["error"];
  EXPECT_EQ(redis.integer({"ZCARD", "rescind:refunds:pending"}), 0);
  EXPECT_EQ(redis.integer({"EXISTS", "rescind:refund:evt_pending"}), 0);
  EXPECT_EQ(refund_state(redis, "evt_pending"), "refused:0");
  EXPECT_TRUE(
      wait_until([&] { return metric(base, "rescind_pending_refunds_total", {"outcome=\"failed\""}) == 1; }, 5s));

  // On-call replays it: the reconcile sees only the failed refund, so a new key refunds once;
  // the messages already sent are not sent again.
  auto sms_before = sandbox.count_by_action()["sms"];
  ASSERT_EQ(ctl(redis, {"dlq", "replay", "--all", "--yes"}).exit_code, 0);
  ASSERT_TRUE(wait_until(
      [&] { return queue_settled(redis, 2) && refund_state(redis, "evt_pending").starts_with("done:"); }, 30s))
      << worker->stderr_text();
  auto refunds = refunds_of(sandbox, "evt_pending");
  EXPECT_EQ(refunds.failed, 1);
  EXPECT_EQ(refunds.succeeded, 1) << "exactly one refund that moved money";
  EXPECT_EQ(sandbox.count_by_action()["sms"], sms_before);
  EXPECT_EQ(dlq_length(redis), 0);
}

TEST(PendingRefunds, APendingRefundThatSucceedsIsForgottenWithoutADeadLetter) {
  RedisServer redis;
  Sandbox sandbox;
  auto worker = start_worker(redis, sandbox, fast_worker);
  sandbox.control("stripe", "refunds", R"({"next_pending":1})");
  ASSERT_EQ(enqueue(redis, stripe_job("evt_later") + "\n").exit_code, 0);
  ASSERT_TRUE(wait_until(
      [&] {
        return queue_settled(redis, 1) && redis.integer({"ZCARD", "rescind:refunds:pending"}) == 1;
      },
      30s));
  EXPECT_EQ(redis.command({"HGET", "rescind:job:evt_later", "refund:pending"}).is_nil(), false);
  sandbox.control("stripe", "refunds", R"({"settle":"succeeded"})");
  ASSERT_TRUE(wait_until(
      [&] {
        return redis.integer({"ZCARD", "rescind:refunds:pending"}) == 0;
      },
      10s))
      << worker->stderr_text();
  EXPECT_EQ(redis.integer({"EXISTS", "rescind:refund:evt_later"}), 0);
  EXPECT_TRUE(redis.command({"HGET", "rescind:job:evt_later", "refund:pending"}).is_nil());
  EXPECT_TRUE(refund_state(redis, "evt_later").starts_with("done:"));
  EXPECT_EQ(refunds_of(sandbox, "evt_later").succeeded, 1);
  EXPECT_EQ(dlq_length(redis), 0);
  EXPECT_TRUE(wait_until(
      [&] { return metric(metrics_base(*worker), "rescind_pending_refunds_total", {"outcome=\"succeeded\""}) == 1; },
      5s));
}

}  // namespace
}  // namespace rescind::testing
