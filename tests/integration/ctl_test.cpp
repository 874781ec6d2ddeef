// rescindctl driven as an on-call engineer would: a spawned process against a real
// redis-server (and a real worker and sandbox where jobs must really run), checking what it
// prints, its exit codes, and where every entry ends up.
#include <gtest/gtest.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <simdjson.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "ctl/dlq_entries.hpp"
#include "ctl/output.hpp"
#include "queue/info.hpp"
#include "tests/support/stack.hpp"

namespace rescind::testing {
namespace {

using namespace std::chrono_literals;

// A dead letter written the way the worker writes one.
struct Dead {
  std::string job_id;
  std::string reason = "permanent";
  std::string step = "refund";
  std::string provider = "stripe";
  std::string status = "402";
  std::string code = "card_declined";
  std::string error = "Your card was declined.";
  std::string kind = "order.canceled";
};

void push_dead(redis::Request& request, const Dead& dead, const std::string& id) {
  request.push("XADD", "rescind:dlq", id, "job", job_json(dead.job_id), "attempt", "1", "kind", dead.kind, "reason",
               dead.reason, "step", dead.step, "provider", dead.provider, "status", dead.status, "code", dead.code,
               "error", dead.error, "failed_at", "2026-11-22T16:00:00.000Z", "origin_id",
               "1700000000000-" + std::to_string(std::hash<std::string>{}(dead.job_id) % 1000), "worker", "test-1");
}

std::string add_dead(RedisServer& redis, const Dead& dead, const std::string& id = "*") {
  redis::Request request;
  push_dead(request, dead, id);
  auto reply = std::move(redis.exec(std::move(request)).front());
  if (reply.is_error()) throw std::runtime_error(reply.text);
  return reply.text;
}

// `count` declined refunds, evt_<prefix>0…, written in one pipeline.
void add_many_dead(RedisServer& redis, const std::string& prefix, int count) {
  redis::Request request;
  for (int i = 0; i < count; ++i) push_dead(request, {prefix + std::to_string(i)}, "*");
  for (const auto& reply : redis.exec(std::move(request))) {
    if (reply.is_error()) throw std::runtime_error(reply.text);
  }
}

// The usual mix: 5 declined refunds, 3 rejected SMS, 2 invalid jobs, 1 email out of retries.
void add_causes(RedisServer& redis) {
  for (int i = 0; i < 5; ++i) add_dead(redis, {"evt_card_" + std::to_string(i)});
  for (int i = 0; i < 3; ++i) {
    add_dead(redis, {"evt_sms_" + std::to_string(i), "permanent", "sms", "twilio", "400", "21211",
                     "The 'To' number is not a valid phone number."});
  }
  for (int i = 0; i < 2; ++i) {
    add_dead(redis, {"evt_bad_" + std::to_string(i), "invalid_payload", "", "", "0", "",
                     "order.currency: 'XYZ' is not an ISO 4217 code", "unknown"});
  }
  add_dead(redis, {"evt_mail_0", "exhausted", "email", "sendgrid", "503", "", "Service Unavailable"});
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Stream ids compare as (ms, seq) numbers, not as text ("5-10" comes after "5-9").
bool id_less(const std::string& a, const std::string& b) {
  auto split = [](const std::string& id) {
    auto dash = id.find('-');
    return std::pair{std::stoull(id.substr(0, dash)), std::stoull(id.substr(dash + 1))};
  };
  return split(a) < split(b);
}

// Job id → how many times it is in the stream (only entries after `after`).
std::map<std::string, int> job_ids_in(RedisServer& redis, const std::string& stream, const std::string& after = "-") {
  std::map<std::string, int> ids;
  simdjson::dom::parser parser;
  for (auto& entry : stream_entries(redis, stream)) {
    if (after != "-" && !id_less(after, entry["_id"])) continue;
    simdjson::dom::element job;
    if (parser.parse(entry["job"]).get(job) != simdjson::SUCCESS) continue;
    ++ids[std::string(job["id"].get_string().value())];
  }
  return ids;
}

long long redis_now_ms(RedisServer& redis) {
  auto time = redis.command({"TIME"});
  return std::stoll(time.elements[0].text) * 1000 + std::stoll(time.elements[1].text) / 1000;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(Ctl, GroupByCountsEveryCause) {
  RedisServer redis;
  add_causes(redis);

  auto grouped = ctl(redis, {"dlq", "list", "--group-by", "provider", "--json"});
  ASSERT_EQ(grouped.exit_code, 0) << grouped.err;
  simdjson::dom::parser parser;
  std::map<std::string, long long> counts;
  for (const auto& line : lines_of(grouped.out)) {
    auto group = parser.parse(line).value();
    counts[std::string(group["provider"].get_string().value())] = group["count"].get_int64().value();
  }
  EXPECT_EQ(counts, (std::map<std::string, long long>{{"stripe", 5}, {"twilio", 3}, {"", 2}, {"sendgrid", 1}}));

  auto table = ctl(redis, {"dlq", "list", "--group-by", "reason,step,provider"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  std::istringstream lines(table.out);
  std::string header, first;
  std::getline(lines, header);
  std::getline(lines, first);
  EXPECT_TRUE(contains(header, "COUNT") && contains(header, "REASON") && contains(header, "PROVIDER")) << table.out;
  EXPECT_TRUE(first.starts_with("5 ") && contains(first, "refund") && contains(first, "stripe")) << "largest first:\n"
                                                                                                 << table.out;
  EXPECT_TRUE(contains(table.out, "11 entries in 4 groups")) << table.out;

  auto by_error = ctl(redis, {"dlq", "list", "--group-by", "error", "--error", "VALID", "--json"});
  ASSERT_EQ(by_error.exit_code, 0) << by_error.err;
  std::map<std::string, long long> errors;
  for (const auto& line : lines_of(by_error.out)) {
    auto group = parser.parse(line).value();
    errors[std::string(group["error"].get_string().value())] = group["count"].get_int64().value();
  }
  EXPECT_EQ(errors, (std::map<std::string, long long>{{"The 'To' number is not a valid phone number.", 3}}))
      << "--error is a case-insensitive substring";
}

TEST(Ctl, ListFiltersAndPagesNewestFirst) {
  RedisServer redis;
  auto now = redis_now_ms(redis);
  // Three entries from three hours ago (explicit ids: ids carry the time), then the mix.
  for (int i = 0; i < 3; ++i) {
    add_dead(redis, {"evt_old_" + std::to_string(i)}, std::to_string(now - 3 * 3'600'000) + "-" + std::to_string(i));
  }
  add_causes(redis);

  auto recent = ctl(redis, {"dlq", "list", "--since", "2h", "--provider", "stripe", "--json"});
  ASSERT_EQ(recent.exit_code, 0) << recent.err;
  simdjson::dom::parser parser;
  std::vector<std::string> jobs;
  for (const auto& line : lines_of(recent.out)) {
    auto entry = parser.parse(line).value();
    jobs.emplace_back(entry["job_id"].get_string().value());
    EXPECT_EQ(entry["status"].get_int64().value(), 402);
    EXPECT_EQ(std::string(entry["code"].get_string().value()), "card_declined");
  }
  EXPECT_EQ(jobs, (std::vector<std::string>{"evt_card_4", "evt_card_3", "evt_card_2", "evt_card_1", "evt_card_0"}))
      << "newest first, old ones filtered out";

  auto old = ctl(redis, {"dlq", "list", "--until", "2h", "--json"});
  EXPECT_EQ(std::count(old.out.begin(), old.out.end(), '\n'), 3) << old.out;
  auto invalid = ctl(redis, {"dlq", "list", "--kind", "unknown", "--step", "none", "--json"});
  EXPECT_EQ(std::count(invalid.out.begin(), invalid.out.end(), '\n'), 2) << invalid.out;

  // Pages of 5 through 14 entries: 5, 5, 4, each page older than the last.
  std::set<std::string> seen;
  std::string before;
  for (int page = 0; page < 3; ++page) {
    std::vector<std::string> args{"dlq", "list", "--limit", "5"};
    if (!before.empty()) args.insert(args.end(), {"--before", before});
    auto listed = ctl(redis, args);
    ASSERT_EQ(listed.exit_code, 0) << listed.err;
    std::istringstream lines(listed.out);
    std::string line;
    std::getline(lines, line);  // header
    int rows = 0;
    while (std::getline(lines, line) && std::isdigit(static_cast<unsigned char>(line[0]))) {
      auto id = line.substr(0, line.find(' '));
      EXPECT_TRUE(before.empty() || id_less(id, before)) << id << " listed after " << before;
      EXPECT_TRUE(seen.insert(id).second) << id << " listed twice";
      before = id;
      ++rows;
    }
    EXPECT_EQ(rows, page < 2 ? 5 : 4) << listed.out;
    EXPECT_EQ(contains(listed.out, "next page: rescindctl dlq list --before " + before), page < 2) << listed.out;
  }
  EXPECT_EQ(seen.size(), 14u);
}

TEST(Ctl, ShowPrintsTheJobAndTheStepsAReplayWillSkip) {
  RedisServer redis;
  auto id = add_dead(redis, {"evt_show", "permanent", "sms", "twilio", "400", "21211", "not a valid phone number"});
  redis.command({"HSET", "rescind:job:evt_show", "refund", "done:re_123", "email", "done:msg_9"});

  auto shown = ctl(redis, {"dlq", "show", id});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  for (const char* part : {"evt_show", "twilio", "21211", "not a valid phone number", "refund  done:re_123",
                           "email   done:msg_9", "\"id\": \"evt_show\"", "\n  \"order\": {\n"}) {
    EXPECT_TRUE(contains(shown.out, part)) << "missing '" << part << "' in:\n" << shown.out;
  }

  auto json = ctl(redis, {"dlq", "show", id, "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  simdjson::dom::parser parser;
  auto doc = parser.parse(json.out).value();
  EXPECT_EQ(std::string(doc["steps"]["refund"].get_string().value()), "done:re_123");
  EXPECT_EQ(std::string(doc["job"].get_string().value()), job_json("evt_show")) << "the original bytes";

  auto missing = ctl(redis, {"dlq", "show", "1-1"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_TRUE(contains(missing.err, "1-1 is not in rescind:dlq")) << missing.err;
  EXPECT_EQ(ctl(redis, {"dlq", "show", "not-an-id"}).exit_code, 2);
}

// Short backoff so failures reach the DLQ in milliseconds; no housekeeping trims mid-test.
const std::vector<std::string> fast_worker{"--retry", "base=20ms,cap=100ms",     "--visibility-timeout",
                                           "1s",      "--housekeeping-interval", "1h"};

bool settled(RedisServer& redis) { return queue_settled(redis); }

TEST(Ctl, ReplayByFilterMovesExactlyTheMatchingEntriesAndNothingIsRefundedTwice) {
  RedisServer redis;
  Sandbox sandbox;
  auto worker = start_worker(redis, sandbox, fast_worker);
  auto enqueue = [&](const std::string& prefix, int count) {
    std::string input;
    for (int i = 0; i < count; ++i) input += job_json(prefix + std::to_string(i)) + "\n";
    ASSERT_EQ(ctl(redis, {"enqueue", "-"}, input).exit_code, 0);
  };
  auto dlq_length = [&] { return redis.integer({"XLEN", "rescind:dlq"}); };

  // Three causes, one after the other: declined refunds, rejected SMS (refund already done), invalid jobs.
  sandbox.set_faults(R"({"stripe":{"status":402,"count":3}})");
  enqueue("evt_declined_", 3);
  ASSERT_TRUE(wait_until([&] { return dlq_length() == 3 && settled(redis); }, 30s)) << worker->stderr_text();
  sandbox.set_faults(R"({"twilio":{"status":400,"count":4}})");
  enqueue("evt_sms_", 4);
  ASSERT_TRUE(wait_until([&] { return dlq_length() == 7 && settled(redis); }, 30s)) << worker->stderr_text();
  sandbox.set_faults("{}");
  ASSERT_EQ(ctl(redis, {"enqueue", "--no-validate", "-"}, "{not json\n{\"v\":1}\n").exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return dlq_length() == 9 && settled(redis); }, 30s)) << worker->stderr_text();

  auto grouped = ctl(redis, {"dlq", "list", "--group-by", "step", "--json"});
  for (const char* group : {R"({"count":4,"step":"sms")", R"({"count":3,"step":"refund")", R"({"count":2,"step":"")"}) {
    EXPECT_TRUE(contains(grouped.out, group)) << "missing " << group << " in:\n" << grouped.out;
  }
  auto refunds_before = sandbox.count_by_action()["refund"];
  EXPECT_EQ(refunds_before, 4) << "the SMS jobs were refunded before their SMS failed";
  auto last_id = stream_entries(redis, "rescind:jobs").back()["_id"];
  auto dlq_before = stream_entries(redis, "rescind:dlq");

  auto replayed = ctl(redis, {"dlq", "replay", "--provider", "twilio", "--yes"});
  ASSERT_EQ(replayed.exit_code, 0) << replayed.err;
  EXPECT_TRUE(contains(replayed.out, "replayed 4 entries")) << replayed.out;
  EXPECT_EQ(dlq_length(), 5);
  auto moved = job_ids_in(redis, "rescind:jobs", last_id);
  EXPECT_EQ(moved,
            (std::map<std::string, int>{{"evt_sms_0", 1}, {"evt_sms_1", 1}, {"evt_sms_2", 1}, {"evt_sms_3", 1}}));
  for (auto& entry : stream_entries(redis, "rescind:jobs")) {
    if (!id_less(last_id, entry["_id"])) continue;
    EXPECT_EQ(entry["attempt"], "1") << "attempts reset";
    EXPECT_EQ(entry.count("first_at"), 0u) << "its age restarts";
    bool origin_known = std::any_of(dlq_before.begin(), dlq_before.end(), [&](auto& dead) {
      return dead["origin_id"] == entry["origin_id"] && dead["job"] == entry["job"];
    });
    EXPECT_TRUE(origin_known) << "origin_id and job come from the DLQ entry, byte for byte";
  }

  ASSERT_TRUE(wait_until([&] { return settled(redis) && sandbox.count_by_action()["sms"] == 4; }, 30s))
      << worker->stderr_text();
  EXPECT_EQ(sandbox.count_by_action()["refund"], refunds_before) << "done steps stay done: no refund repeated";

  // Fix the "card" and replay the declined refunds too: each is refunded exactly once.
  auto declined = ctl(redis, {"dlq", "replay", "--step", "refund", "--reason", "permanent", "--yes"});
  ASSERT_EQ(declined.exit_code, 0) << declined.err;
  ASSERT_TRUE(wait_until([&] { return settled(redis) && sandbox.count_by_action()["sms"] == 7; }, 30s))
      << worker->stderr_text();
  std::map<std::string, int> refunds;
  for (const auto& effect : sandbox.ledger()) {
    if (effect.action == "refund") ++refunds[effect.job_id];
  }
  EXPECT_EQ(refunds.size(), 7u);
  for (const auto& [job, count] : refunds) EXPECT_EQ(count, 1) << job << " refunded " << count << " times";
  EXPECT_EQ(dlq_length(), 2) << "only the invalid jobs are left";
  auto left = ctl(redis, {"dlq", "list", "--group-by", "reason", "--json"});
  EXPECT_TRUE(contains(left.out, R"({"count":2,"reason":"invalid_payload")")) << left.out;
}

TEST(Ctl, DestructiveVerbsAskAndRefuseWithoutATerminal) {
  RedisServer redis;
  add_causes(redis);

  auto refused = ctl(redis, {"dlq", "replay", "--provider", "stripe"});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_TRUE(contains(refused.err, "--yes")) << refused.err;
  EXPECT_EQ(redis.integer({"XLEN", "rescind:dlq"}), 11);
  EXPECT_EQ(redis.integer({"EXISTS", "rescind:jobs"}), 0);

  auto dry = ctl(redis, {"dlq", "replay", "--provider", "stripe", "--dry-run"});
  EXPECT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_TRUE(contains(dry.out, "5 entries to replay") && contains(dry.out, "dry run: nothing was changed")) << dry.out;
  EXPECT_EQ(redis.integer({"XLEN", "rescind:dlq"}), 11);

  // An id after a filter flag is an id, not a second value of the flag; filters narrow ids.
  auto first_stripe = stream_entries(redis, "rescind:dlq").front()["_id"];
  auto one = ctl(redis, {"dlq", "replay", "--provider", "stripe", first_stripe, "--dry-run"});
  EXPECT_TRUE(contains(one.out, "1 entry to replay")) << one.out << one.err;
  auto none = ctl(redis, {"dlq", "replay", "--provider", "twilio", first_stripe, "--dry-run"});
  EXPECT_TRUE(contains(none.out, "nothing to replay")) << none.out << none.err;

  EXPECT_EQ(ctl(redis, {"dlq", "purge", "--reason", "invalid_payload"}).exit_code, 2);
  EXPECT_EQ(ctl(redis, {"dlq", "purge", "--older-than", "1h", "--until", "2h", "--yes"}).exit_code, 2);
  auto unselected = ctl(redis, {"dlq", "replay", "--yes"});
  EXPECT_EQ(unselected.exit_code, 2);
  EXPECT_TRUE(contains(unselected.err, "say which entries")) << unselected.err;
  EXPECT_EQ(ctl(redis, {"dlq", "replay", "--all", "--kind", "order.canceled", "--yes"}).exit_code, 2);
  EXPECT_EQ(redis.integer({"XLEN", "rescind:dlq"}), 11);
}

// Runs rescindctl on a pseudo-terminal, answering its prompt with `answer`.
Ran on_terminal(const RedisServer& redis, const std::vector<std::string>& args, const std::string& answer) {
  int master = -1;
  pid_t pid = forkpty(&master, nullptr, nullptr, nullptr);
  if (pid == 0) {
    std::vector<std::string> all{RESCIND_CTL_BIN, "--redis", redis.url()};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& arg : all) argv.push_back(arg.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  std::string output;
  bool answered = false;
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd pfd{master, POLLIN, 0};
    if (poll(&pfd, 1, 100) <= 0) continue;
    char buf[4096];
    auto n = read(master, buf, sizeof buf);
    if (n <= 0) break;  // the child closed the terminal: it exited
    output.append(buf, static_cast<std::size_t>(n));
    if (!answered && contains(output, "[y/N]")) {
      auto line = answer + "\n";
      EXPECT_EQ(write(master, line.data(), line.size()), static_cast<ssize_t>(line.size()));
      answered = true;
    }
  }
  int status = 0;
  waitpid(pid, &status, 0);
  close(master);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), output, {}};
}

TEST(Ctl, AskedOnATerminalOnlyYesGoesAhead) {
  RedisServer redis;
  add_causes(redis);
  auto declined = on_terminal(redis, {"dlq", "purge", "--provider", "twilio"}, "n");
  EXPECT_EQ(declined.exit_code, 0) << declined.out;
  EXPECT_TRUE(contains(declined.out, "Purge these 3 entries from rescind:dlq for good? [y/N]")) << declined.out;
  EXPECT_TRUE(contains(declined.out, "nothing was changed")) << declined.out;
  EXPECT_EQ(redis.integer({"XLEN", "rescind:dlq"}), 11);

  auto confirmed = on_terminal(redis, {"dlq", "purge", "--provider", "twilio"}, "y");
  EXPECT_EQ(confirmed.exit_code, 0) << confirmed.out;
  EXPECT_TRUE(contains(confirmed.out, "purged 3 entries")) << confirmed.out;
  EXPECT_EQ(redis.integer({"XLEN", "rescind:dlq"}), 8);
}

TEST(Ctl, TwoOperatorsReplayingTheSameEntriesMoveEachOnce) {
  RedisServer redis;
  add_many_dead(redis, "evt_twice_", 500);
  std::vector<std::string> args{"--redis", redis.url(), "dlq", "replay", "--all", "--yes", "--batch", "5"};
  {
    Process first(RESCIND_CTL_BIN, args), second(RESCIND_CTL_BIN, args);
    EXPECT_EQ(first.wait(60s), 0) << first.stderr_text();
    EXPECT_EQ(second.wait(60s), 0) << second.stderr_text();
  }
  auto ids = job_ids_in(redis, "rescind:jobs");
  EXPECT_EQ(ids.size(), 500u);
  for (const auto& [id, count] : ids) ASSERT_EQ(count, 1) << id << " replayed twice";
  EXPECT_EQ(redis.integer({"XLEN", "rescind:dlq"}), 0);

  auto again = ctl(redis, {"dlq", "replay", "--all", "--yes"});
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_TRUE(contains(again.out, "nothing to replay")) << again.out;
}

TEST(Ctl, AKilledReplayLeavesEveryEntryInExactlyOnePlace) {
  RedisServer redis;
  constexpr int total = 10'000;  // one entry per script below: the replay runs for a good fraction of a second
  add_many_dead(redis, "evt_kill_", total);

  Process replay(RESCIND_CTL_BIN, {"--redis", redis.url(), "dlq", "replay", "--all", "--yes", "--batch", "1"});
  ASSERT_TRUE(wait_until([&] { return redis.integer({"XLEN", "rescind:dlq"}) < total; }, 30s)) << replay.stderr_text();
  // Freeze writes so "midway" is checked, not hoped for: the replay's next script waits.
  redis.command({"CLIENT", "PAUSE", "30000", "WRITE"});
  auto left_at_kill = redis.integer({"XLEN", "rescind:dlq"});
  replay.signal(SIGKILL);
  EXPECT_EQ(replay.wait(10s), 128 + SIGKILL);
  redis.command({"CLIENT", "UNPAUSE"});
  ASSERT_GT(left_at_kill, 0) << "the replay finished before it could be killed";

  auto in_dlq = job_ids_in(redis, "rescind:dlq");
  auto in_stream = job_ids_in(redis, "rescind:jobs");
  EXPECT_FALSE(in_stream.empty());
  for (int i = 0; i < total; ++i) {
    auto id = "evt_kill_" + std::to_string(i);
    ASSERT_EQ(in_dlq[id] + in_stream[id], 1)
        << id << ": " << in_dlq[id] << " in the DLQ, " << in_stream[id] << " in the stream";
  }

  // Running the same command again finishes the job, still one copy of each.
  auto rest = ctl(redis, {"dlq", "replay", "--all", "--yes"});
  ASSERT_EQ(rest.exit_code, 0) << rest.err;
  auto all = job_ids_in(redis, "rescind:jobs");
  EXPECT_EQ(all.size(), static_cast<std::size_t>(total));
  for (const auto& [id, count] : all) ASSERT_EQ(count, 1) << id;
  EXPECT_EQ(redis.integer({"XLEN", "rescind:dlq"}), 0);
}

TEST(Ctl, PurgeAndExportByFilter) {
  RedisServer redis;
  auto now = redis_now_ms(redis);
  add_dead(redis, {"evt_ancient"}, std::to_string(now - 10 * 86'400'000LL) + "-0");
  add_causes(redis);

  auto exported = ctl(redis, {"dlq", "export", "--provider", "stripe"});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  simdjson::dom::parser parser;
  std::vector<std::string> jobs;
  for (const auto& line : lines_of(exported.out)) {
    auto entry = parser.parse(line).value();
    std::string job_id(entry["job_id"].get_string().value());
    jobs.push_back(job_id);
    EXPECT_EQ(std::string(entry["job"].get_string().value()), job_json(job_id)) << "the original job, byte for byte";
    EXPECT_EQ(std::string(entry["reason"].get_string().value()), "permanent");
    EXPECT_EQ(std::string(entry["error"].get_string().value()), "Your card was declined.");
    EXPECT_EQ(entry["status"].get_int64().value(), 402);
  }
  EXPECT_EQ(jobs, (std::vector<std::string>{"evt_ancient", "evt_card_0", "evt_card_1", "evt_card_2", "evt_card_3",
                                            "evt_card_4"}))
      << "oldest first";

  auto file = "/tmp/rescind-test-export-" + std::to_string(getpid()) + ".ndjson";
  auto to_file = ctl(redis, {"dlq", "export", "--reason", "invalid_payload,exhausted", "--output", file});
  ASSERT_EQ(to_file.exit_code, 0) << to_file.err;
  EXPECT_TRUE(contains(to_file.err, "exported 3 entries")) << to_file.err;
  std::ifstream written(file);
  std::string line;
  int lines = 0;
  while (std::getline(written, line)) ++lines;
  EXPECT_EQ(lines, 3);
  std::remove(file.c_str());

  auto old = ctl(redis, {"dlq", "purge", "--older-than", "7d", "--yes"});
  ASSERT_EQ(old.exit_code, 0) << old.err;
  EXPECT_TRUE(contains(old.out, "purged 1 entry")) << old.out;
  auto twilio = ctl(redis, {"dlq", "purge", "--provider", "twilio", "--yes"});
  ASSERT_EQ(twilio.exit_code, 0) << twilio.err;
  EXPECT_TRUE(contains(twilio.out, "purged 3 entries")) << twilio.out;
  std::map<std::string, int> left = job_ids_in(redis, "rescind:dlq");
  EXPECT_EQ(left.size(), 8u);
  EXPECT_EQ(left.count("evt_ancient") + left.count("evt_sms_0") + left.count("evt_sms_1") + left.count("evt_sms_2"),
            0u);
}

TEST(Ctl, StatsShowsLagPendingConsumersRetriesAndTheDlq) {
  RedisServer redis;
  for (int i = 0; i < 10; ++i)
    redis.command({"XADD", "rescind:jobs", "*", "job", job_json("evt_s" + std::to_string(i)), "attempt", "1"});
  redis.command({"XGROUP", "CREATE", "rescind:jobs", "rescind", "0"});
  redis.command({"XREADGROUP", "GROUP", "rescind", "worker-a", "COUNT", "3", "STREAMS", "rescind:jobs", ">"});
  redis.command({"XGROUP", "CREATECONSUMER", "rescind:jobs", "rescind", "worker-b"});
  auto now = redis_now_ms(redis);
  redis.command(
      {"ZADD", "rescind:retry", std::to_string(now - 1000), "2:0:1-0:{}", std::to_string(now + 60'000), "2:0:1-1:{}"});
  add_causes(redis);
  // The audit trail as workers write it: one entry per step outcome. One is too old to count.
  redis.command({"XADD", "rescind:audit", std::to_string(now - 120'000) + "-0", "provider", "stripe", "outcome", "ok"});
  for (const auto& [provider, outcome] : std::vector<std::pair<std::string, std::string>>{
           {"stripe", "ok"}, {"stripe", "ok"}, {"stripe", "permanent"}, {"twilio", "retryable"}, {"twilio", "ok"}}) {
    redis.command(
        {"XADD", "rescind:audit", "*", "job_id", "evt_a", "step", "x", "provider", provider, "outcome", outcome});
  }

  auto stats = ctl(redis, {"stats", "--json", "--window", "100ms"});
  ASSERT_EQ(stats.exit_code, 0) << stats.err;
  simdjson::dom::parser parser;
  auto doc = parser.parse(stats.out).value();
  EXPECT_EQ(doc["jobs"]["length"].get_int64().value(), 10);
  EXPECT_EQ(doc["jobs"]["lag"].get_int64().value(), 7);
  EXPECT_EQ(doc["jobs"]["pending"].get_int64().value(), 3);
  EXPECT_TRUE(doc["jobs"]["added_per_s"].is_number()) << stats.out;
  std::map<std::string, long long> pending;
  for (auto consumer : doc["consumers"].get_array()) {
    pending[std::string(consumer["name"].get_string().value())] = consumer["pending"].get_int64().value();
    EXPECT_TRUE(consumer["idle_ms"].is_int64());
  }
  EXPECT_EQ(pending, (std::map<std::string, long long>{{"worker-a", 3}, {"worker-b", 0}}));
  EXPECT_EQ(doc["retry"]["scheduled"].get_int64().value(), 2);
  EXPECT_EQ(doc["retry"]["due_now"].get_int64().value(), 1);
  EXPECT_EQ(doc["dlq"]["depth"].get_int64().value(), 11);
  EXPECT_EQ(doc["dlq"]["added_last_hour"].get_int64().value(), 11);
  auto steps = doc["steps_last_minute"];
  EXPECT_EQ(steps["total"].get_int64().value(), 5);
  EXPECT_EQ(steps["by_provider"]["stripe"]["ok"].get_int64().value(), 2);
  EXPECT_EQ(steps["by_provider"]["stripe"]["permanent"].get_int64().value(), 1);
  EXPECT_EQ(steps["by_provider"]["twilio"]["retryable"].get_int64().value(), 1);

  auto table = ctl(redis, {"stats", "--window", "0s"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  for (const char* part :
       {"length", "lag", "7", "pending", "worker-a", "worker-b", "scheduled", "next due", "depth", "11"}) {
    EXPECT_TRUE(contains(table.out, part)) << "missing '" << part << "' in:\n" << table.out;
  }
}

TEST(Ctl, ConsumersPruneDeletesOnlyIdleConsumersThatOwnNothing) {
  RedisServer redis;
  redis.command({"XADD", "rescind:jobs", "*", "job", job_json("evt_p"), "attempt", "1"});
  redis.command({"XGROUP", "CREATE", "rescind:jobs", "rescind", "0"});
  redis.command({"XREADGROUP", "GROUP", "rescind", "owner", "COUNT", "1", "STREAMS", "rescind:jobs", ">"});
  redis.command({"XGROUP", "CREATECONSUMER", "rescind:jobs", "rescind", "gone-1"});
  redis.command({"XGROUP", "CREATECONSUMER", "rescind:jobs", "rescind", "gone-2"});
  auto consumers = [&] {
    std::set<std::string> names;
    for (const auto& info : queue::consumers_from(redis.command({"XINFO", "CONSUMERS", "rescind:jobs", "rescind"}))) {
      names.insert(info.name);
    }
    return names;
  };

  auto recent = ctl(redis, {"consumers", "prune", "--yes"});
  EXPECT_EQ(recent.exit_code, 0) << recent.err;
  EXPECT_TRUE(contains(recent.out, "nothing to prune")) << "none idle for an hour:\n" << recent.out;

  auto dry = ctl(redis, {"consumers", "prune", "--idle", "0s", "--dry-run"});
  EXPECT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_TRUE(contains(dry.out, "keep: owns 1 pending entry")) << dry.out;
  EXPECT_EQ(consumers().size(), 3u);
  EXPECT_EQ(ctl(redis, {"consumers", "prune", "--idle", "0s"}).exit_code, 2) << "no terminal, no --yes";

  auto pruned = ctl(redis, {"consumers", "prune", "--idle", "0s", "--yes"});
  EXPECT_EQ(pruned.exit_code, 0) << pruned.err;
  EXPECT_TRUE(contains(pruned.out, "deleted 2 consumers")) << pruned.out;
  EXPECT_EQ(consumers(), (std::set<std::string>{"owner"})) << "the consumer owning an entry stays";
  EXPECT_EQ(group_state(redis)->pending, 1);
}

TEST(Ctl, ExitCodesAndHelpAtEveryLevel) {
  RedisServer redis;
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{{"--help"},
                                                                                    {"dlq", "--help"},
                                                                                    {"dlq", "replay", "--help"},
                                                                                    {"stats", "--help"},
                                                                                    {"consumers", "prune", "--help"}}) {
    auto help = ctl(redis, args);
    EXPECT_EQ(help.exit_code, 0) << help.err;
    EXPECT_TRUE(contains(help.out, "Usage")) << help.out;
  }
  EXPECT_TRUE(contains(ctl(redis, {"dlq", "replay", "--help"}).out, "--dry-run"));
  EXPECT_EQ(ctl(redis, {"dlq"}).exit_code, 2);
  EXPECT_EQ(ctl(redis, {"dlq", "list", "--since", "yesterday"}).exit_code, 2);
  EXPECT_EQ(ctl(redis, {"dlq", "list", "--group-by", "colour"}).exit_code, 2);
  EXPECT_EQ(ctl(redis, {"bogus"}).exit_code, 2);

  auto unreachable =
      run_command(RESCIND_CTL_BIN, {"--redis", "redis://127.0.0.1:" + std::to_string(free_port()), "stats"});
  EXPECT_EQ(unreachable.exit_code, 1);
  EXPECT_TRUE(contains(unreachable.err, "Is Redis running")) << unreachable.err;
  EXPECT_EQ(run_command(RESCIND_CTL_BIN, {"--redis", "http://nope", "stats"}).exit_code, 2);

  // An input with no job (an export that came out empty, the wrong file) is not a success,
  // with Redis there or not: it used to say "enqueued 0 job(s)" and exit 0 either way.
  for (const std::string& input : {std::string(), std::string("\n  \t\n\r\n")}) {
    auto empty = ctl(redis, {"enqueue", "-"}, input);
    EXPECT_EQ(empty.exit_code, 2) << empty.out << empty.err;
    EXPECT_TRUE(contains(empty.err, "no job in the input")) << empty.err;
    auto nowhere = run_command(RESCIND_CTL_BIN,
                               {"--redis", "redis://127.0.0.1:" + std::to_string(free_port()), "enqueue", "-"}, input);
    EXPECT_EQ(nowhere.exit_code, 2) << nowhere.out << nowhere.err;
  }
  EXPECT_EQ(redis.integer({"XLEN", "rescind:jobs"}), 0);
}

// The pure parts, without Redis: what operators type and what they read.
TEST(CtlFormat, TimesAndAgesAsOperatorsWriteThem) {
  using ctl::parse_time_bound;
  EXPECT_EQ(parse_time_bound("2h")->at(10'000'000), 10'000'000 - 7'200'000);
  EXPECT_EQ(parse_time_bound("3d")->ms, 3 * 86'400'000LL);
  EXPECT_EQ(parse_time_bound("2026-11-22T16:00:00Z")->at(0), 1795363200000LL);
  EXPECT_EQ(parse_time_bound("2026-11-22T17:30:00.250+01:30")->at(0), 1795363200250LL);
  EXPECT_EQ(parse_time_bound("2026-11-22 16:00:00.1Z")->at(0), 1795363200100LL);
  for (const char* bad : {"", "2", "yesterday", "2026-11-22", "2026-13-22T16:00:00Z", "2026-11-22T16:00:00", "-1h"}) {
    EXPECT_FALSE(parse_time_bound(bad)) << bad;
  }
  EXPECT_EQ(ctl::format_age(850), "850ms");
  EXPECT_EQ(ctl::format_age(45'000), "45s");
  EXPECT_EQ(ctl::format_age(125'000), "2m05s");
  EXPECT_EQ(ctl::format_age(3 * 3'600'000 + 5 * 60'000), "3h05m");
  EXPECT_EQ(ctl::format_age(50 * 3'600'000LL), "2d02h");
}

TEST(CtlFormat, PrettyJsonKeepsStringsAndNumbersByteForByte) {
  std::string job =
      R"({"id":"evt_1","note":"a {tricky}, \"quoted\": [string]","n":1.10,"e":[],"o":{},"l":[1,{"a":null}]})";
  auto pretty = ctl::pretty_json(job);
  EXPECT_NE(pretty.find("  \"note\": \"a {tricky}, \\\"quoted\\\": [string]\""), std::string::npos) << pretty;
  EXPECT_NE(pretty.find("\"n\": 1.10,"), std::string::npos) << pretty;
  EXPECT_NE(pretty.find("\"e\": [],"), std::string::npos) << pretty;
  simdjson::dom::parser parser;
  EXPECT_EQ(parser.parse(pretty).error(), simdjson::SUCCESS) << pretty;
  std::string squeezed;  // removing the added whitespace gives the original back
  bool in_string = false, escaped = false;
  for (char c : pretty) {
    if (in_string) {
      squeezed += c;
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
      squeezed += c;
    } else if (c != ' ' && c != '\n') {
      squeezed += c;
    }
  }
  EXPECT_EQ(squeezed, job);
}

TEST(CtlFormat, TextForTablesAndJson) {
  EXPECT_EQ(ctl::clip("déclinée", 5), "décl…");
  EXPECT_EQ(ctl::clip("a\nb", 10), "a b");
  EXPECT_EQ(ctl::json_text("ok \xff"), "\"ok \xEF\xBF\xBD\"") << "invalid UTF-8 never reaches JSON output";
  ctl::DlqEntry entry;
  entry.id = "1-0";
  entry.fields = {{"job", "\xff\x01"}, {"status", "402"}, {"attempt", "x"}};
  auto json = ctl::entry_json(entry);
  EXPECT_NE(json.find(R"("status":402)"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("attempt":"x")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("job_base64":"/wE=")"), std::string::npos) << json;
}

}  // namespace
}  // namespace rescind::testing
