#include "ctl/dlq_entries.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "common/duration.hpp"
#include "common/time.hpp"
#include "ctl/output.hpp"

namespace rescind::ctl {
namespace {

constexpr long long page_size = 500;

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool listed(const std::vector<std::string>& values, const std::string& value) {
  if (values.empty()) return true;
  for (const auto& wanted : values) {
    if (wanted == value || (wanted == "none" && value.empty())) return true;
  }
  return false;
}

// The job's "id" for showing and for its step-state key; empty for a job that is not JSON.
class JobIdReader {
 public:
  std::string read(const std::string& job) {
    simdjson::padded_string padded(job);
    auto doc = parser_.iterate(padded);
    if (doc.error()) return {};
    std::string_view id;
    if (doc["id"].get_string().get(id) != simdjson::SUCCESS) return {};
    return std::string(id);
  }

 private:
  simdjson::ondemand::parser parser_;
};

DlqEntry to_entry(redis::StreamEntry&& raw, JobIdReader& ids) {
  DlqEntry entry;
  entry.at_ms = redis::entry_id_millis(raw.id).value_or(0);
  entry.id = std::move(raw.id);
  entry.fields = std::move(raw.fields);
  if (entry.has(field::job)) entry.job_id = ids.read(entry.field(field::job));
  return entry;
}

bool parse_number(std::string_view text, int& value) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc{} && end == text.data() + text.size();
}

std::string base64(std::string_view bytes) {
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    auto n = static_cast<unsigned char>(bytes[i]) << 16 | static_cast<unsigned char>(bytes[i + 1]) << 8 |
             static_cast<unsigned char>(bytes[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += alphabet[(n >> shift) & 63];
  }
  if (auto left = bytes.size() - i; left > 0) {
    auto n =
        static_cast<unsigned char>(bytes[i]) << 16 | (left > 1 ? static_cast<unsigned char>(bytes[i + 1]) << 8 : 0);
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    out += left > 1 ? alphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

}  // namespace

const std::string& DlqEntry::field(std::string_view name) const {
  static const std::string none;
  for (const auto& [key, value] : fields) {
    if (key == name) return value;
  }
  return none;
}

bool DlqEntry::has(std::string_view name) const {
  return std::any_of(fields.begin(), fields.end(), [&](const auto& kv) { return kv.first == name; });
}

std::optional<long long> parse_age_ms(std::string_view text) {
  auto parsed = common::parse_duration(text);
  if (!parsed) return std::nullopt;
  return parsed->count();
}

std::optional<TimeBound> parse_time_bound(std::string_view text) {
  if (auto age = parse_age_ms(text)) return TimeBound{true, *age};
  // 2026-11-22T16:00:00Z, 2026-11-22T16:00:00.250+02:00; a space for the T is fine too.
  auto at = common::parse_rfc3339_ms(text, common::DateTimeSeparator::t_or_space);
  if (!at) return std::nullopt;
  return TimeBound{false, *at};
}

bool DlqFilter::empty() const {
  return kinds.empty() && reasons.empty() && steps.empty() && providers.empty() && job_ids.empty() && errors.empty() &&
         !since && !until;
}

bool DlqFilter::matches(const DlqEntry& entry, long long now_ms) const {
  if (since && entry.at_ms < since->at(now_ms)) return false;
  if (until && entry.at_ms > until->at(now_ms)) return false;
  if (!listed(kinds, entry.field(field::kind)) || !listed(reasons, entry.field(field::reason)) ||
      !listed(steps, entry.field(field::step)) || !listed(providers, entry.field(field::provider))) {
    return false;
  }
  if (!job_ids.empty() && std::find(job_ids.begin(), job_ids.end(), entry.job_id) == job_ids.end()) return false;
  if (!errors.empty()) {
    auto haystack = lower(entry.field(field::error)) + "\n" + lower(entry.field(field::code));
    bool found = std::any_of(errors.begin(), errors.end(), [&](const std::string& needle) {
      return haystack.find(lower(needle)) != std::string::npos;
    });
    if (!found) return false;
  }
  return true;
}

void scan_dlq(Context& ctx, const DlqFilter& filter, Order order, const std::string& before,
              const std::function<bool(DlqEntry&)>& visit) {
  // The time bounds narrow the range Redis reads; matches() checks them again exactly.
  std::string low = filter.since ? std::to_string(std::max(0LL, filter.since->at(ctx.now_ms))) : "-";
  std::string high = filter.until ? std::to_string(std::max(0LL, filter.until->at(ctx.now_ms))) : "+";
  if (order == Order::newest_first && !before.empty()) high = "(" + before;
  JobIdReader ids;
  for (;;) {
    redis::Request request;
    if (order == Order::newest_first)
      request.push("XREVRANGE", ctx.keys.dlq(), high, low, "COUNT", page_size);
    else
      request.push("XRANGE", ctx.keys.dlq(), low, high, "COUNT", page_size);
    auto page = redis::entries_from(ctx.command(std::move(request), "reading " + ctx.keys.dlq()));
    for (auto& raw : page) {
      auto entry = to_entry(std::move(raw), ids);
      if (filter.matches(entry, ctx.now_ms) && !visit(entry)) return;
      (order == Order::newest_first ? high : low) = "(" + entry.id;
    }
    if (static_cast<long long>(page.size()) < page_size) return;
  }
}

std::vector<DlqEntry> fetch_dlq(Context& ctx, const std::vector<std::string>& ids, std::vector<std::string>& missing) {
  std::vector<DlqEntry> entries;
  JobIdReader job_ids;
  for (std::size_t start = 0; start < ids.size(); start += page_size) {
    auto end = std::min(ids.size(), start + static_cast<std::size_t>(page_size));
    redis::Request request;
    for (auto i = start; i < end; ++i) request.push("XRANGE", ctx.keys.dlq(), ids[i], ids[i]);
    auto replies = ctx.redis.exec(std::move(request));
    for (auto i = start; i < end; ++i) {
      auto& reply = replies[i - start];
      if (reply.is_error()) throw OperationalError("reading " + ctx.keys.dlq() + ": " + reply.text);
      auto found = redis::entries_from(std::move(reply));
      if (found.empty())
        missing.push_back(ids[i]);
      else
        entries.push_back(to_entry(std::move(found.front()), job_ids));
    }
  }
  return entries;
}

void for_each_selected(Context& ctx, const Selection& selection, std::vector<std::string>& missing,
                       const std::function<void(DlqEntry&)>& visit) {
  long long seen = 0;
  auto take = [&](DlqEntry& entry) {
    if (selection.limit > 0 && seen >= selection.limit) return false;
    ++seen;
    visit(entry);
    return true;
  };
  if (!selection.ids.empty()) {
    for (auto& entry : fetch_dlq(ctx, selection.ids, missing)) {
      if (selection.filter.matches(entry, ctx.now_ms) && !take(entry)) break;
    }
    return;
  }
  scan_dlq(ctx, selection.filter, Order::oldest_first, {}, take);
}

const std::vector<std::string>& group_fields() {
  static const std::vector<std::string> fields{"kind", "reason", "step",   "provider", "status",
                                               "code", "error",  "worker", "hour"};
  return fields;
}

std::string group_value(const DlqEntry& entry, std::string_view field) {
  if (field == "hour") return common::format_rfc3339_ms(entry.at_ms).substr(0, 13) + ":00Z";
  const auto& value = entry.field(field);
  if (value.empty()) return "(none)";
  return value;
}

std::string failure_text(const DlqEntry& entry) {
  const auto& code = entry.field(field::code);
  const auto& error = entry.field(field::error);
  if (code.empty() || error.find(code) != std::string::npos) return error;
  return code + ": " + error;
}

std::string entry_json(const DlqEntry& entry) {
  JsonObject json;
  json.add("id", entry.id).add("dead_lettered_at", common::format_rfc3339_ms(entry.at_ms)).add("job_id", entry.job_id);
  for (const auto& [key, value] : entry.fields) {
    int number = 0;
    if ((key == field::attempt || key == field::status) && parse_number(value, number))
      json.add(key, static_cast<long long>(number));
    else
      json.add(key, value);
  }
  const auto& job = entry.field(field::job);
  if (!is_utf8(job)) json.add("job_base64", base64(job));
  return json.str();
}

}  // namespace rescind::ctl
