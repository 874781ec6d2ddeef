// Quotas as configured, and GCRA's admissions as a function of time (no sleeping).
#include <gtest/gtest.h>

#include "ratelimit/gcra.hpp"
#include "ratelimit/limits.hpp"

namespace rescind::ratelimit {
namespace {

using Micros = Gcra::Micros;

TEST(Gcra, BurstGoesAtOnceThenOneSlotPerInterval) {
  auto gcra = Gcra::of(10, 3);  // 10/s, burst 3
  Micros tat{0}, now{1'000'000}, patience{10'000'000};
  for (int i = 0; i < 3; ++i) EXPECT_EQ(gcra.reserve(tat, now, patience).wait, Micros(0)) << i;
  EXPECT_EQ(gcra.reserve(tat, now, patience).wait, Micros(100'000));
  EXPECT_EQ(gcra.reserve(tat, now, patience).wait, Micros(200'000));
  // Over a long run the admitted rate is the configured one.
  Micros later = now + Micros(10'000'000);
  int admitted = 0;
  for (Micros t = later; t < later + Micros(1'000'000); t += Micros(1'000)) {
    if (gcra.reserve(tat, t, Micros(0)).admitted) ++admitted;
  }
  EXPECT_LE(admitted, 10 + 3);
  EXPECT_GE(admitted, 10);
}

TEST(Gcra, ASlotBeyondMaxWaitIsNotReserved) {
  auto gcra = Gcra::of(1, 1);
  Micros tat{0}, now{5'000'000};
  EXPECT_TRUE(gcra.reserve(tat, now, Micros(0)).admitted);
  auto refused = gcra.reserve(tat, now, Micros(500'000));
  EXPECT_FALSE(refused.admitted);
  EXPECT_EQ(refused.wait, Micros(1'000'000)) << "says when to come back";
  EXPECT_TRUE(gcra.reserve(tat, now + Micros(1'000'000), Micros(0)).admitted) << "the refusal reserved nothing";
}

TEST(Limits, ParseProviderAndAccountOverrides) {
  Limits limits;
  std::string error;
  ASSERT_TRUE(parse_limit("stripe=100/s:20", limits, error)) << error;
  ASSERT_TRUE(parse_limit("stripe/acct_9=25/s:5:10", limits, error)) << error;
  ASSERT_TRUE(parse_limit("twilio=60/m", limits, error)) << error;
  EXPECT_EQ(limits.find("stripe", "default")->per_second, 100);
  EXPECT_EQ(limits.find("stripe", "default")->burst, 20);
  EXPECT_EQ(limits.find("stripe", "acct_9")->per_second, 25);
  EXPECT_EQ(limits.find("stripe", "acct_9")->max_in_flight, 10u);
  EXPECT_DOUBLE_EQ(limits.find("twilio", "+1500")->per_second, 1.0);
  EXPECT_EQ(limits.find("slack", "default"), nullptr) << "unconfigured providers are not limited";
  for (const char* bad : {"stripe", "stripe=100", "stripe=-1/s", "stripe=10/s:0", "stripe=10/s:5:x", "=1/s"}) {
    EXPECT_FALSE(parse_limit(bad, limits, error)) << bad;
    EXPECT_NE(error.find("PROVIDER"), std::string::npos) << error;
  }
}

// Found by fuzz/config_fuzzer: strtod and from_chars read "nan", "inf" and 1e-300, which passed
// the range checks and then overflowed the conversion to whole microseconds in Gcra::of
// (undefined behaviour; a NaN rate compared false against everything).
TEST(Limits, RefusesNumbersABucketCannotHold) {
  Limits limits;
  std::string error;
  for (const char* bad : {"stripe=nan/s", "stripe=inf/s", "stripe=1e-300/s", "stripe=1e-5/s", "stripe=2e6/s",
                          "stripe=1/s:inf", "stripe=1/s:1e300", "stripe=1/s:1:inf", "stripe=1/s:1:1e30",
                          "stripe=1/s:1:2.5"}) {
    EXPECT_FALSE(parse_limit(bad, limits, error)) << bad;
    EXPECT_NE(error.find("PROVIDER"), std::string::npos) << error;
  }
  EXPECT_TRUE(limits.per_provider.empty());
  ASSERT_TRUE(parse_limit("stripe=1/m:1000000:1000000", limits, error)) << error;
  auto gcra = Gcra::of(limits.find("stripe", "")->per_second, limits.find("stripe", "")->burst);
  EXPECT_EQ(gcra.interval, std::chrono::microseconds(60'000'000));
}

}  // namespace
}  // namespace rescind::ratelimit
