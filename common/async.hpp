// The small shapes every coroutine here uses: errors as values (use_tuple), a pause
// (sleep_for), a wake-up another coroutine sends (Signal), a count of work in flight that
// shutdown waits on (Gate), and a deadline on an injected clock (Timer). Header-only, so that rescind_common itself
// needs no Asio; its users link rescind_asio.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <cstddef>

#include "common/clock.hpp"

namespace rescind::common {

// `auto [ec, n] = co_await op(…, use_tuple);`: an expected failure is a value, checked where
// it happens (Beast's examples), not an exception.
inline constexpr auto use_tuple = boost::asio::as_tuple(boost::asio::use_awaitable);

// Suspends the calling coroutine for `delay` of real time: backoff between tries, ticks.
inline boost::asio::awaitable<void> sleep_for(std::chrono::steady_clock::duration delay) {
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, delay);
  co_await timer.async_wait(use_tuple);
}

// A condition variable for coroutines on one executor: wait() until notified. As with
// std::condition_variable, a notification sent while nobody waits is lost, so a waiter checks
// its condition in a loop around wait(). Built on a timer that never expires (boostorg/redis's
// writer_cv_), named for what it is.
class Signal {
 public:
  explicit Signal(boost::asio::any_io_executor executor)
      : timer_(executor, boost::asio::steady_timer::time_point::max()) {}

  boost::asio::awaitable<void> wait() { co_await timer_.async_wait(use_tuple); }
  void notify_one() { timer_.cancel_one(); }
  void notify_all() { timer_.cancel(); }

 private:
  boost::asio::steady_timer timer_;
};

// Work in flight (seastar's gate): enter() as a piece starts, leave() as it ends; shutdown
// waits for the last one to leave, woken by it rather than looking every few milliseconds.
class Gate {
 public:
  explicit Gate(boost::asio::any_io_executor executor) : emptied_(executor) {}

  void enter() { ++count_; }
  void leave() {
    if (count_ > 0 && --count_ == 0) emptied_.notify_all();
  }
  std::size_t count() const { return count_; }

  // Until nothing is in flight or `timeout` has passed; true when everything left in time.
  boost::asio::awaitable<bool> wait_empty(std::chrono::steady_clock::duration timeout) {
    using namespace boost::asio::experimental::awaitable_operators;
    boost::asio::steady_timer deadline(co_await boost::asio::this_coro::executor, timeout);
    while (count_ > 0) {
      // Whichever comes first cancels the other.
      auto first = co_await (emptied_.wait() || deadline.async_wait(use_tuple));
      if (first.index() == 1) break;
    }
    co_return count_ == 0;
  }

 private:
  std::size_t count_ = 0;
  Signal emptied_;
};

// A wait until a deadline on an injected clock, which another coroutine may end early with
// cancel(). On the real clock an Asio timer runs for what is left of the deadline; on a clock
// that moves only when told, the wait looks again each time it moves.
class Timer : private Clock::Waiter {
 public:
  Timer(boost::asio::any_io_executor executor, const Clock& clock) : clock_(clock), timer_(executor) {}
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  // True when the deadline came; false when cancel() ended the wait first.
  boost::asio::awaitable<bool> wait_until(Clock::SteadyTime deadline) {
    cancelled_ = false;  // as with an Asio timer, a cancel() before the wait began has no effect
    while (!cancelled_) {
      auto left = deadline - clock_.steady_now();
      if (left <= Clock::SteadyTime::duration::zero()) co_return true;
      if (clock_.passes_by_itself())
        timer_.expires_after(left);
      else
        timer_.expires_at(boost::asio::steady_timer::time_point::max());
      struct Watching {  // however this frame ends, the clock must not call a wait that is gone
        const Clock& clock;
        Clock::Waiter& waiter;
        ~Watching() { clock.remove_waiter(waiter); }
      } watching{clock_, *this};
      clock_.add_waiter(*this);
      co_await timer_.async_wait(use_tuple);
    }
    co_return false;
  }
  void cancel() {
    cancelled_ = true;
    timer_.cancel();
  }

 private:
  void time_moved() override { timer_.cancel(); }

  const Clock& clock_;
  boost::asio::steady_timer timer_;
  bool cancelled_ = false;
};

// Suspends the calling coroutine for `delay` on `clock`.
inline boost::asio::awaitable<void> sleep_for(const Clock& clock, Clock::SteadyTime::duration delay) {
  Timer timer(co_await boost::asio::this_coro::executor, clock);
  co_await timer.wait_until(clock.steady_now() + delay);
}

}  // namespace rescind::common
