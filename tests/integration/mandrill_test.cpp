// Mailchimp Transactional (Mandrill) end to end: a shop that chose it gets its customer email
// through it (the sandbox's ledger says so), the API key it carries inside the request body
// shows nowhere in the worker's output, and a send whose answer the client saw lost is looked
// up by its job id before it is made again.
#include <gtest/gtest.h>

#include <chrono>
#include <variant>

#include "clients/http_client.hpp"
#include "clients/mandrill.hpp"
#include "common/mandrill_credentials.hpp"
#include "jobs/parse.hpp"
#include "tests/support/stack.hpp"

namespace rescind::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* shop = "acme-crafts.myshopify.com";  // job_json's shop

// A job of job_json's shop whose only message is the customer's email.
std::string email_job(const std::string& id) {
  return replace(job_json(id), R"("notify":["email","sms","staff"])", R"("notify":["email"])");
}

struct MandrillStack {
  RedisServer redis;
  Sandbox sandbox;
  std::unique_ptr<Process> worker;

  MandrillStack() {
    // Debug logging: the most the worker ever writes, so the most that could leak.
    worker = start_worker(redis, sandbox,
                          {"--email-provider-for", std::string(shop) + "=mandrill", "--log-level", "debug", "--retry",
                           "base=20ms,cap=100ms", "--visibility-timeout", "1s"});
  }
  void run(const std::string& job) {
    auto ran = enqueue(redis, job + "\n");
    ASSERT_EQ(ran.exit_code, 0) << ran.err;
    ASSERT_TRUE(wait_until([&] { return queue_settled(redis, 1); }, 60s)) << worker->stderr_text();
  }
  std::vector<Effect> emails(const std::string& provider, const std::string& job_id) {
    std::vector<Effect> out;
    for (auto& effect : sandbox.ledger()) {
      if (effect.provider == provider && effect.action == "email" && effect.job_id == job_id)
        out.push_back(std::move(effect));
    }
    return out;
  }
  // Everything the worker wrote: its log (stderr), its stdout, and what it left in Redis's
  // dead-letter queue.
  std::string output() {
    std::string text = worker->stderr_text();
    while (auto line = worker->read_line(0ms)) text += *line + "\n";
    for (const auto& entry : stream_entries(redis, "rescind:dlq")) {
      for (const auto& [field, value] : entry) text += field + "=" + value + "\n";
    }
    return text;
  }
};

TEST(Mandrill, AShopsEmailGoesThroughMandrillAndItsKeyShowsNowhere) {
  MandrillStack stack;
  // One failure first, so the worker also logs a refused call and its retry.
  stack.sandbox.set_faults(R"({"mandrill":{"status":500,"count":1}})");
  stack.run(email_job("evt_md_1"));
  EXPECT_EQ(stack.redis.integer({"XLEN", "rescind:dlq"}), 0) << stack.worker->stderr_text();
  auto emails = stack.emails("mandrill", "evt_md_1");
  ASSERT_EQ(emails.size(), 1u) << stack.worker->stderr_text();
  EXPECT_EQ(emails[0].to, "ana@example.com");
  EXPECT_EQ(emails[0].ref.size(), 32u) << emails[0].ref;
  EXPECT_TRUE(stack.emails("sendgrid", "evt_md_1").empty()) << "the shop's own provider, not the default";

  auto output = stack.output();
  EXPECT_NE(output.find("evt_md_1"), std::string::npos) << "the worker logged the job at all";
  EXPECT_EQ(output.find(std::string(sandbox_credentials::mandrill_api_key)), std::string::npos) << output;
}

// The client's side of a lost answer, driven directly: a first call on a fresh connection
// whose answer is lost comes back to the client as a transport failure, and its next send for
// the job searches first. (Through the worker the same loss on a pooled connection is resent
// by HttpClient itself before the client sees it: clients/http_client.cpp.)
TEST(Mandrill, ASendWhoseAnswerWasLostIsLookedUpBeforeItIsMadeAgain) {
  Sandbox sandbox;
  sandbox.set_faults(R"({"mandrill":{"lose_response":1}})");
  jobs::JobParser parser;
  auto parsed = parser.parse(email_job("evt_md_lost"));
  ASSERT_TRUE(std::holds_alternative<jobs::Job>(parsed));
  const auto& job = std::get<jobs::Job>(parsed);
  std::string error;
  clients::MandrillSettings settings{*clients::parse_url(sandbox.url(), error),
                                     std::string(sandbox_credentials::mandrill_api_key), "orders@rescind.test",
                                     "Rescind"};
  jobs::EmailMessage message{"Your order #1001 was canceled", "We are sorry."};
  std::vector<clients::Outcome> outcomes;
  run_sync([&](boost::asio::any_io_executor ex) -> boost::asio::awaitable<void> {
    clients::HttpClient http(ex, {});
    clients::MandrillEmail email(http, settings);
    outcomes.push_back(co_await email.send(job, message));
    outcomes.push_back(co_await email.send(job, message));
  });
  ASSERT_EQ(outcomes.size(), 2u);
  EXPECT_EQ(outcomes[0].code, "transport") << outcomes[0].message;
  EXPECT_TRUE(outcomes[1].ok()) << outcomes[1].code << ": " << outcomes[1].message;
  std::vector<Effect> emails;
  for (const auto& effect : sandbox.ledger()) {
    if (effect.provider == "mandrill") emails.push_back(effect);
  }
  ASSERT_EQ(emails.size(), 1u) << "the second send found the first email instead of sending another";
  EXPECT_EQ(emails[0].job_id, "evt_md_lost");
  EXPECT_EQ(outcomes[1].reference, emails[0].ref);
}

// The sandbox is as strict as Mandrill where the worker could go wrong: the key in the body,
// a recipient and a sender.
TEST(Mandrill, TheSandboxRefusesAWrongKeyAndAMessageWithoutRecipientOrSender) {
  Sandbox sandbox;
  auto send = [&](const std::string& body) {
    return http_call("POST", sandbox.url() + "/api/1.3/messages/send", body, {{"Content-Type", "application/json"}});
  };
  std::string key(sandbox_credentials::mandrill_api_key);
  auto wrong = send(R"({"key":"md-wrong","message":{"from_email":"o@rescind.test","to":[{"email":"a@b.c"}]}})");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_NE(wrong.body.find(R"("name":"Invalid_Key")"), std::string::npos) << wrong.body;
  EXPECT_EQ(send("{not json").status, 400);
  auto no_to = send(R"({"key":")" + key + R"(","message":{"from_email":"o@rescind.test","to":[]}})");
  EXPECT_EQ(no_to.status, 400);
  EXPECT_NE(no_to.body.find(R"("name":"ValidationError")"), std::string::npos) << no_to.body;
  EXPECT_EQ(send(R"({"key":")" + key + R"(","message":{"to":[{"email":"a@b.c"}]}})").status, 400);
  auto sent = send(R"({"key":")" + key + R"(","message":{"from_email":"o@rescind.test","to":[{"email":"a@b.c"}]}})");
  EXPECT_EQ(sent.status, 200);
  EXPECT_NE(sent.body.find(R"("status":"sent")"), std::string::npos) << sent.body;
  int emails = 0;
  for (const auto& effect : sandbox.ledger()) emails += effect.provider == "mandrill";
  EXPECT_EQ(emails, 1) << "only the accepted message is in the ledger";
}

}  // namespace
}  // namespace rescind::testing
