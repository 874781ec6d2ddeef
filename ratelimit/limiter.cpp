#include "ratelimit/limiter.hpp"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "common/async.hpp"

namespace rescind::ratelimit {
namespace {

using Micros = Gcra::Micros;
using std::chrono::duration_cast;
using std::chrono::milliseconds;

// How long one reading of the fleet pause key is trusted, for providers without a --limit in
// fleet scope. Their calls go through no Redis script, and reading the key on every call would
// add a round trip to each of them for a pause that is almost never there. Instead the key is
// read when a worker first calls an account (awaited: a worker that joins during a storm does
// not add its own burst of 429s), then again in the background at most every 250 ms while calls
// keep coming — at most 4 PTTLs/s per account in use, pipelined with the other commands, and
// never on a call's path. The price: a pause another worker sets is seen up to 250 ms (plus a
// round trip) late, a fraction of a Retry-After, which is whole seconds; meanwhile this worker's
// own first 429 pauses it anyway. (Reading only after this worker has seen a 429 would cost
// nothing at all, but then a worker that has not yet seen one would not honour the fleet's.)
constexpr milliseconds fleet_pause_fresh{250};

// A caller that gave up waiting for the probe's answer is told to come back in this long: the
// pause a 429 without Retry-After gets.
constexpr milliseconds probe_patience{1000};

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

milliseconds ceil_ms(Micros us) { return std::chrono::ceil<milliseconds>(us); }

std::string account_key(std::string_view provider, std::string_view account) {
  std::string key(provider);
  key += ':';
  key += account;
  return key;
}

}  // namespace

Limiter::Limiter(asio::any_io_executor executor, Limits limits, redis::Connection& redis, std::string prefix,
                 const common::Clock& clock)
    : executor_(executor),
      limits_(std::move(limits)),
      redis_(redis),
      keys_{std::move(prefix)},
      clock_(clock),
      gcra_script_(gcra_lua) {}

Limiter::Account& Limiter::account(std::string_view provider, std::string_view account) {
  auto now = clock_.steady_now();
  if (now - last_eviction_ >= evict_after) evict_idle(now);
  auto key = account_key(provider, account);
  auto it = accounts_.find(key);
  if (it == accounts_.end()) it = accounts_.emplace(std::move(key), std::make_unique<Account>()).first;
  it->second->last_used = now;
  return *it->second;
}

// Only an account nobody refers to, and whose state a fresh one would reproduce: nothing in
// flight (release() looks it up again), nobody waiting or inside acquire(), no fleet pause
// read out (it writes into the account), no pause or probe running, the bucket refilled
// (after 5 idle minutes a pending probe is forgotten too: the provider has had its rest).
void Limiter::evict_idle(TimePoint now) {
  last_eviction_ = now;
  auto now_micros = duration_cast<Micros>(now.time_since_epoch());
  std::erase_if(accounts_, [&](const auto& item) {
    const Account& a = *item.second;
    return a.callers == 0 && a.in_flight == 0 && a.waiting.empty() && !a.fleet_pause_reading &&
           a.probe != Probe::in_flight && a.paused_until <= now && a.tat <= now_micros &&
           now - a.last_used >= evict_after;
  });
}

Limiter::Account* Limiter::existing(std::string_view provider, std::string_view account) {
  if (accounts_.empty()) return nullptr;  // nothing limited, nothing ever paused: the usual case
  auto it = accounts_.find(account_key(provider, account));
  return it == accounts_.end() ? nullptr : it->second.get();
}

asio::awaitable<Admission> Limiter::acquire(std::string_view provider, std::string_view account_name) {
  const Limit* limit = limits_.find(provider, account_name);
  // Limited providers in fleet scope have the pause key read by the GCRA script on every call.
  bool reads_fleet_pause = !limit && limits_.scope == Scope::fleet;
  // Local scope, no limit: an account has state only once a 429 has paused it.
  Account* state = limit || reads_fleet_pause ? &account(provider, account_name) : existing(provider, account_name);
  if (!state) co_return Admission{};
  ++state->callers;
  struct Leave {  // however this call ends, the account may be evicted again afterwards
    Account& state;
    ~Leave() { --state.callers; }
  } leave{*state};
  auto max_wait = limits_.max_wait;
  auto deadline = clock_.steady_now() + max_wait;
  std::string bucket, pause_key;
  if (limits_.scope == Scope::fleet) {
    bucket = keys_.rate_limit(provider, account_name);
    pause_key = keys_.rate_pause(provider, account_name);
  }

  auto opening = co_await wait_for_opening(pause_key, *state, reads_fleet_pause, deadline);
  if (opening.refusal) co_return *opening.refusal;
  if (!limit) co_return Admission{};

  // The in-flight cap is a wait for a free slot, bounded like any other wait: the timer is
  // set to the deadline, so a slot held by a slow call cannot keep this one past max_wait.
  while (limit->max_in_flight > 0 && state->in_flight >= limit->max_in_flight) {
    if (clock_.steady_now() >= deadline || !co_await nap(*state, deadline)) {
      give_back(*state, false, opening.probe);
      co_return Admission{false, max_wait};
    }
  }
  ++state->in_flight;

  auto gcra = Gcra::of(limit->per_second, limit->burst);
  auto now_micros = [this] { return duration_cast<Micros>(clock_.steady_now().time_since_epoch()); };
  Gcra::Reservation reservation{true, Micros(0)};
  if (limits_.scope == Scope::local) {
    reservation = gcra.reserve(state->tat, now_micros(), duration_cast<Micros>(max_wait));
  } else {
    auto interval = std::to_string(gcra.interval.count()), tolerance = std::to_string(gcra.tolerance.count()),
         wait_limit = std::to_string(duration_cast<Micros>(max_wait).count());
    std::vector<std::string_view> keys{bucket, pause_key}, args{interval, tolerance, wait_limit};
    auto result = co_await gcra_script_.run(redis_, keys, args);
    if (const auto* reply = result.first(); reply && reply->is_array() && reply->elements.size() == 2) {
      reservation = {reply->elements[0].integer == 1, Micros(reply->elements[1].integer)};
    } else {
      // Redis unreachable: fall back to this worker's own bucket rather than stopping all
      // calls; the fleet may briefly exceed the quota, and a 429 then pauses it.
      reservation = gcra.reserve(state->tat, now_micros(), duration_cast<Micros>(max_wait));
    }
  }
  if (!reservation.admitted) {
    give_back(*state, true, opening.probe);
    co_return Admission{false, ceil_ms(reservation.wait)};
  }
  if (reservation.wait.count() > 0) co_await common::sleep_for(clock_, reservation.wait);
  co_return Admission{};
}

asio::awaitable<Limiter::Opening> Limiter::wait_for_opening(const std::string& pause_key, Account& state,
                                                            bool reads_fleet_pause, TimePoint deadline) {
  for (;;) {
    auto now = clock_.steady_now();
    if (reads_fleet_pause && !state.fleet_pause_reading &&
        (!state.fleet_pause_read || now - *state.fleet_pause_read >= fleet_pause_fresh)) {
      read_fleet_pause(pause_key, state);
    }
    if (state.paused_until > now) {
      co_return Opening{Admission{false, std::chrono::ceil<milliseconds>(state.paused_until - now)}};
    }
    bool first_read_pending = reads_fleet_pause && !state.fleet_pause_read;
    if (!first_read_pending && state.probe != Probe::in_flight) {
      if (state.probe == Probe::none) co_return Opening{};
      state.probe = Probe::in_flight;
      co_return Opening{std::nullopt, true};
    }
    // Waiting for the probe's answer or the account's first fleet pause reading; either
    // wakes every waiter, who then look again. Bounded by max_wait like any other wait.
    if (now >= deadline || !co_await nap(state, deadline)) {
      co_return Opening{Admission{false, probe_patience}};  // its deadline came, not an answer
    }
  }
}

asio::awaitable<bool> Limiter::nap(Account& state, TimePoint deadline) {
  common::Timer wake_up(executor_, clock_);
  state.waiting.push_back(&wake_up);
  struct Leave {  // however this frame ends, wake() must not find a timer that is gone
    std::vector<common::Timer*>& waiting;
    common::Timer* timer;
    ~Leave() { std::erase(waiting, timer); }
  } leave{state.waiting, &wake_up};
  co_return !co_await wake_up.wait_until(deadline);
}

void Limiter::read_fleet_pause(const std::string& pause_key, Account& state) {
  state.fleet_pause_reading = true;
  asio::co_spawn(
      executor_,
      [this, key = pause_key, &state]() -> asio::awaitable<void> {
        redis::Request request;
        request.push("PTTL", key);
        auto result = co_await redis_.exec(std::move(request));
        auto now = clock_.steady_now();
        state.fleet_pause_reading = false;
        state.fleet_pause_read = now;  // a failed read counts too: Redis down must not stop every call
        // PTTL: milliseconds left; -2 no pause; -1 a key without expiry, which pause() never writes.
        if (const auto* ttl = result.first(); ttl && ttl->type == redis::Reply::Type::integer && ttl->integer > 0) {
          auto until = now + std::min(milliseconds(ttl->integer), milliseconds(std::chrono::hours(1)));
          if (until > state.paused_until) {
            state.paused_until = until;
            state.probe = Probe::due;
          }
        }
        wake(state);
      },
      asio::detached);
}

void Limiter::wake(Account& state) {
  for (auto* timer : state.waiting) timer->cancel();
}

void Limiter::give_back(Account& state, bool holds_slot, bool was_probe) {
  if (holds_slot) {
    if (state.in_flight > 0) --state.in_flight;
    wake(state);
  }
  // A probe refused by the quota made no call: the next caller tests the provider instead.
  if (was_probe && state.probe == Probe::in_flight) {
    state.probe = Probe::due;
    wake(state);
  }
}

void Limiter::release(std::string_view provider, std::string_view account_name) {
  Account* state = existing(provider, account_name);
  if (!state) return;
  state->last_used = clock_.steady_now();
  if (limits_.find(provider, account_name)) {
    if (state->in_flight > 0) --state->in_flight;
    // Every waiter rechecks: waking one that has meanwhile given up would lose the wake-up
    // and leave the others asleep with a free slot.
    wake(*state);
  }
  if (state->probe == Probe::in_flight) {
    // The probe — or a call sent before the pause — has its answer. Were it a 429, pause()
    // comes next, before any waiter runs (waking only queues them), and makes the probe due
    // again; any other answer means the provider takes calls: the account is open to all.
    state->probe = Probe::none;
    wake(*state);
  }
}

void Limiter::pause(std::string_view provider, std::string_view account_name, milliseconds for_how_long) {
  auto& state = account(provider, account_name);
  for_how_long = std::min(for_how_long, milliseconds(std::chrono::hours(1)));  // a provider's say, within reason
  auto until = clock_.steady_now() + for_how_long;
  if (until > state.paused_until) state.paused_until = until;
  state.probe = Probe::due;
  if (limits_.scope != Scope::fleet || for_how_long.count() <= 0) return;
  auto key = keys_.rate_pause(provider, account_name);
  asio::co_spawn(
      executor_,
      [this, key, for_how_long]() -> asio::awaitable<void> {
        redis::Request request;
        request.push("SET", key, "1", "PX", for_how_long.count());
        co_await redis_.exec(std::move(request));
      },
      asio::detached);
}

}  // namespace rescind::ratelimit
