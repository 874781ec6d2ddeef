// Chaos: a fleet of real workers under kill -9 storms, Redis restarts, a Stripe outage and a
// 429 storm. Each scenario ends with the ledger's verdict: every job refunded exactly once, none
// lost, none dead-lettered, and every repeated message counted (asserted zero only where no
// crash can cut a step in two). Sizes: tests/chaos/harness.cpp (RESCIND_CHAOS=long for the
// probe's scale).
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <iomanip>
#include <iostream>
#include <random>
#include <thread>

#include "tests/chaos/harness.hpp"

namespace rescind::testing::chaos {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

// Fast retries like the integration tests, so a lost answer or a failed write costs
// milliseconds; the visibility timeout is per scenario.
const std::vector<std::string> fast_retry{"--retry", "base=20ms,cap=100ms"};

std::vector<std::string> with(std::vector<std::string> args, const std::vector<std::string>& more) {
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

// A per-scenario stream from the run's seed, so one scenario's schedule does not move when
// another draws more numbers.
std::mt19937_64 rng_for(const std::string& scenario) {
  return std::mt19937_64(form().seed ^ std::hash<std::string>{}(scenario));
}

std::chrono::milliseconds between(std::mt19937_64& rng, std::chrono::milliseconds lo, std::chrono::milliseconds hi) {
  return std::chrono::milliseconds(std::uniform_int_distribution<long long>(lo.count(), hi.count())(rng));
}

// Enqueues jobs [next, next+count) of a scenario during the run, as upstream would.
class Feeder {
 public:
  Feeder(RedisServer& redis, std::string prefix, int total)
      : redis_(redis), prefix_(std::move(prefix)), total_(total) {}
  // False (with why in `error`) when rescindctl failed.
  bool feed(int count) {
    count = std::min(count, total_ - next_);
    if (count <= 0) return true;
    auto ran = enqueue(redis_, jobs_ndjson(prefix_, next_, count));
    if (ran.exit_code != 0) {
      error = "rescindctl enqueue exited " + std::to_string(ran.exit_code) + ": " + ran.err;
      return false;
    }
    next_ += count;
    return true;
  }
  bool feed_rest() { return feed(total_ - next_); }
  int enqueued() const { return next_; }
  bool exhausted() const { return next_ >= total_; }
  std::string error;

 private:
  RedisServer& redis_;
  std::string prefix_;
  int total_;
  int next_ = 0;
};

// The guarantees every scenario shares; `messages_once` where no crash can repeat a message.
void expect_verdict(const Verdict& v, bool messages_once, bool dlq_expected = false) {
  std::string examples;
  for (const auto& e : v.examples) examples += "\n  " + e;
  std::string reasons;
  for (const auto& [reason, count] : v.dlq_reasons) reasons += " " + reason + "=" + std::to_string(count);
  for (const auto& error : v.dlq_errors) reasons += "\n  " + error;
  EXPECT_EQ(v.lost, 0) << "jobs with no refund and not in the DLQ" << examples;
  EXPECT_EQ(v.double_refunds, 0) << "jobs refunded twice" << examples;
  EXPECT_EQ(v.wrong_amount, 0) << examples;
  EXPECT_EQ(v.unnotified, 0) << "refunded but a message never sent" << examples;
  EXPECT_EQ(v.unknown_effects, 0) << "effects for ids nobody enqueued";
  if (!dlq_expected) {
    EXPECT_EQ(v.dlq, 0) << "dead letters:" << reasons;
  }
  if (messages_once) {
    EXPECT_EQ(v.dup_email, 0) << "emails sent twice";
    EXPECT_EQ(v.dup_sms, 0) << "SMS sent twice";
    EXPECT_EQ(v.dup_staff, 0) << "staff alerts sent twice";
  }
}

std::string describe(const QueueReading& r) {
  return "pending " + std::to_string(r.pending) + ", lag " + (r.lag_null ? "null" : std::to_string(r.lag)) +
         ", retry " + std::to_string(r.retry) + ", dlq " + std::to_string(r.dlq) + ", last delivered " +
         r.last_delivered + " of " + r.last_generated;
}

// Stops every live worker with SIGTERM (nothing is in flight by now, so the drain is
// immediate) and counts those that did not exit 0.
long long unclean_stops(Fleet& fleet, std::string& detail) {
  long long unclean = 0;
  for (const auto& [consumer, code] : fleet.stop_all()) {
    if (code == 0) continue;
    ++unclean;
    detail += " " + consumer + ":" + std::to_string(code);
  }
  return unclean;
}

// 1. kill -9 a worker that holds pending entries, over and over, start a replacement each
// time, keep enqueueing, and make Stripe perform refunds whose answers never arrive.
TEST(Chaos, KillStormLosesNoJobAndRefundsNoneTwice) {
  const Form& f = form();
  auto rng = rng_for("kill-storm");
  RedisServer redis;
  Sandbox sandbox;
  set_faults(sandbox);
  Fleet fleet(redis, sandbox, "ks", with(fast_retry, {"--visibility-timeout", f.storm_visibility}));
  for (int i = 0; i < f.storm_workers; ++i) fleet.start();
  Feeder feeder(redis, "ks", f.storm_jobs);
  // Batches for half again as many tries as kills: a try whose victim had just finished its
  // work kills without stranding anything, and the jobs must not run out before the kills.
  const int batch = f.storm_jobs / (f.storm_kills * 3 / 2 + 1);
  ASSERT_TRUE(feeder.feed(batch)) << feeder.error;

  int kills = 0, kills_with_work = 0, tries = 0;
  long long stranded = 0, answers_lost = 0, lose_armed = 0;
  auto storm_start = steady::now();
  // Bounded: a try that finds no worker holding work kills nobody; three times the kills is
  // far more than the schedule needs.
  while (kills_with_work < f.storm_kills && tries < 3 * f.storm_kills) {
    ++tries;
    // The sandbox performs the next refunds and drops the connection before answering: the
    // retry must be answered from Stripe's idempotency key, not refund again.
    answers_lost += lose_armed - std::max(0LL, lost_answers_left(sandbox));
    set_faults(sandbox, "\"lose_response\":" + std::to_string(f.storm_lost_answers));
    lose_armed = f.storm_lost_answers;
    std::this_thread::sleep_for(between(rng, f.storm_gap_min, f.storm_gap_max));
    ASSERT_TRUE(feeder.feed(batch)) << feeder.error;

    // A victim that holds fresh entries right now (XPENDING per consumer), hit at a random
    // point of their run: a batch takes a few hundred milliseconds at these latencies.
    auto busy_workers = [&] {
      auto fresh = fresh_pending_per_consumer(redis);
      std::vector<Fleet::Worker*> busy;
      for (auto* w : fleet.alive()) {
        if (fresh[w->consumer] > 0) busy.push_back(w);
      }
      return busy;
    };
    if (!wait_until([&] { return !busy_workers().empty(); }, 2s)) {
      if (feeder.exhausted()) break;  // nothing left to strand: the check below says so
      continue;
    }
    std::this_thread::sleep_for(between(rng, 0ms, 150ms));
    auto busy = busy_workers();
    if (busy.empty()) continue;
    auto* victim = busy[std::uniform_int_distribution<std::size_t>(0, busy.size() - 1)(rng)];
    victim->process->signal(SIGKILL);
    auto code = victim->process->wait(5s);
    victim->killed = true;
    ++kills;
    EXPECT_EQ(code.value_or(-1), 128 + SIGKILL) << victim->consumer;
    // Its pending list is frozen now: exactly what the others must claim back.
    auto left = pending_per_consumer(redis)[victim->consumer];
    stranded += left;
    if (left > 0) ++kills_with_work;
    std::cout << "[ chaos ] kill " << kills << " at " << std::fixed << std::setprecision(2)
              << seconds_since(storm_start) << " s: " << victim->consumer << " with " << left << " pending"
              << std::endl;
    fleet.start();
    auto exits = fleet.unexpected_exits();
    ASSERT_TRUE(exits.empty()) << "a worker died that nobody killed: " << exits.front();
  }
  answers_lost += lose_armed - std::max(0LL, lost_answers_left(sandbox));
  set_faults(sandbox);
  ASSERT_TRUE(feeder.feed_rest()) << feeder.error;
  double storm_s = seconds_since(storm_start);
  auto storm_end = steady::now();

  auto settle = wait_settled(redis, storm_end, f.settle_timeout);
  auto verdict = judge(sandbox, redis, "ks", f.storm_jobs);
  auto exits = fleet.unexpected_exits();
  std::string unclean_detail;
  auto unclean = unclean_stops(fleet, unclean_detail);
  fleet.save_logs();
  Report report("kill-storm");
  report.add("jobs", static_cast<long long>(feeder.enqueued()))
      .add("kills", static_cast<long long>(kills))
      .add("restarts", 0LL);
  report.add_verdict(verdict);
  report.add("settled_after_s", settle.after_s)
      .add("kills_with_work", static_cast<long long>(kills_with_work))
      .add("stranded_on_victims", stranded)
      .add("claimed", fleet.claimed_from_logs())
      .add("answers_lost", answers_lost)
      .add("stripe_replays", sandbox.summary("replayed"))
      .add("workers_started", static_cast<long long>(fleet.started()))
      .add("unexpected_exits", static_cast<long long>(exits.size()))
      .add("unclean_stops", unclean)
      .add("storm_s", storm_s)
      .add("settled", std::string(settle.settled ? "yes" : "no"))
      .add("form", f.name())
      .add("seed", std::to_string(f.seed));
  report.emit();

  ASSERT_TRUE(settle.settled) << "queue did not settle: " << describe(settle.last);
  EXPECT_EQ(kills_with_work, f.storm_kills) << "kills that found the victim holding entries (" << kills << " kills)";
  EXPECT_GT(stranded, 0) << "no kill stranded an entry: the storm tested nothing";
  EXPECT_GT(answers_lost, 0) << "no Stripe answer was lost";
  EXPECT_EQ(feeder.enqueued(), f.storm_jobs);
  expect_verdict(verdict, /*messages_once=*/false);
  EXPECT_TRUE(exits.empty()) << exits.front();
  EXPECT_EQ(unclean, 0) << "workers that did not stop with 0 on SIGTERM:" << unclean_detail;
}

// 2. Restart Redis (AOF, fsync always) while entries are in flight, alternating a clean
// SIGTERM and a crash, and keep enqueueing between restarts.
TEST(Chaos, RedisRestartsLoseNoJobAndRefundNoneTwice) {
  const Form& f = form();
  auto rng = rng_for("redis-restarts");
  RedisServer redis(/*persistent=*/true);
  Sandbox sandbox;
  set_faults(sandbox);
  // A small in-flight cap keeps most jobs waiting in the stream, so every restart finds some
  // running and many still to come (the probe's set-up).
  Fleet fleet(redis, sandbox, "rr", with(fast_retry, {"--visibility-timeout", "2s", "--max-in-flight", "25"}));
  for (int i = 0; i < f.restart_workers; ++i) fleet.start();
  Feeder feeder(redis, "rr", f.restart_jobs);
  const int batch = f.restart_jobs / (f.restarts + 1);
  ASSERT_TRUE(feeder.feed(batch)) << feeder.error;

  int restarts = 0, by_sigterm = 0, by_sigkill = 0, in_flight_restarts = 0;
  long long pending_at_restarts = 0;
  for (int k = 0; k < f.restarts; ++k) {
    ASSERT_TRUE(wait_until([&] { return read_queue(redis).pending > 0; }, 20s))
        << "no job in flight before restart " << k + 1 << ": " << describe(read_queue(redis));
    std::this_thread::sleep_for(between(rng, 100ms, 400ms));  // land mid-job, not at its start
    auto pending = read_queue(redis).pending;
    pending_at_restarts += pending;
    if (pending > 0) ++in_flight_restarts;
    int signal = k % 2 == 0 ? SIGTERM : SIGKILL;
    redis.stop(signal);
    ++(signal == SIGTERM ? by_sigterm : by_sigkill);
    std::this_thread::sleep_for(between(rng, 300ms, 1000ms));  // down for a while
    redis.start();
    ++restarts;
    std::cout << "[ chaos ] restart " << restarts << " (" << (signal == SIGTERM ? "SIGTERM" : "SIGKILL") << ") with "
              << pending << " pending" << std::endl;
    // start() returns once Redis answers at all; while it replays the AOF it answers LOADING,
    // and an enqueue then would fail.
    ASSERT_TRUE(wait_until([&] { return redis.command({"PING"}).text == "PONG"; }, 30s))
        << "Redis did not finish loading";
    ASSERT_TRUE(feeder.feed(batch)) << feeder.error;
    auto exits = fleet.unexpected_exits();
    ASSERT_TRUE(exits.empty()) << "a worker exited when Redis went away: " << exits.front();
    std::this_thread::sleep_for(between(rng, 300ms, 1000ms));
  }
  ASSERT_TRUE(feeder.feed_rest()) << feeder.error;
  auto last_restart = steady::now();

  auto settle = wait_settled(redis, last_restart, f.settle_timeout);
  auto verdict = judge(sandbox, redis, "rr", f.restart_jobs);
  long long redeliveries = 0;
  for (auto* w : fleet.alive())
    redeliveries += std::max(0LL, worker_counter(*w->process, "rescind_redeliveries_total"));
  auto exits = fleet.unexpected_exits();
  std::string unclean_detail;
  auto unclean = unclean_stops(fleet, unclean_detail);
  fleet.save_logs();
  Report report("redis-restarts");
  report.add("jobs", static_cast<long long>(feeder.enqueued()))
      .add("kills", 0LL)
      .add("restarts", static_cast<long long>(restarts));
  report.add_verdict(verdict);
  report.add("settled_after_s", settle.after_s)
      .add("sigterm", static_cast<long long>(by_sigterm))
      .add("sigkill", static_cast<long long>(by_sigkill))
      .add("restarts_in_flight", static_cast<long long>(in_flight_restarts))
      .add("pending_at_restarts", pending_at_restarts)
      .add("claimed", fleet.claimed_from_logs())
      .add("redeliveries_metric", redeliveries)
      .add("null_lag_seen", std::string(settle.saw_null_lag ? "yes" : "no"))
      .add("stripe_replays", sandbox.summary("replayed"))
      .add("unexpected_exits", static_cast<long long>(exits.size()))
      .add("unclean_stops", unclean)
      .add("settled", std::string(settle.settled ? "yes" : "no"))
      .add("form", f.name())
      .add("seed", std::to_string(f.seed));
  report.emit();

  ASSERT_TRUE(settle.settled) << "queue did not settle: " << describe(settle.last);
  EXPECT_EQ(in_flight_restarts, f.restarts) << "restarts that found entries pending";
  expect_verdict(verdict, /*messages_once=*/false);
  EXPECT_TRUE(exits.empty()) << exits.front();
  EXPECT_EQ(unclean, 0) << "workers that did not stop with 0 on SIGTERM:" << unclean_detail;
}

// Jobs whose refund came at or after `since_ms` (epoch ms): those the fault really delayed.
long long refunds_since(Sandbox& sandbox, long long since_ms) {
  long long n = 0;
  for (const auto& effect : sandbox.ledger()) {
    if (effect.action == "refund" && effect.at_ms >= since_ms) ++n;
  }
  return n;
}

long long epoch_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct FaultRun {
  Verdict verdict;
  Settle settle;
  long long failed_calls = 0, delayed = 0, enqueued = 0, unclean = 0, rate_limited = -1, unexpected = 0;
  std::string unclean_detail, exit_detail;
  std::string setup_error;  // the scenario could not be set up (then nothing else is meaningful)
};

// 3 and 4: Stripe answers `stripe_fault` for `length` from mid-run (half the jobs enqueued
// before, half during), then recovers. Nothing is killed, so nothing may repeat.
FaultRun run_stripe_fault(const std::string& prefix, int jobs, const std::string& stripe_fault,
                          std::chrono::seconds length, const std::vector<std::string>& worker_args) {
  const Form& f = form();
  FaultRun run;
  RedisServer redis;
  Sandbox sandbox;
  set_faults(sandbox);
  Fleet fleet(redis, sandbox, prefix, worker_args);
  for (int i = 0; i < 2; ++i) fleet.start();
  Feeder feeder(redis, prefix, jobs);
  if (!feeder.feed(jobs / 2)) {
    run.setup_error = feeder.error;
    return run;
  }
  // The fault starts once refunds are flowing: it lands on jobs mid-way, not on an idle fleet.
  if (!wait_until([&] { return sandbox.count_by_action()["refund"] >= std::min(100, jobs / 4); }, 30s)) {
    run.setup_error = "refunds did not start";
    return run;
  }
  auto failed_before = sandbox.summary("faults_injected");
  set_faults(sandbox, stripe_fault);
  if (!feeder.feed_rest()) {
    run.setup_error = feeder.error;
    return run;
  }
  // The fault's length is the scenario itself, not a wait for something to happen.
  std::this_thread::sleep_for(length);
  set_faults(sandbox);
  auto recovered_ms = epoch_ms();
  auto recovered = steady::now();
  run.failed_calls = sandbox.summary("faults_injected") - failed_before;

  run.settle = wait_settled(redis, recovered, f.settle_timeout);
  run.verdict = judge(sandbox, redis, prefix, jobs);
  run.delayed = refunds_since(sandbox, recovered_ms);
  run.enqueued = feeder.enqueued();
  run.rate_limited = 0;
  for (auto* w : fleet.alive())
    run.rate_limited += std::max(0LL, worker_counter(*w->process, "rescind_rate_limited_total"));
  auto exits = fleet.unexpected_exits();
  run.unexpected = static_cast<long long>(exits.size());
  if (!exits.empty()) run.exit_detail = exits.front();
  run.unclean = unclean_stops(fleet, run.unclean_detail);
  fleet.save_logs();
  return run;
}

void report_fault_run(const std::string& scenario, const FaultRun& run, std::chrono::seconds length) {
  const Form& f = form();
  Report report(scenario);
  report.add("jobs", run.enqueued).add("kills", 0LL).add("restarts", 0LL);
  report.add_verdict(run.verdict);
  report.add("settled_after_s", run.settle.after_s)
      .add("fault_s", static_cast<long long>(length.count()))
      .add("failed_calls", run.failed_calls)
      .add("failed_calls_per_s", static_cast<double>(run.failed_calls) / static_cast<double>(length.count()))
      .add("refunds_after_recovery", run.delayed)
      .add("rate_limited_metric", run.rate_limited)
      .add("unexpected_exits", run.unexpected)
      .add("unclean_stops", run.unclean)
      .add("settled", std::string(run.settle.settled ? "yes" : "no"))
      .add("form", f.name())
      .add("seed", std::to_string(f.seed));
  report.emit();
}

void expect_fault_run(const FaultRun& run, int jobs) {
  ASSERT_TRUE(run.setup_error.empty()) << run.setup_error;
  ASSERT_TRUE(run.settle.settled) << "queue did not settle: " << describe(run.settle.last);
  EXPECT_EQ(run.enqueued, jobs);
  EXPECT_GT(run.failed_calls, 0) << "the fault answered no call";
  EXPECT_GT(run.delayed, 0) << "no refund waited for the recovery: the fault missed the run";
  expect_verdict(run.verdict, /*messages_once=*/true);
  EXPECT_EQ(run.unexpected, 0) << run.exit_detail;
  EXPECT_EQ(run.unclean, 0) << "workers that did not stop with 0 on SIGTERM:" << run.unclean_detail;
}

// 3. Stripe answers 503 for a stretch. The retry policy is one whose horizon outlasts the
// outage (the default's ~8 minutes does too, but would make the test as long): nothing may be
// dead-lettered, nothing repeated.
TEST(Chaos, ProviderOutageIsRiddenOutWithoutLossOrRepeats) {
  const Form& f = form();
  auto run = run_stripe_fault("po", f.outage_jobs, "\"status\":503", f.outage,
                              {"--retry", f.outage_retry, "--visibility-timeout", "2s"});
  report_fault_run("outage", run, f.outage);
  expect_fault_run(run, f.outage_jobs);
}

// 4. Stripe answers 429 with Retry-After for a stretch: rate-limited steps are rescheduled
// without using an attempt, so nothing is dead-lettered however long the storm.
TEST(Chaos, RateLimitStormIsRiddenOutWithoutLossOrRepeats) {
  const Form& f = form();
  auto run = run_stripe_fault("rl", f.throttle_jobs, "\"status\":429,\"retry_after_s\":1", f.throttle,
                              with(fast_retry, {"--visibility-timeout", "2s"}));
  report_fault_run("429-storm", run, f.throttle);
  expect_fault_run(run, f.throttle_jobs);
}

}  // namespace
}  // namespace rescind::testing::chaos
