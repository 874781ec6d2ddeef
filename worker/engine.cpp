#include "worker/engine.hpp"

#include <sys/resource.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <tuple>

#include "clients/http_client.hpp"
#include "clients/providers.hpp"
#include "common/async.hpp"
#include "common/duration.hpp"
#include "common/log.hpp"
#include "metrics/metrics.hpp"
#include "metrics/server.hpp"
#include "queue/acknowledger.hpp"
#include "queue/job_queue.hpp"
#include "ratelimit/limiter.hpp"
#include "redis/connection.hpp"
#include "worker/consumer.hpp"
#include "worker/gone_receivers.hpp"
#include "worker/job_runner.hpp"
#include "worker/pending_refunds.hpp"
#include "worker/queue_sampler.hpp"

namespace rescind::worker {

namespace asio = boost::asio;
namespace log = common::log;

Engine::Engine(Config config) : config_(std::move(config)) {}

namespace {
// Provider pools, Redis and /metrics sessions all take descriptors. Processes are often
// started with a soft limit (1,024) far below the hard one: take what the hard one allows.
long long raise_open_files_limit() {
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) != 0) return -1;
  if (files.rlim_cur < files.rlim_max) {
    rlimit raised = files;
    raised.rlim_cur = files.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) files = raised;
  }
  return files.rlim_cur == RLIM_INFINITY ? -1 : static_cast<long long>(files.rlim_cur);
}
}  // namespace

int Engine::run() {
  log::set_level(config_.log_level);
  auto open_files = raise_open_files_limit();
  for (const auto& flag : config_.secrets_on_command_line) {
    log::warn("a secret was given on the command line, where the process list showed it until start-up; use " + flag +
                  "-file or the environment instead",
              {{"flag", flag}});
  }
  if (!config_.sandbox.empty()) {
    log::warn(
        "sandbox mode: every provider call goes to a rescind-sandbox with its test credentials; nothing real is "
        "refunded or sent",
        {{"sandbox", config_.sandbox}});
  }
  // One thread, one io_context: jobs are I/O-bound coroutines; scale out with processes.
  asio::io_context io(1);
  auto ex = io.get_executor();

  metrics::Metrics metrics;
  redis::Connection commands(ex, config_.queue.redis);  // pipelined: state reads/writes, acks
  // XREADGROUP BLOCK would stall the pipeline; its replies may take the whole block to come.
  redis::Connection reader(ex, config_.queue.redis, config_.queue.block + std::chrono::seconds(10));
  clients::HttpClient http(ex, config_.http);
  RedisGoneReceivers gone_receivers(commands, config_.queue.keys.gone_receivers(), metrics);
  clients::Providers providers(config_.providers, clients::Wiring{http, ex, &gone_receivers});
  queue::JobQueue job_queue(config_.queue.keys, config_.queue.group, config_.queue.consumer);
  queue::Acknowledger acknowledger(job_queue, commands, ex);
  ratelimit::Limiter limiter(ex, config_.limits, commands, config_.queue.keys.prefix);
  // One clock for every component whose behaviour depends on time (tests give theirs a manual one).
  const auto& clock = common::real_clock();
  PendingRefunds pending_refunds(config_.queue, commands, providers, metrics, clock);
  JobRunner runner(config_.queue, job_queue, acknowledger, commands, providers, limiter, metrics, pending_refunds,
                   clock);
  Consumer consumer(config_.queue, job_queue, reader, commands, runner, metrics, clock);
  QueueSampler sampler(config_.queue, commands, metrics, config_.sample_interval);

  bool stopping = false;
  metrics::Server endpoint(ex, metrics.registry(), [&]() -> std::optional<std::string> {
    if (stopping) return "draining: finishing jobs in flight, taking no new ones";
    return sampler.problem();
  });
  endpoint.before_scrape([&] {
    metrics.held_state({static_cast<long long>(http.pools()), static_cast<long long>(http.open_connections()),
                        static_cast<long long>(limiter.accounts())});
  });
  unsigned short metrics_port = 0;
  if (!config_.metrics_listen.empty()) {
    try {
      metrics_port = endpoint.listen(config_.metrics_listen);
    } catch (const std::exception& e) {
      std::cerr << "rescind-worker: cannot serve metrics: " << e.what()
                << "\nPick another --metrics-listen HOST:PORT, or 'off'.\n";
      return 1;
    }
    asio::co_spawn(ex, endpoint.serve(), asio::detached);
  }

  int exit_code = 0;
  // The first SIGINT or SIGTERM stops taking jobs and drains the ones in flight; a second
  // exits at once (their entries stay pending for another worker to claim).
  asio::signal_set signals(io, SIGINT, SIGTERM);
  asio::co_spawn(
      ex,
      [&]() -> asio::awaitable<void> {
        auto [error, signal] = co_await signals.async_wait(common::use_tuple);
        if (error) co_return;
        stopping = true;
        log::info("stopping: no new jobs; waiting for those in flight",
                  {{"signal", signal},
                   {"in_flight", consumer.in_flight()},
                   {"drain_timeout", common::format_duration(config_.drain_timeout)}});
        consumer.stop();
        sampler.stop();
        pending_refunds.stop();
        std::tie(error, signal) = co_await signals.async_wait(common::use_tuple);
        if (error) co_return;
        log::warn("second signal: exiting now; unfinished jobs stay pending", {{"signal", signal}});
        std::_Exit(1);
      },
      asio::detached);

  asio::co_spawn(
      ex,
      [&]() -> asio::awaitable<void> {
        if (!co_await consumer.join_group()) {
          std::cerr << "rescind-worker: cannot use Redis at " << config_.queue.redis.display()
                    << " (see the log line above); is it running, and are --redis (user, password)"
                    << (config_.queue.redis.tls ? " and --redis-ca-file" : "") << " right?\n";
          exit_code = 1;
          io.stop();
          co_return;
        }
        log::info("worker started", {{"consumer", config_.queue.consumer},
                                     {"redis", config_.queue.redis.display()},
                                     {"stream", config_.queue.keys.jobs()},
                                     {"group", config_.queue.group},
                                     {"max_in_flight", config_.queue.max_in_flight},
                                     {"max_open_files", open_files},
                                     {"metrics_port", static_cast<long long>(metrics_port)}});
        asio::co_spawn(ex, consumer.upkeep(), asio::detached);
        asio::co_spawn(ex, sampler.run(), asio::detached);
        asio::co_spawn(ex, pending_refunds.run(), asio::detached);
        co_await consumer.run();
        bool drained = co_await consumer.drain(config_.drain_timeout);
        if (!drained) {
          // From here on nothing is sent that could not be recorded: calls already out get
          // their answer written; every job still unfinished is handed back to the queue.
          log::warn("drain timeout: no new provider calls; waiting for the calls already sent, then handing jobs back",
                    {{"in_flight", consumer.in_flight()}, {"grace", common::format_duration(config_.drain_grace)}});
          runner.wind_down();
          http.stop_sending();
          drained = co_await consumer.drain(config_.drain_grace);
        }
        log::info(drained ? "stopped: every job in flight finished or was handed back"
                          : "stopped: grace expired; unfinished jobs stay pending until claimed",
                  {{"in_flight", consumer.in_flight()}});
        endpoint.stop();
        io.stop();
      },
      asio::detached);

  io.run();
  if (consumer.in_flight() > 0) {
    // Job coroutines are still suspended (on Redis, or on a provider past the grace) and
    // hold references into everything above: destroying it would touch freed memory. Their
    // entries are safe in Redis (pending, claimed after the visibility timeout), and no
    // destructor has anything left to save: leave without running any.
    std::fflush(nullptr);
    std::_Exit(exit_code);
  }
  return exit_code;
}

}  // namespace rescind::worker
