#include "ctl/cli.hpp"

#include <fstream>
#include <iostream>

#include "queue/envelope.hpp"

namespace rescind::ctl {
namespace {

const CLI::Validator time_bound{[](std::string& text) {
                                  return parse_time_bound(text)
                                             ? std::string()
                                             : "expected an age like 30m, 2h, 3d or an RFC 3339 time "
                                               "like 2026-11-22T16:00:00Z, got '" +
                                                   text + "'";
                                },
                                "AGE|TIME"};

const CLI::Validator age{[](std::string& text) {
                           return parse_age_ms(text) ? std::string()
                                                     : "expected a duration like 30m, 1h or 2d, got '" + text + "'";
                         },
                         "DURATION"};

const CLI::Validator entry_id{
    [](std::string& text) {
      return queue::is_stream_id(text) ? std::string() : "'" + text + "' is not a DLQ entry id (like 1732291200000-0)";
    },
    "ID"};

// Each filter flag takes one value (a comma list, or the flag again): without
// allow_extra_args(false) CLI11 would swallow the entry ids that follow as more kinds.
void add_filters(CLI::App* command, FilterInput& input) {
  const char* group = "Filters (all given must hold; a comma list or a repeated flag matches any value)";
  command
      ->add_option("--kind", input.kinds,
                   "Job kind: order.canceled, refund.requested, dispute.opened, "
                   "order.unfulfillable; unknown for jobs that could not be parsed")
      ->delimiter(',')
      ->allow_extra_args(false)
      ->group(group);
  command
      ->add_option("--reason", input.reasons,
                   "Why it was dead-lettered: permanent, exhausted, expired, "
                   "invalid_payload, unsupported_kind, poison, malformed_retry_envelope")
      ->delimiter(',')
      ->allow_extra_args(false)
      ->group(group);
  command->add_option("--step", input.steps, "The failed step: refund, email, sms, staff, …; none: no step ran")
      ->delimiter(',')
      ->allow_extra_args(false)
      ->group(group);
  command
      ->add_option("--provider", input.providers,
                   "The provider that failed: stripe, sendgrid, twilio, slack, …; "
                   "none: no provider was called")
      ->delimiter(',')
      ->allow_extra_args(false)
      ->group(group);
  command
      ->add_option("--error", input.errors,
                   "Substring of the error text or provider error code "
                   "(case-insensitive; repeat for any of several)")
      ->allow_extra_args(false)
      ->group(group);
  command->add_option("--job", input.job_ids, "The job's id (its \"id\" field)")
      ->delimiter(',')
      ->allow_extra_args(false)
      ->group(group);
  command->add_option("--since", input.since, "Dead-lettered at or after: an age (30m, 2h, 3d ago) or an RFC 3339 time")
      ->check(time_bound)
      ->group(group);
  command
      ->add_option("--until", input.until, "Dead-lettered at or before: an age (30m, 2h, 3d ago) or an RFC 3339 time")
      ->check(time_bound)
      ->group(group);
}

void add_ids(CLI::App* command, std::vector<std::string>& ids, const std::string& what) {
  command->add_option("ids", ids, what)->check(entry_id);
}

// --dry-run, --yes, --batch, --limit and --all: what every destructive DLQ verb shares.
void add_change_options(CLI::App* command, ChangeOptions& options, const std::string& verb) {
  command->add_flag("--all", options.selection.all, "Every entry in the DLQ (instead of IDs or filters)");
  command
      ->add_option(
          "--limit", options.selection.limit,
          "At most this many entries, oldest first (e.g. 10 to " + verb + " a few and watch them before the rest)")
      ->check(CLI::Range(1LL, 100'000'000LL));
  command->add_flag("--dry-run", options.dry_run, "Show what would be " + verb + "ed and change nothing");
  command->add_flag("-y,--yes", options.yes, "Do not ask for confirmation (needed when stdin is not a terminal)");
  command->add_option("--batch", options.batch, "Entries per atomic Redis call")
      ->capture_default_str()
      ->check(CLI::Range(1LL, 10'000LL));
}

Selection selection_of(const std::vector<std::string>& ids, const FilterInput& input, const Selection& flags,
                       const std::string& verb) {
  Selection selection = flags;
  selection.ids = ids;
  selection.filter = input.filter();
  if (selection.all && (!selection.ids.empty() || !selection.filter.empty())) {
    throw UsageError("--all selects every entry: drop it to " + verb + " by IDs or filters, or drop those");
  }
  if (!selection.chosen()) {
    throw UsageError("say which entries to " + verb +
                     ": IDs, a filter (--kind, --reason, --step, --provider, --error, "
                     "--job, --since, --until) or --all. `rescindctl dlq " +
                     verb + " --help` shows them all.");
  }
  return selection;
}

}  // namespace

DlqFilter FilterInput::filter() const {
  DlqFilter filter;
  filter.kinds = kinds;
  filter.reasons = reasons;
  filter.steps = steps;
  filter.providers = providers;
  filter.errors = errors;
  filter.job_ids = job_ids;
  if (!since.empty()) filter.since = parse_time_bound(since);
  if (!until.empty()) filter.until = parse_time_bound(until);
  return filter;
}

CommandLine::CommandLine()
    : app_(
          "rescindctl: operate a Rescind queue: enqueue jobs, watch the queue, "
          "drain the dead-letter queue."),
      secrets_(app_) {
  app_.require_subcommand(1);
  app_.footer(
      "Exit codes: 0 ok, 1 operational failure (Redis unreachable…), 2 usage error.\n"
      "On-call procedures: docs/runbook.md.");
  secrets_
      .add("--redis", redis_url_,
           "Redis URL: redis://[[user]:password@]host[:port][/db], rediss:// for TLS (user info percent-encoded)",
           "RESCIND_REDIS", "Options", false)
      ->capture_default_str();
  app_.add_option("--redis-ca-file", redis_tls_.ca_file,
                  "rediss://: PEM bundle of the CAs that sign Redis's certificate (default: system store)")
      ->envname("RESCIND_REDIS_CA_FILE");
  app_.add_option("--redis-tls-cert", redis_tls_.cert_file,
                  "rediss://: client certificate (PEM chain) for a Redis with tls-auth-clients")
      ->envname("RESCIND_REDIS_TLS_CERT");
  app_.add_option("--redis-tls-key", redis_tls_.key_file, "rediss://: the client certificate's private key (PEM)")
      ->envname("RESCIND_REDIS_TLS_KEY");
  app_.add_option("--prefix", keys_.prefix, "Prefix of every Redis key")
      ->envname("RESCIND_PREFIX")
      ->capture_default_str();
  app_.add_option("--group", keys_.group, "Consumer group of the workers")
      ->envname("RESCIND_GROUP")
      ->capture_default_str();

  enqueue_ = app_.add_subcommand("enqueue", "Add jobs (one JSON object per line) to the jobs stream");
  enqueue_->add_option("file", enqueue_file_, "NDJSON file, or - for standard input")->capture_default_str();
  enqueue_->add_flag("--no-validate", no_validate_, "Enqueue lines even if they are not valid jobs");
  enqueue_->add_option("--batch", enqueue_options_.batch, "XADDs per pipelined round trip")
      ->capture_default_str()
      ->check(CLI::Range(1, 100'000));

  stats_ = app_.add_subcommand("stats", "Stream length and inflow, group lag and pending, consumers, retry set, DLQ");
  stats_->add_flag("--json", stats_options_.json, "One JSON object instead of the tables");
  stats_->add_option("--window", stats_window_, "Measure rates over this long (0s: skip them)")
      ->capture_default_str()
      ->check(age);
  stats_->footer(
      "Rates come from two readings of Redis's own counters --window apart: 'added' counts every XADD to\n"
      "the jobs stream (new jobs, promoted retries, replays: inflow), 'read by the group' every new entry\n"
      "handed to a worker (outflow). Counting entry ids would undercount: workers trim acknowledged\n"
      "history from the stream. 'step outcomes' tallies the audit trail's last minute per provider (what\n"
      "the fleet finished); 'added, last hour' under the DLQ counts its entries of the last hour.");

  auto* dlq = app_.add_subcommand("dlq", "Inspect, group, replay, purge and export the dead-letter queue");
  dlq->require_subcommand(1);
  dlq->footer("Ages (--since 2h) are measured from when an entry entered the DLQ, on Redis's clock.");

  dlq_list_ = dlq->add_subcommand("list", "Entries newest first, a page at a time; or counts per group (--group-by)");
  add_filters(dlq_list_, list_filters_);
  dlq_list_->add_option("--limit", list_options_.limit, "Entries per page (groups shown, with --group-by)")
      ->capture_default_str()
      ->check(CLI::Range(1LL, 1'000'000LL));
  dlq_list_->add_option("--before", list_options_.before, "Next page: entries older than this id")->check(entry_id);
  dlq_list_
      ->add_option("--group-by", list_options_.group_by,
                   "Count entries per value of these fields, largest group "
                   "first: kind, reason, step, provider, status, code, error, worker, hour (comma-separated)")
      ->delimiter(',')
      ->allow_extra_args(false)
      ->check(CLI::IsMember(group_fields()));
  dlq_list_->add_flag("--json", list_options_.json, "NDJSON: one object per entry (or per group)");
  dlq_list_->footer(
      "Examples:\n"
      "  rescindctl dlq list --group-by reason,step,provider\n"
      "  rescindctl dlq list --provider stripe --since 1h\n"
      "  rescindctl dlq list --error 'card_declined' --json | jq -r .job_id");

  dlq_show_ = dlq->add_subcommand("show", "One entry: why it failed, its step states, the original job");
  dlq_show_->add_option("ids", show_ids_, "DLQ entry id(s)")->required()->check(entry_id);
  dlq_show_->add_flag("--json", show_json_, "One JSON object per entry (NDJSON)");

  dlq_replay_ = dlq->add_subcommand("replay", "Put entries back on the jobs stream with attempts reset");
  add_ids(dlq_replay_, replay_options_.selection.ids, "DLQ entry id(s) to replay");
  add_filters(dlq_replay_, replay_filters_);
  add_change_options(dlq_replay_, replay_options_, "replay");
  dlq_replay_->footer(
      "Each entry moves in one atomic step: it is never in both places and never lost, and an entry\n"
      "another operator already replayed is skipped. Steps already done (rescind:job:{id}) stay done:\n"
      "a replay never refunds twice. Fix the cause first; replay a few (--limit 10) and watch.");

  dlq_purge_ = dlq->add_subcommand("purge", "Delete entries for good (export them first if they matter)");
  add_ids(dlq_purge_, purge_options_.selection.ids, "DLQ entry id(s) to purge");
  add_filters(dlq_purge_, purge_filters_);
  add_change_options(dlq_purge_, purge_options_, "purge");
  auto* older =
      dlq_purge_->add_option("--older-than", older_than_, "Entries dead-lettered longer ago than this (7d, 12h)")
          ->check(age);
  older->excludes(dlq_purge_->get_option("--until"));

  dlq_export_ =
      dlq->add_subcommand("export", "Write entries as NDJSON (the original job and why it failed), oldest first");
  add_ids(dlq_export_, export_options_.selection.ids, "DLQ entry id(s) to export (default: every entry that matches)");
  add_filters(dlq_export_, export_filters_);
  dlq_export_->add_option("-o,--output", export_options_.output, "Write to this file instead of standard output");
  dlq_export_->add_option("--limit", export_options_.selection.limit, "At most this many entries")
      ->check(CLI::Range(1LL, 100'000'000LL));
  dlq_export_->footer(
      "Each line: id, dead_lettered_at, job_id, then the entry's fields (job as a string holding the\n"
      "original bytes). `jq -r .job` gives back NDJSON that `rescindctl enqueue` accepts.");

  auto* consumers = app_.add_subcommand("consumers", "Manage the consumer group's consumers");
  consumers->require_subcommand(1);
  prune_ = consumers->add_subcommand("prune", "Delete consumers idle for long that own no pending entry");
  prune_->footer(
      "Each consumer is checked and deleted in one atomic step: one that owns pending entries is never\n"
      "deleted (its entries could no longer be claimed). Deleting the consumer of a live but quiet worker\n"
      "is harmless: Redis re-creates it on the worker's next read.");
  prune_->add_option("--idle", prune_idle_, "Only consumers idle at least this long")
      ->capture_default_str()
      ->check(age);
  prune_->add_flag("--dry-run", prune_options_.dry_run, "Show what would be deleted and change nothing");
  prune_->add_flag("-y,--yes", prune_options_.yes, "Do not ask for confirmation (needed when stdin is not a terminal)");
}

Command CommandLine::command() const {
  if (*enqueue_) {
    auto options = enqueue_options_;
    options.validate = !no_validate_;
    auto file = enqueue_file_;
    if (file != "-" && !std::ifstream(file)) throw UsageError("cannot read " + file);
    return [options, file](Context& ctx) {
      auto with_stream = options;
      with_stream.stream = ctx.keys.jobs();  // known once --prefix is
      if (file == "-") return enqueue(ctx.redis, ctx.in, with_stream, ctx.out, ctx.err);
      std::ifstream input(file);
      return enqueue(ctx.redis, input, with_stream, ctx.out, ctx.err);
    };
  }
  if (*stats_) {
    auto options = stats_options_;
    options.window_ms = *parse_age_ms(stats_window_);
    return [options](Context& ctx) { return stats(ctx, options); };
  }
  if (*dlq_list_) {
    auto options = list_options_;
    options.filter = list_filters_.filter();
    return [options](Context& ctx) { return dlq_list(ctx, options); };
  }
  if (*dlq_show_) {
    return [ids = show_ids_, json = show_json_](Context& ctx) { return dlq_show(ctx, ids, json); };
  }
  if (*dlq_replay_) {
    auto options = replay_options_;
    options.selection =
        selection_of(replay_options_.selection.ids, replay_filters_, replay_options_.selection, "replay");
    return [options](Context& ctx) { return dlq_replay(ctx, options); };
  }
  if (*dlq_purge_) {
    auto options = purge_options_;
    auto filters = purge_filters_;
    if (!older_than_.empty()) filters.until = older_than_;  // dead-lettered at least that long ago
    options.selection = selection_of(purge_options_.selection.ids, filters, purge_options_.selection, "purge");
    return [options](Context& ctx) { return dlq_purge(ctx, options); };
  }
  if (*dlq_export_) {
    auto options = export_options_;
    options.selection.filter = export_filters_.filter();
    return [options](Context& ctx) { return dlq_export(ctx, options); };
  }
  if (*prune_) {
    auto options = prune_options_;
    options.idle_ms = *parse_age_ms(prune_idle_);
    return [options](Context& ctx) { return consumers_prune(ctx, options); };
  }
  throw UsageError("no command given; see rescindctl --help");
}

}  // namespace rescind::ctl
