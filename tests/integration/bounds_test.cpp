// What a client, a job or a provider can make the worker hold is bounded: descriptors
// (/metrics sessions, per-shop pools), metric series, DLQ bytes; and what it refuses to
// start with (a CA file it cannot read, clear-text URLs, the sandbox beside real keys).
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/sha.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "clients/http_client.hpp"
#include "tests/support/stack.hpp"

namespace rescind::testing {
namespace {

using namespace std::chrono_literals;

// The worker under `ulimit -n`, started by bash so that the limit is the worker's own.
std::unique_ptr<Process> start_worker_with_descriptors(int limit, const RedisServer& redis, const Sandbox& sandbox,
                                                       std::vector<std::string> extra_args) {
  std::vector<std::string> args{"-c", "ulimit -n " + std::to_string(limit) + " && exec \"$0\" \"$@\"",
                                RESCIND_WORKER_BIN};
  auto worker = worker_args(redis, sandbox, std::move(extra_args));
  args.insert(args.end(), worker.begin(), worker.end());
  return std::make_unique<Process>("bash", args);
}

std::string max_open_files(pid_t pid) {
  std::ifstream limits("/proc/" + std::to_string(pid) + "/limits");
  std::string line;
  while (std::getline(limits, line)) {
    if (line.rfind("Max open files", 0) == 0) return line;
  }
  return {};
}

// Idle TCP connections held by this test: connected, never a byte sent.
struct IdleConnections {
  std::vector<int> fds;
  IdleConnections(unsigned short port, int count) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < count; ++i) {
      int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);  // not inherited by the processes tests start
      if (fd < 0) break;
      if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        ::close(fd);
        break;
      }
      fds.push_back(fd);
    }
  }
  ~IdleConnections() {
    for (int fd : fds) ::close(fd);
  }
};

unsigned short port_of(const std::string& base) {
  return static_cast<unsigned short>(std::stoi(base.substr(base.rfind(':') + 1)));
}

TEST(Bounds, AThousandIdleMetricsConnectionsUnder256DescriptorsStopNothing) {
  // The test holds the connections itself: it needs more descriptors than the worker has.
  rlimit own{};
  getrlimit(RLIMIT_NOFILE, &own);
  if (own.rlim_cur < 1200) {
    own.rlim_cur = std::min<rlim_t>(own.rlim_max, 4096);
    setrlimit(RLIMIT_NOFILE, &own);
  }
  ASSERT_GE(own.rlim_cur, 1200u) << "this test needs 1,200 descriptors of its own (hard limit " << own.rlim_max << ")";

  RedisServer redis;
  Sandbox sandbox;
  // Provider connections sized for 256 descriptors: what an operator under that limit sets.
  auto worker =
      start_worker_with_descriptors(256, redis, sandbox, {"--max-in-flight", "100", "--http-max-connections", "64"});
  auto base = metrics_base(*worker);
  ASSERT_NE(max_open_files(worker->pid()).find(" 256 "), std::string::npos) << max_open_files(worker->pid());

  IdleConnections idle(port_of(base), 1000);
  ASSERT_EQ(idle.fds.size(), 1000u) << "the kernel queued every connection";

  std::string input;
  for (int i = 0; i < 300; ++i) input += job_json("evt_fd_" + std::to_string(i)) + "\n";
  ASSERT_EQ(enqueue(redis, input).exit_code, 0);
  // While all 1,000 are held: the jobs drain and the health check gets its answer.
  ASSERT_TRUE(wait_until([&] { return queue_settled(redis, 300); }, 60s)) << worker->stderr_text();
  ASSERT_TRUE(wait_until([&] { return http_call("GET", base + "/healthz").status == 200; }, 30s))
      << worker->stderr_text();
  EXPECT_EQ(sandbox.count_by_action()["staff"], 300);
  EXPECT_EQ(redis.integer({"XLEN", "rescind:dlq"}), 0);
  EXPECT_EQ(metric(base, "rescind_provider_requests_total", {R"(code="transport")"}), 0)
      << "no provider call went without a descriptor";
  EXPECT_EQ(metric(base, "rescind_jobs_total", {R"(outcome="retried")"}), 0);
  EXPECT_LE(metric(base, "rescind_http_connections"), 64) << "--http-max-connections holds";
  EXPECT_NE(worker->stderr_text().find(R"("max_open_files":256)"), std::string::npos)
      << "the limit it runs under, logged";
  EXPECT_TRUE(worker->running());
}

// Each Prometheus sample line of /metrics, without comments.
std::vector<std::string> series(const std::string& base) {
  std::istringstream lines(http_call("GET", base + "/metrics").body);
  std::vector<std::string> out;
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line[0] != '#') out.push_back(line);
  }
  return out;
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  return text.replace(text.find(from), from.size(), to);
}

TEST(Bounds, FiveHundredJobsNamingInventedProvidersAddNoSeries) {
  RedisServer redis;
  Sandbox sandbox;
  auto worker = start_worker(redis, sandbox);
  auto base = metrics_base(*worker);
  ASSERT_EQ(enqueue(redis, job_json("evt_known") + "\n").exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return queue_settled(redis, 1); }, 30s)) << worker->stderr_text();
  auto before = series(base).size();

  std::string input;
  for (int i = 0; i < 500; ++i) {
    auto job = job_json("evt_inv_" + std::to_string(i));
    // Half pay with an invented provider, half are orders to cancel at an invented platform.
    job = i % 2 ? replaced(job, R"("provider":"stripe")", R"("provider":"prov_)" + std::to_string(i) + "\"")
                : replaced(replaced(job, R"("platform":"shopify")", R"("platform":"plat_)" + std::to_string(i) + "\""),
                           R"("kind":"order.canceled")", R"("kind":"order.unfulfillable")");
    input += job + "\n";
  }
  ASSERT_EQ(enqueue(redis, input).exit_code, 0) << "the parser accepts any lowercase word there";
  ASSERT_TRUE(wait_until([&] { return queue_settled(redis, 501); }, 60s)) << worker->stderr_text();

  auto after = series(base);
  std::set<std::string> providers;
  for (const auto& line : after) {
    std::smatch match;
    if (std::regex_search(line, match, std::regex(R"re(provider="([^"]*)")re"))) providers.insert(match[1]);
  }
  EXPECT_LE(after.size(), before + 40) << "a few dozen series at most, whatever the jobs say";
  EXPECT_EQ(providers.count("other"), 1u);
  for (const auto& provider : providers) EXPECT_EQ(provider.find("prov_"), std::string::npos) << provider;
  for (const auto& provider : providers) EXPECT_EQ(provider.find("plat_"), std::string::npos) << provider;
  EXPECT_EQ(metric(base, "rescind_provider_requests_total", {R"(provider="other")", R"(code="unsupported")"}), 500);
  EXPECT_LE(metric(base, "rescind_limiter_accounts"), 6) << "no quota state for names without a client";
  EXPECT_EQ(metric(base, "rescind_http_pools"), 1) << "one origin: the sandbox";
  // The free value is kept where it is needed: the DLQ names it.
  auto dead = stream_entries(redis, "rescind:dlq");
  ASSERT_EQ(dead.size(), 500u);
  std::set<std::string> named;
  for (auto& entry : dead) named.insert(entry["provider"]);
  EXPECT_EQ(named.size(), 500u);
  EXPECT_EQ(named.count("prov_1"), 1u);
  EXPECT_EQ(named.count("plat_0"), 1u);
}

std::string sha256_hex(const std::string& data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  char hex[2 * SHA256_DIGEST_LENGTH + 1];
  for (int i = 0; i < SHA256_DIGEST_LENGTH; ++i) std::snprintf(hex + 2 * i, 3, "%02x", digest[i]);
  return hex;
}

TEST(Bounds, AFiveMegabyteEntryIsDeadLetteredAsPrefixSizeAndHash) {
  RedisServer redis;
  Sandbox sandbox;
  auto worker = start_worker(redis, sandbox);
  auto big = replaced(job_json("evt_huge"), R"("reason":"customer")",
                      R"("reason":"customer","padding":")" + std::string(5 << 20, 'x') + "\"");
  redis.command({"XADD", "rescind:jobs", "*", "job", big, "attempt", "1"});
  ASSERT_TRUE(wait_until([&] { return redis.integer({"XLEN", "rescind:dlq"}) == 1; }, 30s)) << worker->stderr_text();

  auto dead = stream_entries(redis, "rescind:dlq").at(0);
  EXPECT_EQ(dead["reason"], "invalid_payload");
  EXPECT_EQ(dead["job"], big.substr(0, 4096)) << "a prefix, enough to see what it was";
  EXPECT_EQ(dead["job_bytes"], std::to_string(big.size()));
  EXPECT_EQ(dead["job_sha256"], sha256_hex(big));
  EXPECT_NE(dead["error"].find("over the limit"), std::string::npos) << dead["error"];
  EXPECT_NE(dead["error"].find("keeps its first 4096 bytes"), std::string::npos) << "the letter says what it kept";
  EXPECT_LT(redis.integer({"MEMORY", "USAGE", "rescind:dlq"}), 64 * 1024) << "not another 5 MB";

  ASSERT_EQ(enqueue(redis, job_json("evt_after_huge") + "\n").exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return sandbox.count_by_action()["staff"] == 1; }, 30s)) << "the worker carries on";
}

// One request on `http`, driven to its answer.
clients::Exchange fetch(boost::asio::io_context& io, clients::HttpClient& http, const std::string& url) {
  std::string error;
  auto parsed = clients::parse_url(url, error);
  if (!parsed) throw std::runtime_error(error);
  clients::HttpRequest request{clients::http::verb::get, parsed->path.empty() ? "/" : parsed->path, 11};
  clients::Exchange exchange;
  boost::asio::co_spawn(
      io, [&]() -> boost::asio::awaitable<void> { exchange = co_await http.send(parsed->origin, std::move(request)); },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  io.restart();
  io.run();
  return exchange;
}

TEST(Bounds, APoolIdlePastMaxIdleIsClosedAndForgotten) {
  Sandbox shop_a, shop_b;  // two origins, as two Shopify shops are
  boost::asio::io_context io;
  auto now = std::chrono::steady_clock::now();
  clients::HttpOptions options;
  clients::HttpClient http(io.get_executor(), options, [&] { return now; });
  ASSERT_EQ(fetch(io, http, shop_a.url() + "/__ledger/summary").response.result_int(), 200u);
  ASSERT_EQ(fetch(io, http, shop_b.url() + "/__ledger/summary").response.result_int(), 200u);
  EXPECT_EQ(http.pools(), 2u);
  EXPECT_EQ(http.open_connections(), 2u) << "both kept alive for reuse";

  now += options.max_idle - 1ms;
  ASSERT_EQ(fetch(io, http, shop_b.url() + "/__ledger/summary").response.result_int(), 200u);
  EXPECT_EQ(http.pools(), 2u) << "not idle long enough yet";

  now += 2ms;
  ASSERT_EQ(fetch(io, http, shop_b.url() + "/__ledger/summary").response.result_int(), 200u);
  EXPECT_EQ(http.pools(), 1u) << "the shop not called for max_idle is gone, with its socket";
  EXPECT_EQ(http.open_connections(), 1u);
  EXPECT_EQ(fetch(io, http, shop_a.url() + "/__ledger/summary").response.result_int(), 200u)
      << "and comes back when needed";
}

TEST(Bounds, AWaitForAPooledConnectionEndsAtMaxConnectionWait) {
  Sandbox provider;
  provider.set_faults(R"({"stripe":{"delay_ms":3000}})");  // holds the only connection a while
  boost::asio::io_context io;
  clients::HttpOptions options;
  options.max_connections_per_origin = 1;
  options.max_connection_wait = std::chrono::milliseconds(50);
  clients::HttpClient http(io.get_executor(), options);
  std::string error;
  auto origin = clients::parse_url(provider.url(), error)->origin;

  std::vector<std::string> finished;  // in the order the two calls came back
  clients::Exchange slow, waiting;
  auto call = [&](clients::Exchange& into, std::string name) -> boost::asio::awaitable<void> {
    into = co_await http.send(origin, clients::HttpRequest{clients::http::verb::get, "/v1/refunds", 11});
    finished.push_back(std::move(name));
  };
  auto rethrow = [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  };
  boost::asio::co_spawn(io, call(slow, "slow"), rethrow);
  boost::asio::co_spawn(io, call(waiting, "waiting"), rethrow);  // finds the pool full
  io.run();

  EXPECT_EQ(waiting.error, clients::no_free_connection()) << waiting.error.message();
  EXPECT_FALSE(slow.error) << slow.error.message();
  EXPECT_NE(slow.response.result_int(), 0u) << "the call that held the connection got its answer";
  EXPECT_EQ(finished, (std::vector<std::string>{"waiting", "slow"})) << "the wait ended before the call it waited for";
  EXPECT_EQ(provider.summary("requests"), 1) << "only the slow call reached the provider";
}

}  // namespace
}  // namespace rescind::testing
