// Backoff and the retry horizon: equal jitter within bounds, Retry-After as a floor, and the
// default policy played against simulated outages (time is a number here, nothing sleeps).
#include <gtest/gtest.h>

#include <functional>

#include "retry/policy.hpp"
#include "tests/support/manual_clock.hpp"

namespace rescind::retry {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

TEST(Backoff, EqualJitterStaysBetweenHalfTheCeilingAndTheCeiling) {
  Policy policy;  // base 1s, cap 5m
  std::mt19937_64 random(42);
  for (int attempt = 1; attempt <= 12; ++attempt) {
    auto ceiling = std::min<milliseconds>(policy.cap, policy.base * (1LL << attempt));
    milliseconds smallest = ceiling, largest{0};
    for (int i = 0; i < 2000; ++i) {
      auto delay = backoff(policy, attempt, std::nullopt, random);
      ASSERT_GE(delay, ceiling / 2) << "attempt " << attempt << ": the fixed half";
      ASSERT_LE(delay, ceiling) << "attempt " << attempt;
      smallest = std::min(smallest, delay);
      largest = std::max(largest, delay);
    }
    EXPECT_LT(smallest, ceiling * 5 / 8) << "jitter reaches the low end";
    EXPECT_GT(largest, ceiling * 7 / 8) << "and the high one";
  }
}

TEST(Backoff, NeverSoonerThanRetryAfterAndNoOverflowOnHugeAttempts) {
  Policy policy;
  std::mt19937_64 random(7);
  for (int i = 0; i < 100; ++i) EXPECT_GE(backoff(policy, 1, 30s, random), 30s);
  EXPECT_LE(backoff(policy, 10'000, std::nullopt, random), policy.cap);
}

TEST(Verdict, AttemptsAndAgeBoundRetries) {
  Policy policy;
  policy.max_attempts = 3;
  policy.max_age = 1h;
  EXPECT_EQ(next_step(policy, 1, 0ms), Verdict::retry);
  EXPECT_EQ(next_step(policy, 3, 0ms), Verdict::exhausted);
  EXPECT_EQ(next_step(policy, 1, 2h), Verdict::expired);
}

// The job runner asks its clock how old a job is; on a clock the test moves, the same job
// turns from "retry" to "expired" exactly when it passes max_age, with no time passing here.
TEST(Verdict, AJobsAgeIsReadFromTheInjectedClock) {
  Policy policy;  // max_age 23h
  testing::ManualClock clock;
  auto first_at_ms = std::chrono::duration_cast<milliseconds>(clock.system_now().time_since_epoch()).count();
  EXPECT_EQ(age_of(first_at_ms, clock.system_now()), 0ms);
  clock.advance(23h - 1ms);
  EXPECT_EQ(age_of(first_at_ms, clock.system_now()), 23h - 1ms);
  EXPECT_EQ(next_step(policy, 40, age_of(first_at_ms, clock.system_now())), Verdict::retry);
  clock.advance(1ms);
  EXPECT_EQ(next_step(policy, 40, age_of(first_at_ms, clock.system_now())), Verdict::expired)
      << "23 h after its first enqueue, however many attempts are left";
  EXPECT_EQ(next_step(policy, 0, age_of(first_at_ms, clock.system_now())), Verdict::expired)
      << "a rate-limited job (no attempt used) is ended by its age too";
}

// One job as the job runner treats it: attempt 1 at t = 0, each attempt fails while the
// provider is down, and after each failure next_step decides and `delay` says when the next
// attempt runs (the time a call takes is left out: it only makes the job older, sooner).
struct Run {
  bool succeeded = false;
  Verdict ended = Verdict::retry;  // how it ended when it did not succeed
  int attempts = 0;
  milliseconds last_attempt_at{0};  // the successful attempt, or the last failed one
};

using Delay = std::function<milliseconds(const Policy&, int attempt, std::mt19937_64&)>;

Run play(const Policy& policy, milliseconds outage, const Delay& delay, std::mt19937_64& random) {
  Run run;
  milliseconds now{0};
  for (int attempt = 1;; ++attempt) {
    run.attempts = attempt;
    run.last_attempt_at = now;
    if (now >= outage) {
      run.succeeded = true;
      return run;
    }
    auto verdict = next_step(policy, attempt, now);
    if (verdict != Verdict::retry) {
      run.ended = verdict;
      return run;
    }
    now += delay(policy, attempt, random);
  }
}

const Delay current = [](const Policy& policy, int attempt, std::mt19937_64& random) {
  return backoff(policy, attempt, std::nullopt, random);
};

// The formula the worker used before equal jitter: uniform in [0, min(cap, base·2^attempt)].
const Delay full_jitter = [](const Policy& policy, int attempt, std::mt19937_64& random) {
  long long ceiling = policy.base.count();
  for (int i = 0; i < attempt && ceiling < policy.cap.count(); ++i) ceiling *= 2;
  ceiling = std::min<long long>(ceiling, policy.cap.count());
  return milliseconds(std::uniform_int_distribution<long long>(0, ceiling)(random));
};

constexpr int jobs = 2000;

TEST(RetryHorizon, TheDefaultPolicyRidesOutAThirtyMinuteOutage) {
  Policy policy;
  std::mt19937_64 random(2024);
  for (int job = 0; job < jobs; ++job) {
    auto run = play(policy, 30min, current, random);
    ASSERT_TRUE(run.succeeded) << "job " << job << " ended "
                               << (run.ended == Verdict::exhausted ? "exhausted" : "expired") << " after "
                               << run.attempts << " attempts: it would be dead-lettered";
    // Every delay is at most the cap, so the provider's recovery is noticed within it.
    EXPECT_LE(run.last_attempt_at, 30min + policy.cap) << "job " << job;
  }
}

TEST(RetryHorizon, TheOldDefaultDeadLetteredEveryJobOfAThirtyMinuteOutage) {
  Policy old;
  old.max_attempts = 10;
  old.cap = 15min;
  std::mt19937_64 random(2024);
  int dead_lettered = 0;
  for (int job = 0; job < jobs; ++job) {
    auto run = play(old, 30min, full_jitter, random);
    if (!run.succeeded && run.ended == Verdict::exhausted) ++dead_lettered;
  }
  // At most 2+4+…+512 s = 1,022 s of delays in 10 attempts: none of them lives to see minute 30.
  EXPECT_EQ(dead_lettered, jobs);
}

TEST(RetryHorizon, TwentyThreeHoursOfFailuresEndInExpiredNotExhausted) {
  Policy policy;
  std::mt19937_64 random(99);
  for (int job = 0; job < jobs; ++job) {
    auto run = play(policy, 1000h, current, random);  // a provider that never comes back
    ASSERT_FALSE(run.succeeded);
    ASSERT_EQ(run.ended, Verdict::expired) << "job " << job << " after " << run.attempts << " attempts";
    EXPECT_GE(run.last_attempt_at, policy.max_age) << "age, and nothing earlier, ended it";
    EXPECT_LE(run.last_attempt_at, policy.max_age + policy.cap) << "ended by the first attempt past max_age";
    EXPECT_LT(run.attempts, policy.max_attempts) << "the attempt count is a backstop, not the limit";
  }
}

TEST(PolicyText, ParsesAndNamesMistakes) {
  Policy policy;
  std::string error;
  ASSERT_TRUE(parse_policy("attempts=5,base=2s,cap=10m,max_age=24h", policy, error)) << error;
  EXPECT_EQ(policy.max_attempts, 5);
  EXPECT_EQ(policy.base, 2s);
  EXPECT_EQ(policy.cap, 10min);
  EXPECT_EQ(policy.max_age, 24h);
  ASSERT_TRUE(parse_policy("attempts=600,base=1s,cap=5m,max_age=23h", policy, error))
      << "the documented default: " << error;
  EXPECT_EQ(policy.max_attempts, Policy{}.max_attempts);
  EXPECT_EQ(policy.base, Policy{}.base);
  EXPECT_EQ(policy.cap, Policy{}.cap);
  EXPECT_EQ(policy.max_age, Policy{}.max_age);
  EXPECT_FALSE(parse_policy("attempts=0", policy, error));
  EXPECT_FALSE(parse_policy("base=soon", policy, error));
  EXPECT_NE(error.find("base"), std::string::npos);
  EXPECT_FALSE(parse_policy("jitter=full", policy, error));
  EXPECT_FALSE(parse_policy("base=10m,cap=1m", policy, error));
}

}  // namespace
}  // namespace rescind::retry
