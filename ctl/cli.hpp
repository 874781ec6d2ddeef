// rescindctl's command line: every verb with its options and --help text (CLI11), turned
// after parsing into the option structs the verbs take. main.cpp only connects and runs.
#pragma once
#include <CLI/CLI.hpp>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/secret_options.hpp"

#include "ctl/consumers.hpp"
#include "ctl/context.hpp"
#include "ctl/dlq.hpp"
#include "ctl/enqueue.hpp"
#include "ctl/stats.hpp"

namespace rescind::ctl {

using Command = std::function<int(Context&)>;

// Filters as typed on the command line; durations and times are checked while parsing.
struct FilterInput {
  std::vector<std::string> kinds, reasons, steps, providers, errors, job_ids;
  std::string since, until;

  DlqFilter filter() const;
};

class CommandLine {
 public:
  CommandLine();
  CLI::App& app() { return app_; }

  const std::string& redis_url() const { return redis_url_; }
  // After parsing: --redis-file / RESCIND_REDIS_FILE read into the URL; the error, if any.
  std::optional<std::string> read_secret_files() { return secrets_.read_files(); }
  // A --redis password in argv becomes '*' (see SecretOptions::hide_from_process_list).
  void hide_secret_arguments(int argc, char** argv) const { secrets_.hide_from_process_list(argc, argv); }
  const redis::TlsFiles& redis_tls() const { return redis_tls_; }
  // Every verb but enqueue measures against Redis's clock. enqueue does not read it, so an
  // upstream's ACL user needs XADD and nothing else.
  bool reads_clock() const { return !enqueue_->parsed(); }
  Keys keys() const { return keys_; }
  // The verb picked by the parsed arguments; throws UsageError for combinations CLI11
  // cannot check (a destructive verb with nothing selected, --all with filters).
  Command command() const;

 private:
  CLI::App app_;
  common::SecretOptions secrets_;
  std::string redis_url_ = "redis://127.0.0.1:6379";
  redis::TlsFiles redis_tls_;
  Keys keys_;

  CLI::App* enqueue_ = nullptr;
  std::string enqueue_file_ = "-";
  bool no_validate_ = false;
  EnqueueOptions enqueue_options_;

  CLI::App* stats_ = nullptr;
  StatsOptions stats_options_;
  std::string stats_window_ = "1s";

  CLI::App* dlq_list_ = nullptr;
  FilterInput list_filters_;
  ListOptions list_options_;

  CLI::App* dlq_show_ = nullptr;
  std::vector<std::string> show_ids_;
  bool show_json_ = false;

  CLI::App* dlq_replay_ = nullptr;
  FilterInput replay_filters_;
  ChangeOptions replay_options_;

  CLI::App* dlq_purge_ = nullptr;
  FilterInput purge_filters_;
  ChangeOptions purge_options_;
  std::string older_than_;

  CLI::App* dlq_export_ = nullptr;
  FilterInput export_filters_;
  ExportOptions export_options_;

  CLI::App* prune_ = nullptr;
  std::string prune_idle_ = "1h";
  PruneOptions prune_options_;
};

}  // namespace rescind::ctl
