#include "ctl/confirm.hpp"

#include <istream>
#include <ostream>

namespace rescind::ctl {

bool confirm(Context& ctx, const std::string& question, const std::string& action, bool yes) {
  if (yes) return true;
  if (!ctx.stdin_is_terminal) {
    throw UsageError("refusing to " + action +
                     " without confirmation: standard input is not a terminal. "
                     "Pass --yes to go ahead, or --dry-run to only see what would change.");
  }
  ctx.err << question << " [y/N] " << std::flush;
  std::string answer;
  if (!std::getline(ctx.in, answer)) answer.clear();
  return answer == "y" || answer == "Y" || answer == "yes" || answer == "YES" || answer == "Yes";
}

}  // namespace rescind::ctl
