// The dead-letter queue as the operator sees it: entries with their failure fields,
// filters (kind, reason, step, provider, error, age), and scans that page through the
// stream without holding it all in memory.
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ctl/context.hpp"
#include "queue/fields.hpp"
#include "redis/streams.hpp"

namespace rescind::ctl {

namespace field = queue::field;  // the names of a DLQ entry's fields

struct DlqEntry {
  std::string id;                                           // the DLQ stream id
  long long at_ms = 0;                                      // when it was dead-lettered (Redis's clock, from the id)
  std::vector<std::pair<std::string, std::string>> fields;  // job, attempt, kind, reason, …
  std::string job_id;                                       // the job's "id", when its JSON has one

  // The field's value, empty when absent.
  const std::string& field(std::string_view name) const;
  bool has(std::string_view name) const;
};

// "2h" / "3d" ago, or an RFC 3339 time: resolved against Redis's clock when used.
struct TimeBound {
  bool relative = true;
  long long ms = 0;  // relative: how long ago; absolute: ms since the epoch
  long long at(long long now_ms) const { return relative ? now_ms - ms : ms; }
};

// 250ms, 30s, 5m, 1h, 2d.
std::optional<long long> parse_age_ms(std::string_view text);
// An age ("2h": that long ago) or an RFC 3339 time ("2026-11-22T16:00:00Z", offsets allowed).
std::optional<TimeBound> parse_time_bound(std::string_view text);

// Every set criterion must hold; within one criterion any listed value may match.
// "none" matches an empty step or provider (entries that failed before any step ran).
struct DlqFilter {
  std::vector<std::string> kinds, reasons, steps, providers, job_ids;
  std::vector<std::string> errors;  // substrings of error or code, case-insensitive
  std::optional<TimeBound> since, until;

  bool empty() const;
  bool matches(const DlqEntry& entry, long long now_ms) const;
};

enum class Order { newest_first, oldest_first };

// Calls `visit` for each matching entry, in `order`, reading the stream page by page;
// `visit` returns false to stop. `before` (newest_first only): start below this id.
void scan_dlq(Context& ctx, const DlqFilter& filter, Order order, const std::string& before,
              const std::function<bool(DlqEntry&)>& visit);

// The entries with these ids, in the order given; ids not in the DLQ go to `missing`.
std::vector<DlqEntry> fetch_dlq(Context& ctx, const std::vector<std::string>& ids, std::vector<std::string>& missing);

// Which entries a verb acts on: ids, or a filter, or everything.
struct Selection {
  std::vector<std::string> ids;
  DlqFilter filter;
  bool all = false;
  long long limit = 0;  // 0: no limit

  bool chosen() const { return !ids.empty() || !filter.empty() || all; }
};

// Visits the selected entries oldest first (ids: in the order given), at most `limit`.
void for_each_selected(Context& ctx, const Selection& selection, std::vector<std::string>& missing,
                       const std::function<void(DlqEntry&)>& visit);

// The value an entry is grouped under for `field` (kind, reason, step, provider, status,
// code, error, worker, hour); "(none)" for an empty one.
std::string group_value(const DlqEntry& entry, std::string_view field);
const std::vector<std::string>& group_fields();

// "code: error" (or just the error when it already names the code): the provider's words.
std::string failure_text(const DlqEntry& entry);

// One NDJSON line: every field of the entry plus its id and job id (the job as a string,
// byte for byte; `job_base64` as well when the job is not valid UTF-8).
std::string entry_json(const DlqEntry& entry);

}  // namespace rescind::ctl
