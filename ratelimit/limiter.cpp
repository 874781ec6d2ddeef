#include "ratelimit/limiter.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace rescind::ratelimit {
namespace {

using Micros = Gcra::Micros;
using std::chrono::duration_cast;
using std::chrono::milliseconds;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// KEYS: bucket (TAT in µs), pause flag. ARGV: interval µs, tolerance µs, max wait µs.
// The same arithmetic as Gcra::reserve, on Redis's clock so workers' clocks need not agree.
// Returns {admitted, wait µs}.
constexpr const char* gcra_lua = R"lua(
local paused = redis.call('PTTL', KEYS[2])
if paused > 0 then return {0, paused * 1000} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local interval, tolerance, max_wait = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local wait = tat - tolerance - now
if wait < 0 then wait = 0 end
if wait > max_wait then return {0, wait} end
local next_tat = tat + interval
redis.call('SET', KEYS[1], string.format('%.0f', next_tat), 'PX', math.ceil((next_tat - now) / 1000) + 1000)
return {1, wait}
)lua";

Micros now_micros() {
  return duration_cast<Micros>(std::chrono::steady_clock::now().time_since_epoch());
}

milliseconds ceil_ms(Micros us) { return std::chrono::ceil<milliseconds>(us); }

}  // namespace

Limiter::Limiter(asio::any_io_executor executor, Limits limits, redis::Connection& redis, std::string prefix)
    : executor_(executor), limits_(std::move(limits)), redis_(redis), prefix_(std::move(prefix)), gcra_script_(gcra_lua) {}

Limiter::Account& Limiter::account(std::string_view provider, std::string_view account) {
  std::string key(provider);
  key += ':';
  key += account;
  auto it = accounts_.find(key);
  if (it == accounts_.end()) it = accounts_.emplace(key, std::make_unique<Account>(executor_)).first;
  return *it->second;
}

asio::awaitable<Admission> Limiter::acquire(std::string_view provider, std::string_view account_name) {
  const Limit* limit = limits_.find(provider, account_name);
  if (!limit) co_return Admission{};
  auto& state = account(provider, account_name);
  auto max_wait = limits_.max_wait;

  if (auto left = state.paused_until - std::chrono::steady_clock::now(); left.count() > 0) {
    co_return Admission{false, std::chrono::ceil<milliseconds>(left)};
  }
  // The in-flight cap is a wait for a free slot, bounded like any other wait.
  auto deadline = std::chrono::steady_clock::now() + max_wait;
  while (limit->max_in_flight > 0 && state.in_flight >= limit->max_in_flight) {
    if (std::chrono::steady_clock::now() >= deadline) co_return Admission{false, max_wait};
    co_await state.freed.async_wait(use_tuple);
  }
  ++state.in_flight;

  auto gcra = Gcra::of(limit->per_second, limit->burst);
  Gcra::Reservation reservation{true, Micros(0)};
  if (limits_.scope == Scope::local) {
    reservation = gcra.reserve(state.tat, now_micros(), duration_cast<Micros>(max_wait));
  } else {
    std::string bucket = prefix_ + ":rl:" + std::string(provider) + ":" + std::string(account_name);
    std::string pause_key = bucket + ":pause";
    auto interval = std::to_string(gcra.interval.count()), tolerance = std::to_string(gcra.tolerance.count()),
         wait_limit = std::to_string(duration_cast<Micros>(max_wait).count());
    std::vector<std::string_view> keys{bucket, pause_key}, args{interval, tolerance, wait_limit};
    auto result = co_await gcra_script_.run(redis_, keys, args);
    if (result.ok() && result.replies[0].is_array() && result.replies[0].elements.size() == 2) {
      reservation = {result.replies[0].elements[0].integer == 1, Micros(result.replies[0].elements[1].integer)};
    } else {
      // Redis unreachable: fall back to this worker's own bucket rather than stopping all
      // calls; the fleet may briefly exceed the quota, and a 429 then pauses it.
      reservation = gcra.reserve(state.tat, now_micros(), duration_cast<Micros>(max_wait));
    }
  }
  if (!reservation.admitted) {
    release(provider, account_name);
    co_return Admission{false, ceil_ms(reservation.wait)};
  }
  if (reservation.wait.count() > 0) {
    asio::steady_timer turn(executor_, reservation.wait);
    co_await turn.async_wait(use_tuple);
  }
  co_return Admission{};
}

void Limiter::release(std::string_view provider, std::string_view account_name) {
  if (!limits_.find(provider, account_name)) return;
  auto& state = account(provider, account_name);
  if (state.in_flight > 0) --state.in_flight;
  // Every waiter rechecks: waking one that has meanwhile given up would lose the wake-up
  // and leave the others asleep with a free slot.
  state.freed.cancel();
}

void Limiter::pause(std::string_view provider, std::string_view account_name, milliseconds for_how_long) {
  auto& state = account(provider, account_name);
  for_how_long = std::min(for_how_long, milliseconds(std::chrono::hours(1)));  // a provider's say, within reason
  auto until = std::chrono::steady_clock::now() + for_how_long;
  if (until > state.paused_until) state.paused_until = until;
  if (limits_.scope != Scope::fleet || for_how_long.count() <= 0) return;
  auto key = prefix_ + ":rl:" + std::string(provider) + ":" + std::string(account_name) + ":pause";
  asio::co_spawn(executor_, [this, key, for_how_long]() -> asio::awaitable<void> {
    redis::Request request;
    request.push("SET", key, "1", "PX", for_how_long.count());
    co_await redis_.exec(std::move(request));
  }, asio::detached);
}

}  // namespace rescind::ratelimit
