// The one gate in front of every destructive verb: --yes goes ahead, a person at a terminal
// is asked y/N, and anything else (a script, a pipe, cron) is refused with exit code 2, so
// nothing is ever replayed or deleted because a prompt was answered by accident.
#pragma once
#include <string>

#include "ctl/context.hpp"

namespace rescind::ctl {

// True to go ahead, false when the person said no. Throws UsageError (exit 2) when stdin is
// not a terminal and `yes` is false; `action` completes "refusing to …".
bool confirm(Context& ctx, const std::string& question, const std::string& action, bool yes);

}  // namespace rescind::ctl
