// rescind-sandbox: fake payment and messaging providers for integration tests, the demo and
// benchmarks. Prints "listening on HOST:PORT" once ready; SIGINT/SIGTERM end it with 0.
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <charconv>
#include <cstdio>
#include <iostream>
#include <thread>
#include <vector>

#include "common/duration.hpp"
#include "common/log.hpp"
#include "sandbox/sandbox.hpp"
#include "sandbox/server.hpp"

namespace {

constexpr int exit_ok = 0;
constexpr int exit_failure = 1;
constexpr int exit_usage = 2;

struct Options {
  std::string listen = "127.0.0.1:8099";
  std::string ledger_mode = "full";
  unsigned threads = 1;
  std::string idle_timeout = "60s";
  std::string log_level = "info";
  std::string paypal_token_ttl = "9h";
  std::string paypal_expires_in;  // empty: the token's real lifetime
};

}  // namespace

int main(int argc, char** argv) {
  using namespace rescind;
  Options options;
  CLI::App app{
      "rescind-sandbox: a local stand-in for Stripe, PayPal, Square, Shopify (GraphQL), SendGrid,\n"
      "Mailgun, Twilio, Slack, Zendesk and signed back-office webhooks. It speaks their wire\n"
      "formats, checks the test credentials of common/sandbox_credentials.hpp, honours\n"
      "idempotency keys, injects faults on request and keeps a ledger of every side effect.\n"
      "Control endpoints: GET /__ledger[?job_id=&provider=], GET /__ledger/summary,\n"
      "POST /__reset, GET|POST /__faults, POST /__paypal/expire-tokens, POST /__twilio/queue-full,\n"
      "POST /__sendgrid/block, POST /__sendgrid/rate-limit, POST /__webhook/receiver,\n"
      "GET|POST /__shopify/scenario. Prints 'listening on HOST:PORT' once ready.",
      "rescind-sandbox"};
  app.add_option("--listen", options.listen,
                 "Address to listen on, HOST:PORT ([V6]:PORT for IPv6); port 0 picks a free port "
                 "and the line 'listening on …' tells which")
      ->envname("RESCIND_LISTEN")
      ->capture_default_str();
  app.add_option("--ledger-mode", options.ledger_mode,
                 "full: keep every effect for GET /__ledger; counts: keep only the counters of "
                 "GET /__ledger/summary (constant memory for benchmarks; requests are still "
                 "validated)")
      ->envname("RESCIND_LEDGER_MODE")
      ->check(CLI::IsMember({"full", "counts"}))
      ->capture_default_str();
  app.add_option("--threads", options.threads,
                 "Threads running the server; state is shared under one lock, so more than one "
                 "helps only when parsing dominates")
      ->envname("RESCIND_THREADS")
      ->check(CLI::Range(1u, 64u))
      ->capture_default_str();
  app.add_option("--idle-timeout", options.idle_timeout,
                 "Close a keep-alive connection silent for this long (e.g. 500ms, 60s, 5m)")
      ->envname("RESCIND_IDLE_TIMEOUT")
      ->check([](const std::string& text) {
        auto d = common::parse_duration(text);
        return d && d->count() > 0 ? std::string{} : "not a duration such as 30s or 500ms";
      })
      ->capture_default_str();
  app.add_option("--paypal-token-ttl", options.paypal_token_ttl,
                 "Lifetime of the PayPal access tokens the sandbox issues (their expires_in), at "
                 "least 1s")
      ->envname("RESCIND_PAYPAL_TOKEN_TTL")
      ->check([](const std::string& text) {
        auto d = common::parse_duration(text);
        return d && *d >= std::chrono::seconds(1) ? std::string{} : "not a duration of at least 1s such as 9h or 90s";
      })
      ->capture_default_str();
  app.add_option("--paypal-claim-expires-in", options.paypal_expires_in,
                 "The expires_in (seconds, any integer) the PayPal token answer claims, whatever the "
                 "token really lives: to test clients against a broken or hostile answer")
      ->check([](const std::string& text) {
        long long n = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
        return ec == std::errc{} && end == text.data() + text.size() ? std::string{} : "not an integer";
      });
  app.add_option("--log-level", options.log_level, "debug, info, warn or error (logs go to stderr)")
      ->envname("RESCIND_LOG_LEVEL")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}))
      ->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? exit_ok : exit_usage;
  }

  auto listen = sandbox::parse_listen_address(options.listen);
  if (!listen) {
    std::cerr << "--listen: expected HOST:PORT with a numeric address, got '" << options.listen << "'\n";
    return exit_usage;
  }
  common::log::Level level = common::log::Level::info;
  common::log::parse_level(options.log_level, level);
  common::log::set_level(level);

  auto mode = options.ledger_mode == "counts" ? sandbox::LedgerMode::counts : sandbox::LedgerMode::full;
  sandbox::ProviderOptions provider_options;
  provider_options.paypal_token_ttl =
      std::chrono::duration_cast<std::chrono::seconds>(*common::parse_duration(options.paypal_token_ttl));
  if (!options.paypal_expires_in.empty())
    provider_options.paypal_claimed_expires_in = std::stoll(options.paypal_expires_in);
  sandbox::Sandbox fakes(mode, provider_options);
  boost::asio::io_context io(static_cast<int>(options.threads));

  sandbox::ServerOptions server_options;
  server_options.listen = *listen;
  server_options.idle_timeout = *common::parse_duration(options.idle_timeout);
  server_options.strands = options.threads > 1;
  std::optional<sandbox::Server> server;
  try {
    server.emplace(io, fakes, server_options);
  } catch (const boost::system::system_error& e) {
    std::cerr << "cannot listen on " << options.listen << ": " << e.code().message() << "\n";
    return exit_failure;
  }
  server->start();

  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&io](const boost::system::error_code&, int) { io.stop(); });

  std::string bound = sandbox::format_endpoint(server->local_endpoint());
  std::printf("listening on %s\n", bound.c_str());
  std::fflush(stdout);
  common::log::info("sandbox listening",
                    {{"address", bound}, {"ledger_mode", options.ledger_mode}, {"threads", options.threads}});

  std::vector<std::thread> extra;
  for (unsigned i = 1; i < options.threads; ++i) extra.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& thread : extra) thread.join();
  common::log::info("sandbox stopped");
  return exit_ok;
}
