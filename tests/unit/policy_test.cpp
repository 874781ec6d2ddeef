// Backoff and the retry horizon: full jitter within bounds, Retry-After as a floor.
#include <gtest/gtest.h>

#include "retry/policy.hpp"

namespace rescind::retry {
namespace {

using namespace std::chrono_literals;

TEST(Backoff, FullJitterStaysWithinTheExponentialCeiling) {
  Policy policy;  // base 1s, cap 15m
  std::mt19937_64 random(42);
  for (int attempt = 1; attempt <= 12; ++attempt) {
    auto ceiling = std::min<std::chrono::milliseconds>(policy.cap, policy.base * (1LL << attempt));
    std::chrono::milliseconds smallest = ceiling, largest{0};
    for (int i = 0; i < 2000; ++i) {
      auto delay = backoff(policy, attempt, std::nullopt, random);
      ASSERT_GE(delay.count(), 0);
      ASSERT_LE(delay, ceiling) << "attempt " << attempt;
      smallest = std::min(smallest, delay);
      largest = std::max(largest, delay);
    }
    EXPECT_LT(smallest, ceiling / 4) << "jitter reaches low values";
    EXPECT_GT(largest, ceiling * 3 / 4) << "and high ones";
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

TEST(PolicyText, ParsesAndNamesMistakes) {
  Policy policy;
  std::string error;
  ASSERT_TRUE(parse_policy("attempts=5,base=2s,cap=10m,max_age=24h", policy, error)) << error;
  EXPECT_EQ(policy.max_attempts, 5);
  EXPECT_EQ(policy.base, 2s);
  EXPECT_EQ(policy.cap, 10min);
  EXPECT_EQ(policy.max_age, 24h);
  EXPECT_FALSE(parse_policy("attempts=0", policy, error));
  EXPECT_FALSE(parse_policy("base=soon", policy, error));
  EXPECT_NE(error.find("base"), std::string::npos);
  EXPECT_FALSE(parse_policy("jitter=full", policy, error));
  EXPECT_FALSE(parse_policy("base=10m,cap=1m", policy, error));
}

}  // namespace
}  // namespace rescind::retry
