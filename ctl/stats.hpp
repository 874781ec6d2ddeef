// rescindctl stats: the queue at a glance: stream length and inflow, group lag and pending,
// each consumer, the retry set and the dead-letter queue.
#pragma once
#include "ctl/context.hpp"

namespace rescind::ctl {

struct StatsOptions {
  bool json = false;
  // Inflow and consumption rates come from two readings of Redis's counters this far apart
  // (0: no rates, answer at once).
  long long window_ms = 1000;
  long long prune_hint_idle_ms = 3'600'000;  // consumers idle this long and owning nothing are pointed out
};

int stats(Context& ctx, const StatsOptions& options);

}  // namespace rescind::ctl
