// Signal and Gate (common/async.hpp): who wakes whom, and a drain that ends when the last job
// leaves rather than when a poll next looks. Nothing here waits for real time to pass.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <optional>

#include "common/async.hpp"

namespace rescind::common {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// Runs what is ready now, and nothing that would need time to pass.
void settle(asio::io_context& io) {
  io.restart();
  io.poll();
}

TEST(Signal, NotifyOneWakesOneWaiterAndNotifyAllTheRest) {
  asio::io_context io;
  Signal signal(io.get_executor());
  int woken = 0;
  for (int i = 0; i < 3; ++i) {
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          co_await signal.wait();
          ++woken;
        },
        asio::detached);
  }
  settle(io);
  EXPECT_EQ(woken, 0) << "nobody wakes unasked";
  signal.notify_one();
  settle(io);
  EXPECT_EQ(woken, 1);
  signal.notify_all();
  settle(io);
  EXPECT_EQ(woken, 3);
}

TEST(Signal, ANotificationNobodyWaitsForIsLost) {
  asio::io_context io;
  Signal signal(io.get_executor());
  signal.notify_all();
  bool woken = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        co_await signal.wait();
        woken = true;
      },
      asio::detached);
  settle(io);
  EXPECT_FALSE(woken) << "as with a condition variable: the waiter checks its condition first";
  signal.notify_one();
  settle(io);
  EXPECT_TRUE(woken);
}

struct Drain {
  asio::io_context io;
  Gate gate{io.get_executor()};
  std::optional<bool> drained;

  void start(std::chrono::steady_clock::duration timeout) {
    asio::co_spawn(
        io, [this, timeout]() -> asio::awaitable<void> { drained = co_await gate.wait_empty(timeout); },
        asio::detached);
    settle(io);
  }
};

TEST(Gate, TheLastJobToLeaveEndsTheWait) {
  Drain drain;
  drain.gate.enter();
  drain.gate.enter();
  drain.start(1h);  // a deadline that cannot come during the test: only the jobs can end it
  EXPECT_FALSE(drain.drained);
  drain.gate.leave();
  settle(drain.io);
  EXPECT_FALSE(drain.drained) << "one job is still in flight";
  drain.gate.leave();
  settle(drain.io);
  ASSERT_TRUE(drain.drained) << "woken by the last one, no poll interval";
  EXPECT_TRUE(*drain.drained);
}

TEST(Gate, NothingInFlightIsDrainedAtOnce) {
  Drain drain;
  drain.start(1h);
  ASSERT_TRUE(drain.drained);
  EXPECT_TRUE(*drain.drained);
}

TEST(Gate, TheTimeoutEndsTheWaitWithJobsStillInFlight) {
  Drain drain;
  drain.gate.enter();
  drain.start(0ms);       // already due: the deadline wins without any time passing
  drain.io.run_for(10s);  // returns as soon as the wait has ended; a wait that never ends fails here
  ASSERT_TRUE(drain.drained);
  EXPECT_FALSE(*drain.drained);
  EXPECT_EQ(drain.gate.count(), 1u);
  drain.gate.leave();  // leaving after the drain gave up wakes nobody and breaks nothing
  settle(drain.io);
  EXPECT_EQ(drain.gate.count(), 0u);
}

}  // namespace
}  // namespace rescind::common
