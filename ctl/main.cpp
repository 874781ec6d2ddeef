// rescindctl: the operator's command line. Exit codes: 0 ok, 1 operational failure, 2 usage.
// Parses (ctl/cli.cpp), connects, reads Redis's clock, runs the verb.
#include <unistd.h>

#include <iostream>

#include "common/log.hpp"
#include "ctl/cli.hpp"
#include "redis/tls.hpp"

int main(int argc, char** argv) {
  using namespace rescind;
  ctl::CommandLine cli;
  try {
    cli.app().parse(argc, argv);
    cli.hide_secret_arguments(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli.app().exit(e) == 0 ? ctl::exit_ok : ctl::exit_usage;
  }

  if (auto unreadable = cli.read_secret_files()) {
    std::cerr << "rescindctl: " << *unreadable << "\n";
    return ctl::exit_usage;
  }
  ctl::Command command;
  try {
    command = cli.command();
  } catch (const ctl::UsageError& e) {
    std::cerr << "rescindctl: " << e.what() << "\n";
    return ctl::exit_usage;
  }
  std::string error;
  auto endpoint = redis::parse_endpoint(cli.redis_url(), error);
  if (!endpoint) {
    std::cerr << "rescindctl: --redis: " << error << "\n";  // names scheme and host only
    return ctl::exit_usage;
  }
  common::log::register_secret(endpoint->password);
  if (!redis::use_tls_files(*endpoint, cli.redis_tls(), error)) {
    std::cerr << "rescindctl: " << error << "\n";
    return ctl::exit_usage;
  }
  try {
    ctl::RedisSession redis(*endpoint);
    ctl::Context ctx{redis,
                     cli.keys(),
                     endpoint->display(),
                     0,
                     std::cin,
                     std::cout,
                     std::cerr,
                     isatty(STDIN_FILENO) == 1,
                     isatty(STDERR_FILENO) == 1};
    if (cli.reads_clock()) ctx.now_ms = ctl::redis_clock_ms(ctx);
    return command(ctx);
  } catch (const ctl::UsageError& e) {
    std::cout.flush();
    std::cerr << "rescindctl: " << common::log::redact(e.what()) << "\n";
    return ctl::exit_usage;
  } catch (const ctl::OperationalError& e) {
    std::cout.flush();
    std::cerr << "rescindctl: " << common::log::redact(e.what()) << "\n";
    if (std::string_view(e.what()).find("Redis at ") != std::string_view::npos) {
      std::cerr << "Is Redis running, and are --redis (" << endpoint->display() << "), its user and password"
                << (endpoint->tls ? " and --redis-ca-file" : "") << " right?\n";
    }
    return ctl::exit_operational;
  }
}
