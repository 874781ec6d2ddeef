// What every rescindctl verb works with: the Redis session, the key names, Redis's clock
// and the terminal. Verbs take a Context and return an exit code.
#pragma once
#include <iosfwd>
#include <stdexcept>
#include <string>
#include <string_view>

#include "ctl/redis_session.hpp"
#include "queue/keys.hpp"

namespace rescind::ctl {

// Exit codes of every verb (design.md, "Interfaces").
constexpr int exit_ok = 0;
constexpr int exit_operational = 1;
constexpr int exit_usage = 2;

// A request the operator has to change (exit code 2); the message says how.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The worker's key names (--prefix) and the consumer group its workers read in (--group).
struct Keys : queue::Keys {
  std::string group = "rescind";
};

struct Context {
  RedisSession& redis;
  Keys keys;
  std::string redis_display;  // host:port/db, never the password
  // Redis's clock (TIME), not this machine's: stream ids carry Redis's time, so "2h ago"
  // and "added in the last minute" must be measured against it.
  long long now_ms = 0;
  std::istream& in;
  std::ostream& out;
  std::ostream& err;
  bool stdin_is_terminal = false;
  bool stderr_is_terminal = false;

  // Sends one command; an error reply is an operational failure naming `what`.
  redis::Reply command(redis::Request request, std::string_view what);
};

// Redis's clock (TIME) in ms since the epoch: the one "now" every verb measures against.
long long redis_clock_ms(Context& ctx);

}  // namespace rescind::ctl
