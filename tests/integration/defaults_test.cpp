// Safe defaults and provider arithmetic: TLS 1.2 or later to providers, configurations that
// would leak keys or fake refunds refused at start (exit 2), amounts in each provider's own
// minor units, provider numbers that cannot overflow anything.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <boost/beast/http/error.hpp>
#include <cstdio>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <fstream>

#include "clients/http_client.hpp"
#include "common/sandbox_credentials.hpp"
#include "tests/support/stack.hpp"

namespace rescind::testing {
namespace {

using namespace std::chrono_literals;

std::string unreachable_redis() { return "redis://127.0.0.1:" + std::to_string(free_port()); }

std::string temp_dir() {
  char pattern[] = "/tmp/rescind-test-defaults-XXXXXX";
  return mkdtemp(pattern);
}

// `openssl s_server` with a certificate for 127.0.0.1, speaking only the versions in
// `versions`; `-www` answers a status page, `-WWW` serves files from the current directory.
struct TlsServer {
  std::string dir = temp_dir();
  std::string cert = dir + "/cert.pem", key = dir + "/key.pem";
  unsigned short port = free_port();
  std::unique_ptr<Process> process;

  explicit TlsServer(std::vector<std::string> versions, const std::string& mode = "-www") {
    auto made =
        run_command("openssl", {"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days",
                                "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"});
    if (made.exit_code != 0) throw std::runtime_error("openssl req failed: " + made.err);
    std::vector<std::string> args{"s_server", "-accept", std::to_string(port), "-cert", cert, "-key", key, mode};
    args.insert(args.end(), versions.begin(), versions.end());
    process = std::make_unique<Process>("openssl", args);
    for (;;) {
      auto line = process->read_line(10s);
      if (!line) throw std::runtime_error("openssl s_server did not start: " + process->stderr_text());
      if (*line == "ACCEPT") break;
    }
  }
};

// One GET with the worker's own HTTP client, trusting only `ca_file`.
clients::Exchange get_over_tls(unsigned short port, const std::string& ca_file, const std::string& path = "/") {
  boost::asio::io_context io;
  clients::HttpOptions options;
  options.ca_file = ca_file;
  clients::HttpClient http(io.get_executor(), options);
  std::string error;
  auto url = clients::parse_url("https://127.0.0.1:" + std::to_string(port), error).value();
  clients::Exchange exchange;
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        exchange = co_await http.send(url.origin, clients::HttpRequest{clients::http::verb::get, path, 11});
      },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  io.run();
  return exchange;
}

TEST(SafeDefaults, ProvidersAreSpokenToInTls12OrLaterOnly) {
  TlsServer modern({"-tls1_2"});
  auto ok = get_over_tls(modern.port, modern.cert);
  ASSERT_FALSE(ok.error) << ok.error.message() << " (the set-up itself must work)";
  EXPECT_EQ(ok.response.result_int(), 200u);

  // SECLEVEL=0 lets the server offer TLS 1.1 at all; whether it is spoken is the client's call.
  TlsServer legacy({"-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"});
  auto refused = get_over_tls(legacy.port, legacy.cert);
  ASSERT_TRUE(refused.error);
  // Refused at the version, in the hello: not negotiated first and failed later on a
  // legacy signature algorithm, as OpenSSL's security level alone would do.
  EXPECT_NE(refused.error.message().find("protocol version"), std::string::npos) << refused.error.message();
}

TEST(SafeDefaults, AProviderAnswerOverOneMebibyteIsAnErrorNotMemory) {
  // s_server -WWW serves from its working directory, which is this test's.
  auto name = "rescind-answer-" + std::to_string(getpid());
  std::ofstream(name + "-small") << std::string(100 << 10, 'x');
  std::ofstream(name + "-big") << std::string(3 << 20, 'x');
  TlsServer files({"-tls1_2"}, "-WWW");
  auto small = get_over_tls(files.port, files.cert, "/" + name + "-small");
  auto big = get_over_tls(files.port, files.cert, "/" + name + "-big");
  std::remove((name + "-small").c_str());
  std::remove((name + "-big").c_str());
  ASSERT_FALSE(small.error) << small.error.message();
  EXPECT_EQ(small.response.body().size(), 100u << 10);
  ASSERT_TRUE(big.error) << "3 MiB read into memory";
  EXPECT_EQ(big.error, clients::http::error::body_limit) << big.error.message();
}

TEST(SafeDefaults, ACaFileThatCannotBeLoadedIsAUsageError) {
  auto dir = temp_dir();
  std::ofstream(dir + "/not-a-bundle.pem") << "not a certificate\n";
  for (const std::string& ca : {std::string("/nonexistent/ca.pem"), dir + "/not-a-bundle.pem"}) {
    auto run = run_command(RESCIND_WORKER_BIN, {"--redis", unreachable_redis(), "--sandbox", "http://127.0.0.1:1",
                                                "--metrics-listen", "off", "--ca-file", ca});
    EXPECT_EQ(run.exit_code, 2) << ca << ": " << run.err;
    EXPECT_NE(run.err.find("--ca-file"), std::string::npos) << run.err;
  }
}

// The worker's verdict on a configuration: 2 if refused, 1 if accepted (then Redis, absent, stops it).
Ran configured(std::vector<std::string> flags) {
  flags.insert(flags.end(), {"--redis", unreachable_redis(), "--metrics-listen", "off"});
  return run_command(RESCIND_WORKER_BIN, flags);
}

std::vector<std::string> with(std::vector<std::string> flags, const std::string& flag, const std::string& value) {
  for (std::size_t i = 0; i + 1 < flags.size(); ++i) {
    if (flags[i] == flag) {
      flags[i + 1] = value;
      return flags;
    }
  }
  flags.insert(flags.end(), {flag, value});
  return flags;
}

TEST(SafeDefaults, PlainHttpOnlyToLoopbackUnlessAllowed) {
  auto loopback = provider_flags("http://127.0.0.1:1");
  EXPECT_EQ(configured(loopback).exit_code, 1) << "loopback (the sandbox, a local proxy) is fine";

  auto clear = with(loopback, "--stripe-url", "http://10.255.0.1:8080");
  auto refused = configured(clear);
  EXPECT_EQ(refused.exit_code, 2) << refused.err;
  EXPECT_NE(refused.err.find("--stripe-url"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("--allow-insecure-http"), std::string::npos) << "says how to override";
  clear.push_back("--allow-insecure-http");
  EXPECT_EQ(configured(clear).exit_code, 1) << "accepted when asked for";
  EXPECT_EQ(configured(with(loopback, "--stripe-url", "https://10.255.0.1:8443")).exit_code, 1);

  EXPECT_EQ(configured(with(loopback, "--record-webhook", "http://books.example.com/hook")).exit_code, 2);
  EXPECT_EQ(configured({"--sandbox", "http://10.255.0.1:8099"}).exit_code, 2);
}

TEST(SafeDefaults, TheSandboxBesideRealCredentialsRefusesToStart) {
  auto sandbox = std::vector<std::string>{"--sandbox", "http://127.0.0.1:1"};
  EXPECT_EQ(configured(sandbox).exit_code, 1) << "the sandbox alone is fine";

  auto flag = configured(with(sandbox, "--stripe-api-key", "sk_live_51RealLookingKey000"));
  EXPECT_EQ(flag.exit_code, 2) << flag.err;
  EXPECT_NE(flag.err.find("STRIPE_API_KEY"), std::string::npos) << flag.err;
  EXPECT_EQ(flag.err.find("RealLookingKey"), std::string::npos) << "names the setting, never its value";

  auto live_shop = configured(with(sandbox, "--stripe-api-key-for", "south.myshopify.com=sk_live_51ShopKey"));
  EXPECT_EQ(live_shop.exit_code, 2) << live_shop.err;

  // From the environment, as a production deployment would have it.
  Process from_env(RESCIND_WORKER_BIN,
                   {"--sandbox", "http://127.0.0.1:1", "--redis", unreachable_redis(), "--metrics-listen", "off"},
                   {"SHOPIFY_ACCESS_TOKEN=shpat_0123456789abcdef"});
  EXPECT_EQ(from_env.wait(10s), 2) << from_env.stderr_text();
  EXPECT_NE(from_env.stderr_text().find("SHOPIFY_ACCESS_TOKEN"), std::string::npos) << from_env.stderr_text();
}

TEST(SafeDefaults, AWorkerOnTheSandboxSaysSoAtStart) {
  RedisServer redis;
  Sandbox sandbox;
  auto worker = start_worker(redis, sandbox);
  ASSERT_TRUE(wait_until([&] { return worker->stderr_text().find("sandbox mode") != std::string::npos; }, 10s))
      << worker->stderr_text();
  EXPECT_NE(worker->stderr_text().find(sandbox.url()), std::string::npos);
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  return text.replace(text.find(from), from.size(), to);
}

TEST(Money, StripeAmountsAreInStripesOwnMinorUnits) {
  RedisServer redis;
  Sandbox sandbox;
  auto worker = start_worker(redis, sandbox, {"--retry", "base=20ms,cap=100ms"});
  // A Stripe refund takes its payment's currency: each currency has its own payment.
  sandbox.control("stripe", "payment", R"({"id":"pi_mga","currency":"mga"})");
  sandbox.control("stripe", "payment", R"({"id":"pi_isk","currency":"isk"})");
  auto paid_with = [](std::string job, const std::string& payment) {
    return replaced(job, "pi_3MtwBwLkdIwHu7ix28a3tqPa", payment);
  };
  ASSERT_EQ(enqueue(redis, paid_with(job_json("evt_mga", 150000, "MGA"), "pi_mga") + "\n" +
                               paid_with(job_json("evt_isk", 1490, "ISK"), "pi_isk") + "\n" +
                               job_json("evt_usd", 14900, "USD") + "\n" +
                               paid_with(job_json("evt_mga_fraction", 150050, "MGA"), "pi_mga") + "\n")
                .exit_code,
            0);
  ASSERT_TRUE(wait_until([&] { return queue_settled(redis, 4); }, 30s)) << worker->stderr_text();

  std::map<std::string, Effect> refunds;
  for (const auto& e : sandbox.ledger()) {
    if (e.action == "refund") refunds[e.job_id] = e;
  }
  EXPECT_EQ(refunds["evt_mga"].amount_minor, 1500) << "1,500.00 ariary: zero-decimal at Stripe, not 150000";
  EXPECT_EQ(refunds["evt_mga"].currency, "mga");
  EXPECT_EQ(refunds["evt_isk"].amount_minor, 149000) << "1,490 krónur: two-decimal in Stripe's API";
  EXPECT_EQ(refunds["evt_isk"].currency, "isk");
  EXPECT_EQ(refunds["evt_usd"].amount_minor, 14900);
  EXPECT_EQ(refunds["evt_usd"].currency, "usd");
  EXPECT_FALSE(refunds.contains("evt_mga_fraction")) << "half an ariary cannot be refunded at Stripe: never rounded";
  auto dead = stream_entries(redis, "rescind:dlq");
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0]["code"], "amount_not_representable");
  EXPECT_EQ(dead[0]["reason"], "permanent");
}

// PayPal's expires_in is taken within reason: a token claimed to live for ever (an
// overflow, before) or to be already expired (a fetch before every call, before) is one
// token for a run of refunds.
void paypal_tokens_with_claim(const std::string& expires_in) {
  RedisServer redis;
  Sandbox sandbox({"--paypal-claim-expires-in=" + expires_in});  // "=": a value that may start with "-"
  auto worker = start_worker(redis, sandbox, {"--max-in-flight", "1"});
  std::string input;
  for (int i = 0; i < 20; ++i) {
    input += replaced(job_json("evt_pp_" + std::to_string(i)),
                      R"("provider":"stripe","reference":"pi_3MtwBwLkdIwHu7ix28a3tqPa")",
                      R"("provider":"paypal","reference":"CAP)" + std::to_string(2000 + i) + "\"") +
             "\n";
  }
  ASSERT_EQ(enqueue(redis, input).exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return queue_settled(redis, 20); }, 60s)) << worker->stderr_text();
  EXPECT_EQ(sandbox.count_by_action()["refund"], 20) << worker->stderr_text();
  auto issued = http_call("POST", sandbox.url() + "/__paypal/expire-tokens");
  EXPECT_EQ(issued.body, R"({"expired":1})") << "one token for 20 refunds, not one per refund";
}

TEST(ProviderNumbers, AHugePayPalExpiresInIsOneTokenNotAnOverflow) { paypal_tokens_with_claim("9223372036854775807"); }
TEST(ProviderNumbers, ANegativePayPalExpiresInIsOneTokenNotOnePerCall) { paypal_tokens_with_claim("-5"); }

}  // namespace
}  // namespace rescind::testing
