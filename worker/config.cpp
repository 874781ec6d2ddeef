#include "worker/config.hpp"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "clients/encoding.hpp"
#include "common/duration.hpp"
#include "common/sandbox_credentials.hpp"
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

// Thrown only while parsing, turned into "message + exit 2" below.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A provider URL; plain http:// only to loopback (the sandbox, a local proxy) unless
// --allow-insecure-http says otherwise: API keys and customer data would travel in clear.
clients::Url url_or_throw(const std::string& text, const char* flag, bool allow_insecure_http) {
  std::string error;
  auto url = clients::parse_url(text, error);
  if (!url) throw UsageError(std::string(flag) + ": " + error);
  if (!url->origin.tls && !allow_insecure_http && !clients::is_loopback(url->origin)) {
    throw UsageError(
        std::string(flag) + ": http://" + url->origin.host +
        " is not a loopback address; use https://, or pass --allow-insecure-http if it must be plain HTTP");
  }
  return *url;
}

// How a usage error names a receiver: its scheme and host, never the path that may hold its token.
std::string host_of(const clients::Url& url) { return (url.origin.tls ? "https://" : "http://") + url.origin.host; }

// The credentials --sandbox would replace. Given with it, one of them is a mistake either
// way: a production worker about to "succeed" against the fake (and record its refunds as
// done for the idempotency window), or a real secret about to be sent to the sandbox.
void refuse_real_credentials_with_sandbox(const ProviderConfig& p, const std::string& slack_url) {
  std::pair<const char*, bool> given[] = {
      {"STRIPE_API_KEY", !p.stripe.api_key.empty()},
      {"SENDGRID_API_KEY", !p.sendgrid.api_key.empty()},
      {"TWILIO_ACCOUNT_SID", !p.twilio.account_sid.empty()},
      {"TWILIO_AUTH_TOKEN", !p.twilio.auth_token.empty()},
      {"SLACK_WEBHOOK_URL", !slack_url.empty()},
      {"PAYPAL_CLIENT_ID", !p.paypal.client_id.empty()},
      {"PAYPAL_SECRET", !p.paypal.secret.empty()},
      {"SQUARE_ACCESS_TOKEN", !p.square.access_token.empty()},
      {"SHOPIFY_ACCESS_TOKEN", !p.shopify.default_token.empty()},
      {"SHOPIFY_TOKENS", !p.shopify.tokens.empty()},
      {"MAILGUN_API_KEY", !p.mailgun.api_key.empty()},
      {"ZENDESK_API_TOKEN", !p.zendesk.api_token.empty()},
  };
  std::string named;
  for (const auto& [what, set] : given) {
    if (set) named += (named.empty() ? "" : ", ") + std::string(what);
  }
  // A shop's own key is sent to the sandbox as given (that is how per-shop routing is
  // tested); a live Stripe key is never a test's.
  for (const auto& [shop, key] : p.stripe.api_key_by_shop) {
    if (key.starts_with("sk_live_") || key.starts_with("rk_live_"))
      named += (named.empty() ? "" : ", ") + ("a live key for " + shop);
  }
  if (!named.empty()) {
    throw UsageError(
        "--sandbox sends every call to a fake with test credentials, but real credentials are configured too (" +
        named + "). Remove --sandbox (RESCIND_SANDBOX) for real providers, or the credentials for a sandbox run.");
  }
}

void require(const std::string& value, const char* what) {
  if (value.empty()) {
    throw UsageError(std::string(what) +
                     " is not set. Set it (flag or environment variable), or pass --sandbox URL to "
                     "send every call to a rescind-sandbox with its test credentials.");
  }
}

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
  std::string stripe_url = "https://api.stripe.com", sendgrid_url = "https://api.sendgrid.com",
              twilio_url = "https://api.twilio.com", slack_url, paypal_url = "https://api-m.paypal.com",
              square_url = "https://connect.squareup.com", mailgun_url = "https://api.mailgun.net", zendesk_url,
              refund_window = "30d", pending_check = "5m", twilio_queue_full_wait = "1m";
  std::vector<std::string> shopify_tokens, record_webhooks, record_webhooks_for, stripe_keys_for, email_provider_for,
      paypal_for, square_for, webhook_secrets_for;
  auto& p = config.providers;
  p.sendgrid.from_name = "Rescind";
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
  app.add_option("--prefix", config.queue.prefix, "Prefix of every Redis key")
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

  auto* stripe = "Stripe (refund)";
  app.add_option("--stripe-url", stripe_url, "Stripe API base URL")
      ->envname("RESCIND_STRIPE_URL")
      ->capture_default_str()
      ->group(stripe);
  secrets.add("--stripe-api-key", p.stripe.api_key, "Secret key sk_live_… / sk_test_…", "STRIPE_API_KEY", stripe);
  secrets.add("--stripe-api-key-for", stripe_keys_for, "A shop's own Stripe account, repeatable: DOMAIN=sk_live_…",
              "STRIPE_API_KEYS_BY_SHOP", stripe);
  app.add_option("--stripe-version", p.stripe.api_version, "Stripe-Version header (default: the account's)")
      ->envname("RESCIND_STRIPE_VERSION")
      ->group(stripe);

  auto* sendgrid = "SendGrid (email)";
  app.add_option("--sendgrid-url", sendgrid_url, "SendGrid API base URL")
      ->envname("RESCIND_SENDGRID_URL")
      ->capture_default_str()
      ->group(sendgrid);
  secrets.add("--sendgrid-api-key", p.sendgrid.api_key, "API key SG.…", "SENDGRID_API_KEY", sendgrid);
  app.add_option("--email-from", p.sendgrid.from_email, "Sender address of customer emails")
      ->envname("RESCIND_EMAIL_FROM")
      ->group(sendgrid);
  app.add_option("--email-from-name", p.sendgrid.from_name, "Sender name of customer emails")
      ->envname("RESCIND_EMAIL_FROM_NAME")
      ->capture_default_str()
      ->group(sendgrid);

  auto* twilio = "Twilio (sms)";
  app.add_option("--twilio-url", twilio_url, "Twilio API base URL")
      ->envname("RESCIND_TWILIO_URL")
      ->capture_default_str()
      ->group(twilio);
  app.add_option("--twilio-account-sid", p.twilio.account_sid, "Account SID AC…")
      ->envname("TWILIO_ACCOUNT_SID")
      ->group(twilio);
  secrets.add("--twilio-auth-token", p.twilio.auth_token, "Auth token", "TWILIO_AUTH_TOKEN", twilio);
  app.add_option("--twilio-from", p.twilio.from, "Sender: +E.164 number or messaging service MG…")
      ->envname("TWILIO_FROM")
      ->group(twilio);
  app.add_option("--twilio-queue-full-wait", twilio_queue_full_wait,
                 "After Twilio's 21611 (the sender's queue holds 10 h of messages), SMS from that sender wait this "
                 "long, fleet-wide, without using an attempt")
      ->envname("RESCIND_TWILIO_QUEUE_FULL_WAIT")
      ->capture_default_str()
      ->group(twilio);

  auto* slack = "Slack (staff)";
  secrets.add("--slack-webhook-url", slack_url, "Incoming webhook URL (it is the secret)", "SLACK_WEBHOOK_URL", slack);

  auto* paypal = "PayPal (refund when payment.provider is paypal)";
  app.add_option("--paypal-url", paypal_url, "PayPal API base URL")
      ->envname("RESCIND_PAYPAL_URL")
      ->capture_default_str()
      ->group(paypal);
  app.add_option("--paypal-client-id", p.paypal.client_id, "REST app client id")
      ->envname("PAYPAL_CLIENT_ID")
      ->group(paypal);
  secrets.add("--paypal-secret", p.paypal.secret, "REST app secret", "PAYPAL_SECRET", paypal);
  secrets.add("--paypal-credentials-for", paypal_for, "A shop's own REST app, repeatable: DOMAIN=CLIENT_ID:SECRET",
              "PAYPAL_CREDENTIALS_BY_SHOP", paypal);

  auto* square = "Square (refund when payment.provider is square)";
  app.add_option("--square-url", square_url, "Square API base URL")
      ->envname("RESCIND_SQUARE_URL")
      ->capture_default_str()
      ->group(square);
  secrets.add("--square-access-token", p.square.access_token, "Access token", "SQUARE_ACCESS_TOKEN", square);
  secrets.add("--square-token-for", square_for, "A shop's own seller account, repeatable: DOMAIN=TOKEN",
              "SQUARE_TOKENS_BY_SHOP", square);
  app.add_option("--square-version", p.square.version, "Square-Version header")
      ->envname("RESCIND_SQUARE_VERSION")
      ->capture_default_str()
      ->group(square);

  auto* shopify = "Shopify (cancel and restock; refund when Shopify holds the payment)";
  secrets.add("--shopify-token", shopify_tokens, "Per shop, repeatable: DOMAIN=shpat_…", "SHOPIFY_TOKENS", shopify);
  secrets.add("--shopify-default-token", p.shopify.default_token, "Token for *.myshopify.com shops without their own",
              "SHOPIFY_ACCESS_TOKEN", shopify);
  app.add_option("--shopify-api-version", p.shopify.api_version,
                 "Admin API version (2025-07 on: refundMethod; 2026-10 on: jobResult; Shopify serves each for about 12 "
                 "months, then falls forward)")
      ->envname("RESCIND_SHOPIFY_API_VERSION")
      ->capture_default_str()
      ->group(shopify);

  auto* email = "Email provider";
  app.add_option("--email-provider", p.email_provider, "sendgrid or mailgun")
      ->envname("RESCIND_EMAIL_PROVIDER")
      ->capture_default_str()
      ->check(CLI::IsMember({"sendgrid", "mailgun"}))
      ->group(email);
  app.add_option("--email-provider-for", email_provider_for, "A shop's own email provider, repeatable: DOMAIN=mailgun")
      ->envname("RESCIND_EMAIL_PROVIDER_BY_SHOP")
      ->delimiter(';')
      ->group(email);
  app.add_option("--mailgun-url", mailgun_url, "Mailgun API base URL (EU: https://api.eu.mailgun.net)")
      ->envname("RESCIND_MAILGUN_URL")
      ->capture_default_str()
      ->group(email);
  secrets.add("--mailgun-api-key", p.mailgun.api_key, "Mailgun API key", "MAILGUN_API_KEY", email);
  app.add_option("--mailgun-domain", p.mailgun.domain, "Mailgun sending domain")
      ->envname("MAILGUN_DOMAIN")
      ->group(email);

  auto* zendesk = "Zendesk (ticket)";
  app.add_option("--zendesk-url", zendesk_url, "https://SUBDOMAIN.zendesk.com")
      ->envname("RESCIND_ZENDESK_URL")
      ->group(zendesk);
  app.add_option("--zendesk-email", p.zendesk.email, "Agent email for API-token auth")
      ->envname("ZENDESK_EMAIL")
      ->group(zendesk);
  secrets.add("--zendesk-api-token", p.zendesk.api_token, "API token", "ZENDESK_API_TOKEN", zendesk);

  auto* record = "Back-office records (signed webhooks)";
  secrets.add("--record-webhook", record_webhooks,
              "Receiver URL, repeatable: every finished refund/cancellation is posted there", "RESCIND_RECORD_WEBHOOKS",
              record);
  secrets.add("--record-webhook-for", record_webhooks_for,
              "A shop's own receiver, repeatable: DOMAIN=URL (in addition to --record-webhook)",
              "RESCIND_RECORD_WEBHOOKS_BY_SHOP", record);
  secrets.add("--webhook-secret", p.webhooks.secret,
              "Signing secret whsec_… (Standard Webhooks) of every receiver without its own", "RESCIND_WEBHOOK_SECRET",
              record);
  secrets.add("--webhook-secret-for", webhook_secrets_for,
              "A receiver's own signing secret, repeatable: URL=whsec_… (the URL as given to --record-webhook or "
              "--record-webhook-for)",
              "RESCIND_WEBHOOK_SECRETS_BY_RECEIVER", record);

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
    if (config.queue.prefix.empty()) throw UsageError("--prefix must not be empty");
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
                                {request_timeout, &config.http.request_timeout, "--http-timeout"},
                                {twilio_queue_full_wait, &p.twilio.queue_full_wait, "--twilio-queue-full-wait"}};
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
    if (p.twilio.queue_full_wait < std::chrono::milliseconds(100))
      throw UsageError("--twilio-queue-full-wait must be at least 100ms");
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
      if (auto why = clients::HttpClient::check_ca_file(config.http.ca_file)) {
        throw UsageError("--ca-file: cannot load '" + config.http.ca_file + "': " + *why);
      }
    }
    auto url = [&](const std::string& text, const char* flag) { return url_or_throw(text, flag, allow_insecure_http); };

    // DOMAIN=VALUE lists: one shop's own settings. A malformed item is named by its domain
    // at most: the value is a key, a token or a webhook URL.
    auto per_shop = [](const std::string& item, const char* flag) {
      auto eq = item.find('=');
      if (eq == std::string::npos) {
        throw UsageError(std::string(flag) +
                         ": an item is not DOMAIN=VALUE (the item is not shown: it may be a secret)");
      }
      if (eq == 0) throw UsageError(std::string(flag) + ": an item has no DOMAIN before '='");
      if (eq + 1 == item.size())
        throw UsageError(std::string(flag) + " " + item.substr(0, eq) + ": the value after '=' is empty");
      return std::pair{item.substr(0, eq), item.substr(eq + 1)};
    };
    // Before --sandbox: it refuses to start beside real per-shop credentials.
    for (const auto& item : stripe_keys_for) {
      auto [shop, key] = per_shop(item, "--stripe-api-key-for");
      p.stripe.api_key_by_shop[shop] = key;
      common::log::register_secret(key);
    }
    for (const auto& item : shopify_tokens) {
      auto [shop, token] = per_shop(item, "--shopify-token");
      p.shopify.tokens[shop] = token;
      common::log::register_secret(token);
    }
    if (!sandbox.empty()) {
      namespace creds = sandbox_credentials;
      url(sandbox, "--sandbox");
      refuse_real_credentials_with_sandbox(p, slack_url);
      config.sandbox = sandbox;
      stripe_url = sendgrid_url = twilio_url = sandbox;
      slack_url = sandbox + std::string(creds::slack_webhook_path);
      p.stripe.api_key = creds::stripe_api_key;
      p.sendgrid.api_key = creds::sendgrid_api_key;
      p.sendgrid.from_email = creds::sendgrid_from;  // the one sender the sandbox has verified
      p.twilio.account_sid = creds::twilio_account_sid;
      p.twilio.auth_token = creds::twilio_auth_token;
      p.twilio.from = creds::twilio_from;
      paypal_url = square_url = mailgun_url = zendesk_url = sandbox;
      p.paypal.client_id = creds::paypal_client_id;
      p.paypal.secret = creds::paypal_secret;
      p.square.access_token = creds::square_access_token;
      p.shopify.url_template = sandbox + "/shops/{shop}";
      p.shopify.default_token = creds::shopify_access_token;
      p.shopify.any_shop = true;
      p.mailgun.api_key = creds::mailgun_api_key;
      p.mailgun.domain = creds::mailgun_domain;
      p.zendesk.email = creds::zendesk_email;
      p.zendesk.api_token = creds::zendesk_api_token;
      if (p.webhooks.secret.empty()) p.webhooks.secret = creds::webhook_secret;
    }
    // A receiver's URL often carries its token, in the path as Slack's do.
    auto receiver = [&](const std::string& text, const char* flag) {
      auto parsed = url(text, flag);
      common::log::register_secret(text);
      common::log::register_secret(parsed.path);
      return parsed;
    };
    for (const auto& item : record_webhooks) p.webhooks.receivers.push_back(receiver(item, "--record-webhook"));
    for (const auto& item : record_webhooks_for) {
      auto [shop, address] = per_shop(item, "--record-webhook-for");
      p.webhooks.by_shop[shop].push_back(receiver(address, "--record-webhook-for"));
    }
    // URL=whsec_…: the secret starts at the last "=whsec_" (a URL's query may hold '=').
    for (const auto& item : webhook_secrets_for) {
      auto at = item.rfind("=whsec_");
      if (at == std::string::npos || at == 0) {
        throw UsageError("--webhook-secret-for: an item is not URL=whsec_… (the item is not shown: it is a secret)");
      }
      common::log::register_secret(item.substr(0, at));
      auto parsed = url(item.substr(0, at), "--webhook-secret-for");
      auto secret = item.substr(at + 1);
      common::log::register_secret(secret);
      // Standard Webhooks: "at least 24 bytes (192 bits, 512 maximum)" of random key.
      auto key = clients::decode_webhook_secret(secret);
      if (key.size() < 24 || key.size() > 64) {
        throw UsageError("--webhook-secret-for " + host_of(parsed) +
                         ": the secret must be whsec_ and base64 of 24 to 64 random bytes");
      }
      auto id = clients::receiver_id(parsed);
      bool known = false;
      for (const auto& r : p.webhooks.receivers) known = known || clients::receiver_id(r) == id;
      for (const auto& [shop, list] : p.webhooks.by_shop) {
        for (const auto& r : list) known = known || clients::receiver_id(r) == id;
      }
      if (!known)
        throw UsageError("--webhook-secret-for " + host_of(parsed) +
                         ": the URL is none of the --record-webhook(-for) receivers");
      p.webhooks.secret_by_receiver[id] = secret;
    }
    for (const auto& item : paypal_for) {
      auto [shop, pair] = per_shop(item, "--paypal-credentials-for");
      auto colon = pair.find(':');
      if (colon == std::string::npos)
        throw UsageError("--paypal-credentials-for " + shop + ": the value is CLIENT_ID:SECRET");
      p.paypal.by_shop[shop] = {pair.substr(0, colon), pair.substr(colon + 1)};
      common::log::register_secret(pair.substr(colon + 1));
    }
    for (const auto& item : square_for) {
      auto [shop, token] = per_shop(item, "--square-token-for");
      p.square.access_token_by_shop[shop] = token;
      common::log::register_secret(token);
    }
    for (const auto& item : email_provider_for) {
      auto [shop, provider] = per_shop(item, "--email-provider-for");
      if (provider != "sendgrid" && provider != "mailgun")
        throw UsageError("--email-provider-for " + shop + ": sendgrid or mailgun, not '" + provider + "'");
      p.email_provider_by_shop[shop] = provider;
    }
    if ((!p.webhooks.receivers.empty() || !p.webhooks.by_shop.empty()) &&
        clients::decode_webhook_secret(p.webhooks.secret).empty()) {
      throw UsageError("--webhook-secret must be a whsec_… secret when --record-webhook is set");
    }
    if (p.mailgun.from.empty())
      p.mailgun.from = clients::mailbox(
          p.sendgrid.from_name, p.sendgrid.from_email.empty() ? "orders@" + p.mailgun.domain : p.sendgrid.from_email);
    require(p.stripe.api_key, "STRIPE_API_KEY (--stripe-api-key)");
    if (p.email_provider == "sendgrid") {
      require(p.sendgrid.api_key, "SENDGRID_API_KEY (--sendgrid-api-key)");
      require(p.sendgrid.from_email, "RESCIND_EMAIL_FROM (--email-from)");
    } else {
      require(p.mailgun.api_key, "MAILGUN_API_KEY (--mailgun-api-key)");
      require(p.mailgun.domain, "MAILGUN_DOMAIN (--mailgun-domain)");
    }
    require(p.twilio.account_sid, "TWILIO_ACCOUNT_SID (--twilio-account-sid)");
    require(p.twilio.auth_token, "TWILIO_AUTH_TOKEN (--twilio-auth-token)");
    require(p.twilio.from, "TWILIO_FROM (--twilio-from)");
    require(slack_url, "SLACK_WEBHOOK_URL (--slack-webhook-url)");
    p.stripe.base = url(stripe_url, "--stripe-url");
    p.sendgrid.base = url(sendgrid_url, "--sendgrid-url");
    p.twilio.base = url(twilio_url, "--twilio-url");
    p.slack.webhook = url(slack_url, "--slack-webhook-url");
    p.paypal.base = url(paypal_url, "--paypal-url");
    p.square.base = url(square_url, "--square-url");
    p.mailgun.base = url(mailgun_url, "--mailgun-url");
    if (!zendesk_url.empty())
      p.zendesk.base = url(zendesk_url, "--zendesk-url");
    else
      p.zendesk.api_token.clear();  // no URL: not configured, whatever the token says

    for (const auto* secret : {&p.stripe.api_key, &p.sendgrid.api_key, &p.twilio.auth_token, &slack_url,
                               &endpoint->password, &p.paypal.secret, &p.square.access_token, &p.shopify.default_token,
                               &p.mailgun.api_key, &p.zendesk.api_token, &p.webhooks.secret}) {
      common::log::register_secret(*secret);
    }
    common::log::register_secret(p.slack.webhook.path);
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
