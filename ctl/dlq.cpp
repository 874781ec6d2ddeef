// rescindctl dlq list | show | export: read-only views of the dead-letter queue.
#include "ctl/dlq.hpp"

#include "common/text.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <ostream>

#include "common/time.hpp"
#include "ctl/output.hpp"

namespace rescind::ctl {
namespace {

std::string or_dash(const std::string& value) { return value.empty() ? "-" : value; }

Table entry_table() { return Table({"ID", "AGE", "KIND", "REASON", "STEP", "PROVIDER", "STATUS", "JOB", "ERROR"}); }

void add_row(Table& table, const DlqEntry& entry, long long now_ms) {
  const auto& status = entry.field(field::status);
  table.add({entry.id, format_age(now_ms - entry.at_ms), or_dash(entry.field(field::kind)),
             or_dash(entry.field(field::reason)), or_dash(entry.field(field::step)),
             or_dash(entry.field(field::provider)), status.empty() || status == "0" ? "-" : status,
             or_dash(clip(entry.job_id, 32)), clip(failure_text(entry), 72)});
}

struct Group {
  long long count = 0;
  long long newest_ms = 0;
  long long oldest_ms = 0;
};

int list_groups(Context& ctx, const ListOptions& options) {
  for (const auto& field : options.group_by) {
    if (std::find(group_fields().begin(), group_fields().end(), field) == group_fields().end()) {
      throw UsageError("--group-by: unknown field '" + field + "'");
    }
  }
  std::map<std::vector<std::string>, Group> groups;
  long long total = 0;
  scan_dlq(ctx, options.filter, Order::newest_first, options.before, [&](DlqEntry& entry) {
    std::vector<std::string> key;
    for (const auto& field : options.group_by) key.push_back(group_value(entry, field));
    auto& group = groups[key];
    if (group.count++ == 0) group.newest_ms = entry.at_ms;  // newest first: the first one seen
    group.oldest_ms = entry.at_ms;
    ++total;
    return true;
  });
  std::vector<std::pair<std::vector<std::string>, Group>> sorted(groups.begin(), groups.end());
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a.second.count > b.second.count; });
  auto shown =
      std::min<std::size_t>(sorted.size(), options.limit > 0 ? static_cast<std::size_t>(options.limit) : sorted.size());

  if (options.json) {
    for (std::size_t i = 0; i < shown; ++i) {
      const auto& [key, group] = sorted[i];
      JsonObject json;
      json.add("count", group.count);
      for (std::size_t f = 0; f < key.size(); ++f) {
        const auto& field = options.group_by[f];
        // "(none)" is for people; scripts get the empty value as stored.
        json.add(field, key[f] == "(none)" && field != "hour" ? std::string() : key[f]);
      }
      json.add("newest", common::format_rfc3339_ms(group.newest_ms))
          .add("oldest", common::format_rfc3339_ms(group.oldest_ms));
      ctx.out << json.str() << "\n";
    }
    return exit_ok;
  }
  if (total == 0) {
    ctx.out << "no entries in " << ctx.keys.dlq() << (options.filter.empty() ? "" : " match") << "\n";
    return exit_ok;
  }
  std::vector<std::string> headers{"COUNT"};
  for (const auto& field : options.group_by) {
    std::string upper(field);
    std::transform(upper.begin(), upper.end(), upper.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    headers.push_back(upper);
  }
  headers.push_back("NEWEST");
  headers.push_back("OLDEST");
  Table table(headers);
  for (std::size_t i = 0; i < shown; ++i) {
    const auto& [key, group] = sorted[i];
    std::vector<std::string> row{std::to_string(group.count)};
    for (const auto& value : key) row.push_back(clip(value, 90));
    row.push_back(format_age(ctx.now_ms - group.newest_ms) + " ago");
    row.push_back(format_age(ctx.now_ms - group.oldest_ms) + " ago");
    table.add(std::move(row));
  }
  table.print(ctx.out);
  ctx.out << entries(total) << " in " << counted(static_cast<long long>(groups.size()), "group", "groups");
  if (shown < sorted.size()) {
    long long rest = 0;
    for (auto i = shown; i < sorted.size(); ++i) rest += sorted[i].second.count;
    ctx.out << "; " << counted(static_cast<long long>(sorted.size() - shown), "smaller group", "smaller groups")
            << " with " << entries(rest) << " not shown (raise --limit or add a filter)";
  }
  ctx.out << "\n";
  return exit_ok;
}

// Step states of the job: what a replay will skip.
struct StepStates {
  std::vector<std::pair<std::string, std::string>> steps;
  long long ttl_ms = -2;  // PTTL: -2 no key, -1 no expiry
};

StepStates step_states(Context& ctx, const std::string& job_id) {
  StepStates states;
  if (job_id.empty()) return states;
  redis::Request request;
  request.push("HGETALL", ctx.keys.job_state(job_id));
  request.push("PTTL", ctx.keys.job_state(job_id));
  auto replies = ctx.redis.exec(std::move(request));
  for (const auto& reply : replies) {
    if (reply.is_error()) throw OperationalError("reading " + ctx.keys.job_state(job_id) + ": " + reply.text);
  }
  const auto& fields = replies[0].elements;
  for (std::size_t i = 0; i + 1 < fields.size(); i += 2) states.steps.emplace_back(fields[i].text, fields[i + 1].text);
  std::sort(states.steps.begin(), states.steps.end());
  states.ttl_ms = replies[1].integer;
  return states;
}

void show_one(Context& ctx, const DlqEntry& entry, bool json) {
  auto states = step_states(ctx, entry.job_id);
  if (json) {
    JsonObject steps;
    for (const auto& [step, state] : states.steps) steps.add(step, state);
    auto line = entry_json(entry);
    line.pop_back();  // reopen the object to append the step states
    line += ",\"steps\":" + steps.str();
    line += ",\"steps_ttl_ms\":" + (states.ttl_ms >= 0 ? std::to_string(states.ttl_ms) : std::string("null")) + "}";
    ctx.out << line << "\n";
    return;
  }
  ctx.out << ctx.keys.dlq() << " " << entry.id << "  dead-lettered " << ago(entry.at_ms, ctx.now_ms) << " ("
          << common::format_rfc3339_ms(entry.at_ms) << ")\n";
  Fields fields;
  fields.add("job id", or_dash(entry.job_id));
  static const std::vector<std::pair<std::string_view, std::string_view>> known{
      {field::kind, "kind"},           {field::reason, "reason"},   {field::step, "step"},
      {field::provider, "provider"},   {field::status, "status"},   {field::code, "code"},
      {field::error, "error"},         {field::attempt, "attempt"}, {field::failed_at, "failed at"},
      {field::origin_id, "origin id"}, {field::worker, "worker"}};
  for (const auto& [name, label] : known) fields.add(std::string(label), or_dash(entry.field(name)));
  for (const auto& [name, value] : entry.fields) {
    bool shown =
        name == field::job || std::any_of(known.begin(), known.end(), [&](const auto& k) { return k.first == name; });
    if (!shown) fields.add(name, value);
  }
  fields.print(ctx.out);

  ctx.out << "\nstep states";
  if (entry.job_id.empty()) {
    ctx.out << ": none (the job has no readable id)\n";
  } else if (states.steps.empty()) {
    ctx.out << " (" << common::escape_controls(ctx.keys.job_state(entry.job_id))
            << "): none recorded; a replay runs every step\n";
  } else {
    ctx.out << " (" << common::escape_controls(ctx.keys.job_state(entry.job_id));
    if (states.ttl_ms >= 0) ctx.out << ", expires in " << format_age(states.ttl_ms);
    ctx.out << "): steps marked done are skipped by a replay\n";
    Table table({"STEP", "STATE"});
    for (const auto& [step, state] : states.steps) table.add({step, state});
    table.print(ctx.out, "  ");
  }

  const auto& job = entry.field(field::job);
  simdjson::dom::parser parser;
  simdjson::dom::element parsed;
  if (!job.empty() && parser.parse(job).get(parsed) == simdjson::SUCCESS) {
    // Valid JSON may still hold DEL and C1 controls (CSI is U+009B) unescaped.
    ctx.out << "\njob\n" << common::escape_controls(pretty_json(job), /*keep_line_breaks=*/true) << "\n";
  } else {
    // Byte for byte as stored, except that control characters are written \x1b: --json or
    // `dlq export` give the raw bytes.
    ctx.out << "\njob (not valid JSON; as stored, " << job.size() << " bytes; control characters as \\xNN)\n"
            << common::escape_controls(job) << "\n";
  }
}

}  // namespace

int dlq_list(Context& ctx, const ListOptions& options) {
  if (!options.group_by.empty()) return list_groups(ctx, options);
  std::vector<DlqEntry> page;
  bool more = false;
  scan_dlq(ctx, options.filter, Order::newest_first, options.before, [&](DlqEntry& entry) {
    if (static_cast<long long>(page.size()) >= options.limit) {
      more = true;
      return false;
    }
    page.push_back(std::move(entry));
    return true;
  });
  auto next = more ? "rescindctl dlq list --before " + page.back().id + " (with the same filters)" : std::string();
  if (options.json) {
    for (const auto& entry : page) ctx.out << entry_json(entry) << "\n";
    if (more) ctx.err << "more entries: " << next << "\n";
    return exit_ok;
  }
  if (page.empty()) {
    ctx.out << "no entries in " << ctx.keys.dlq() << (options.filter.empty() && options.before.empty() ? "" : " match")
            << "\n";
    return exit_ok;
  }
  auto table = entry_table();
  for (const auto& entry : page) add_row(table, entry, ctx.now_ms);
  table.print(ctx.out);
  if (more) ctx.out << "newest " << page.size() << " shown; next page: " << next << "\n";
  return exit_ok;
}

int dlq_show(Context& ctx, const std::vector<std::string>& ids, bool json) {
  std::vector<std::string> missing;
  auto entries = fetch_dlq(ctx, ids, missing);
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (i > 0 && !json) ctx.out << "\n";
    show_one(ctx, entries[i], json);
  }
  for (const auto& id : missing) {
    ctx.err << "rescindctl: " << id << " is not in " << ctx.keys.dlq()
            << " (replayed or purged already? `rescindctl dlq list` shows what is there)\n";
  }
  return missing.empty() ? exit_ok : exit_operational;
}

int dlq_export(Context& ctx, const ExportOptions& options) {
  std::ofstream file;
  bool to_file = !options.output.empty() && options.output != "-";
  if (to_file) {
    file.open(options.output, std::ios::out | std::ios::trunc);
    if (!file) throw OperationalError("cannot write " + options.output);
  }
  std::ostream& out = to_file ? file : ctx.out;
  std::vector<std::string> missing;
  long long exported = 0;
  // Exporting only reads: no ids and no filter means every entry.
  for_each_selected(ctx, options.selection, missing, [&](DlqEntry& entry) {
    out << entry_json(entry) << "\n";
    ++exported;
  });
  out.flush();
  if (!out)
    throw OperationalError("writing " + (to_file ? options.output : std::string("standard output")) + " failed");
  for (const auto& id : missing) ctx.err << "rescindctl: " << id << " is not in " << ctx.keys.dlq() << "\n";
  ctx.err << "exported " << entries(exported) << " from " << ctx.keys.dlq();
  if (to_file) ctx.err << " to " << options.output;
  ctx.err << "\n";
  return exit_ok;
}

}  // namespace rescind::ctl
