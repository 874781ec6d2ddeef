// rescindctl dlq replay | purge: the verbs that change the dead-letter queue. Both pick
// their entries first, show what they picked, ask, then act in small atomic batches so an
// interruption (Ctrl-C, a lost connection, kill -9) leaves every entry in exactly one place.
#include <algorithm>
#include <cctype>
#include <map>
#include <ostream>

#include "ctl/confirm.hpp"
#include "ctl/dlq.hpp"
#include "ctl/output.hpp"
#include "queue/scripts.hpp"

namespace rescind::ctl {
namespace {

// What was picked: the ids, counts per cause, and the first few entries to show.
struct Picked {
  std::vector<std::string> ids;
  std::map<std::vector<std::string>, long long> causes;  // reason, step, provider
  std::vector<DlqEntry> sample;
  long long unfixable = 0;  // invalid_payload / unsupported_kind: a replay fails the same way
  std::vector<std::string> missing;
};

constexpr std::size_t sample_size = 10;

Picked pick(Context& ctx, const Selection& selection) {
  Picked picked;
  for_each_selected(ctx, selection, picked.missing, [&](DlqEntry& entry) {
    picked.ids.push_back(entry.id);
    ++picked.causes[{group_value(entry, field::reason), group_value(entry, field::step),
                     group_value(entry, field::provider)}];
    const auto& reason = entry.field(field::reason);
    if (reason == "invalid_payload" || reason == "unsupported_kind") ++picked.unfixable;
    if (picked.sample.size() < sample_size) {
      entry.fields.erase(std::remove_if(entry.fields.begin(), entry.fields.end(),
                                        [](const auto& kv) { return kv.first == field::job; }),
                         entry.fields.end());  // the table does not show it; a big DLQ need not hold it
      picked.sample.push_back(std::move(entry));
    }
  });
  return picked;
}

void describe(Context& ctx, const Picked& picked, const std::string& verb) {
  for (const auto& id : picked.missing) {
    ctx.err << "rescindctl: " << id << " is not in " << ctx.keys.dlq() << " (already replayed or purged?)\n";
  }
  ctx.out << entries(static_cast<long long>(picked.ids.size())) << " to " << verb << ":\n";
  Table causes({"COUNT", "REASON", "STEP", "PROVIDER"});
  std::vector<std::pair<std::vector<std::string>, long long>> sorted(picked.causes.begin(), picked.causes.end());
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  for (const auto& [cause, count] : sorted) causes.add({std::to_string(count), cause[0], cause[1], cause[2]});
  causes.print(ctx.out, "  ");
  ctx.out << "\n";
  Table sample({"ID", "AGE", "KIND", "REASON", "STEP", "PROVIDER", "JOB", "ERROR"});
  for (const auto& entry : picked.sample) {
    auto shown = [&](std::string_view name) { return entry.field(name).empty() ? "-" : entry.field(name); };
    sample.add({entry.id, format_age(ctx.now_ms - entry.at_ms), shown(field::kind), shown(field::reason),
                shown(field::step), shown(field::provider), entry.job_id.empty() ? "-" : clip(entry.job_id, 32),
                clip(failure_text(entry), 60)});
  }
  sample.print(ctx.out, "  ");
  if (picked.ids.size() > picked.sample.size()) {
    ctx.out << "  … and " << picked.ids.size() - picked.sample.size() << " more (oldest first)\n";
  }
  if (verb == "replay" && picked.unfixable > 0) {
    ctx.out << "note: " << picked.unfixable << " of them are invalid jobs (invalid_payload / unsupported_kind): "
            << "replayed as they are, they fail the same way again\n";
  }
}

// "\rreplayed 300 / 1000" on a terminal; a line per thousand (and the last) otherwise.
class Progress {
 public:
  Progress(Context& ctx, std::string verb, std::size_t total) : ctx_(ctx), verb_(std::move(verb)), total_(total) {}
  void update(std::size_t done) {
    if (ctx_.stderr_is_terminal) {
      ctx_.err << "\r" << verb_ << " " << done << " / " << total_ << std::flush;
    } else if (done / 1000 != reported_ / 1000 || done == total_) {
      ctx_.err << verb_ << " " << done << " / " << total_ << "\n" << std::flush;
    }
    reported_ = done;
  }
  void finish() {
    if (ctx_.stderr_is_terminal) ctx_.err << "\n";
  }

 private:
  Context& ctx_;
  std::string verb_;
  std::size_t total_;
  std::size_t reported_ = 0;
};

// Picks, shows, asks. Returns false when there is nothing to do or nothing may be done.
bool prepare(Context& ctx, const ChangeOptions& options, Picked& picked, const std::string& verb,
             const std::string& where) {
  if (!options.selection.chosen()) {
    throw UsageError("say which entries to " + verb +
                     ": IDs, a filter (--kind, --reason, --step, --provider, "
                     "--error, --job, --since, --until) or --all");
  }
  picked = pick(ctx, options.selection);
  if (picked.ids.empty()) {
    for (const auto& id : picked.missing) ctx.err << "rescindctl: " << id << " is not in " << ctx.keys.dlq() << "\n";
    ctx.out << "nothing to " << verb << ": no entry in " << ctx.keys.dlq() << " matches\n";
    return false;
  }
  describe(ctx, picked, verb);
  if (options.dry_run) {
    ctx.out << "\ndry run: nothing was changed. Run it again with --yes to " << verb << " these "
            << entries(static_cast<long long>(picked.ids.size())) << where << ".\n";
    return false;
  }
  auto count = entries(static_cast<long long>(picked.ids.size()));
  auto question = verb.substr(0, 1);
  std::transform(question.begin(), question.end(), question.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  question += verb.substr(1) + " these " + count + where + "?";
  if (!confirm(ctx, question, verb + " " + count, options.yes)) {
    ctx.out << "not confirmed: nothing was changed\n";
    return false;
  }
  return true;
}

}  // namespace

int dlq_replay(Context& ctx, const ChangeOptions& options) {
  Picked picked;
  auto where = " to " + ctx.keys.jobs();
  if (!prepare(ctx, options, picked, "replay", where)) return exit_ok;
  const auto dlq = ctx.keys.dlq(), jobs = ctx.keys.jobs();  // outlive the string_views below
  std::size_t moved = 0, gone = 0, jobless = 0, done = 0;
  Progress progress(ctx, "replayed", picked.ids.size());
  try {
    for (std::size_t start = 0; start < picked.ids.size(); start += static_cast<std::size_t>(options.batch)) {
      auto end = std::min(picked.ids.size(), start + static_cast<std::size_t>(options.batch));
      std::vector<std::string_view> argv{"EVAL", queue::scripts::replay(), "2", dlq, jobs};
      argv.insert(argv.end(), picked.ids.begin() + static_cast<std::ptrdiff_t>(start),
                  picked.ids.begin() + static_cast<std::ptrdiff_t>(end));
      redis::Request request;
      request.push_argv(argv);
      auto reply = ctx.command(std::move(request), "replaying to " + ctx.keys.jobs());
      for (const auto& result : reply.elements) {
        if (result.integer == 1)
          ++moved;
        else if (result.integer == 0)
          ++gone;
        else
          ++jobless;
      }
      done = end;
      progress.update(done);
    }
  } catch (const OperationalError&) {
    progress.finish();
    ctx.err << "rescindctl: interrupted after " << moved << " of " << picked.ids.size() << " entries were replayed. "
            << "Every entry is either still in " << ctx.keys.dlq() << " or back in " << ctx.keys.jobs()
            << ", never both: run the same command again to replay the rest.\n";
    throw;
  }
  progress.finish();
  ctx.out << "replayed " << entries(static_cast<long long>(moved)) << " to " << ctx.keys.jobs()
          << " with attempts reset; steps already done stay done (the worker skips them)\n";
  if (gone > 0) {
    ctx.out << gone << " were no longer in " << ctx.keys.dlq() << " (replayed or purged by someone else meanwhile)\n";
  }
  if (jobless > 0) ctx.out << jobless << " had no job field and were left in " << ctx.keys.dlq() << "\n";
  return exit_ok;
}

int dlq_purge(Context& ctx, const ChangeOptions& options) {
  Picked picked;
  if (!prepare(ctx, options, picked, "purge", " from " + ctx.keys.dlq() + " for good")) return exit_ok;
  const auto dlq = ctx.keys.dlq();  // outlives the string_views below
  long long deleted = 0;
  std::size_t done = 0;
  Progress progress(ctx, "purged", picked.ids.size());
  try {
    for (std::size_t start = 0; start < picked.ids.size(); start += static_cast<std::size_t>(options.batch)) {
      auto end = std::min(picked.ids.size(), start + static_cast<std::size_t>(options.batch));
      std::vector<std::string_view> argv{"XDEL", dlq};
      argv.insert(argv.end(), picked.ids.begin() + static_cast<std::ptrdiff_t>(start),
                  picked.ids.begin() + static_cast<std::ptrdiff_t>(end));
      redis::Request request;
      request.push_argv(argv);
      deleted += ctx.command(std::move(request), "deleting from " + ctx.keys.dlq()).integer;
      done = end;
      progress.update(done);
    }
  } catch (const OperationalError&) {
    progress.finish();
    ctx.err << "rescindctl: interrupted after " << deleted << " of " << picked.ids.size()
            << " entries were purged; run the same command again to purge the rest.\n";
    throw;
  }
  progress.finish();
  ctx.out << "purged " << entries(deleted) << " from " << ctx.keys.dlq() << "\n";
  if (static_cast<std::size_t>(deleted) < picked.ids.size()) {
    ctx.out << picked.ids.size() - static_cast<std::size_t>(deleted)
            << " were no longer there (replayed or purged by someone else meanwhile)\n";
  }
  return exit_ok;
}

}  // namespace rescind::ctl
