// What every chaos scenario shares: its size (short for CI, long on request), a fleet of
// real workers that can be killed and replaced, a settle check that survives an AOF replay,
// the ledger verdict (lost, doubled, repeated messages) and the one report line per scenario.
#pragma once
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/stack.hpp"

namespace rescind::testing::chaos {

// The sizes of every scenario. Short (default) fits CI on 2 cores; RESCIND_CHAOS=long is the
// reviewer's probe scale (scripts/chaos.sh).
struct Form {
  bool is_long = false;
  std::uint64_t seed = 0;  // RESCIND_CHAOS_SEED, else from the clock; printed either way

  int storm_jobs = 1500, storm_kills = 10, storm_workers = 3, storm_lost_answers = 2;
  std::chrono::milliseconds storm_gap_min{100}, storm_gap_max{500};
  std::string storm_visibility = "2s";

  int restart_jobs = 1500, restarts = 3, restart_workers = 2;

  int outage_jobs = 1000;
  std::chrono::seconds outage{5};
  std::string outage_retry = "attempts=60,base=100ms,cap=1s";

  int throttle_jobs = 1000;
  std::chrono::seconds throttle{5};

  std::chrono::seconds settle_timeout{120};

  static Form from_environment();
  std::string name() const { return is_long ? "long" : "short"; }
};
const Form& form();

// Seconds since `since`, for the report.
double seconds_since(std::chrono::steady_clock::time_point since);

// NDJSON for jobs `first`…`first+count-1` of a scenario: ids "<prefix>_<n>", every one paid
// with an amount of its own, so a refund of the wrong job or amount would show.
std::string jobs_ndjson(const std::string& prefix, int first, int count);
long long amount_of(int n);

// Provider latencies that keep jobs in flight long enough for a kill or a restart to land on
// them (the probe's: Stripe 30 ms, SendGrid 40, Twilio 80, Slack 20), plus `extra` fields for
// Stripe ("\"lose_response\":2"). POST /__faults replaces the whole set, so every change
// states the delays again.
std::string faults_json(const std::string& stripe_extra = {});
void set_faults(Sandbox& sandbox, const std::string& stripe_extra = {});

// Workers started with unique consumer names (so XPENDING says whose entries are whose), kept
// after they die so their logs can still be read, all stopped when the fleet goes.
class Fleet {
 public:
  struct Worker {
    std::string consumer;
    std::unique_ptr<Process> process;
    bool killed = false;
  };

  Fleet(RedisServer& redis, Sandbox& sandbox, std::string name, std::vector<std::string> args);
  ~Fleet();
  Fleet(const Fleet&) = delete;
  Fleet& operator=(const Fleet&) = delete;

  Worker& start();
  std::vector<Worker*> alive();
  std::size_t started() const { return workers_.size(); }
  // Workers that exited although nobody killed them, with how and the end of their log.
  std::vector<std::string> unexpected_exits();
  // SIGTERM to every live worker, then their exit codes (0 is the clean stop).
  std::vector<std::pair<std::string, int>> stop_all();
  // Entries claimed from silent consumers, summed over every worker's log ("claimed jobs of
  // a silent consumer"); the log is the only record a killed worker leaves.
  long long claimed_from_logs() const;
  std::string log_tail(const Worker& worker, std::size_t bytes = 3000) const;
  // Copies every worker's log to DIR/<consumer>.log (RESCIND_CHAOS_ARTIFACTS), so a run that
  // found something can be read afterwards; the logs themselves go with the processes.
  void save_logs() const;

 private:
  RedisServer& redis_;
  Sandbox& sandbox_;
  std::string name_;
  std::vector<std::string> args_;
  std::vector<Worker> workers_;
};

// Pending entries per consumer (XPENDING summary form).
std::map<std::string, long long> pending_per_consumer(RedisServer& redis);
// Pending entries per consumer that were delivered once only: fresh work, not entries already
// claimed back from a killed worker (killing their new owner again and again would only test
// the poison limit, --max-deliveries).
std::map<std::string, long long> fresh_pending_per_consumer(RedisServer& redis);

// The queue read in one script: nothing pending, nothing in the retry set, nothing undelivered.
// After an AOF replay Redis 7.0 answers lag null (probe O6): then "nothing undelivered" means the
// group's last-delivered-id is the stream's last-generated-id.
struct QueueReading {
  long long pending = -1, lag = -1, retry = -1, dlq = -1, length = -1;
  bool lag_null = false;
  std::string last_delivered, last_generated;
  bool settled() const;
};
QueueReading read_queue(RedisServer& redis);

// Waits (bounded) for two settled readings 500 ms apart, with nothing changed between them.
struct Settle {
  bool settled = false;
  double after_s = 0;  // from `since` to the first of the two readings
  bool saw_null_lag = false;
  QueueReading last;
};
Settle wait_settled(RedisServer& redis, std::chrono::steady_clock::time_point since, std::chrono::seconds timeout);

// Every job of a scenario against the sandbox ledger and the DLQ.
struct Verdict {
  long long jobs = 0;
  long long lost = 0;            // no refund and not in the DLQ
  long long double_refunds = 0;  // jobs refunded more than once
  long long wrong_amount = 0;    // a refund of another amount than the job's total
  long long unnotified = 0;      // refunded, not dead-lettered, but an email, SMS or staff alert never sent
  long long dup_email = 0, dup_sms = 0, dup_staff = 0;              // messages sent more than once (extra sends)
  long long dup_email_ids = 0, dup_sms_ids = 0, dup_staff_ids = 0;  // jobs with such a repeat
  long long dlq = 0;
  long long unknown_effects = 0;  // ledger effects for ids that are not ours
  std::map<std::string, long long> dlq_reasons;
  std::vector<std::string> dlq_errors;  // the first few, for the failure message
  std::vector<std::string> examples;    // a few offending ids, for the failure message
  long long duplicates() const { return dup_email + dup_sms + dup_staff; }
};
Verdict judge(Sandbox& sandbox, RedisServer& redis, const std::string& prefix, int jobs);

// One scenario's figures: printed as "chaos NAME: k=v …" and appended as a JSON line to the
// file named by RESCIND_CHAOS_REPORT.
class Report {
 public:
  explicit Report(std::string scenario) : scenario_(std::move(scenario)) {}
  Report& add(const std::string& key, long long value);
  Report& add(const std::string& key, double value);
  Report& add(const std::string& key, const std::string& value);
  void add_verdict(const Verdict& verdict);
  void emit() const;

 private:
  std::string scenario_;
  std::vector<std::pair<std::string, std::string>> text_, json_;
};

// How many Stripe answers the sandbox still had to lose (GET /__faults), so the report can say
// how many it really lost.
long long lost_answers_left(Sandbox& sandbox);

// Scrapes one counter (summed over its labels) from a live worker's /metrics; -1 if unreadable.
long long worker_counter(const Process& worker, const std::string& family);

}  // namespace rescind::testing::chaos
