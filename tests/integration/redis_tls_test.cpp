// Redis over TLS with ACL users: a real `redis-server --tls-port` with certificates made by
// the test, and the users of deploy/redis/users.acl as shipped (only the passwords filled in),
// so the ACL lines the README tells operators to install are the ones proven to suffice.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "queue/info.hpp"
#include "tests/support/certificates.hpp"
#include "tests/support/stack.hpp"

namespace rescind::testing {
namespace {

using namespace std::chrono_literals;

// Characters a URL must percent-encode, so a test that connects proves the decoding.
const std::string admin_password = "admin-pw-7";
const std::string worker_password = "w0rker:p@ss/%word";
const std::string upstream_password = "upstream@pw";
const std::string operator_password = "op:pw%41";

// The shipped ACL file with its password placeholders filled in, written into `dir`.
std::string shipped_acl_file(const std::string& dir) {
  std::ifstream in(std::string(RESCIND_SOURCE_DIR) + "/deploy/redis/users.acl");
  std::stringstream text;
  text << in.rdbuf();
  std::string acl = text.str();
  for (auto [placeholder, password] : {std::pair{"ADMIN_PASSWORD", admin_password},
                                       {"WORKER_PASSWORD", worker_password},
                                       {"UPSTREAM_PASSWORD", upstream_password},
                                       {"OPERATOR_PASSWORD", operator_password}}) {
    auto at = acl.find(std::string(">") + placeholder);
    if (at == std::string::npos) throw std::runtime_error(std::string("users.acl has no >") + placeholder);
    acl.replace(at + 1, std::string(placeholder).size(), password);
  }
  auto path = dir + "/users.acl";
  std::ofstream(path) << acl;
  return path;
}

RedisOptions tls_server(const Certificates& certs, const std::string& auth_clients = "yes") {
  RedisOptions options;
  options.tls =
      RedisTls{certs.server_cert, certs.server_key, certs.ca, auth_clients, certs.client_cert, certs.client_key};
  options.acl_file = shipped_acl_file(certs.dir);
  options.password = admin_password;
  return options;
}

Ran ctl_as(const RedisServer& redis, const std::string& user, const std::string& password,
           std::vector<std::string> args, const std::string& input = {}) {
  auto flags = redis.client_flags(user, password);
  args.insert(args.begin(), flags.begin(), flags.end());
  return run_command(RESCIND_CTL_BIN, args, input);
}

std::vector<std::string> plus(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// What Redis denied anyone since it started (ACL LOG): a command the shipped lines lack shows
// up here even where the worker shrugs off the error and carries on.
std::string acl_denials(RedisServer& redis) {
  auto log = redis.command({"ACL", "LOG"});
  std::string out;
  for (const auto& entry : log.elements) {
    for (std::size_t i = 0; i + 1 < entry.elements.size(); i += 2) {
      if (entry.elements[i].text == "username" || entry.elements[i].text == "object" ||
          entry.elements[i].text == "reason") {
        out += entry.elements[i].text + "=" + entry.elements[i + 1].text + " ";
      }
    }
    out += "\n";
  }
  return out;
}

bool group_exists(RedisServer& redis) { return group_state(redis).has_value(); }

std::string invalid_job(const std::string& id) {
  auto job = job_json(id);
  return job.replace(job.find("\"USD\""), 5, "\"XYZ\"");  // not an ISO 4217 code: dead-lettered
}

TEST(RedisTls, WorkerDrainsThousandJobsAsTheShippedAclUser) {
  Certificates certs;
  RedisServer redis(tls_server(certs));
  Sandbox sandbox;

  // Enqueued as the upstream user, which may XADD to rescind:jobs and nothing else.
  std::string ndjson;
  for (int i = 0; i < 1000; ++i) ndjson += job_json("evt_tls_" + std::to_string(i)) + "\n";
  ndjson += invalid_job("evt_tls_bad") + "\n";
  auto enqueued = ctl_as(redis, "rescind-upstream", upstream_password, {"enqueue", "--no-validate", "-"}, ndjson);
  ASSERT_EQ(enqueued.exit_code, 0) << enqueued.err;
  EXPECT_NE(enqueued.out.find("enqueued 1001"), std::string::npos) << enqueued.out;

  // Every path the worker has, not only the happy one, so the ACL is tried on each: retries
  // (SMS refused with 503 a few times), a dead letter, the fleet-wide quota script, the
  // sampler, housekeeping (trims, DLQ retention, pruning an idle consumer), heartbeats.
  sandbox.set_faults(R"({"twilio":{"status":503,"count":20}})");
  auto worker =
      start_worker(redis, sandbox,
                   plus(redis.client_flags("rescind-worker", worker_password),
                        {"--retry", "base=50ms,cap=100ms", "--limit", "stripe=100000/s:1000", "--sample-interval",
                         "100ms", "--housekeeping-interval", "200ms", "--prune-consumers-after", "1s",
                         "--dlq-retention", "1h", "--visibility-timeout", "3s"}));
  ASSERT_TRUE(wait_until([&] { return group_exists(redis); }, 20s)) << worker->stderr_text().substr(0, 4000);
  redis.command({"XGROUP", "CREATECONSUMER", "rescind:jobs", "rescind", "ghost-worker"});

  ASSERT_TRUE(wait_until([&] { return queue_settled(redis, 1001); }, 120s)) << worker->stderr_text().substr(0, 4000);
  auto refunds = sandbox.per_job("refund");
  EXPECT_EQ(refunds.size(), 1000u);
  for (const auto& [id, count] : refunds) EXPECT_EQ(count, 1) << id;
  EXPECT_EQ(sandbox.per_job("sms").size(), 1000u) << "the SMS refused with 503 were retried";
  auto dead = stream_entries(redis, "rescind:dlq");
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0]["reason"], "invalid_payload");

  // Housekeeping removed the idle consumer: XINFO CONSUMERS and XGROUP DELCONSUMER are allowed.
  EXPECT_TRUE(wait_until(
      [&] {
        auto consumers = queue::consumers_from(redis.command({"XINFO", "CONSUMERS", "rescind:jobs", "rescind"}));
        for (const auto& c : consumers) {
          if (c.name == "ghost-worker") return false;
        }
        return true;
      },
      20s));

  EXPECT_EQ(acl_denials(redis), "");
  auto log = worker->stderr_text();
  EXPECT_EQ(log.find(worker_password), std::string::npos);
  EXPECT_NE(log.find("rediss://127.0.0.1:" + std::to_string(redis.port())), std::string::npos) << log.substr(0, 2000);
  worker->signal(SIGTERM);
  EXPECT_EQ(worker->wait(15s), 0);
}

// The worker given `flags` must exit 1 without ever reading the stream, naming `reason`.
void expect_refused(RedisServer& redis, Sandbox& sandbox, const std::vector<std::string>& flags,
                    const std::string& reason) {
  auto worker = start_worker(redis, sandbox, flags);
  auto exit_code = worker->wait(30s);
  auto log = worker->stderr_text();
  EXPECT_EQ(exit_code, 1) << log;
  EXPECT_NE(log.find(reason), std::string::npos) << log;
  EXPECT_EQ(log.find(worker_password), std::string::npos) << log;
  EXPECT_FALSE(group_exists(redis)) << "the worker reached the stream";
}

TEST(RedisTls, RefusesAServerItCannotVerify) {
  Certificates certs;
  RedisServer redis(tls_server(certs));
  Sandbox sandbox;
  redis.command({"XADD", "rescind:jobs", "*", "job", job_json("evt_never"), "attempt", "1"});
  auto url = redis.url_for("rescind-worker", worker_password);
  std::vector<std::string> client{"--redis-tls-cert", certs.client_cert, "--redis-tls-key", certs.client_key};

  // Signed by a CA the worker was not told to trust: by --redis-ca-file, or by the system store.
  // (Redis sends its CA along, so OpenSSL's reason is "self-signed certificate in certificate chain".)
  expect_refused(redis, sandbox, plus({"--redis", url, "--redis-ca-file", certs.other_ca}, client),
                 "certificate verify failed");
  expect_refused(redis, sandbox, plus({"--redis", url}, client), "certificate verify failed");
  // The server requires a client certificate and the worker has none.
  expect_refused(redis, sandbox, {"--redis", url, "--redis-ca-file", certs.ca}, "cannot reach Redis");
  // Control: with all three the same worker gets in (so the refusals above were about them).
  auto worker = start_worker(redis, sandbox, plus({"--redis", url, "--redis-ca-file", certs.ca}, client));
  EXPECT_TRUE(wait_until([&] { return queue_settled(redis, 1); }, 30s)) << worker->stderr_text();
  worker->signal(SIGTERM);
  EXPECT_EQ(worker->wait(15s), 0);
}

TEST(RedisTls, RefusesACertificateForAnotherHostName) {
  Certificates certs;
  auto options = tls_server(certs);
  options.tls->cert = certs.localhost_cert;  // issued for DNS localhost, not for 127.0.0.1
  options.tls->key = certs.localhost_key;
  options.tls->host = "localhost";  // the test's own connection: the name it is for
  RedisServer redis(options);
  Sandbox sandbox;
  auto by_address = redis.url_for("rescind-worker", worker_password);
  by_address.replace(by_address.find("@localhost:"), 10, "@127.0.0.1");
  std::vector<std::string> files{"--redis-ca-file", certs.ca,          "--redis-tls-cert",
                                 certs.client_cert, "--redis-tls-key", certs.client_key};
  expect_refused(redis, sandbox, plus({"--redis", by_address}, files),
                 "certificate verify failed: IP address mismatch");

  auto ctl = run_command(RESCIND_CTL_BIN, plus({"--redis", by_address}, plus(files, {"stats"})));
  EXPECT_EQ(ctl.exit_code, 1) << ctl.err;
  EXPECT_NE(ctl.err.find("IP address mismatch"), std::string::npos) << ctl.err;
  EXPECT_EQ(ctl.err.find(worker_password), std::string::npos) << ctl.err;
  // The same flags with the name the certificate is for: accepted.
  auto by_name = ctl_as(redis, "rescind-operator", operator_password, {"stats"});
  EXPECT_EQ(by_name.exit_code, 0) << by_name.err;
}

TEST(RedisTls, RescindctlWorksAsTheShippedOperatorUser) {
  Certificates certs;
  RedisServer redis(tls_server(certs, "optional"));
  // Dead letters as a worker writes them, and one job in the stream.
  for (int i = 0; i < 3; ++i) {
    redis.command({"XADD",
                   "rescind:dlq",
                   "*",
                   "job",
                   job_json("evt_dead_" + std::to_string(i)),
                   "attempt",
                   "1",
                   "kind",
                   "order.canceled",
                   "reason",
                   "permanent",
                   "step",
                   "refund",
                   "provider",
                   "stripe",
                   "status",
                   "402",
                   "code",
                   "card_declined",
                   "error",
                   "Your card was declined.",
                   "failed_at",
                   "2026-11-22T16:00:00.000Z",
                   "origin_id",
                   "1700000000000-" + std::to_string(i),
                   "worker",
                   "test-1"});
  }
  redis.command({"XGROUP", "CREATE", "rescind:jobs", "rescind", "0", "MKSTREAM"});
  redis.command({"XGROUP", "CREATECONSUMER", "rescind:jobs", "rescind", "gone-worker"});
  auto ctl = [&](std::vector<std::string> args) {
    auto ran = ctl_as(redis, "rescind-operator", operator_password, args);
    EXPECT_EQ(ran.exit_code, 0) << args[0] << ": " << ran.err;
    EXPECT_EQ(ran.err.find(operator_password), std::string::npos);
    return ran;
  };

  ctl({"stats"});
  auto listed = ctl({"dlq", "list", "--json"}).out;
  EXPECT_EQ(std::count(listed.begin(), listed.end(), '\n'), 3) << listed;
  auto ids = stream_entries(redis, "rescind:dlq");
  ctl({"dlq", "show", ids[0]["_id"]});
  ctl({"dlq", "export", "--kind", "order.canceled"});
  ctl({"dlq", "replay", "--all", "--limit", "2", "--yes"});
  EXPECT_EQ(redis.integer({"XLEN", "rescind:dlq"}), 1);
  EXPECT_EQ(redis.integer({"XLEN", "rescind:jobs"}), 2);
  ctl({"dlq", "purge", "--all", "--yes"});
  EXPECT_EQ(redis.integer({"XLEN", "rescind:dlq"}), 0);
  ctl({"consumers", "prune", "--idle", "0s", "--yes"});
  EXPECT_EQ(redis.command({"XINFO", "CONSUMERS", "rescind:jobs", "rescind"}).elements.size(), 0u);
  EXPECT_EQ(acl_denials(redis), "");

  // The upstream user may enqueue and do nothing else: not even read the queue's numbers.
  auto upstream = ctl_as(redis, "rescind-upstream", upstream_password, {"stats"});
  EXPECT_EQ(upstream.exit_code, 1);
  EXPECT_NE(upstream.err.find("NOPERM"), std::string::npos) << upstream.err;
}

TEST(RedisAuth, SendsTheUserNameAndNeverEchoesThePassword) {
  Certificates certs;  // only for its folder: this server is plain TCP
  RedisOptions options;
  options.acl_file = shipped_acl_file(certs.dir);
  options.password = admin_password;
  RedisServer redis(options);
  Sandbox sandbox;

  // The operator's password is not the default user's: only AUTH with the user name gets in.
  auto as_operator = ctl_as(redis, "rescind-operator", operator_password, {"stats"});
  EXPECT_EQ(as_operator.exit_code, 0) << as_operator.err;
  auto enqueued = ctl_as(redis, "rescind-upstream", upstream_password, {"enqueue", "-"}, job_json("evt_auth_1") + "\n");
  EXPECT_EQ(enqueued.exit_code, 0) << enqueued.err;

  for (auto [user, password] : {std::pair{std::string("rescind-nobody"), operator_password},
                                {std::string("rescind-operator"), std::string("Wr0ng:S3cret")},
                                {std::string(""), operator_password}}) {
    auto refused = ctl_as(redis, user, password, {"stats"});
    EXPECT_EQ(refused.exit_code, 1) << user;
    EXPECT_NE(refused.err.find("Redis refused the user name or password"), std::string::npos) << refused.err;
    EXPECT_EQ(refused.err.find(password), std::string::npos) << refused.err;
    EXPECT_EQ(refused.err.find(redis.url_for(user, password)), std::string::npos) << refused.err;
  }

  auto worker = start_worker(redis, sandbox, redis.client_flags("rescind-worker", "Wr0ng:S3cret"));
  EXPECT_EQ(worker->wait(30s), 1);
  auto log = worker->stderr_text();
  EXPECT_NE(log.find("Redis refused the user name or password"), std::string::npos) << log;
  EXPECT_EQ(log.find("Wr0ng"), std::string::npos) << log;
  EXPECT_FALSE(group_exists(redis));

  auto right = start_worker(redis, sandbox, redis.client_flags("rescind-worker", worker_password));
  EXPECT_TRUE(wait_until([&] { return queue_settled(redis, 1); }, 30s)) << right->stderr_text();
  right->signal(SIGTERM);
  EXPECT_EQ(right->wait(15s), 0);
}

TEST(RedisAuth, TheShippedUsersWorkOnAnotherDatabaseThroughABracketedIpv6Host) {
  Certificates certs;  // only for its folder: this server is plain TCP
  RedisOptions options;
  options.acl_file = shipped_acl_file(certs.dir);
  options.password = admin_password;
  options.bind = {"127.0.0.1", "::1"};
  RedisServer redis(options);
  Sandbox sandbox;
  // redis://user:password@[::1]:PORT/3: the URL an operator writes for an IPv6-only Redis
  // with Rescind in database 3 (SELECT, which each shipped user must be allowed).
  auto on_db3 = [&](const std::string& user, const std::string& password) {
    auto url = redis.url_for(user, password);
    url.replace(url.rfind("127.0.0.1"), 9, "[::1]");
    return std::vector<std::string>{"--redis", url + "/3"};
  };
  auto ctl = [&](const std::string& user, const std::string& password, std::vector<std::string> args,
                 const std::string& input = {}) {
    return run_command(RESCIND_CTL_BIN, plus(on_db3(user, password), args), input);
  };

  auto enqueued = ctl("rescind-upstream", upstream_password, {"enqueue", "-"}, job_json("evt_db3_1") + "\n");
  ASSERT_EQ(enqueued.exit_code, 0) << enqueued.err;
  auto worker = start_worker(redis, sandbox, on_db3("rescind-worker", worker_password));
  ASSERT_TRUE(wait_until([&] { return sandbox.count_by_action()["staff"] == 1; }, 30s)) << worker->stderr_text();
  EXPECT_NE(worker->stderr_text().find("redis://[::1]:" + std::to_string(redis.port()) + "/3"), std::string::npos)
      << "the address shown as it was given: " << worker->stderr_text();
  auto stats = ctl("rescind-operator", operator_password, {"stats"});
  EXPECT_EQ(stats.exit_code, 0) << stats.err;
  EXPECT_EQ(redis.integer({"XLEN", "rescind:jobs"}), 0) << "database 0 was not used";
  worker->signal(SIGTERM);
  EXPECT_EQ(worker->wait(15s), 0);
  EXPECT_EQ(acl_denials(redis), "") << "nothing the shipped lines lack";
}

TEST(RedisTls, BadFilesAndUrlsAreUsageErrorsThatQuoteNoSecret) {
  Certificates certs;
  auto url = "rediss://rescind-worker:S3cretPW@127.0.0.1:6390";
  struct Case {
    std::vector<std::string> flags;
    std::string message;
  } cases[] = {
      {{"--redis", url, "--redis-ca-file", "/nonexistent/ca.pem"},
       "--redis-ca-file /nonexistent/ca.pem: cannot read it: No such file or directory"},
      {{"--redis", url, "--redis-ca-file", certs.dir + "/client.ext"}, "not a PEM certificate bundle"},
      {{"--redis", url, "--redis-tls-cert", certs.client_cert}, "give both or neither"},
      {{"--redis", url, "--redis-tls-cert", certs.client_cert, "--redis-tls-key", "/nonexistent/key.pem"},
       "--redis-tls-key /nonexistent/key.pem: cannot read it"},
      {{"--redis", url, "--redis-tls-cert", certs.client_cert, "--redis-tls-key", certs.server_key},
       "not the PEM private key of --redis-tls-cert"},
      {{"--redis", "redis://rescind-worker:S3cretPW@127.0.0.1:6390", "--redis-ca-file", certs.ca},
       "need a rediss:// URL"},
      {{"--redis", "https://rescind-worker:S3cretPW@127.0.0.1:6390"}, "got a https:// URL"},
      {{"--redis", "rediss://rescind-worker:S3cretPW%zz@127.0.0.1:6390"}, "not followed by two hex digits"},
  };
  for (const auto& c : cases) {
    auto worker = run_command(RESCIND_WORKER_BIN, plus(c.flags, {"--sandbox", "http://127.0.0.1:9"}));
    EXPECT_EQ(worker.exit_code, 2) << c.message << ": " << worker.err;
    EXPECT_NE(worker.err.find(c.message), std::string::npos) << worker.err;
    EXPECT_EQ(worker.err.find("S3cret"), std::string::npos) << worker.err;
    auto ctl = run_command(RESCIND_CTL_BIN, plus(c.flags, {"stats"}));
    EXPECT_EQ(ctl.exit_code, 2) << c.message << ": " << ctl.err;
    EXPECT_NE(ctl.err.find(c.message), std::string::npos) << ctl.err;
    EXPECT_EQ(ctl.err.find("S3cret"), std::string::npos) << ctl.err;
  }
  // The environment variables are the flags' (RESCIND_REDIS_CA_FILE and the rest).
  auto env = run_command("env", {"RESCIND_REDIS=" + std::string(url), "RESCIND_REDIS_CA_FILE=/nonexistent/ca.pem",
                                 RESCIND_CTL_BIN, "stats"});
  EXPECT_EQ(env.exit_code, 2) << env.err;
  EXPECT_NE(env.err.find("--redis-ca-file /nonexistent/ca.pem"), std::string::npos) << env.err;
}

}  // namespace
}  // namespace rescind::testing
