// Everything the worker can be told, parsed once at start-up (flags, RESCIND_* environment
// variables, an optional config file) into plain structs that the components receive.
#pragma once
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "clients/http_options.hpp"
#include "clients/providers.hpp"
#include "common/log.hpp"
#include "jobs/job.hpp"
#include "queue/keys.hpp"
#include "ratelimit/limits.hpp"
#include "redis/endpoint.hpp"
#include "retry/policy.hpp"

namespace rescind::worker {

struct QueueConfig {
  redis::Endpoint redis;
  queue::Keys keys;  // every Redis key's name, from --prefix
  std::string group = "rescind";
  std::string consumer;  // default: host-pid
  std::size_t max_in_flight = 1000;
  std::size_t read_batch = 100;
  std::chrono::milliseconds block{1000};  // XREADGROUP BLOCK: also bounds how fast a stop is noticed
  std::chrono::milliseconds idempotency_window{std::chrono::hours(24 * 7)};
  // A job silent for this long (its worker stopped heartbeating) may be claimed by another.
  std::chrono::milliseconds visibility_timeout{30000};
  int max_deliveries = 5;  // past it an entry is poison: it goes to the DLQ unread
  std::chrono::milliseconds promote_interval{500};
  std::chrono::milliseconds refund_window{std::chrono::hours(24 * 30)};  // refund.requested policy
  long long audit_max_len = 1'000'000;                       // rescind:audit is capped (approximately) at this
  std::chrono::milliseconds housekeeping_interval{60000};    // trim, DLQ retention, consumer pruning
  std::chrono::milliseconds dlq_retention{0};                // 0: keep every DLQ entry
  std::chrono::milliseconds prune_consumers_after{3600000};  // 0: never remove idle consumers
  // A refund the provider reports pending is checked after this, then at doubling intervals
  // up to 6 h, until the provider says it succeeded or failed.
  std::chrono::milliseconds pending_refund_check{std::chrono::minutes(5)};
  retry::Policy retry;  // default for every kind
  std::map<jobs::Kind, retry::Policy> retry_by_kind;

  const retry::Policy& retry_for(jobs::Kind kind) const {
    auto it = retry_by_kind.find(kind);
    return it == retry_by_kind.end() ? retry : it->second;
  }
};

struct Config {
  QueueConfig queue;
  clients::ProviderOptions providers;  // each provider's own settings, and which performs a role
  ratelimit::Limits limits;
  clients::HttpOptions http;
  std::string metrics_listen = "127.0.0.1:9464";    // empty: no metrics endpoint
  std::chrono::milliseconds sample_interval{5000};  // queue depth gauges and readiness
  std::chrono::milliseconds drain_timeout{30000};
  // After the drain timeout: how long calls already sent may take to answer (and be
  // recorded) while no new call is made; then the process exits regardless.
  std::chrono::milliseconds drain_grace{5000};
  common::log::Level log_level = common::log::Level::info;
  // Set: every provider call goes to this rescind-sandbox with its test credentials (said
  // in the log at start, so a production worker started with it by mistake is noticed).
  std::string sandbox;
  // Secret flags given a value on the command line (starred in argv since): warned about at start.
  std::vector<std::string> secrets_on_command_line;
};

// Either a config, or the exit code to leave with (0 after --help, 2 on a usage error);
// messages have been printed already.
std::variant<Config, int> parse_config(int argc, char** argv);

}  // namespace rescind::worker
