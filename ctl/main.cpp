// rescindctl: the operator's command line. Exit codes: 0 ok, 1 operational failure, 2 usage.
#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>

#include "ctl/enqueue.hpp"
#include "ctl/redis_session.hpp"

int main(int argc, char** argv) {
  using namespace rescind;
  CLI::App app{"rescindctl: enqueue jobs and operate a Rescind queue."};
  app.require_subcommand(1);
  app.footer("Exit codes: 0 ok, 1 operational failure (Redis unreachable…), 2 usage error.");
  std::string redis_url = "redis://127.0.0.1:6379";
  std::string prefix = "rescind";
  app.add_option("--redis", redis_url, "Redis URL: redis://[:password@]host[:port][/db]")->envname("RESCIND_REDIS")->capture_default_str();
  app.add_option("--prefix", prefix, "Prefix of every Redis key")->envname("RESCIND_PREFIX")->capture_default_str();

  auto* enqueue = app.add_subcommand("enqueue", "Add jobs (one JSON object per line) to the jobs stream");
  std::string file = "-";
  bool no_validate = false;
  ctl::EnqueueOptions options;
  enqueue->add_option("file", file, "NDJSON file, or - for standard input")->capture_default_str();
  enqueue->add_flag("--no-validate", no_validate, "Enqueue lines even if they are not valid jobs");
  enqueue->add_option("--batch", options.batch, "XADDs per pipelined round trip")->capture_default_str()->check(CLI::Range(1, 100'000));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }

  std::string error;
  auto endpoint = redis::parse_endpoint(redis_url, error);
  if (!endpoint) {
    std::cerr << "rescindctl: --redis: " << error << "\n";
    return 2;
  }
  try {
    ctl::RedisSession redis(*endpoint);
    if (*enqueue) {
      options.stream = prefix + ":jobs";
      options.validate = !no_validate;
      if (file == "-") return ctl::enqueue(redis, std::cin, options, std::cout, std::cerr);
      std::ifstream input(file);
      if (!input) {
        std::cerr << "rescindctl: cannot read " << file << "\n";
        return 2;
      }
      return ctl::enqueue(redis, input, options, std::cout, std::cerr);
    }
  } catch (const ctl::OperationalError& e) {
    std::cerr << "rescindctl: " << e.what() << "\nIs Redis running, and is --redis right?\n";
    return 1;
  }
  return 0;
}
