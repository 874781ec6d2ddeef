#include "ctl/consumers.hpp"

#include "common/text.hpp"

#include <algorithm>
#include <ostream>

#include "ctl/confirm.hpp"
#include "ctl/output.hpp"
#include "queue/info.hpp"
#include "queue/scripts.hpp"

namespace rescind::ctl {
namespace {

std::vector<queue::ConsumerInfo> list_consumers(Context& ctx) {
  redis::Request request;
  request.push("XINFO", "CONSUMERS", ctx.keys.jobs(), ctx.keys.group);
  auto replies = ctx.redis.exec(std::move(request));
  const auto& reply = replies.front();
  if (reply.error_is("NOGROUP") || reply.text.find("no such key") != std::string::npos) {
    throw OperationalError("there is no group '" + ctx.keys.group + "' on " + ctx.keys.jobs() +
                           ": check --prefix and --group");
  }
  if (reply.is_error()) throw OperationalError("listing consumers: " + reply.text);
  auto consumers = queue::consumers_from(reply);
  std::sort(consumers.begin(), consumers.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return consumers;
}

}  // namespace

int consumers_prune(Context& ctx, const PruneOptions& options) {
  auto consumers = list_consumers(ctx);
  std::vector<std::string> prunable;
  long long idle_owning = 0;
  Table table({"CONSUMER", "PENDING", "IDLE", "ACTION"});
  for (const auto& c : consumers) {
    std::string action;
    if (c.idle_ms < options.idle_ms) {
      action = "keep: active";
    } else if (c.pending > 0) {
      action = "keep: owns " + counted(c.pending, "pending entry", "pending entries");
      ++idle_owning;
    } else {
      action = "delete";
      prunable.push_back(c.name);
    }
    table.add({c.name, std::to_string(c.pending), format_age(c.idle_ms), action});
  }
  ctx.out << counted(static_cast<long long>(consumers.size()), "consumer", "consumers") << " in group "
          << ctx.keys.group << " on " << ctx.keys.jobs() << "; " << prunable.size() << " idle over "
          << format_age(options.idle_ms) << " and owning nothing\n";
  if (!table.empty()) table.print(ctx.out, "  ");
  if (idle_owning > 0) {
    ctx.out << "note: " << counted(idle_owning, "idle consumer still owns", "idle consumers still own")
            << " entries; a live worker claims them after "
            << "the visibility timeout, then they can be pruned\n";
  }
  if (prunable.empty()) {
    ctx.out << "nothing to prune\n";
    return exit_ok;
  }
  if (options.dry_run) {
    ctx.out << "dry run: nothing was changed. Run it again with --yes to delete "
            << counted(static_cast<long long>(prunable.size()), "this consumer", "these consumers") << ".\n";
    return exit_ok;
  }
  auto count = counted(static_cast<long long>(prunable.size()), "consumer", "consumers");
  if (!confirm(ctx, "Delete " + count + " from group " + ctx.keys.group + "?", "delete " + count, options.yes)) {
    ctx.out << "not confirmed: nothing was changed\n";
    return exit_ok;
  }
  long long deleted = 0, kept = 0;
  auto min_idle = std::to_string(options.idle_ms);
  for (const auto& name : prunable) {
    redis::Request request;
    request.push("EVAL", queue::scripts::remove_consumer(), "1", ctx.keys.jobs(), ctx.keys.group, name, min_idle);
    auto outcome = ctx.command(std::move(request), "deleting consumer " + name).text;
    if (outcome == "deleted") {
      ++deleted;
    } else if (outcome != "gone") {
      ++kept;
      ctx.err << "kept " << common::escape_controls(name) << ": "
              << (outcome == "owns" ? "it took entries meanwhile" : "it became active again") << "\n";
    }
  }
  ctx.out << "deleted " << counted(deleted, "consumer", "consumers");
  if (kept > 0) ctx.out << "; " << kept << " kept because they changed since the listing";
  ctx.out << "\n";
  return exit_ok;
}

}  // namespace rescind::ctl
