#include "worker/config.hpp"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "common/duration.hpp"
#include "common/secret_options.hpp"
#include "redis/tls.hpp"

namespace rescind::worker {
namespace {

struct DurationFlag {
  std::string text;
  std::chrono::milliseconds* target;
  const char* flag;
};

std::string default_consumer() {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  return std::string(host) + "-" + std::to_string(getpid());
}

// Thrown only while parsing, turned into "message + exit 2" below; providers throw the same.
using UsageError = clients::OptionError;

}  // namespace

std::variant<Config, int> parse_config(int argc, char** argv) {
  Config config;
  CLI::App app{
      "rescind-worker: pulls order-cancellation jobs from a Redis stream, refunds the payment and "
      "notifies customer and staff, exactly once per step, within provider limits."};
  app.set_config("--config", "", "Read options from a TOML/INI file (keys are the long option names)");
  app.get_config_ptr()->envname("RESCIND_CONFIG");
  app.footer(
      "Every option can also be set by the environment variable shown (flags win). Durations are "
      "written 250ms, 30s, 5m, 1h.\nCredentials: prefer the environment or the config file to flags, "
      "which other users can see in the process list.\nExit codes: 0 stopped cleanly, 1 operational "
      "failure (Redis unreachable, port taken), 2 usage error.");

  std::string redis_url = "redis://127.0.0.1:6379";
  redis::TlsFiles redis_tls;
  std::string sandbox, log_level = "info";
  std::string block = "1s", drain = "30s", drain_grace = "5s", window = "168h", connect_timeout = "5s",
              request_timeout = "30s", visibility = "30s", sample = "5s", housekeeping = "1m",
              dlq_retention = "forever", prune_after = "1h";
  std::string retry_default, limit_scope = "fleet", max_limit_wait = "2s";
  std::vector<std::string> limit_specs;
  std::vector<std::string> retry_for;
  std::string refund_window = "30d", pending_check = "5m";
  common::SecretOptions secrets(app);

  auto* queue = "Queue";
  secrets
      .add("--redis", redis_url,
           "Redis URL: redis://[[user]:password@]host[:port][/db], rediss:// for TLS (user info percent-encoded)",
           "RESCIND_REDIS", queue, false)
      ->capture_default_str();
  app.add_option("--redis-ca-file", redis_tls.ca_file,
                 "rediss://: PEM bundle of the CAs that sign Redis's certificate (default: system store)")
      ->envname("RESCIND_REDIS_CA_FILE")
      ->group(queue);
  app.add_option("--redis-tls-cert", redis_tls.cert_file,
                 "rediss://: client certificate (PEM chain) for a Redis with tls-auth-clients")
      ->envname("RESCIND_REDIS_TLS_CERT")
      ->group(queue);
  app.add_option("--redis-tls-key", redis_tls.key_file, "rediss://: the client certificate's private key (PEM)")
      ->envname("RESCIND_REDIS_TLS_KEY")
      ->group(queue);
  app.add_option("--prefix", config.queue.keys.prefix, "Prefix of every Redis key")
      ->envname("RESCIND_PREFIX")
      ->capture_default_str()
      ->group(queue);
  app.add_option("--group", config.queue.group, "Consumer group shared by the fleet")
      ->envname("RESCIND_GROUP")
      ->capture_default_str()
      ->group(queue);
  app.add_option("--consumer", config.queue.consumer, "This worker's name in the group (default: host-pid)")
      ->envname("RESCIND_CONSUMER")
      ->group(queue);
  app.add_option("--max-in-flight", config.queue.max_in_flight,
                 "Jobs run concurrently; the stream is read only while below this")
      ->envname("RESCIND_MAX_IN_FLIGHT")
      ->capture_default_str()
      ->check(CLI::Range(1, 1'000'000))
      ->group(queue);
  app.add_option("--read-batch", config.queue.read_batch, "Most entries taken per XREADGROUP")
      ->envname("RESCIND_READ_BATCH")
      ->capture_default_str()
      ->check(CLI::Range(1, 10'000))
      ->group(queue);
  app.add_option("--block", block, "How long one XREADGROUP waits for new entries")
      ->envname("RESCIND_BLOCK")
      ->capture_default_str()
      ->group(queue);
  app.add_option("--idempotency-window", window,
                 "How long step states are kept (a job re-enqueued within it has no second effect)")
      ->envname("RESCIND_IDEMPOTENCY_WINDOW")
      ->capture_default_str()
      ->group(queue);
  app.add_option("--visibility-timeout", visibility,
                 "A job whose worker is silent this long may be claimed by another (running jobs are heartbeated)")
      ->envname("RESCIND_VISIBILITY_TIMEOUT")
      ->capture_default_str()
      ->group(queue);
  app.add_option("--max-deliveries", config.queue.max_deliveries,
                 "Deliveries after which an entry is poison and goes to the DLQ")
      ->envname("RESCIND_MAX_DELIVERIES")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000))
      ->group(queue);
  app.add_option("--retry", retry_default,
                 "Retry policy for every kind: attempts=600,base=1s,cap=5m,max_age=23h (any subset; equal jitter, so "
                 "by default max_age ends retries)")
      ->envname("RESCIND_RETRY")
      ->group(queue);
  app.add_option("--retry-for", retry_for, "Per-kind policy, repeatable: order.canceled:attempts=5,max_age=24h")
      ->envname("RESCIND_RETRY_FOR")
      ->delimiter(';')
      ->group(queue);
  app.add_option(
         "--housekeeping-interval", housekeeping,
         "How often to trim acknowledged history from the jobs stream, apply DLQ retention and remove idle consumers")
      ->envname("RESCIND_HOUSEKEEPING_INTERVAL")
      ->capture_default_str()
      ->group(queue);
  app.add_option("--dlq-retention", dlq_retention,
                 "Drop DLQ entries older than this ('forever': never; whatever is dropped is logged and counted)")
      ->envname("RESCIND_DLQ_RETENTION")
      ->capture_default_str()
      ->group(queue);
  app.add_option("--prune-consumers-after", prune_after,
                 "Remove group consumers idle this long that own nothing ('never' to keep them)")
      ->envname("RESCIND_PRUNE_CONSUMERS_AFTER")
      ->capture_default_str()
      ->group(queue);
  app.add_option("--pending-refund-check", pending_check,
                 "A refund the provider reports pending is checked after this, then at doubling intervals up to 6h, "
                 "until it succeeds or fails (a failure is dead-lettered)")
      ->envname("RESCIND_PENDING_REFUND_CHECK")
      ->capture_default_str()
      ->group(queue);
  app.add_option("--drain-timeout", drain, "On SIGTERM/SIGINT, how long in-flight jobs may take to finish")
      ->envname("RESCIND_DRAIN_TIMEOUT")
      ->capture_default_str()
      ->group(queue);
  app.add_option("--drain-grace", drain_grace,
                 "After the drain timeout no new provider call is made; calls already sent get this long to answer and "
                 "be recorded, unfinished jobs are handed back to the queue, then the worker exits")
      ->envname("RESCIND_DRAIN_GRACE")
      ->capture_default_str()
      ->group(queue);

  auto* ops = "Operations";
  app.add_option("--metrics-listen", config.metrics_listen,
                 "HOST:PORT for /metrics, /healthz and /readyz; 'off' to disable")
      ->envname("RESCIND_METRICS_LISTEN")
      ->capture_default_str()
      ->group(ops);
  app.add_option("--sample-interval", sample,
                 "How often queue depth (lag, pending, retry set, DLQ) is read from Redis for metrics and /readyz")
      ->envname("RESCIND_SAMPLE_INTERVAL")
      ->capture_default_str()
      ->group(ops);
  app.add_option("--log-level", log_level, "debug, info, warn or error")
      ->envname("RESCIND_LOG_LEVEL")
      ->capture_default_str()
      ->group(ops);

  auto* http = "Provider HTTP";
  app.add_option("--sandbox", sandbox,
                 "Send every provider call to this rescind-sandbox URL, with its test credentials")
      ->envname("RESCIND_SANDBOX")
      ->group(http);
  app.add_option("--http-connect-timeout", connect_timeout, "Deadline for connecting (and TLS) to a provider")
      ->envname("RESCIND_HTTP_CONNECT_TIMEOUT")
      ->capture_default_str()
      ->group(http);
  app.add_option("--http-timeout", request_timeout, "Deadline for one provider request and its response")
      ->envname("RESCIND_HTTP_TIMEOUT")
      ->capture_default_str()
      ->group(http);
  app.add_option("--http-max-connections", config.http.max_connections_per_origin, "Connections kept per provider host")
      ->envname("RESCIND_HTTP_MAX_CONNECTIONS")
      ->capture_default_str()
      ->check(CLI::Range(1, 100'000))
      ->group(http);
  app.add_option("--ca-file", config.http.ca_file, "PEM bundle to verify provider certificates (default: system store)")
      ->envname("RESCIND_CA_FILE")
      ->group(http);
  bool allow_insecure_http = false;
  app.add_flag("--allow-insecure-http", allow_insecure_http,
               "Accept plain http:// provider and webhook URLs to hosts other than loopback (credentials then travel "
               "in clear)")
      ->envname("RESCIND_ALLOW_INSECURE_HTTP")
      ->group(http);

  auto* quotas = "Provider quotas";
  app.add_option("--limit", limit_specs,
                 "Quota, repeatable: PROVIDER[/ACCOUNT]=RATE/s[:BURST[:INFLIGHT]], e.g. stripe=25/s:5 (Stripe's "
                 "default per endpoint) or twilio/+15005550006=1/s")
      ->envname("RESCIND_LIMIT")
      ->delimiter(';')
      ->group(quotas);
  app.add_option("--limit-scope", limit_scope, "fleet: one bucket in Redis shared by every worker; local: per process")
      ->envname("RESCIND_LIMIT_SCOPE")
      ->capture_default_str()
      ->check(CLI::IsMember({"fleet", "local"}))
      ->group(quotas);
  app.add_option("--max-limit-wait", max_limit_wait,
                 "A step that would wait longer than this for its quota is rescheduled (no attempt used) instead of "
                 "holding a job slot")
      ->envname("RESCIND_MAX_LIMIT_WAIT")
      ->capture_default_str()
      ->group(quotas);

  // Each provider's own options, in its group (clients/providers.cpp lists the providers).
  config.providers.add_options(app, secrets);

  auto* policy = "Policy";
  app.add_option("--refund-window", refund_window, "refund.requested: orders older than this are outside the policy")
      ->envname("RESCIND_REFUND_WINDOW")
      ->capture_default_str()
      ->group(policy);
  app.add_option("--audit-max-len", config.queue.audit_max_len, "Approximate cap of the rescind:audit stream")
      ->envname("RESCIND_AUDIT_MAX_LEN")
      ->capture_default_str()
      ->check(CLI::Range(1000LL, 1'000'000'000LL))
      ->group(policy);

  try {
    app.parse(argc, argv);
    config.secrets_on_command_line = secrets.hide_from_process_list(argc, argv);
    if (auto unreadable = secrets.read_files()) throw UsageError(*unreadable);

    std::string error;
    auto endpoint = redis::parse_endpoint(redis_url, error);
    if (!endpoint) throw UsageError("--redis: " + error);
    common::log::register_secret(endpoint->password);
    if (!redis::use_tls_files(*endpoint, redis_tls, error)) throw UsageError(error);
    config.queue.redis = *endpoint;
    if (config.queue.consumer.empty()) config.queue.consumer = default_consumer();
    if (config.queue.keys.prefix.empty()) throw UsageError("--prefix must not be empty");
    if (!common::log::parse_level(log_level, config.log_level)) {
      throw UsageError("--log-level: '" + log_level + "' is not one of debug, info, warn, error");
    }
    if (config.metrics_listen == "off") config.metrics_listen.clear();

    DurationFlag durations[] = {{block, &config.queue.block, "--block"},
                                {drain, &config.drain_timeout, "--drain-timeout"},
                                {drain_grace, &config.drain_grace, "--drain-grace"},
                                {visibility, &config.queue.visibility_timeout, "--visibility-timeout"},
                                {housekeeping, &config.queue.housekeeping_interval, "--housekeeping-interval"},
                                {sample, &config.sample_interval, "--sample-interval"},
                                {max_limit_wait, &config.limits.max_wait, "--max-limit-wait"},
                                {refund_window, &config.queue.refund_window, "--refund-window"},
                                {window, &config.queue.idempotency_window, "--idempotency-window"},
                                {pending_check, &config.queue.pending_refund_check, "--pending-refund-check"},
                                {connect_timeout, &config.http.connect_timeout, "--http-connect-timeout"},
                                {request_timeout, &config.http.request_timeout, "--http-timeout"}};
    if (dlq_retention == "forever") dlq_retention = "0s";
    if (prune_after == "never") prune_after = "0s";
    DurationFlag optional_durations[] = {{dlq_retention, &config.queue.dlq_retention, "--dlq-retention"},
                                         {prune_after, &config.queue.prune_consumers_after, "--prune-consumers-after"}};
    for (auto& d : optional_durations) {
      auto parsed = common::parse_duration(d.text);
      if (!parsed)
        throw UsageError(std::string(d.flag) + ": '" + d.text +
                         "' is not a duration like 30m, 168h (or forever/never)");
      *d.target = *parsed;
    }
    for (auto& d : durations) {
      auto parsed = common::parse_duration(d.text);
      if (!parsed) throw UsageError(std::string(d.flag) + ": '" + d.text + "' is not a duration like 250ms, 30s, 5m");
      *d.target = *parsed;
    }
    if (config.queue.pending_refund_check < std::chrono::milliseconds(100))
      throw UsageError("--pending-refund-check must be at least 100ms");
    // A call waits for a pooled connection as long as one call may take: every connection
    // then busy that long means the provider (or the pool size) is the trouble, not our turn.
    config.http.max_connection_wait = config.http.request_timeout;
    if (config.queue.idempotency_window < std::chrono::seconds(1))
      throw UsageError("--idempotency-window must be at least 1s");
    if (config.sample_interval < std::chrono::milliseconds(50))
      throw UsageError("--sample-interval must be at least 50ms");
    if (config.queue.housekeeping_interval < std::chrono::milliseconds(100))
      throw UsageError("--housekeeping-interval must be at least 100ms");
    if (config.queue.visibility_timeout < std::chrono::milliseconds(300))
      throw UsageError("--visibility-timeout must be at least 300ms");
    config.limits.scope = limit_scope == "local" ? ratelimit::Scope::local : ratelimit::Scope::fleet;
    for (const auto& spec : limit_specs) {
      if (!ratelimit::parse_limit(spec, config.limits, error)) throw UsageError("--limit " + error);
    }
    if (!retry_default.empty() && !retry::parse_policy(retry_default, config.queue.retry, error)) {
      throw UsageError("--retry: " + error);
    }
    for (const auto& item : retry_for) {
      auto colon = item.find(':');
      auto kind = jobs::kind_from(std::string_view(item).substr(0, colon));
      if (colon == std::string::npos || !kind) {
        throw UsageError("--retry-for: '" + item +
                         "' is not KIND:settings with KIND one of order.canceled, refund.requested, dispute.opened, "
                         "order.unfulfillable");
      }
      auto policy = config.queue.retry;
      if (!retry::parse_policy(std::string_view(item).substr(colon + 1), policy, error))
        throw UsageError("--retry-for " + item + ": " + error);
      config.queue.retry_by_kind[*kind] = policy;
    }

    if (!config.http.ca_file.empty()) {
      if (auto why = clients::check_ca_file(config.http.ca_file)) {
        throw UsageError("--ca-file: cannot load '" + config.http.ca_file + "': " + *why);
      }
    }
    config.providers.finish(sandbox, allow_insecure_http);
    config.sandbox = sandbox;
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  } catch (const UsageError& e) {
    // Redacted too: the secrets read so far are registered, and a message may quote one anyway.
    std::cerr << "rescind-worker: " << common::log::redact(e.what()) << "\nRun with --help for every option.\n";
    return 2;
  }
  return config;
}

}  // namespace rescind::worker
