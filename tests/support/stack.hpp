// The real parts a test needs, started on free loopback ports and stopped afterwards:
// redis-server, rescind-sandbox, rescind-worker. No mocks: tests assert on what these saw.
#pragma once
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "ctl/redis_session.hpp"
#include "tests/support/process.hpp"

namespace rescind::testing {

// Polls `condition` until it holds or `timeout` passes; the caller asserts on the result.
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

// TLS mode of a RedisServer: no plain port, only --tls-port.
struct RedisTls {
  std::string cert, key;  // the server's certificate and key
  // The CA the server checks client certificates against; the test's own connection trusts it too.
  std::string ca;
  std::string auth_clients = "optional";  // --tls-auth-clients: yes = a client certificate is required
  std::string client_cert, client_key;    // the test's own connection shows these (if set)
  std::string host = "127.0.0.1";         // the name url() and the test's own connection use
};

struct RedisOptions {
  bool persistent = false;  // append-only file with fsync on every write, so a restart loses nothing
  std::optional<RedisTls> tls;
  std::string acl_file;                        // --aclfile: the users; then `password` is the default user's
  std::string password;                        // the test's own connection authenticates as the default user with it
  std::vector<std::string> bind{"127.0.0.1"};  // its --bind addresses (add "::1" for IPv6)
};

class RedisServer {
 public:
  explicit RedisServer(bool persistent = false);
  ~RedisServer();
  explicit RedisServer(RedisOptions options);
  // redis[s]://host:port, no user info: the default user, which needs no password unless set.
  std::string url() const { return url_for("", ""); }
  // The same with the user info percent-encoded (a password may hold ':', '@', '%').
  std::string url_for(const std::string& user, const std::string& password) const;
  // --redis URL and, in TLS mode, the files the test's own connection uses: what a worker or
  // rescindctl needs to connect as `user`.
  std::vector<std::string> client_flags(const std::string& user, const std::string& password) const;
  unsigned short port() const { return port_; }
  redis::Endpoint endpoint() const;  // the test's own connection's: TLS files, default user's password
  std::vector<redis::Reply> exec(redis::Request request);
  redis::Reply command(const std::vector<std::string>& argv);
  long long integer(const std::vector<std::string>& argv) { return command(argv).integer; }
  void stop();
  // Stops it with this signal (SIGTERM: Redis fsyncs the AOF and exits; SIGKILL: a crash) and
  // waits for the exit; start() then brings it back on the same port and directory.
  void stop(int signal);
  void start();

 private:
  // Every dead-letter stream's entries into output_dir(), before the server goes: the
  // suite's last test scans them for credentials (tests/CMakeLists.txt).
  void keep_dead_letters();

  RedisOptions options_;
  unsigned short port_;
  std::string dir_;  // persistent servers only
  std::unique_ptr<Process> process_;
  std::unique_ptr<ctl::RedisSession> session_;
};

struct Effect {
  std::string provider, action, job_id, currency, ref;
  std::string to, text;         // messages: the recipients as the provider split them; Slack's text
  std::string status;           // refunds: pending, succeeded or failed (a pending one's changes as it settles)
  long long amount_minor = -1;  // -1: not a money effect
  long long at_ms = 0;          // when the sandbox performed it (epoch ms)
};

struct HttpAnswer {
  int status = 0;  // 0: no answer
  std::string body;
  std::string error;
  std::vector<std::pair<std::string, std::string>> headers;  // as received, in order

  std::string header(std::string_view name) const;  // case-insensitive; empty when absent
};

HttpAnswer http_call(const std::string& method, const std::string& url, const std::string& body = {},
                     const std::vector<std::pair<std::string, std::string>>& headers = {});

class Sandbox {
 public:
  explicit Sandbox(std::vector<std::string> extra_args = {});
  std::string url() const { return url_; }
  std::vector<Effect> ledger();
  std::map<std::string, long long> count_by_action();
  std::map<std::string, int> per_job(const std::string& action);  // job id → how often `action` happened
  void set_faults(const std::string& json);
  // POST /__<provider>/<action> with `json` (payment state, pending refunds, funds); throws unless 200.
  std::string control(const std::string& provider, const std::string& action, const std::string& json);
  void advance_clock(long long seconds);        // POST /__clock
  long long summary(const std::string& field);  // a number from GET /__ledger/summary

 private:
  std::unique_ptr<Process> process_;
  std::string url_;
};

// Starts rescind-worker against `redis` and `sandbox`; extra flags are appended (a --redis among
// them replaces the default user's URL).
std::unique_ptr<Process> start_worker(const RedisServer& redis, const Sandbox& sandbox,
                                      std::vector<std::string> extra_args = {});
// The arguments start_worker() gives it, for starting it some other way (under a ulimit).
std::vector<std::string> worker_args(const RedisServer& redis, const Sandbox& sandbox,
                                     std::vector<std::string> extra_args = {});

// The flags of a worker configured for real providers (no --sandbox) whose URLs are all
// `base_url`, with the sandbox's credentials: what an operator's configuration looks like.
std::vector<std::string> provider_flags(const std::string& base_url);

// Lag and pending of the group, read from XINFO GROUPS (nullopt if the group does not exist).
struct GroupState {
  long long pending = 0;
  long long lag = 0;  // -1: Redis could not tell (nil)
  long long entries_read = 0;
  std::string last_delivered;
};
std::optional<GroupState> group_state(RedisServer& redis, const std::string& stream = "rescind:jobs",
                                      const std::string& group = "rescind");

// Every job finished: nothing unread, nothing pending, nothing waiting in the retry set, and
// at least `entries_read` entries read. Read in one MULTI/EXEC: read one after the other, a
// job moving between the retry set and the stream could be missed by both reads.
bool queue_settled(RedisServer& redis, long long entries_read = 0);

// Every entry of a stream as field → value maps (with "_id" for the entry id).
std::vector<std::map<std::string, std::string>> stream_entries(RedisServer& redis, const std::string& stream);

// Runs a coroutine to completion on a private io_context (for driving library code in tests).
void run_sync(const std::function<boost::asio::awaitable<void>(boost::asio::any_io_executor)>& body);

// rescindctl with `args`, as the default user of `redis` (on-call's view), reading `input`.
Ran ctl(const RedisServer& redis, std::vector<std::string> args, const std::string& input = {});

// `rescindctl enqueue -` with these NDJSON lines, as an upstream system would.
Ran enqueue(const RedisServer& redis, const std::string& ndjson, bool validate = true);

// The worker's /metrics base URL, from the port its "worker started" log line reports.
std::string metrics_base(Process& worker);

// Sum of the samples of `name` whose label text contains every one of `labels`.
double metric(const std::string& base, const std::string& name, const std::vector<std::string>& labels = {});

std::string job_json(const std::string& id, long long total_minor = 14900, const std::string& currency = "USD");

// The job text with its first `from` replaced by `to` (throws if `from` is absent: a test
// whose edit did not apply would test the sample instead).
std::string replace(std::string json, const std::string& from, const std::string& to);

}  // namespace rescind::testing
