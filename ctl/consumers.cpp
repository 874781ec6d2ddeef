#include "ctl/consumers.hpp"

#include "common/text.hpp"

#include <algorithm>
#include <ostream>

#include "ctl/confirm.hpp"
#include "ctl/output.hpp"

namespace rescind::ctl {
namespace {

// KEYS: jobs. ARGV: group, consumer, min idle ms. Checks and deletes in one step: a
// consumer deleted while it owns entries takes them out of the pending list for good (no
// one could claim them again), and one that read something since the listing is busy.
constexpr const char* prune_lua = R"lua(
local consumers = redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])
for _, c in ipairs(consumers) do
  local name, pending, idle
  for i = 1, #c, 2 do
    if c[i] == 'name' then name = c[i + 1]
    elseif c[i] == 'pending' then pending = c[i + 1]
    elseif c[i] == 'idle' then idle = c[i + 1] end
  end
  if name == ARGV[2] then
    if pending > 0 then return 'owns' end
    if idle < tonumber(ARGV[3]) then return 'active' end
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
    return 'deleted'
  end
end
return 'gone'
)lua";

struct Consumer {
  std::string name;
  long long pending = 0;
  long long idle_ms = 0;
};

std::vector<Consumer> list_consumers(Context& ctx) {
  redis::Request request;
  request.push("XINFO", "CONSUMERS", ctx.keys.jobs(), ctx.keys.group);
  auto replies = ctx.redis.exec(std::move(request));
  const auto& reply = replies.front();
  if (reply.error_is("NOGROUP") || reply.text.find("no such key") != std::string::npos) {
    throw OperationalError("there is no group '" + ctx.keys.group + "' on " + ctx.keys.jobs() +
                           ": check --prefix and --group");
  }
  if (reply.is_error()) throw OperationalError("listing consumers: " + reply.text);
  std::vector<Consumer> consumers;
  for (const auto& info : reply.elements) {
    Consumer consumer;
    for (std::size_t i = 0; i + 1 < info.elements.size(); i += 2) {
      const auto& key = info.elements[i].text;
      if (key == "name")
        consumer.name = info.elements[i + 1].text;
      else if (key == "pending")
        consumer.pending = info.elements[i + 1].integer;
      else if (key == "idle")
        consumer.idle_ms = info.elements[i + 1].integer;
    }
    consumers.push_back(std::move(consumer));
  }
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
    request.push("EVAL", prune_lua, "1", ctx.keys.jobs(), ctx.keys.group, name, min_idle);
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
