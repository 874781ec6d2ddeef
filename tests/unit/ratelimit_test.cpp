// Quotas as configured, GCRA's admissions and the limiter's 429 pauses as a function of time
// (an injected clock: no sleeping).
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <memory>
#include <optional>
#include <string>

#include "ratelimit/gcra.hpp"
#include "ratelimit/limiter.hpp"
#include "ratelimit/limits.hpp"
#include "tests/support/manual_clock.hpp"

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
  for (const char* bad :
       {"stripe=nan/s", "stripe=inf/s", "stripe=1e-300/s", "stripe=1e-5/s", "stripe=2e6/s", "stripe=1/s:inf",
        "stripe=1/s:1e300", "stripe=1/s:1:inf", "stripe=1/s:1:1e30", "stripe=1/s:1:2.5"}) {
    EXPECT_FALSE(parse_limit(bad, limits, error)) << bad;
    EXPECT_NE(error.find("PROVIDER"), std::string::npos) << error;
  }
  EXPECT_TRUE(limits.per_provider.empty());
  ASSERT_TRUE(parse_limit("stripe=1/m:1000000:1000000", limits, error)) << error;
  auto gcra = Gcra::of(limits.find("stripe", "")->per_second, limits.find("stripe", "")->burst);
  EXPECT_EQ(gcra.interval, std::chrono::microseconds(60'000'000));
}

// A limiter in local scope (its Redis connection is never used) on a clock the test moves:
// its buckets, pauses and waits see no time pass but what advance() adds. max_wait 0 by
// default: nothing waits, every answer comes at once.
struct PausedLimiter {
  asio::io_context io;
  redis::Connection redis{io.get_executor(), redis::Endpoint{}};
  testing::ManualClock clock;
  Limiter limiter;

  explicit PausedLimiter(Limits limits, std::chrono::milliseconds max_wait = std::chrono::milliseconds(0))
      : limiter(io.get_executor(), local(std::move(limits), max_wait), redis, "rescind", clock) {}

  static Limits local(Limits limits, std::chrono::milliseconds max_wait) {
    limits.scope = Scope::local;
    limits.max_wait = max_wait;
    return limits;
  }

  // Runs what is ready; nothing here needs real time to pass.
  void settle() {
    io.restart();
    io.poll();
  }

  // An acquire() that may wait: its answer arrives once the clock has moved far enough.
  std::shared_ptr<std::optional<Admission>> start(std::string provider, std::string account = "default") {
    auto admission = std::make_shared<std::optional<Admission>>();
    asio::co_spawn(
        io,
        [this, admission, provider = std::move(provider), account = std::move(account)]() -> asio::awaitable<void> {
          *admission = co_await limiter.acquire(provider, account);
        },
        asio::detached);
    settle();
    return admission;
  }

  void advance(std::chrono::milliseconds by) {
    clock.advance(by);
    settle();
  }

  // An acquire() that must answer without the clock moving.
  Admission acquire(std::string_view provider, std::string_view account = "default") {
    auto admission = start(std::string(provider), std::string(account));
    EXPECT_TRUE(admission->has_value()) << "acquire waited for time to pass";
    return admission->value_or(Admission{false, std::chrono::milliseconds(-1)});
  }
};

using std::chrono::milliseconds;

TEST(Pause, ARetryAfterPausesAProviderThatHasNoLimit) {
  PausedLimiter quota(Limits{});  // no --limit at all
  ASSERT_TRUE(quota.acquire("stripe").admitted);
  quota.limiter.release("stripe", "default");

  quota.limiter.pause("stripe", "default", milliseconds(2000));  // a 429 with Retry-After: 2
  auto paused = quota.acquire("stripe");
  EXPECT_FALSE(paused.admitted) << "the Retry-After holds although Stripe has no limit";
  EXPECT_EQ(paused.retry_in, milliseconds(2000));
  EXPECT_TRUE(quota.acquire("stripe", "acct_other").admitted) << "another account is not paused";
  EXPECT_TRUE(quota.acquire("sendgrid").admitted) << "nor another provider";
  quota.advance(milliseconds(1500));
  EXPECT_EQ(quota.acquire("stripe").retry_in, milliseconds(500)) << "come back when the pause ends";
}

TEST(Pause, OneCallTestsTheProviderBeforeTheOthersGo) {
  PausedLimiter quota(Limits{});
  quota.limiter.pause("stripe", "default", milliseconds(2000));
  quota.advance(milliseconds(2000));

  EXPECT_TRUE(quota.acquire("stripe").admitted) << "the probe";
  auto other = quota.acquire("stripe");
  EXPECT_FALSE(other.admitted) << "waits for the probe's answer instead of joining a herd";
  EXPECT_GT(other.retry_in, milliseconds(0));

  // The probe is answered 429 again: paused again, and again only one call after it.
  quota.limiter.release("stripe", "default");
  quota.limiter.pause("stripe", "default", milliseconds(2000));
  EXPECT_EQ(quota.acquire("stripe").retry_in, milliseconds(2000));
  quota.advance(milliseconds(2000));
  EXPECT_TRUE(quota.acquire("stripe").admitted);
  EXPECT_FALSE(quota.acquire("stripe").admitted);

  // This time the provider answers: the account is open to every call.
  quota.limiter.release("stripe", "default");
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(quota.acquire("stripe").admitted) << i;
}

TEST(Pause, AProbeTheQuotaRefusesDoesNotLockTheAccount) {
  Limits limits;
  std::string error;
  ASSERT_TRUE(parse_limit("stripe=1/s:1", limits, error)) << error;
  PausedLimiter quota(std::move(limits));
  ASSERT_TRUE(quota.acquire("stripe").admitted);  // takes the one token: the next is 1 s away
  quota.limiter.release("stripe", "default");
  quota.limiter.pause("stripe", "default", milliseconds(100));
  EXPECT_EQ(quota.acquire("stripe").retry_in, milliseconds(100)) << "a limited provider is paused too";
  quota.advance(milliseconds(100));
  auto refused = quota.acquire("stripe");  // would be the probe, but the bucket says 900 ms
  EXPECT_FALSE(refused.admitted);
  EXPECT_EQ(refused.retry_in, milliseconds(900));
  quota.advance(milliseconds(900));
  EXPECT_TRUE(quota.acquire("stripe").admitted) << "the probe's turn passed to the next caller";
}

// Nothing frees the slot here: only the deadline can end the wait (one that waited for a
// slot to free would wait for ever, the slow call never ending).
TEST(InFlight, AWaitForAFreeSlotEndsAtMaxWait) {
  Limits limits;
  std::string error;
  ASSERT_TRUE(parse_limit("stripe=1000/s:100:1", limits, error)) << error;
  PausedLimiter quota(std::move(limits), milliseconds(50));
  ASSERT_TRUE(quota.acquire("stripe").admitted);  // holds the one slot: a call that does not end
  auto waited = quota.start("stripe");
  EXPECT_FALSE(waited->has_value()) << "waits for a free slot";
  quota.advance(milliseconds(49));
  EXPECT_FALSE(waited->has_value()) << "still within --max-limit-wait";
  quota.advance(milliseconds(1));
  ASSERT_TRUE(waited->has_value()) << "bounded by --max-limit-wait, not by the slowest call";
  EXPECT_FALSE((*waited)->admitted);
  EXPECT_EQ((*waited)->retry_in, milliseconds(50));
  quota.limiter.release("stripe", "default");
  EXPECT_TRUE(quota.acquire("stripe").admitted) << "the caller that gave up took no slot with it";
}

TEST(InFlight, AFreedSlotEndsTheWaitBeforeMaxWait) {
  Limits limits;
  std::string error;
  ASSERT_TRUE(parse_limit("stripe=1000/s:100:1", limits, error)) << error;
  PausedLimiter quota(std::move(limits), milliseconds(50));
  ASSERT_TRUE(quota.acquire("stripe").admitted);
  auto waited = quota.start("stripe");
  quota.advance(milliseconds(10));
  EXPECT_FALSE(waited->has_value());
  quota.limiter.release("stripe", "default");
  quota.settle();
  ASSERT_TRUE(waited->has_value()) << "woken by the release, not by time";
  EXPECT_TRUE((*waited)->admitted);
}

// GCRA's arithmetic and its waits both run on the injected clock: the second call of a
// 10/s bucket with burst 1 waits its 100 ms turn of that clock, and no real time.
TEST(Turn, ACallWithinMaxWaitWaitsForItsTurnOnTheInjectedClock) {
  Limits limits;
  std::string error;
  ASSERT_TRUE(parse_limit("stripe=10/s:1", limits, error)) << error;
  PausedLimiter quota(std::move(limits), milliseconds(1000));
  ASSERT_TRUE(quota.acquire("stripe").admitted);
  quota.limiter.release("stripe", "default");
  auto second = quota.start("stripe");
  EXPECT_FALSE(second->has_value()) << "its slot is 100 ms away";
  quota.advance(milliseconds(99));
  EXPECT_FALSE(second->has_value());
  quota.advance(milliseconds(1));
  ASSERT_TRUE(second->has_value());
  EXPECT_TRUE((*second)->admitted);
  EXPECT_EQ(quota.clock.waiting(), 0u) << "nothing left waiting on the clock";
}

TEST(Turn, TheBucketRefillsAsTheInjectedClockMoves) {
  Limits limits;
  std::string error;
  ASSERT_TRUE(parse_limit("stripe=10/s:1", limits, error)) << error;
  PausedLimiter quota(std::move(limits));  // max_wait 0: a refusal says when to come back
  ASSERT_TRUE(quota.acquire("stripe").admitted);
  quota.limiter.release("stripe", "default");
  auto refused = quota.acquire("stripe");
  EXPECT_FALSE(refused.admitted);
  EXPECT_EQ(refused.retry_in, milliseconds(100));
  quota.advance(milliseconds(60));
  EXPECT_EQ(quota.acquire("stripe").retry_in, milliseconds(40)) << "the refusal reserved nothing";
  quota.advance(milliseconds(40));
  EXPECT_TRUE(quota.acquire("stripe").admitted);
}

TEST(Accounts, IdleShopAccountsAreForgottenBusyAndPausedOnesKept) {
  Limits limits;
  std::string error;
  ASSERT_TRUE(parse_limit("shopify=2/s:40:5", limits, error)) << error;
  PausedLimiter quota(std::move(limits));
  for (int i = 0; i < 100; ++i) {  // one cancel each for 100 shops seen once
    auto shop = "shop-" + std::to_string(i) + ".myshopify.com";
    ASSERT_TRUE(quota.acquire("shopify", shop).admitted) << i;
    quota.limiter.release("shopify", shop);
  }
  ASSERT_TRUE(quota.acquire("shopify", "slow.myshopify.com").admitted);  // its call is still out
  quota.limiter.pause("shopify", "throttled.myshopify.com", std::chrono::hours(1));
  EXPECT_EQ(quota.limiter.accounts(), 102u);

  quota.advance(Limiter::evict_after - milliseconds(1));
  ASSERT_TRUE(quota.acquire("shopify", "busy.myshopify.com").admitted);
  quota.limiter.release("shopify", "busy.myshopify.com");
  EXPECT_EQ(quota.limiter.accounts(), 103u) << "not idle long enough yet";

  quota.advance(milliseconds(2));
  ASSERT_TRUE(quota.acquire("shopify", "busy.myshopify.com").admitted);
  quota.limiter.release("shopify", "busy.myshopify.com");
  EXPECT_EQ(quota.limiter.accounts(), 3u) << "busy, the one with a call out, the paused one";
  EXPECT_FALSE(quota.acquire("shopify", "throttled.myshopify.com").admitted) << "its pause was kept";
}

}  // namespace
}  // namespace rescind::ratelimit
