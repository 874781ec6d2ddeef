#include "ctl/stats.hpp"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <optional>
#include <ostream>
#include <thread>

#include "common/time.hpp"
#include "ctl/output.hpp"
#include "queue/info.hpp"
#include "queue/scripts.hpp"
#include "redis/streams.hpp"

namespace rescind::ctl {
namespace {

// KEYS: stream. ARGV: start id, page size. Counts one page of entries from `start` on
// inside Redis, so counting a busy minute moves two numbers, not every job's bytes.
constexpr const char* count_page_lua = R"lua(
local page = redis.call('XRANGE', KEYS[1], ARGV[1], '+', 'COUNT', tonumber(ARGV[2]))
if #page == 0 then return {0, ''} end
return {#page, page[#page][1]}
)lua";

constexpr long long count_page = 5000;
constexpr long long count_cap = 1'000'000;  // past it: "at least"; bounds the work on Redis

struct Count {
  long long entries = 0;
  bool capped = false;
};

// Entries whose ids are at least `since_ms`: how many were XADDed since then (entries
// deleted or trimmed since are not counted).
Count count_since(Context& ctx, const std::string& stream, long long since_ms) {
  Count count;
  std::string start = std::to_string(std::max(0LL, since_ms));
  for (;;) {
    redis::Request request;
    request.push("EVAL", count_page_lua, "1", stream, start, count_page);
    auto reply = ctx.command(std::move(request), "counting recent entries of " + stream);
    if (!reply.is_array() || reply.elements.size() < 2) return count;
    count.entries += reply.elements[0].integer;
    if (reply.elements[0].integer < count_page) return count;
    if (count.entries >= count_cap) {
      count.capped = true;
      return count;
    }
    start = "(" + reply.elements[1].text;
  }
}

// Step outcomes (ok, retryable, permanent, rate_limited) per provider in the audit trail:
// what the fleet actually finished, as opposed to what arrived.
struct AuditTally {
  long long window_ms = 0;
  long long steps = 0;
  bool capped = false;
  std::map<std::string, std::map<std::string, long long>> by_provider;
};

// The last minute's steps, by Redis's clock (the audit ids are its time).
AuditTally tally_audit(Context& ctx, long long window_ms) {
  AuditTally tally;
  tally.window_ms = window_ms;
  const auto audit = ctx.keys.audit();
  std::string start = std::to_string(std::max(0LL, ctx.now_ms - window_ms));
  for (;;) {
    redis::Request request;
    request.push("EVAL", queue::scripts::tally_audit(), "1", audit, start, count_page);
    auto reply = ctx.command(std::move(request), "reading " + audit);
    if (!reply.is_array() || reply.elements.size() < 3) return tally;
    const auto& flat = reply.elements[2].elements;
    for (std::size_t i = 0; i + 2 < flat.size(); i += 3) {
      tally.by_provider[flat[i].text][flat[i + 1].text] += flat[i + 2].integer;
    }
    tally.steps += reply.elements[0].integer;
    if (reply.elements[0].integer < count_page) return tally;
    if (tally.steps >= count_cap) {
      tally.capped = true;
      return tally;
    }
    start = "(" + reply.elements[1].text;
  }
}

struct ConsumerState {
  std::string name;
  long long pending = 0;
  long long idle_ms = 0;
  std::optional<long long> oldest_pending_idle_ms;
};

struct GroupState {
  bool exists = false;
  std::optional<long long> lag;  // Redis cannot always tell (after deletions): unknown
  long long pending = 0;
  long long entries_read = -1;
  std::string last_delivered_id;
  std::optional<long long> oldest_unread_ms;   // when the first entry not yet read was added
  std::optional<long long> oldest_pending_ms;  // when the oldest pending entry was added
  std::vector<ConsumerState> consumers;
};

// Two monotonic counters Redis keeps (7.0+): every XADD to the stream, every entry
// delivered to the group. Trimming the stream does not touch them, unlike counting ids.
struct Counters {
  long long time_ms = 0;
  std::optional<long long> entries_added;
  std::optional<long long> entries_read;
};

struct Rates {
  long long window_ms = 0;
  std::optional<double> added_per_s, read_per_s;
};

struct Snapshot {
  long long jobs_length = 0;
  Rates rates;
  GroupState group;
  long long retry_scheduled = 0;
  long long retry_due_now = 0;
  std::optional<long long> retry_next_due_ms;
  long long dlq_depth = 0;
  long long pending_refunds = 0;  // accepted by the provider, not yet completed
  std::optional<long long> pending_next_check_ms;
  Count dlq_added_last_hour;
  AuditTally steps;
  std::optional<long long> dlq_newest_ms, dlq_oldest_ms;
};

std::optional<long long> first_entry_ms(redis::Reply&& reply) {
  auto entries = redis::entries_from(std::move(reply));
  if (entries.empty()) return std::nullopt;
  return redis::entry_id_millis(entries.front().id);
}

Counters read_counters(Context& ctx) {
  redis::Request request;
  request.push("TIME");
  request.push("XINFO", "STREAM", ctx.keys.jobs());
  request.push("XINFO", "GROUPS", ctx.keys.jobs());
  auto replies = ctx.redis.exec(std::move(request));
  Counters counters;
  if (replies[0].elements.size() >= 2) {
    counters.time_ms = std::stoll(replies[0].elements[0].text) * 1000 + std::stoll(replies[0].elements[1].text) / 1000;
  }
  if (auto stream = queue::stream_info_from(replies[1]); stream && stream->entries_added) {
    counters.entries_added = stream->entries_added;
  } else if (replies[1].is_error() && replies[1].text.find("no such key") != std::string::npos) {
    counters.entries_added = 0;  // no stream yet: nothing was ever added
  }
  if (auto group = queue::group_named(replies[2], ctx.keys.group)) counters.entries_read = group->entries_read;
  return counters;
}

// Inflow and consumption over `window`: two readings of the counters, by Redis's clock.
Rates measure_rates(Context& ctx, long long window_ms) {
  Rates rates;
  if (window_ms <= 0) return rates;
  auto first = read_counters(ctx);
  std::this_thread::sleep_for(std::chrono::milliseconds(window_ms));
  auto second = read_counters(ctx);
  rates.window_ms = second.time_ms - first.time_ms;
  if (rates.window_ms <= 0) return rates;
  auto per_s = [&](const std::optional<long long>& a, const std::optional<long long>& b) -> std::optional<double> {
    if (!a || !b) return std::nullopt;
    return static_cast<double>(*b - *a) * 1000.0 / static_cast<double>(rates.window_ms);
  };
  rates.added_per_s = per_s(first.entries_added, second.entries_added);
  rates.read_per_s = per_s(first.entries_read, second.entries_read);
  return rates;
}

Snapshot take_snapshot(Context& ctx, long long window_ms) {
  const auto jobs = ctx.keys.jobs(), retry = ctx.keys.retry(), dlq = ctx.keys.dlq(), group = ctx.keys.group;
  redis::Request request;
  request.push("XLEN", jobs);
  request.push("XINFO", "GROUPS", jobs);
  request.push("XINFO", "CONSUMERS", jobs, group);
  request.push("ZCARD", retry);
  request.push("ZRANGE", retry, 0, 0, "WITHSCORES");
  request.push("ZCOUNT", retry, "-inf", ctx.now_ms);
  request.push("XLEN", dlq);
  request.push("XRANGE", dlq, "-", "+", "COUNT", 1);
  request.push("XREVRANGE", dlq, "+", "-", "COUNT", 1);
  request.push("XPENDING", jobs, group);
  request.push("ZCARD", ctx.keys.pending_refunds());
  request.push("ZRANGE", ctx.keys.pending_refunds(), 0, 0, "WITHSCORES");
  auto replies = ctx.redis.exec(std::move(request));
  // A missing stream or group is a state worth showing (no worker ran yet), not a failure.
  auto failed = [](const redis::Reply& r) {
    return r.is_error() && !r.error_is("NOGROUP") && r.text.find("no such key") == std::string::npos;
  };
  for (const auto& reply : replies) {
    if (failed(reply)) throw OperationalError("reading the queue's keys: " + reply.text);
  }

  Snapshot s;
  s.rates = measure_rates(ctx, window_ms);
  s.jobs_length = replies[0].integer;
  if (auto info = queue::group_named(replies[1], group)) {
    s.group.exists = true;
    s.group.lag = info->lag;
    s.group.pending = info->pending;
    s.group.entries_read = info->entries_read.value_or(-1);
    s.group.last_delivered_id = info->last_delivered_id;
  }
  for (auto& info : queue::consumers_from(replies[2])) {
    s.group.consumers.push_back(ConsumerState{std::move(info.name), info.pending, info.idle_ms, std::nullopt});
  }
  std::sort(s.group.consumers.begin(), s.group.consumers.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  s.retry_scheduled = replies[3].integer;
  if (replies[4].elements.size() >= 2) {
    // A score is a double as text ("1732291200000"); strtod never throws on a bad one.
    s.retry_next_due_ms = static_cast<long long>(std::strtod(replies[4].elements[1].text.c_str(), nullptr));
  }
  s.retry_due_now = replies[5].integer;
  s.dlq_depth = replies[6].integer;
  s.dlq_oldest_ms = first_entry_ms(std::move(replies[7]));
  s.dlq_newest_ms = first_entry_ms(std::move(replies[8]));
  if (auto summary = queue::pending_summary_from(replies[9])) {
    s.group.oldest_pending_ms = redis::entry_id_millis(summary->oldest_id);
  }
  s.pending_refunds = replies[10].integer;
  if (replies[11].elements.size() >= 2) {
    s.pending_next_check_ms = static_cast<long long>(std::strtod(replies[11].elements[1].text.c_str(), nullptr));
  }

  // Second round trip: what depends on the first (the first unread entry, each consumer's oldest).
  if (s.group.exists) {
    redis::Request more;
    more.push("XRANGE", jobs, "(" + s.group.last_delivered_id, "+", "COUNT", 1);
    std::vector<std::size_t> asked;
    for (std::size_t i = 0; i < s.group.consumers.size(); ++i) {
      if (s.group.consumers[i].pending == 0) continue;
      more.push("XPENDING", jobs, group, "-", "+", 1, s.group.consumers[i].name);
      asked.push_back(i);
    }
    auto answers = ctx.redis.exec(std::move(more));
    for (const auto& reply : answers) {
      if (failed(reply)) throw OperationalError("reading the group's pending entries: " + reply.text);
    }
    s.group.oldest_unread_ms = first_entry_ms(std::move(answers[0]));
    for (std::size_t k = 0; k < asked.size(); ++k) {
      if (auto oldest = queue::pending_from(answers[k + 1]); !oldest.empty()) {
        s.group.consumers[asked[k]].oldest_pending_idle_ms = oldest.front().idle_ms;
      }
    }
  }
  s.dlq_added_last_hour = count_since(ctx, dlq, ctx.now_ms - 3'600'000);
  s.steps = tally_audit(ctx, 60'000);
  return s;
}

std::string count_text(const Count& count) { return (count.capped ? "at least " : "") + std::to_string(count.entries); }

void add_optional(JsonObject& json, std::string_view key, const std::optional<long long>& value) {
  if (value)
    json.add(key, *value);
  else
    json.add_null(key);
}

void add_rate(JsonObject& json, std::string_view key, const std::optional<double>& rate) {
  if (!rate) {
    json.add_null(key);
    return;
  }
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", *rate);
  json.add_raw(key, text);
}

std::string rate_text(const std::optional<double>& rate) {
  if (!rate) return "-";
  char text[32];
  std::snprintf(text, sizeof text, "%.1f/s", *rate);
  return text;
}

void print_json(Context& ctx, const Snapshot& s) {
  JsonObject jobs;
  jobs.add("key", ctx.keys.jobs()).add("length", s.jobs_length);
  jobs.add("rate_window_ms", s.rates.window_ms);
  add_rate(jobs, "added_per_s", s.rates.added_per_s);
  add_rate(jobs, "read_per_s", s.rates.read_per_s);
  jobs.add("group_exists", s.group.exists);
  add_optional(jobs, "lag", s.group.lag);
  jobs.add("pending", s.group.pending);
  if (s.group.entries_read >= 0)
    jobs.add("entries_read", s.group.entries_read);
  else
    jobs.add_null("entries_read");
  jobs.add("last_delivered_id", s.group.last_delivered_id);
  add_optional(jobs, "oldest_unread_age_ms",
               s.group.oldest_unread_ms ? std::optional(ctx.now_ms - *s.group.oldest_unread_ms) : std::nullopt);
  add_optional(jobs, "oldest_pending_age_ms",
               s.group.oldest_pending_ms ? std::optional(ctx.now_ms - *s.group.oldest_pending_ms) : std::nullopt);

  std::string consumers = "[";
  for (const auto& c : s.group.consumers) {
    JsonObject item;
    item.add("name", c.name).add("pending", c.pending).add("idle_ms", c.idle_ms);
    add_optional(item, "oldest_pending_idle_ms", c.oldest_pending_idle_ms);
    consumers += (consumers.size() > 1 ? "," : "") + item.str();
  }
  consumers += "]";

  JsonObject retry;
  retry.add("key", ctx.keys.retry()).add("scheduled", s.retry_scheduled).add("due_now", s.retry_due_now);
  add_optional(retry, "next_due_ms", s.retry_next_due_ms);
  add_optional(retry, "next_due_in_ms",
               s.retry_next_due_ms ? std::optional(*s.retry_next_due_ms - ctx.now_ms) : std::nullopt);

  JsonObject dlq;
  dlq.add("key", ctx.keys.dlq()).add("depth", s.dlq_depth);
  dlq.add("added_last_hour", s.dlq_added_last_hour.entries).add("added_last_hour_capped", s.dlq_added_last_hour.capped);
  add_optional(dlq, "newest_age_ms", s.dlq_newest_ms ? std::optional(ctx.now_ms - *s.dlq_newest_ms) : std::nullopt);
  add_optional(dlq, "oldest_age_ms", s.dlq_oldest_ms ? std::optional(ctx.now_ms - *s.dlq_oldest_ms) : std::nullopt);

  JsonObject refunds;
  refunds.add("key", ctx.keys.pending_refunds()).add("count", s.pending_refunds);
  add_optional(refunds, "next_check_in_ms",
               s.pending_next_check_ms ? std::optional(*s.pending_next_check_ms - ctx.now_ms) : std::nullopt);

  JsonObject steps;
  steps.add("key", ctx.keys.audit()).add("window_ms", s.steps.window_ms).add("total", s.steps.steps);
  steps.add("capped", s.steps.capped);
  JsonObject providers;
  for (const auto& [provider, outcomes] : s.steps.by_provider) {
    JsonObject counts;
    for (const auto& [outcome, count] : outcomes) counts.add(outcome, count);
    providers.add_raw(provider, counts.str());
  }
  steps.add_raw("by_provider", providers.str());

  JsonObject all;
  all.add("redis", ctx.redis_display).add("prefix", ctx.keys.prefix).add("group", ctx.keys.group);
  all.add("time_ms", ctx.now_ms);
  all.add_raw("jobs", jobs.str())
      .add_raw("consumers", consumers)
      .add_raw("retry", retry.str())
      .add_raw("steps_last_minute", steps.str())
      .add_raw("dlq", dlq.str())
      .add_raw("pending_refunds", refunds.str());
  ctx.out << all.str() << "\n";
}

std::string since(const std::optional<long long>& at_ms, long long now_ms) { return at_ms ? ago(*at_ms, now_ms) : "-"; }

// One row per provider: how its calls ended in the window, and its successes per second.
void print_steps(Context& ctx, const AuditTally& tally) {
  ctx.out << "\nstep outcomes, last minute (" << ctx.keys.audit() << ")\n";
  if (tally.steps == 0) {
    ctx.out << "  none: no provider was called\n";
    return;
  }
  static const std::vector<std::string> outcomes{"ok", "retryable", "permanent", "rate_limited"};
  Table table({"PROVIDER", "OK", "RETRYABLE", "PERMANENT", "RATE LIMITED", "OK/S"});
  std::map<std::string, long long> totals;
  auto row = [&](const std::string& name, const std::map<std::string, long long>& counts) {
    std::vector<std::string> cells{name};
    for (const auto& outcome : outcomes) {
      auto it = counts.find(outcome);
      cells.push_back(std::to_string(it == counts.end() ? 0 : it->second));
    }
    auto ok = counts.find("ok");
    char rate[32];
    std::snprintf(
        rate, sizeof rate, "%.1f",
        static_cast<double>(ok == counts.end() ? 0 : ok->second) * 1000.0 / static_cast<double>(tally.window_ms));
    cells.emplace_back(rate);
    table.add(std::move(cells));
  };
  for (const auto& [provider, counts] : tally.by_provider) {
    row(provider.empty() ? "(none)" : provider, counts);
    for (const auto& [outcome, count] : counts) totals[outcome] += count;
  }
  if (tally.by_provider.size() > 1) row("all", totals);
  table.print(ctx.out, "  ");
  if (tally.capped) ctx.out << "  (counted the first " << tally.steps << " steps of the window only)\n";
}

void print_table(Context& ctx, const Snapshot& s, const StatsOptions& options) {
  ctx.out << ctx.keys.prefix << " on " << ctx.redis_display << ", group " << ctx.keys.group << ", Redis time "
          << common::format_rfc3339_ms(ctx.now_ms) << "\n\n";

  ctx.out << "jobs stream " << ctx.keys.jobs() << "\n";
  Fields jobs;
  jobs.add("length", std::to_string(s.jobs_length));
  if (s.rates.window_ms > 0) {
    auto window = " over the last " + format_age(s.rates.window_ms);
    jobs.add("added", rate_text(s.rates.added_per_s) + window + "  (every XADD: new jobs, promoted retries, replays)");
    if (s.group.exists) {
      jobs.add("read by the group", rate_text(s.rates.read_per_s) + window + "  (new entries handed to workers)");
    }
  }
  if (!s.group.exists) {
    jobs.add("group", "'" + ctx.keys.group + "' does not exist yet: no worker has started on this prefix");
  } else {
    jobs.add("lag", (s.group.lag ? std::to_string(*s.group.lag) : std::string("unknown")) +
                        "  (entries not yet read by the group)");
    jobs.add("oldest unread", since(s.group.oldest_unread_ms, ctx.now_ms));
    jobs.add("pending", std::to_string(s.group.pending) + "  (read by a worker, not yet finished)");
    jobs.add("oldest pending", since(s.group.oldest_pending_ms, ctx.now_ms));
  }
  jobs.print(ctx.out);

  if (s.group.exists) {
    ctx.out << "\nconsumers in group " << ctx.keys.group << ": " << s.group.consumers.size() << "\n";
    if (!s.group.consumers.empty()) {
      Table table({"CONSUMER", "PENDING", "IDLE", "OLDEST PENDING IDLE"});
      long long prunable = 0;
      for (const auto& c : s.group.consumers) {
        table.add({c.name, std::to_string(c.pending), format_age(c.idle_ms),
                   c.oldest_pending_idle_ms ? format_age(*c.oldest_pending_idle_ms) : "-"});
        if (c.pending == 0 && c.idle_ms >= options.prune_hint_idle_ms) ++prunable;
      }
      table.print(ctx.out, "  ");
      ctx.out << "  IDLE: since the consumer last read (before Redis 7.2: last received entries, so a worker on a\n"
                 "  quiet queue looks idle too). OLDEST PENDING IDLE: since its oldest unfinished entry was\n"
                 "  delivered or heartbeated; past the visibility timeout another worker claims it.\n";
      if (prunable > 0) {
        ctx.out << "  " << counted(prunable, "consumer", "consumers") << " idle over "
                << format_age(options.prune_hint_idle_ms) << " own nothing: `rescindctl consumers prune --dry-run`\n";
      }
    }
  }

  print_steps(ctx, s.steps);

  ctx.out << "\nretry set " << ctx.keys.retry() << "\n";
  Fields retry;
  retry.add("scheduled", std::to_string(s.retry_scheduled));
  retry.add("due now", std::to_string(s.retry_due_now) +
                           (s.retry_due_now > 0 ? "  (workers promote due retries every 500ms)" : ""));
  retry.add("next due", s.retry_next_due_ms ? ago(*s.retry_next_due_ms, ctx.now_ms) + "  (" +
                                                  common::format_rfc3339_ms(*s.retry_next_due_ms) + ")"
                                            : "-");
  retry.print(ctx.out);

  ctx.out << "\ndead-letter queue " << ctx.keys.dlq() << "\n";
  Fields dlq;
  dlq.add("depth", std::to_string(s.dlq_depth));
  dlq.add("added, last hour", count_text(s.dlq_added_last_hour));
  dlq.add("newest", since(s.dlq_newest_ms, ctx.now_ms));
  dlq.add("oldest", since(s.dlq_oldest_ms, ctx.now_ms));
  dlq.print(ctx.out);
  if (s.dlq_depth > 0) ctx.out << "  why: `rescindctl dlq list --group-by reason,step,provider`\n";

  ctx.out << "\npending refunds " << ctx.keys.pending_refunds() << "\n";
  Fields refunds;
  refunds.add("pending",
              std::to_string(s.pending_refunds) +
                  (s.pending_refunds > 0 ? "  (accepted by the provider, not completed; workers check them)" : ""));
  refunds.add("next check", s.pending_next_check_ms ? ago(*s.pending_next_check_ms, ctx.now_ms) : "-");
  refunds.print(ctx.out);
}

}  // namespace

int stats(Context& ctx, const StatsOptions& options) {
  auto snapshot = take_snapshot(ctx, options.window_ms);
  if (options.json)
    print_json(ctx, snapshot);
  else
    print_table(ctx, snapshot, options);
  return exit_ok;
}

}  // namespace rescind::ctl
