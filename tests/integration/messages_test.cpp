// The message and back-office providers against a sandbox that answers as they document
// (providers-audit.md sections 5-10): Twilio's full sender queue, SendGrid's temporary block
// and rate-limit reset, Standard Webhooks ids, keys and 410, Zendesk's Idempotency-Key,
// Mailgun's address syntax and Twilio's 1600-character limit.
#include <gtest/gtest.h>

#include <chrono>

#include "tests/support/stack.hpp"

namespace rescind::testing {
namespace {

using namespace std::chrono_literals;

// A job whose only message goes through `notify` (one of "email", "sms", "staff"), or none.
std::string job_notifying(const std::string& id, const std::string& notify) {
  return replace(job_json(id), R"("notify":["email","sms","staff"])", R"("notify":[)" + notify + "]");
}

struct Stack {
  RedisServer redis;
  Sandbox sandbox;
  std::unique_ptr<Process> worker;

  explicit Stack(std::vector<std::string> flags = {}) {
    flags.insert(flags.end(), {"--retry", "base=20ms,cap=100ms", "--visibility-timeout", "1s"});
    worker = start_worker(redis, sandbox, flags);
  }
  void enqueue(const std::string& ndjson) {
    auto ran = testing::enqueue(redis, ndjson);
    ASSERT_EQ(ran.exit_code, 0) << ran.err;
  }
  void settle(long long entries) {
    ASSERT_TRUE(wait_until([&] { return queue_settled(redis, entries); }, 60s)) << worker->stderr_text();
  }
  void control(const std::string& path, const std::string& body) {
    auto answer = http_call("POST", sandbox.url() + path, body, {{"Content-Type", "application/json"}});
    ASSERT_EQ(answer.status, 200) << path << ": " << answer.body;
  }
  std::vector<Effect> effects(const std::string& provider, const std::string& job_id = {}) {
    std::vector<Effect> out;
    for (auto& effect : sandbox.ledger()) {
      if (effect.provider == provider && (job_id.empty() || effect.job_id == job_id)) out.push_back(std::move(effect));
    }
    return out;
  }
  // The one job waiting in the retry set: its due time (epoch ms) and its member, which starts
  // with the attempt it will run as.
  std::pair<long long, std::string> only_retry() {
    auto reply = redis.command({"ZRANGE", "rescind:retry", "0", "-1", "WITHSCORES"});
    if (reply.elements.size() != 2) return {-1, "retry set has " + std::to_string(reply.elements.size() / 2) + " entries"};
    return {std::stoll(reply.elements[1].text), reply.elements[0].text};
  }
  double requests(const std::string& provider, const std::string& code = {}) {
    std::vector<std::string> labels{"provider=\"" + provider + "\""};
    if (!code.empty()) labels.push_back("code=\"" + code + "\"");
    return metric(metrics_base(*worker), "rescind_provider_requests_total", labels);
  }
};

// ---------------------------------------------------------------------------------------------
// Twilio 21611: "This 'From' number has exceeded the maximum number of queued messages"
// (twilio.com/docs/api/errors/21611): the sender's queue holds 10 h of messages; it drains.

TEST(Messages, TwilioQueueFullIsRetriedLaterAndPausesTheSender) {
  Stack stack({"--twilio-queue-full-wait", "1s"});
  stack.control("/__twilio/queue-full", R"({"count":1})");
  stack.enqueue(job_notifying("evt_queue_full_a", R"("sms")") + "\n");
  ASSERT_TRUE(wait_until([&] { return stack.requests("twilio", "400") == 1; }, 30s)) << stack.worker->stderr_text();
  // A second SMS from the same sender while it is paused: it waits instead of meeting 21611.
  stack.enqueue(job_notifying("evt_queue_full_b", R"("sms")") + "\n");
  stack.settle(2);

  EXPECT_EQ(stack.redis.integer({"XLEN", "rescind:dlq"}), 0) << "21611 is congestion, not a permanent refusal";
  EXPECT_EQ(stack.effects("twilio", "evt_queue_full_a").size(), 1u);
  EXPECT_EQ(stack.effects("twilio", "evt_queue_full_b").size(), 1u);
  EXPECT_EQ(stack.requests("twilio"), 3) << "one 21611 and two messages: nothing hammered the full queue";
  EXPECT_EQ(stack.requests("twilio", "400"), 1);
  EXPECT_EQ(metric(metrics_base(*stack.worker), "rescind_rate_limited_total", {R"(provider="twilio")"}), 1);
}

// ---------------------------------------------------------------------------------------------
// SendGrid: "403 Too many bad requests. Temporary block" (v3 errors page) beside the permanent
// 403 of an unverified sender; 429 with X-RateLimit-Reset, epoch seconds (rate-limits page).

long long now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

TEST(Messages, SendGridTemporaryBlockWaitsInsteadOfDeadLettering) {
  Stack stack;
  stack.control("/__sendgrid/block", R"({"count":1})");
  auto before = now_ms();
  stack.enqueue(job_notifying("evt_sg_block", R"("email")") + "\n");
  ASSERT_TRUE(wait_until([&] { return stack.only_retry().first > 0 || stack.redis.integer({"XLEN", "rescind:dlq"}) > 0; }, 30s))
      << stack.worker->stderr_text();

  EXPECT_EQ(stack.redis.integer({"XLEN", "rescind:dlq"}), 0) << "a temporary block is not a refusal of the mail";
  auto [due_ms, member] = stack.only_retry();
  EXPECT_GE(due_ms - before, 30'000) << "the account is left alone for a while, not retried at once into the block";
  EXPECT_EQ(member.substr(0, 2), "1:") << "no attempt used";
  EXPECT_GT(stack.redis.integer({"PTTL", "rescind:rl:sendgrid:default:pause"}), 0) << "every worker's SendGrid calls wait";
  EXPECT_EQ(stack.requests("sendgrid", "403"), 1);
  EXPECT_TRUE(stack.effects("sendgrid").empty());
}

TEST(Messages, SendGridRateLimitIsRetriedWhenItsWindowResets) {
  Stack stack;
  stack.control("/__sendgrid/rate-limit", R"({"count":1,"reset_in_s":40})");
  auto before = now_ms();
  stack.enqueue(job_notifying("evt_sg_reset", R"("email")") + "\n");
  ASSERT_TRUE(wait_until([&] { return stack.only_retry().first > 0; }, 30s)) << stack.worker->stderr_text();

  auto [due_ms, member] = stack.only_retry();
  // X-RateLimit-Reset is whole seconds: the window ends 39-41 s after the request.
  EXPECT_GE(due_ms - before, 38'000) << "retried when SendGrid's window resets, not after the 1 s default";
  EXPECT_LE(due_ms - before, 45'000);
  EXPECT_EQ(member.substr(0, 2), "1:") << "rate-limited: no attempt used";
  EXPECT_EQ(stack.requests("sendgrid", "429"), 1);
}

}  // namespace
}  // namespace rescind::testing
