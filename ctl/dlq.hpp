// rescindctl dlq: look at the dead-letter queue (list, group, show, export) and put entries
// back or throw them away (replay, purge).
#pragma once
#include <string>
#include <vector>

#include "ctl/dlq_entries.hpp"

namespace rescind::ctl {

struct ListOptions {
  DlqFilter filter;
  long long limit = 50;               // entries, or groups with group_by
  std::string before;                 // page: entries older than this id
  std::vector<std::string> group_by;  // counts per group instead of entries
  bool json = false;                  // NDJSON: one object per entry (or group)
};
int dlq_list(Context& ctx, const ListOptions& options);

int dlq_show(Context& ctx, const std::vector<std::string>& ids, bool json);

struct ExportOptions {
  Selection selection;  // everything when nothing is chosen
  std::string output;   // empty or "-": stdout
};
int dlq_export(Context& ctx, const ExportOptions& options);

struct ChangeOptions {
  Selection selection;
  bool dry_run = false;
  bool yes = false;
  long long batch = 100;  // entries per script / per XDEL
};
int dlq_replay(Context& ctx, const ChangeOptions& options);
int dlq_purge(Context& ctx, const ChangeOptions& options);

}  // namespace rescind::ctl
