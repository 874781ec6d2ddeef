// rescindctl consumers prune: forget consumers of stopped workers (every restart adds a
// new host-pid name to the group) without ever orphaning an entry one of them owns.
#pragma once
#include "ctl/context.hpp"

namespace rescind::ctl {

struct PruneOptions {
  long long idle_ms = 3'600'000;  // only consumers silent at least this long
  bool dry_run = false;
  bool yes = false;
};

int consumers_prune(Context& ctx, const PruneOptions& options);

}  // namespace rescind::ctl
