// The message and back-office providers against a sandbox that answers as they document
// (providers-audit.md sections 5-10): Twilio's full sender queue, SendGrid's temporary block
// and rate-limit reset, Standard Webhooks ids, keys and 410, Zendesk's Idempotency-Key,
// Mailgun's address syntax and Twilio's 1600-character limit.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <regex>
#include <set>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "clients/encoding.hpp"
#include "clients/twilio.hpp"
#include "clients/zendesk.hpp"
#include "common/sandbox_credentials.hpp"
#include "jobs/parse.hpp"
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
    if (reply.elements.size() != 2)
      return {-1, "retry set has " + std::to_string(reply.elements.size() / 2) + " entries"};
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
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TEST(Messages, SendGridTemporaryBlockWaitsInsteadOfDeadLettering) {
  Stack stack;
  stack.control("/__sendgrid/block", R"({"count":1})");
  auto before = now_ms();
  stack.enqueue(job_notifying("evt_sg_block", R"("email")") + "\n");
  ASSERT_TRUE(wait_until(
      [&] {
        return stack.only_retry().first > 0 || stack.redis.integer({"XLEN", "rescind:dlq"}) > 0;
      },
      30s))
      << stack.worker->stderr_text();

  EXPECT_EQ(stack.redis.integer({"XLEN", "rescind:dlq"}), 0) << "a temporary block is not a refusal of the mail";
  auto [due_ms, member] = stack.only_retry();
  EXPECT_GE(due_ms - before, 30'000) << "the account is left alone for a while, not retried at once into the block";
  EXPECT_EQ(member.substr(0, 2), "1:") << "no attempt used";
  EXPECT_GT(stack.redis.integer({"PTTL", "rescind:rl:sendgrid:default:pause"}), 0)
      << "every worker's SendGrid calls wait";
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

// ---------------------------------------------------------------------------------------------
// Standard Webhooks (standard-webhooks/standard-webhooks, spec/standard-webhooks.md)

// Another whsec_ secret than the sandbox's: base64 of "north-books-own-signing-key!" (28 bytes).
const std::string north_secret = "whsec_bm9ydGgtYm9va3Mtb3duLXNpZ25pbmcta2V5IQ==";

void stop(std::unique_ptr<Process>& worker) {
  worker->signal(SIGTERM);
  ASSERT_TRUE(worker->wait(30s).has_value()) << worker->stderr_text();
  worker.reset();
}

// The spec: the id must "not be user controlled, or at the very least not be allowed to include
// any `.`"; it "remains the same no matter how many times a webhook that has failed is retried".
TEST(Messages, WebhookIdsHoldNoJobTextAndSurviveAReorderedReceiverList) {
  Stack stack;  // its worker is replaced by ones with receivers
  stop(stack.worker);
  const std::string a = stack.sandbox.url() + "/hooks/sheets", b = stack.sandbox.url() + "/hooks/erp";
  auto start = [&](const std::string& first, const std::string& second) {
    stack.worker =
        start_worker(stack.redis, stack.sandbox,
                     {"--record-webhook", first, "--record-webhook", second, "--retry", "base=20ms,cap=100ms"});
  };
  // A job id with '.' and ':', as upstream ids may be.
  const std::string job = job_notifying("evt.2026:11.a", "");
  start(a, b);
  stack.enqueue(job + "\n");
  stack.settle(1);
  EXPECT_EQ(stack.redis.integer({"XLEN", "rescind:dlq"}), 0) << stack.worker->stderr_text();
  auto records = stack.effects("webhook", "evt.2026:11.a");
  ASSERT_EQ(records.size(), 2u) << stack.worker->stderr_text();
  std::regex shape("(sheets|erp):msg_[0-9a-f]{32}");
  for (const auto& record : records) EXPECT_TRUE(std::regex_match(record.ref, shape)) << record.ref;

  // The same job again (its step state gone, as after the idempotency window), the receivers
  // listed the other way round: each receiver sees the id it saw before and records nothing new.
  stop(stack.worker);
  stack.redis.command({"DEL", "rescind:job:evt.2026:11.a"});
  start(b, a);
  stack.enqueue(job + "\n");
  stack.settle(2);
  records = stack.effects("webhook", "evt.2026:11.a");
  EXPECT_EQ(records.size(), 2u) << "each receiver recognised the repeat by its webhook-id, however they are listed";
}

// "Signing keys should be unique per endpoint": the shop's own receiver checks its own key.
TEST(Messages, EachReceiverSignsWithItsOwnSecret) {
  RedisServer redis;
  Sandbox sandbox;
  auto answer = http_call("POST", sandbox.url() + "/__webhook/receiver",
                          R"({"hook":"north","secret":")" + north_secret + R"("})");
  ASSERT_EQ(answer.status, 200) << answer.body;
  const std::string north = sandbox.url() + "/hooks/north";
  auto worker =
      start_worker(redis, sandbox,
                   {"--record-webhook", sandbox.url() + "/hooks/ledger", "--record-webhook-for",
                    "acme-crafts.myshopify.com=" + north, "--webhook-secret-for", north + "=" + north_secret});
  ASSERT_EQ(enqueue(redis, job_notifying("evt_own_keys", "") + "\n").exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return queue_settled(redis, 1); }, 30s)) << worker->stderr_text();
  EXPECT_EQ(redis.integer({"XLEN", "rescind:dlq"}), 0) << worker->stderr_text();
  std::set<std::string> hooks;
  for (const auto& effect : sandbox.ledger()) {
    if (effect.provider == "webhook") hooks.insert(effect.ref.substr(0, effect.ref.find(':')));
  }
  EXPECT_EQ(hooks, (std::set<std::string>{"ledger", "north"})) << "each verified under its own key";

  // And a usage error names the receiver by its host only.
  auto refused = run_command(
      RESCIND_WORKER_BIN,
      worker_args(redis, sandbox, {"--record-webhook", north, "--webhook-secret-for", north + "=whsec_c2hvcnQ="}));
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find("24 to 64"), std::string::npos) << refused.err;
  EXPECT_EQ(refused.err.find("/hooks/north"), std::string::npos) << "the path is not shown: " << refused.err;
}

// "410 Gone: … Sender should disable the webhook endpoint, and stop sending it messages."
TEST(Messages, AReceiverAnswering410IsNeverCalledAgainByTheFleet) {
  RedisServer redis;
  Sandbox sandbox;
  auto gone = [&](bool is_gone) {
    auto answer = http_call("POST", sandbox.url() + "/__webhook/receiver",
                            std::string(R"({"hook":"old-erp","gone":)") + (is_gone ? "true" : "false") + "}");
    EXPECT_EQ(answer.status, 200) << answer.body;
    return answer.body;
  };
  gone(true);
  std::vector<std::string> flags{"--record-webhook", sandbox.url() + "/hooks/sheets",
                                 "--record-webhook", sandbox.url() + "/hooks/old-erp",
                                 "--retry",          "base=20ms,cap=100ms"};
  auto worker = start_worker(redis, sandbox, flags);
  ASSERT_EQ(enqueue(redis, job_notifying("evt_gone_1", "") + "\n").exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return queue_settled(redis, 1); }, 30s)) << worker->stderr_text();

  EXPECT_EQ(redis.integer({"XLEN", "rescind:dlq"}), 0) << "a receiver that left does not dead-letter the job";
  EXPECT_EQ(redis.integer({"HLEN", "rescind:receivers:gone"}), 1);
  EXPECT_EQ(metric(metrics_base(*worker), "rescind_record_receivers_disabled_total"), 1);
  EXPECT_NE(worker->stderr_text().find("410 Gone"), std::string::npos);
  EXPECT_EQ(worker->stderr_text().find("/hooks/old-erp"), std::string::npos) << "the log names it without its path";

  // Another worker of the fleet, another job: the receiver is not called again.
  auto second = start_worker(redis, sandbox, flags);
  stop(worker);
  ASSERT_EQ(enqueue(redis, job_notifying("evt_gone_2", "") + "\n").exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return queue_settled(redis, 2); }, 30s)) << second->stderr_text();
  EXPECT_NE(gone(true).find(R"("calls":1)"), std::string::npos) << "called once, the time it said 410";
  int sheets = 0;
  for (const auto& effect : sandbox.ledger())
    sheets += effect.provider == "webhook" && effect.ref.starts_with("sheets:");
  EXPECT_EQ(sheets, 2) << "the other receiver got both records";

  // On-call re-enables it (the receiver is back): the next job reaches it.
  gone(false);
  auto fields = redis.command({"HKEYS", "rescind:receivers:gone"});
  ASSERT_EQ(fields.elements.size(), 1u);
  redis.command({"HDEL", "rescind:receivers:gone", fields.elements[0].text});
  ASSERT_EQ(enqueue(redis, job_notifying("evt_gone_3", "") + "\n").exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return queue_settled(redis, 3); }, 30s)) << second->stderr_text();
  int old_erp = 0;
  for (const auto& effect : sandbox.ledger())
    old_erp += effect.provider == "webhook" && effect.ref.starts_with("old-erp:");
  EXPECT_EQ(old_erp, 1);
}

// ---------------------------------------------------------------------------------------------
// Zendesk: "The Ticketing API lets you specify an idempotency key … retry a ticket creation
// request without the risk of creating duplicate records" (Idempotency-Key, answered with
// x-idempotency-lookup: miss | hit).

std::string dispute(const std::string& id) {
  return replace(job_notifying(id, ""), R"("kind":"order.canceled")", R"("kind":"dispute.opened")");
}

TEST(Messages, ZendeskTicketWhoseAnswerWasLostIsNotOpenedTwice) {
  Stack stack;
  stack.sandbox.set_faults(R"({"zendesk":{"lose_response":1}})");
  stack.enqueue(dispute("evt_zd_lost") + "\n");
  stack.settle(1);
  EXPECT_EQ(stack.redis.integer({"XLEN", "rescind:dlq"}), 0) << stack.worker->stderr_text();
  EXPECT_EQ(stack.effects("zendesk", "evt_zd_lost").size(), 1u) << "one ticket";
  EXPECT_EQ(stack.sandbox.summary("replayed"), 1) << "the retry sent the same key and got the first ticket back";
}

// Two holders of one job (a worker stalled past the visibility timeout and the one that claimed
// its entry) open its ticket at the same moment. Looking up external_id and then creating
// opened two; one key opens one.
TEST(Messages, TwoHoldersOfOneJobOpenOneZendeskTicket) {
  Sandbox sandbox;
  sandbox.set_faults(R"({"zendesk":{"delay_ms":300}})");  // both requests are out before either is answered
  jobs::JobParser parser;
  auto parsed = parser.parse(dispute("evt_zd_race"));
  ASSERT_TRUE(std::holds_alternative<jobs::Job>(parsed));
  const auto& job = std::get<jobs::Job>(parsed);
  std::string error;
  clients::ZendeskSettings settings{*clients::parse_url(sandbox.url(), error),
                                    std::string(sandbox_credentials::zendesk_email),
                                    std::string(sandbox_credentials::zendesk_api_token)};
  jobs::TicketMessage ticket{"Dispute on #1001", "The customer disputed the payment.", "high", "dispute"};
  std::vector<clients::Outcome> outcomes;
  run_sync([&](boost::asio::any_io_executor ex) -> boost::asio::awaitable<void> {
    clients::HttpClient http(ex, {});
    clients::ZendeskTickets zendesk(http, settings);
    for (int holder = 0; holder < 2; ++holder) {
      boost::asio::co_spawn(
          ex,
          [&]() -> boost::asio::awaitable<void> {
            outcomes.push_back(co_await zendesk.open(job, ticket, "rescind:evt_zd_race", "rescind:evt_zd_race:ticket"));
          },
          boost::asio::detached);
    }
    boost::asio::steady_timer tick(ex);
    while (outcomes.size() < 2) {
      tick.expires_after(10ms);
      co_await tick.async_wait(boost::asio::use_awaitable);
    }
  });
  ASSERT_EQ(outcomes.size(), 2u);
  for (const auto& outcome : outcomes) EXPECT_TRUE(outcome.ok()) << outcome.message;
  int tickets = 0;
  for (const auto& effect : sandbox.ledger()) tickets += effect.provider == "zendesk";
  EXPECT_EQ(tickets, 1);
  EXPECT_EQ(outcomes[0].reference, outcomes[1].reference) << "both hold the one ticket's id";
}

// ---------------------------------------------------------------------------------------------
// Mailgun refuses addresses that fail RFC 5321/5322 syntax ("parameter is not a valid address");
// a display name with '@' is one unless it is a quoted string.

TEST(Messages, MailgunRefusesAnUnquotedSpecialInADisplayNameAndTheClientQuotesIt) {
  Stack stack({"--email-provider", "mailgun"});
  auto send = [&](const std::string& to) {
    std::string body;
    clients::append_form_field(body, "from", "orders@mg.rescind.test");
    clients::append_form_field(body, "to", to);
    clients::append_form_field(body, "subject", "s");
    clients::append_form_field(body, "text", "t");
    return http_call(
        "POST", stack.sandbox.url() + "/v3/" + std::string(sandbox_credentials::mailgun_domain) + "/messages", body,
        {{"Authorization", clients::basic_auth("api", sandbox_credentials::mailgun_api_key)},
         {"Content-Type", "application/x-www-form-urlencoded"}});
  };
  EXPECT_EQ(send("Ana@Home <ana@example.com>").status, 400);
  EXPECT_EQ(send("Ana: VIP <ana@example.com>").status, 400);
  EXPECT_EQ(send(R"("Ana@Home: VIP" <ana@example.com>)").status, 200);
  EXPECT_EQ(send("Ana Jr. <ana@example.com>").status, 200)
      << "a '.' is tolerated, as the obsolete phrase syntax allows";

  stack.sandbox.set_faults("{}");
  auto job = replace(job_notifying("evt_mg_special", R"("email")"), R"("name":"Ana")", R"("name":"Ana@Home: VIP")");
  stack.enqueue(job + "\n");
  stack.settle(1);
  EXPECT_EQ(stack.redis.integer({"XLEN", "rescind:dlq"}), 0) << stack.worker->stderr_text();
  auto emails = stack.effects("mailgun", "evt_mg_special");
  ASSERT_EQ(emails.size(), 1u);
  EXPECT_EQ(emails[0].to, "ana@example.com");
}

// Twilio's limit is 1600 characters (the sandbox counts them as Twilio does, and refuses more
// with 21617); the client cuts a longer text between characters, never inside one.
TEST(Messages, ALongSmsIsCutToTwilios1600CharactersAsValidUtf8) {
  Sandbox sandbox;
  jobs::JobParser parser;
  auto parsed = parser.parse(job_notifying("evt_long_sms", R"("sms")"));
  ASSERT_TRUE(std::holds_alternative<jobs::Job>(parsed));
  std::string error;
  clients::TwilioSettings settings{
      *clients::parse_url(sandbox.url(), error), std::string(sandbox_credentials::twilio_account_sid),
      std::string(sandbox_credentials::twilio_auth_token), std::string(sandbox_credentials::twilio_from)};
  std::string text;
  for (int i = 0; i < 2000; ++i) text += "\xe2\x82\xac";  // €, three bytes each
  clients::Outcome outcome;
  run_sync([&](boost::asio::any_io_executor ex) -> boost::asio::awaitable<void> {
    clients::HttpClient http(ex, {});
    clients::TwilioSms twilio(http, settings);
    outcome = co_await twilio.send(std::get<jobs::Job>(parsed), text);
  });
  ASSERT_TRUE(outcome.ok()) << outcome.code << " " << outcome.message;
  auto ledger = sandbox.ledger();
  ASSERT_EQ(ledger.size(), 1u);
  EXPECT_EQ(ledger[0].text.size(), 1600u * 3) << "1600 whole characters";
  EXPECT_TRUE(ledger[0].text == text.substr(0, ledger[0].text.size())) << "cut between characters";
}

}  // namespace
}  // namespace rescind::testing
