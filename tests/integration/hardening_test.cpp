// Issue 11 items 3 and 4 against real processes: job data cannot inject recipients, mentions,
// path segments, envelope fields or terminal escapes, and no credential reaches a log line, a
// DLQ entry or a start-up error. (The suite-wide scan for the sandbox's credentials is the
// test no_secret_in_any_output, tests/CMakeLists.txt.)
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/sandbox_credentials.hpp"
#include "tests/support/stack.hpp"

namespace rescind::testing {
namespace {

using namespace std::chrono_literals;

// A job whose only message goes through `notify` (one of "email", "sms", "staff"), or none.
std::string job_notifying(const std::string& id, const std::string& notify) {
  return replace(job_json(id), R"("notify":["email","sms","staff"])", R"("notify":[)" + notify + "]");
}

std::vector<std::string> plus(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

struct Stack {
  RedisServer redis;
  Sandbox sandbox;
  std::unique_ptr<Process> worker;

  explicit Stack(std::vector<std::string> flags = {}) {
    flags.insert(flags.end(), {"--retry", "base=20ms,cap=100ms", "--visibility-timeout", "1s"});
    worker = start_worker(redis, sandbox, flags);
  }
  void settle(long long entries) {
    ASSERT_TRUE(wait_until([&] { return queue_settled(redis, entries); }, 30s)) << worker->stderr_text();
  }
  std::vector<Effect> effects(const std::string& job_id, const std::string& action) {
    std::vector<Effect> out;
    for (auto& effect : sandbox.ledger()) {
      if (effect.job_id == job_id && effect.action == action) out.push_back(std::move(effect));
    }
    return out;
  }
};

// H3. The sandbox splits Mailgun's `to` as Mailgun does (a comma-separated list): with the
// name unquoted this job reached two recipients, one chosen by the shopper.
TEST(Injection, ACustomerNameCannotAddAMailgunRecipient) {
  Stack stack({"--email-provider", "mailgun"});
  auto named = [](const std::string& id, const std::string& name) {
    return replace(job_notifying(id, R"("email")"), R"("name":"Ana")", R"("name":")" + name + "\"");
  };
  // The review's experiment, and a name with a quote and a backslash of its own.
  auto input = named("evt_name_inject", "Ana <attacker@evil.example>, Bob") + "\n" +
               named("evt_name_quotes", R"(\"Bob\\\" Doe, Jr. <x@evil.example>)") + "\n";
  ASSERT_EQ(enqueue(stack.redis, input).exit_code, 0);
  stack.settle(2);
  for (const auto* id : {"evt_name_inject", "evt_name_quotes"}) {
    auto emails = stack.effects(id, "email");
    ASSERT_EQ(emails.size(), 1u) << id << ": " << stack.worker->stderr_text();
    EXPECT_EQ(emails[0].to, "ana@example.com") << id << ": the only recipient is the customer's own address";
  }
}

// L4. Slack turns <!channel> into a channel-wide ping and <url|label> into a disguised link;
// as entities they are shown as written.
TEST(Injection, SlackMentionsAndLinksFromAJobAreShownAsText) {
  Stack stack;
  auto job = replace(job_notifying("evt_slack_inject", R"("staff")"), R"("name":"#1001")",
                     R"("name":"<!channel> <https://evil.example/login|Approve refund #1001> & co")");
  job = replace(job, R"("reason":"customer")", R"("reason":"<!here> urgent")");
  ASSERT_EQ(enqueue(stack.redis, job + "\n").exit_code, 0);
  stack.settle(1);
  auto posts = stack.effects("evt_slack_inject", "staff");
  ASSERT_EQ(posts.size(), 1u) << stack.worker->stderr_text();
  const auto& text = posts[0].text;
  EXPECT_EQ(text.find('<'), std::string::npos) << text;
  EXPECT_EQ(text.find('>'), std::string::npos) << text;
  EXPECT_NE(text.find("&lt;!channel&gt; &lt;https://evil.example/login|Approve refund #1001&gt; &amp; co"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("&lt;!here&gt; urgent"), std::string::npos) << text;
}

// L3. ".." as a PayPal capture id made the path /v2/payments/captures/../refund.
TEST(Injection, ADotReferenceIsRefusedBeforeAnyProviderCall) {
  Stack stack;
  auto job = replace(job_json("evt_dots"), R"("provider":"stripe","reference":"pi_3MtwBwLkdIwHu7ix28a3tqPa")",
                     R"("provider":"paypal","reference":"..")");
  ASSERT_EQ(enqueue(stack.redis, job + "\n", /*validate=*/false).exit_code, 0);
  stack.settle(1);
  auto dlq = stream_entries(stack.redis, "rescind:dlq");
  ASSERT_EQ(dlq.size(), 1u);
  EXPECT_EQ(dlq[0]["reason"], "invalid_payload");
  EXPECT_NE(dlq[0]["error"].find("payment.reference"), std::string::npos) << dlq[0]["error"];
  EXPECT_EQ(stack.sandbox.ledger().size(), 0u) << "no provider was called";
}

// L5, the review's experiment: an entry whose origin_id holds a ':' fails once (retryable).
// Its retry set member is attempt:first_at:origin_id:job, and the ':' used to shift the
// split: the job came back as "b:{…}" and was dead-lettered as invalid_payload.
TEST(Injection, AColonInOriginIdDoesNotCorruptTheJobAtItsRetry) {
  Stack stack;
  stack.sandbox.set_faults(R"({"stripe":{"status":503,"count":1}})");
  auto job = job_notifying("evt_origin", "");
  auto id = stack.redis.command({"XADD", "rescind:jobs", "*", "job", job, "attempt", "1", "origin_id", "a:b"}).text;
  stack.settle(2);  // the entry and its retry
  EXPECT_EQ(stack.effects("evt_origin", "refund").size(), 1u) << stack.worker->stderr_text();
  EXPECT_EQ(stack.redis.integer({"XLEN", "rescind:dlq"}), 0) << stack.worker->stderr_text();
  auto log = stack.worker->stderr_text();
  EXPECT_NE(log.find("retry envelope was unusable"), std::string::npos) << log;
  EXPECT_NE(log.find("\"origin_id\":\"" + id + "\""), std::string::npos) << "the entry's own id replaces it: " << log;
}

// L5: attempt 4294967295 became -1 as an int, first_at near INT64_MIN overflowed now - first_at.
TEST(Injection, OutOfRangeAttemptAndFirstAtAreReplacedNotTrusted) {
  Stack stack;
  stack.sandbox.set_faults(R"({"stripe":{"status":400}})");  // permanent: dead-lettered at once
  auto id = stack.redis
                .command({"XADD", "rescind:jobs", "*", "job", job_notifying("evt_envelope", ""), "attempt",
                          "4294967295", "first_at", "-9223372036854775808", "origin_id", "1-0\r\nforged"})
                .text;
  stack.settle(1);
  auto dlq = stream_entries(stack.redis, "rescind:dlq");
  ASSERT_EQ(dlq.size(), 1u) << stack.worker->stderr_text();
  EXPECT_EQ(dlq[0]["reason"], "permanent") << "not expired: the age comes from the entry's own time";
  EXPECT_EQ(dlq[0]["attempt"], "1000") << "clamped to the most any policy allows";
  EXPECT_EQ(dlq[0]["origin_id"], id);
}

// M2. A provider (or a proxy in front of it) that echoes the request in its error: the
// Basic credentials of Twilio, Mailgun and Zendesk, PayPal's bearer token and Slack's secret
// path reach the DLQ's error texts and the log lines only as [redacted]. (The sandbox keeps
// PayPal's token endpoint out of faults; PayPal's Basic pair goes through the same
// basic_auth() and is covered by the unit test Redaction.*.)
TEST(Secrets, EchoedCredentialsAreRedactedInTheDlqAndTheLog) {
  Stack stack({"--email-provider", "mailgun"});
  std::string echo = R"({"status":400,"echo_request":true})";
  stack.sandbox.set_faults(R"({"twilio":)" + echo + R"(,"mailgun":)" + echo + R"(,"zendesk":)" + echo +
                           R"(,"paypal":)" + echo + "}");
  auto paypal =
      replace(job_notifying("evt_echo_paypal", ""), R"("provider":"stripe","reference":"pi_3MtwBwLkdIwHu7ix28a3tqPa")",
              R"("provider":"paypal","reference":"2GG279541U471931P")");
  auto dispute = replace(
      replace(job_notifying("evt_echo_zendesk", ""), R"("kind":"order.canceled")", R"("kind":"dispute.opened")"),
      R"("notify":[])", R"("notify":[],"dispute":{"reason":"fraudulent","evidence_due_by":"2099-02-01T00:00:00Z"})");
  std::string input = job_notifying("evt_echo_twilio", R"("sms")") + "\n" +
                      job_notifying("evt_echo_mailgun", R"("email")") + "\n" + paypal + "\n" + dispute + "\n";
  ASSERT_EQ(enqueue(stack.redis, input).exit_code, 0);
  stack.settle(4);
  // Slack on its own: a dispute's staff alert must succeed above for its ticket to be tried.
  stack.sandbox.set_faults(R"({"slack":)" + echo + "}");
  ASSERT_EQ(enqueue(stack.redis, job_notifying("evt_echo_slack", R"("staff")") + "\n").exit_code, 0);
  stack.settle(5);

  auto dlq = stream_entries(stack.redis, "rescind:dlq");
  ASSERT_EQ(dlq.size(), 5u) << stack.worker->stderr_text();
  std::map<std::string, std::string> error_by_provider;
  for (auto& entry : dlq) error_by_provider[entry["provider"]] = entry["error"];
  for (const auto* provider : {"twilio", "mailgun", "zendesk"}) {
    const auto& error = error_by_provider[provider];
    EXPECT_NE(error.find("refused; Authorization: Basic [redacted]"), std::string::npos) << provider << ": " << error;
  }
  EXPECT_NE(error_by_provider["paypal"].find("refused; Authorization: Bearer [redacted]"), std::string::npos)
      << error_by_provider["paypal"];
  const auto& slack = error_by_provider["slack"];
  EXPECT_NE(slack.find("POST [redacted] refused"), std::string::npos) << "the hook's path is its secret: " << slack;
  auto log = stack.worker->stderr_text();
  EXPECT_NE(log.find("Authorization: Basic [redacted]"), std::string::npos) << log;
  EXPECT_NE(log.find("POST [redacted] refused"), std::string::npos) << log;
  for (std::string_view secret : {sandbox_credentials::twilio_auth_token, sandbox_credentials::slack_webhook_path}) {
    EXPECT_EQ(log.find(secret), std::string::npos) << "the log holds " << secret;
  }
}

// M3. What a misconfiguration prints: never the secret that came with it.
TEST(Secrets, UsageErrorsDoNotEchoSecrets) {
  auto required = std::vector<std::string>{"--redis",
                                           "redis://127.0.0.1:1",
                                           "--stripe-api-key",
                                           "sk_test_RequiredKeyValue1",
                                           "--sendgrid-api-key",
                                           "SG.RequiredKeyValue2",
                                           "--email-from",
                                           "orders@rescind.test",
                                           "--twilio-account-sid",
                                           "AC1",
                                           "--twilio-auth-token",
                                           "RequiredTokenValue3",
                                           "--twilio-from",
                                           "+15005550006"};
  auto with = [&](std::vector<std::string> more) {
    auto args = required;
    args.insert(args.end(), more.begin(), more.end());
    return args;
  };
  struct Case {
    std::vector<std::string> args;
    std::string secret, shown;
  };
  std::vector<Case> cases{
      {{"--redis", "rediss://default:S3cretRedisPW@redis.internal:port"}, "S3cretRedisPW", "rediss://redis.internal"},
      {{"--redis", "redis://:S3cretRedisPW@redis.internal:port"}, "S3cretRedisPW", "redis://redis.internal"},
      {with({"--slack-webhook-url", "hooks.slack.com/services/T0/B0/SlackHookSecret1"}), "SlackHookSecret1",
       "not an http"},
      {with({"--slack-webhook-url", "https://hooks.slack.com:99999/services/T0/B0/SlackHookSecret2"}),
       "SlackHookSecret2", "https://hooks.slack.com"},
      {with({"--slack-webhook-url", "https://hooks.slack.com/x", "--stripe-api-key-for", "sk_live_51HxyzNoDomain"}),
       "sk_live_51HxyzNoDomain", "--stripe-api-key-for"},
      {with({"--slack-webhook-url", "https://hooks.slack.com/x", "--shopify-token", "shpat_NoDomainSecret"}),
       "shpat_NoDomain", "--shopify-token"},
      {with({"--slack-webhook-url", "https://hooks.slack.com/x", "--record-webhook-for",
             "acme.example=https://records.example:0/RecordHookSecret", "--webhook-secret",
             std::string(sandbox_credentials::webhook_secret)}),
       "RecordHookSecret", "https://records.example"},
  };
  for (const auto& c : cases) {
    auto ran = run_command(RESCIND_WORKER_BIN, c.args);
    EXPECT_EQ(ran.exit_code, 2) << ran.err;
    EXPECT_EQ(ran.err.find(c.secret), std::string::npos) << ran.err;
    EXPECT_NE(ran.err.find(c.shown), std::string::npos) << "the message still says what is wrong: " << ran.err;
  }
  auto ctl = run_command(RESCIND_CTL_BIN, {"--redis", "rediss://:CtlSecretPW@redis.internal:port", "stats"});
  EXPECT_EQ(ctl.exit_code, 2) << ctl.err;
  EXPECT_EQ(ctl.err.find("CtlSecretPW"), std::string::npos) << ctl.err;
  EXPECT_NE(ctl.err.find("rediss://redis.internal"), std::string::npos) << ctl.err;
}

struct SecretFiles {
  std::string dir;
  SecretFiles() {
    char pattern[] = "/tmp/rescind-test-secrets-XXXXXX";
    dir = mkdtemp(pattern);
  }
  ~SecretFiles() { std::filesystem::remove_all(dir); }
  std::string write(const std::string& name, const std::string& content) {
    auto path = dir + "/" + name;
    std::ofstream(path) << content;
    return path;
  }
};

// L8. Credentials from files, as a container platform mounts them (each with the trailing
// newline an editor or `echo` leaves), some by flag and some by *_FILE variable, a list
// option among them: the sandbox checks each credential, so the job's effects (an
// order.canceled job: refund, email, sms, staff) prove they were read right.
TEST(Secrets, CredentialsAreReadFromFilesByFlagOrFileVariable) {
  namespace creds = sandbox_credentials;
  RedisServer redis;
  Sandbox sandbox;
  SecretFiles files;
  auto url = sandbox.url();
  std::vector<std::string> args{"--redis-file", files.write("redis", redis.url() + "\n"), "--metrics-listen", "off",
                                "--block", "100ms", "--stripe-url", url, "--sendgrid-url", url, "--twilio-url", url,
                                // The shop's own key, from a list file (CRLF): the default key is wrong on purpose.
                                "--stripe-api-key", "sk_test_not_the_sandbox_key", "--stripe-api-key-for-file",
                                files.write("stripe", "other.example=sk_test_other\nacme-crafts.myshopify.com=" +
                                                          std::string(creds::stripe_api_key) + "\r\n"),
                                "--email-from", std::string(creds::sendgrid_from), "--twilio-account-sid",
                                std::string(creds::twilio_account_sid), "--twilio-from",
                                std::string(creds::twilio_from), "--slack-webhook-url-file",
                                files.write("slack", url + std::string(creds::slack_webhook_path) + "\n")};
  std::vector<std::string> env{
      "SENDGRID_API_KEY_FILE=" + files.write("sendgrid", std::string(creds::sendgrid_api_key) + "\n"),
      "TWILIO_AUTH_TOKEN_FILE=" + files.write("twilio", std::string(creds::twilio_auth_token) + "\n")};
  auto worker = std::make_unique<Process>(RESCIND_WORKER_BIN, args, env);
  ASSERT_EQ(enqueue(redis, job_json("evt_from_files") + "\n").exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return queue_settled(redis, 1); }, 30s)) << worker->stderr_text();
  std::map<std::string, int> actions;
  for (const auto& effect : sandbox.ledger()) {
    if (effect.job_id == "evt_from_files") ++actions[effect.provider + "/" + effect.action];
  }
  EXPECT_EQ(actions["stripe/refund"], 1) << worker->stderr_text();
  EXPECT_EQ(actions["sendgrid/email"], 1);
  EXPECT_EQ(actions["twilio/sms"], 1);
  EXPECT_EQ(actions["slack/staff"], 1);
  EXPECT_EQ(redis.integer({"XLEN", "rescind:dlq"}), 0) << worker->stderr_text();
}

TEST(Secrets, AnUnreadableOrDoubleGivenSecretFileIsAUsageError) {
  SecretFiles files;
  auto missing = run_command(RESCIND_WORKER_BIN,
                             {"--sandbox", "http://127.0.0.1:1", "--stripe-api-key-file", files.dir + "/absent"});
  EXPECT_EQ(missing.exit_code, 2) << missing.err;
  EXPECT_NE(missing.err.find("--stripe-api-key-file: cannot read"), std::string::npos) << missing.err;
  auto both = run_command(RESCIND_WORKER_BIN, {"--sandbox", "http://127.0.0.1:1", "--stripe-api-key", "sk_test_x",
                                               "--stripe-api-key-file", files.write("k", "sk_test_y\n")});
  EXPECT_EQ(both.exit_code, 2) << both.err;
  EXPECT_NE(both.err.find("both set"), std::string::npos) << both.err;
  auto ctl = run_command(RESCIND_CTL_BIN, {"--redis-file", files.dir + "/absent", "stats"});
  EXPECT_EQ(ctl.exit_code, 2) << ctl.err;
}

// L8. A secret given as a flag is in /proc/PID/cmdline, which any user of the host reads
// (ps): the worker stars it there once parsed, says so, and still uses the real value.
TEST(Secrets, SecretFlagsAreStarredInTheProcessList) {
  namespace creds = sandbox_credentials;
  RedisServer redis;
  Sandbox sandbox;
  std::vector<std::string> args{"--redis", redis.url(), "--metrics-listen", "127.0.0.1:0", "--block", "100ms"};
  for (auto& flag : provider_flags(sandbox.url())) args.push_back(flag);
  auto worker = std::make_unique<Process>(RESCIND_WORKER_BIN, args);
  metrics_base(*worker);  // started: past the parsing
  std::ifstream in("/proc/" + std::to_string(worker->pid()) + "/cmdline", std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  auto cmdline = text.str();
  ASSERT_NE(cmdline.find("--stripe-api-key"), std::string::npos) << "read the worker's own command line";
  for (std::string_view secret :
       {creds::stripe_api_key, creds::sendgrid_api_key, creds::twilio_auth_token, creds::slack_webhook_path}) {
    EXPECT_EQ(cmdline.find(secret), std::string::npos) << "ps shows " << secret;
  }
  EXPECT_NE(cmdline.find(std::string(creds::stripe_api_key.size(), '*')), std::string::npos);
  EXPECT_NE(cmdline.find(std::string(creds::twilio_account_sid)), std::string::npos) << "not a secret: left as given";

  ASSERT_EQ(enqueue(redis, job_json("evt_starred") + "\n").exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return queue_settled(redis, 1); }, 30s)) << worker->stderr_text();
  auto done = sandbox.count_by_action();
  EXPECT_EQ(done["refund"], 1) << "the real key was used, not the stars";
  EXPECT_EQ(done["email"], 1);
  EXPECT_EQ(done["sms"], 1);
  EXPECT_EQ(done["staff"], 1);
  auto log = worker->stderr_text();
  for (const char* flag : {"--stripe-api-key", "--sendgrid-api-key", "--twilio-auth-token", "--slack-webhook-url"}) {
    EXPECT_NE(log.find(std::string(R"("flag":")") + flag + "\""), std::string::npos)
        << "warned about " << flag << ": " << log;
  }
}

// L8. A core file would hold every credential in clear.
TEST(Secrets, TheWorkerWritesNoCoreDump) {
  RedisServer redis;
  Sandbox sandbox;
  auto worker = start_worker(redis, sandbox);
  metrics_base(*worker);  // started: past the start-up code
  std::ifstream limits("/proc/" + std::to_string(worker->pid()) + "/limits");
  std::string line, core;
  while (std::getline(limits, line)) {
    if (line.starts_with("Max core file size")) core = line;
  }
  ASSERT_FALSE(core.empty());
  std::istringstream fields(core.substr(std::string("Max core file size").size()));
  std::string soft, hard;
  fields >> soft >> hard;
  EXPECT_EQ(soft, "0") << core;
  EXPECT_EQ(hard, "0") << core;
}

// M7. Ids, kinds and payloads come from upstream; rescindctl shows their control
// characters as \x1b (C0, DEL, C1), never sends them to the terminal.
TEST(Injection, RescindctlShowsControlCharactersEscaped) {
  Stack stack;
  std::string esc_id = R"({"v":1,"id":"\u001b]0;pwned\u0007\u001b[2K\u001b[1Aok","kind":"order.canceled"})";
  std::string esc_kind = R"({"v":1,"id":"evt_kind","kind":"\u001b[31mFAKE\u001b[0m\u007f"})";
  std::string c1 =
      "{\"v\":1,\"id\":\"evt_c1\",\"kind\":\"order.canceled\",\"reason\":\"\xc2\x9b"
      "31mred\"}";
  std::string not_json =
      "not json \x1b[2J\xc2\x9b"
      "2J\x9b";
  ASSERT_EQ(enqueue(stack.redis, esc_id + "\n" + esc_kind + "\n" + c1 + "\n" + not_json + "\n", false).exit_code, 0);
  stack.settle(4);
  auto no_raw_controls = [](const std::string& text) {
    for (std::size_t i = 0; i < text.size(); ++i) {
      auto c = static_cast<unsigned char>(text[i]);
      if ((c < 0x20 && c != '\n') || c == 0x7f) return false;
      if (c == 0xc2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) <= 0x9f) return false;
      if (c >= 0x80 && c <= 0x9f && (i == 0 || static_cast<unsigned char>(text[i - 1]) < 0xc2)) return false;
    }
    return true;
  };
  auto ctl = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--redis", stack.redis.url()});
    return run_command(RESCIND_CTL_BIN, args);
  };
  auto list = ctl({"dlq", "list"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_TRUE(no_raw_controls(list.out)) << list.out;
  EXPECT_NE(list.out.find("\\x1b]0;pwned\\x07"), std::string::npos) << list.out;
  std::vector<std::string> show{"dlq", "show"};
  for (const auto& entry : stream_entries(stack.redis, "rescind:dlq")) show.push_back(entry.at("_id"));
  auto shown = ctl(show);
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_TRUE(no_raw_controls(shown.out)) << shown.out;
  EXPECT_NE(shown.out.find("\\x1b[31mFAKE\\x1b[0m\\x7f"), std::string::npos) << shown.out;
  EXPECT_NE(shown.out.find("\\x9b31mred"), std::string::npos) << "a C1 control in valid JSON: " << shown.out;
  EXPECT_NE(shown.out.find("not json \\x1b[2J\\x9b2J\\x9b"), std::string::npos) << "the raw dump: " << shown.out;
  // JSON may carry DEL and C1 raw, but its readers are terminals too (jq, less, a log
  // viewer): escaped as \u007f and \u009b, the same text to any JSON parser.
  for (std::vector<std::string> json :
       {std::vector<std::string>{"dlq", "list", "--json"}, {"dlq", "export"}, plus(show, {"--json"})}) {
    auto out = ctl(json);
    ASSERT_EQ(out.exit_code, 0) << out.err;
    EXPECT_TRUE(no_raw_controls(out.out)) << json[1] << ": " << out.out;
    EXPECT_NE(out.out.find("\\u009b31mred"), std::string::npos) << json[1] << ": " << out.out;
  }
}

}  // namespace
}  // namespace rescind::testing
