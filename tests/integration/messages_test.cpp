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

}  // namespace
}  // namespace rescind::testing
