#include "tests/chaos/harness.hpp"

#include <signal.h>
#include <simdjson.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <regex>
#include <sstream>
#include <thread>

#include "common/json_text.hpp"

namespace rescind::testing::chaos {
namespace {

using namespace std::chrono_literals;

std::string env_or(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value && *value ? std::string(value) : fallback;
}

}  // namespace

Form Form::from_environment() {
  Form f;
  f.is_long = env_or("RESCIND_CHAOS", "short") == "long";
  auto seed = env_or("RESCIND_CHAOS_SEED", "");
  f.seed = seed.empty() ? static_cast<std::uint64_t>(std::chrono::system_clock::now().time_since_epoch().count())
                        : std::stoull(seed);
  if (f.is_long) {
    // The reviewer's probe scale: ≥ 100 kills over ≥ 20,000 jobs, 10 restarts, 60 s outage,
    // 30 s of 429s.
    f.storm_jobs = 20000;
    f.storm_kills = 100;
    f.storm_lost_answers = 5;
    f.storm_gap_min = 300ms;
    f.storm_gap_max = 1200ms;
    f.storm_visibility = "5s";
    f.restart_jobs = 10000;
    f.restarts = 10;
    f.outage_jobs = 3000;
    f.outage = 60s;
    // 120 attempts of rand(0, 2 s) average 2 min: a 60 s outage cannot exhaust them.
    f.outage_retry = "attempts=120,base=200ms,cap=2s";
    f.throttle_jobs = 2000;
    f.throttle = 30s;
    f.settle_timeout = 600s;
  }
  return f;
}

const Form& form() {
  static const Form f = [] {
    Form parsed = Form::from_environment();
    std::cout << "[ chaos ] form=" << parsed.name() << " seed=" << parsed.seed << " (RESCIND_CHAOS_SEED=" << parsed.seed
              << " repeats this schedule)" << std::endl;
    return parsed;
  }();
  return f;
}

double seconds_since(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

long long amount_of(int n) { return 500 + (n % 9000); }

std::string jobs_ndjson(const std::string& prefix, int first, int count) {
  std::string out;
  out.reserve(static_cast<std::size_t>(count) * 700);
  for (int n = first; n < first + count; ++n) {
    out += job_json(prefix + "_" + std::to_string(n), amount_of(n));
    out += '\n';
  }
  return out;
}

std::string faults_json(const std::string& stripe_extra) {
  return R"({"stripe":{"delay_ms":30)" + (stripe_extra.empty() ? "" : "," + stripe_extra) +
         R"(},"sendgrid":{"delay_ms":40},"twilio":{"delay_ms":80},"slack":{"delay_ms":20}})";
}

void set_faults(Sandbox& sandbox, const std::string& stripe_extra) { sandbox.set_faults(faults_json(stripe_extra)); }

long long lost_answers_left(Sandbox& sandbox) {
  auto answer = http_call("GET", sandbox.url() + "/__faults");
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (answer.status != 200 || parser.parse(answer.body).get(root)) return -1;
  auto left = root["stripe"]["lose_response"].get_int64();
  return left.error() ? 0 : left.value();  // a spent count is left out of the answer
}

Fleet::Fleet(RedisServer& redis, Sandbox& sandbox, std::string name, std::vector<std::string> args)
    : redis_(redis), sandbox_(sandbox), name_(std::move(name)), args_(std::move(args)) {}

Fleet::~Fleet() { stop_all(); }

Fleet::Worker& Fleet::start() {
  Worker worker;
  worker.consumer = "chaos-" + name_ + "-" + std::to_string(workers_.size() + 1);
  auto args = args_;
  args.insert(args.end(), {"--consumer", worker.consumer});
  worker.process = start_worker(redis_, sandbox_, args);
  workers_.push_back(std::move(worker));
  return workers_.back();
}

std::vector<Fleet::Worker*> Fleet::alive() {
  std::vector<Worker*> out;
  for (auto& w : workers_) {
    if (!w.killed && w.process->running()) out.push_back(&w);
  }
  return out;
}

std::vector<std::string> Fleet::unexpected_exits() {
  std::vector<std::string> out;
  for (auto& w : workers_) {
    if (w.killed || w.process->running()) continue;
    out.push_back(w.consumer + " exited with " + std::to_string(w.process->wait(0ms).value_or(-1)) + ":\n" +
                  log_tail(w));
  }
  return out;
}

std::vector<std::pair<std::string, int>> Fleet::stop_all() {
  std::vector<std::pair<std::string, int>> codes;
  // Signal all first, then wait: stopping them one by one would give each drain the time of
  // every drain before it.
  for (auto& w : workers_) {
    if (!w.killed && w.process->running()) w.process->signal(SIGTERM);
  }
  for (auto& w : workers_) {
    if (w.killed) continue;
    auto code = w.process->wait(20s);
    if (!code) {
      w.process->signal(SIGKILL);
      code = w.process->wait(5s);
    }
    codes.emplace_back(w.consumer, code.value_or(-1));
    w.killed = true;  // accounted for: stop_all twice (test, then destructor) reports once
  }
  return codes;
}

long long Fleet::claimed_from_logs() const {
  static const std::regex entries(R"re("entries":(\d+))re");
  long long claimed = 0;
  for (const auto& w : workers_) {
    std::istringstream log(w.process->stderr_text());
    std::string line;
    while (std::getline(log, line)) {
      if (line.find("claimed jobs of a silent consumer") == std::string::npos) continue;
      std::smatch match;
      if (std::regex_search(line, match, entries)) claimed += std::stoll(match[1]);
    }
  }
  return claimed;
}

void Fleet::save_logs() const {
  auto dir = env_or("RESCIND_CHAOS_ARTIFACTS", "");
  if (dir.empty()) return;
  std::filesystem::create_directories(dir);
  for (const auto& w : workers_) std::ofstream(dir + "/" + w.consumer + ".log") << w.process->stderr_text();
}

std::string Fleet::log_tail(const Worker& worker, std::size_t bytes) const {
  auto text = worker.process->stderr_text();
  return text.size() > bytes ? text.substr(text.size() - bytes) : text;
}

std::map<std::string, long long> pending_per_consumer(RedisServer& redis) {
  std::map<std::string, long long> out;
  auto reply = redis.command({"XPENDING", "rescind:jobs", "rescind"});
  if (!reply.is_array() || reply.elements.size() < 4 || !reply.elements[3].is_array()) return out;
  for (const auto& consumer : reply.elements[3].elements) {
    if (consumer.elements.size() == 2) out[consumer.elements[0].text] = std::stoll(consumer.elements[1].text);
  }
  return out;
}

std::map<std::string, long long> fresh_pending_per_consumer(RedisServer& redis) {
  std::map<std::string, long long> out;
  // Extended form: [id, consumer, idle ms, deliveries] per entry.
  auto reply = redis.command({"XPENDING", "rescind:jobs", "rescind", "-", "+", "100000"});
  if (!reply.is_array()) return out;
  for (const auto& entry : reply.elements) {
    if (entry.elements.size() == 4 && entry.elements[3].integer == 1) ++out[entry.elements[1].text];
  }
  return out;
}

namespace {

// One script, so the group, the stream and the retry set are read at one instant (probe O7:
// read one after the other, a job moving from the retry set to the stream is missed by both).
constexpr const char* read_queue_script = R"lua(
local pending, lag, delivered = -1, -2, ''
for _, g in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  local f = {}
  for i = 1, #g, 2 do f[g[i]] = g[i + 1] end
  if f['name'] == ARGV[1] then
    pending = f['pending']
    if f['lag'] then lag = f['lag'] else lag = -1 end
    delivered = f['last-delivered-id']
  end
end
local s = redis.call('XINFO', 'STREAM', KEYS[1])
local last, length = '', 0
for i = 1, #s, 2 do
  if s[i] == 'last-generated-id' then last = s[i + 1] end
  if s[i] == 'length' then length = s[i + 1] end
end
return {pending, lag, delivered, last, redis.call('ZCARD', KEYS[2]), redis.call('XLEN', KEYS[3]), length}
)lua";

}  // namespace

bool QueueReading::settled() const {
  bool delivered_all = lag == 0 || (lag_null && !last_generated.empty() && last_delivered == last_generated);
  return pending == 0 && retry == 0 && delivered_all;
}

QueueReading read_queue(RedisServer& redis) {
  QueueReading r;
  auto reply =
      redis.command({"EVAL", read_queue_script, "3", "rescind:jobs", "rescind:retry", "rescind:dlq", "rescind"});
  if (!reply.is_array() || reply.elements.size() != 7) return r;
  const auto& e = reply.elements;
  r.pending = e[0].integer;
  r.lag = e[1].integer;
  r.lag_null = r.lag == -1;
  r.last_delivered = e[2].text;
  r.last_generated = e[3].text;
  r.retry = e[4].integer;
  r.dlq = e[5].integer;
  r.length = e[6].integer;
  return r;
}

Settle wait_settled(RedisServer& redis, std::chrono::steady_clock::time_point since, std::chrono::seconds timeout) {
  Settle s;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  // The first of two settled readings, once there is one.
  std::chrono::steady_clock::time_point first_settled{};
  bool have_first = false;
  std::string settled_at_id;
  while (std::chrono::steady_clock::now() < deadline) {
    QueueReading r;
    try {
      r = read_queue(redis);
    } catch (const std::exception&) {
      std::this_thread::sleep_for(100ms);
      continue;
    }
    s.saw_null_lag = s.saw_null_lag || r.lag_null;
    s.last = r;
    if (!r.settled()) {
      have_first = false;
    } else if (!have_first || r.last_generated != settled_at_id) {
      // Settled, or settled again after new entries came: this is the first reading.
      have_first = true;
      first_settled = std::chrono::steady_clock::now();
      settled_at_id = r.last_generated;
      s.after_s = seconds_since(since);
    } else if (std::chrono::steady_clock::now() - first_settled >= 500ms) {
      s.settled = true;
      return s;
    }
    std::this_thread::sleep_for(100ms);
  }
  return s;
}

Verdict judge(Sandbox& sandbox, RedisServer& redis, const std::string& prefix, int jobs) {
  Verdict v;
  v.jobs = jobs;
  struct Seen {
    int refunds = 0, email = 0, sms = 0, staff = 0;
    bool wrong_amount = false;
  };
  std::vector<Seen> seen(static_cast<std::size_t>(jobs));
  const std::string id_prefix = prefix + "_";
  for (const auto& effect : sandbox.ledger()) {
    if (effect.job_id.rfind(id_prefix, 0) != 0) {
      ++v.unknown_effects;
      continue;
    }
    int n = -1;
    try {
      n = std::stoi(effect.job_id.substr(id_prefix.size()));
    } catch (const std::exception&) {
    }
    if (n < 0 || n >= jobs) {
      ++v.unknown_effects;
      continue;
    }
    auto& s = seen[static_cast<std::size_t>(n)];
    if (effect.action == "refund") {
      ++s.refunds;
      if (effect.amount_minor != amount_of(n)) s.wrong_amount = true;
    } else if (effect.action == "email") {
      ++s.email;
    } else if (effect.action == "sms") {
      ++s.sms;
    } else if (effect.action == "staff") {
      ++s.staff;
    }
  }

  std::set<int> dead;
  simdjson::dom::parser parser;
  for (auto& entry : stream_entries(redis, "rescind:dlq")) {
    ++v.dlq;
    ++v.dlq_reasons[entry["reason"]];
    if (v.dlq_errors.size() < 5) v.dlq_errors.push_back(entry["reason"] + ": " + entry["error"]);
    simdjson::dom::element job;
    std::string_view id;
    if (parser.parse(entry["job"]).get(job) || job["id"].get_string().get(id)) continue;
    if (id.rfind(id_prefix, 0) == 0) dead.insert(std::atoi(std::string(id.substr(id_prefix.size())).c_str()));
  }

  auto example = [&](const std::string& what, int n) {
    if (v.examples.size() < 10) v.examples.push_back(what + " " + prefix + "_" + std::to_string(n));
  };
  auto repeats = [](int count, long long& extra, long long& ids) {
    if (count > 1) {
      extra += count - 1;
      ++ids;
    }
  };
  for (int n = 0; n < jobs; ++n) {
    const auto& s = seen[static_cast<std::size_t>(n)];
    bool dead_lettered = dead.count(n) > 0;
    if (s.refunds == 0 && !dead_lettered) {
      ++v.lost;
      example("lost", n);
    }
    if (s.refunds > 1) {
      ++v.double_refunds;
      example("refunded " + std::to_string(s.refunds) + "x", n);
    }
    if (s.wrong_amount) {
      ++v.wrong_amount;
      example("wrong amount", n);
    }
    if (s.refunds > 0 && !dead_lettered && (s.email == 0 || s.sms == 0 || s.staff == 0)) {
      ++v.unnotified;
      example("refunded but not notified", n);
    }
    repeats(s.email, v.dup_email, v.dup_email_ids);
    repeats(s.sms, v.dup_sms, v.dup_sms_ids);
    repeats(s.staff, v.dup_staff, v.dup_staff_ids);
  }
  return v;
}

Report& Report::add(const std::string& key, long long value) {
  text_.emplace_back(key, std::to_string(value));
  json_.emplace_back(key, std::to_string(value));
  return *this;
}

Report& Report::add(const std::string& key, double value) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(1) << value;
  text_.emplace_back(key, out.str());
  json_.emplace_back(key, out.str());
  return *this;
}

Report& Report::add(const std::string& key, const std::string& value) {
  text_.emplace_back(key, value);
  json_.emplace_back(key, common::json_string(value));
  return *this;
}

void Report::add_verdict(const Verdict& v) {
  add("lost", v.lost);
  add("double_refunds", v.double_refunds);
  add("dup_email", v.dup_email);
  add("dup_sms", v.dup_sms);
  add("dup_staff", v.dup_staff);
  add("dup_email_ids", v.dup_email_ids);
  add("dup_sms_ids", v.dup_sms_ids);
  add("dup_staff_ids", v.dup_staff_ids);
  add("wrong_amount", v.wrong_amount);
  add("unnotified", v.unnotified);
  add("dlq", v.dlq);
}

void Report::emit() const {
  std::string line = "chaos " + scenario_ + ":";
  for (const auto& [key, value] : text_) line += " " + key + "=" + value;
  std::cout << line << std::endl;
  auto path = env_or("RESCIND_CHAOS_REPORT", "");
  if (path.empty()) return;
  std::string json = "{\"scenario\":" + common::json_string(scenario_);
  for (const auto& [key, value] : json_) json += "," + common::json_string(key) + ":" + value;
  json += "}\n";
  std::ofstream(path, std::ios::app) << json;
}

long long worker_counter(const Process& worker, const std::string& family) {
  static const std::regex port(R"re("metrics_port":(\d+))re");
  std::smatch match;
  auto log = worker.stderr_text();
  if (!std::regex_search(log, match, port)) return -1;
  auto answer = http_call("GET", "http://127.0.0.1:" + match[1].str() + "/metrics");
  if (answer.status != 200) return -1;
  long long total = 0;
  std::istringstream text(answer.body);
  std::string line;
  while (std::getline(text, line)) {
    // "family 12" or "family{labels} 12"; not "family_bucket…" or comments.
    if (line.rfind(family, 0) != 0 || line.size() <= family.size()) continue;
    char next = line[family.size()];
    if (next != ' ' && next != '{') continue;
    total += static_cast<long long>(std::stod(line.substr(line.rfind(' ') + 1)));
  }
  return total;
}

}  // namespace rescind::testing::chaos
