#include "tests/support/stack.hpp"

#include <algorithm>
#include <cctype>
#include <regex>
#include <sstream>

#include <simdjson.h>

#include <unistd.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core/string.hpp>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "clients/http_client.hpp"
#include "common/sandbox_credentials.hpp"
#include "common/time.hpp"
#include "queue/info.hpp"
#include "redis/streams.hpp"

namespace rescind::testing {

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

namespace {
std::string percent_encoded(const std::string& text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += {'%', hex[c >> 4], hex[c & 0xf]};
    }
  }
  return out;
}
}  // namespace

RedisServer::RedisServer(bool persistent) : RedisServer(RedisOptions{persistent, std::nullopt, {}, {}}) {}

RedisServer::RedisServer(RedisOptions options) : options_(std::move(options)), port_(free_port()) {
  if (options_.persistent) {
    char pattern[] = "/tmp/rescind-test-redis-XXXXXX";
    dir_ = mkdtemp(pattern);
  }
  start();
}

std::string RedisServer::url_for(const std::string& user, const std::string& password) const {
  std::string url = options_.tls ? "rediss://" : "redis://";
  if (!user.empty() || !password.empty()) url += percent_encoded(user) + ":" + percent_encoded(password) + "@";
  return url + (options_.tls ? options_.tls->host : std::string("127.0.0.1")) + ":" + std::to_string(port_);
}

std::vector<std::string> RedisServer::client_flags(const std::string& user, const std::string& password) const {
  std::vector<std::string> flags{"--redis", url_for(user, password)};
  if (options_.tls) {
    flags.insert(flags.end(), {"--redis-ca-file", options_.tls->ca});
    if (!options_.tls->client_cert.empty()) {
      flags.insert(flags.end(),
                   {"--redis-tls-cert", options_.tls->client_cert, "--redis-tls-key", options_.tls->client_key});
    }
  }
  return flags;
}

redis::Endpoint RedisServer::endpoint() const {
  redis::Endpoint ep;
  ep.port = std::to_string(port_);
  ep.password = options_.password;
  if (options_.tls) {
    ep.tls = true;
    ep.host = options_.tls->host;
    ep.tls_files = {options_.tls->ca, options_.tls->client_cert, options_.tls->client_key};
  }
  return ep;
}

void RedisServer::start() {
  std::vector<std::string> args{"--bind"};
  args.insert(args.end(), options_.bind.begin(), options_.bind.end());
  args.insert(args.end(), {"--save", "", "--protected-mode", "no"});
  if (options_.tls) {
    const auto& tls = *options_.tls;
    args.insert(args.end(),
                {"--port", "0", "--tls-port", std::to_string(port_), "--tls-cert-file", tls.cert, "--tls-key-file",
                 tls.key, "--tls-ca-cert-file", tls.ca, "--tls-auth-clients", tls.auth_clients});
  } else {
    args.insert(args.end(), {"--port", std::to_string(port_)});
  }
  if (!options_.acl_file.empty()) args.insert(args.end(), {"--aclfile", options_.acl_file});
  if (dir_.empty()) {
    args.insert(args.end(), {"--appendonly", "no"});
  } else {
    args.insert(args.end(), {"--dir", dir_, "--appendonly", "yes", "--appendfsync", "always"});
  }
  process_ = std::make_unique<Process>("redis-server", args);
  bool up = wait_until(
      [&] {
        try {
          session_ = std::make_unique<ctl::RedisSession>(endpoint());
          redis::Request ping;
          ping.push("PING");
          session_->exec(std::move(ping));
          return true;
        } catch (const ctl::OperationalError&) {
          return false;
        }
      },
      std::chrono::seconds(10));
  if (!up) throw std::runtime_error("redis-server did not start: " + process_->stderr_text());
}

RedisServer::~RedisServer() { keep_dead_letters(); }

void RedisServer::keep_dead_letters() {
  if (!session_ || output_dir().empty()) return;
  try {
    std::string text;
    std::string cursor = "0";
    do {
      auto page = command({"SCAN", cursor, "MATCH", "*dlq*", "COUNT", "1000", "TYPE", "stream"});
      if (!page.is_array() || page.elements.size() != 2) break;
      cursor = page.elements[0].text;
      for (const auto& key : page.elements[1].elements) {
        for (auto& entry : redis::entries_from(command({"XRANGE", key.text, "-", "+"}))) {
          text += key.text + " " + entry.id + "\n";
          for (const auto& [field, value] : entry.fields) text += "  " + field + ": " + value + "\n";
        }
      }
    } while (cursor != "0");
    if (text.empty()) return;
    std::string path = output_dir() + "/redis-" + std::to_string(port_) + "-XXXXXX";
    int fd = mkstemp(path.data());
    if (fd < 0) return;
    close(fd);
    std::ofstream(path + ".dlq", std::ios::binary) << text;
    unlink(path.c_str());
  } catch (const std::exception&) {
    // Redis already gone (a test stopped it): whatever was there was kept when it stopped.
  }
}

void RedisServer::stop() {
  keep_dead_letters();
  session_.reset();
  process_.reset();
}

void RedisServer::stop(int signal) {
  keep_dead_letters();
  session_.reset();
  if (process_) {
    process_->signal(signal);
    process_->wait(std::chrono::seconds(10));
  }
  process_.reset();  // still running after 10 s: the destructor escalates to SIGKILL
}

std::vector<redis::Reply> RedisServer::exec(redis::Request request) { return session_->exec(std::move(request)); }

redis::Reply RedisServer::command(const std::vector<std::string>& argv) {
  std::vector<std::string_view> views(argv.begin(), argv.end());
  redis::Request request;
  request.push_argv(views);
  return std::move(exec(std::move(request)).front());
}

std::string HttpAnswer::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (boost::beast::iequals(key, name)) return value;
  }
  return {};
}

HttpAnswer http_call(const std::string& method, const std::string& url, const std::string& body,
                     const std::vector<std::pair<std::string, std::string>>& headers) {
  std::string error;
  auto parsed = clients::parse_url(url, error);
  if (!parsed) throw std::runtime_error(error);
  boost::asio::io_context io;
  clients::HttpOptions options;
  options.max_response_bytes = 512 << 20;  // whole ledgers of big runs
  clients::HttpClient http(io.get_executor(), options);
  clients::HttpRequest request{clients::http::string_to_verb(method), parsed->path.empty() ? "/" : parsed->path, 11};
  for (const auto& [name, value] : headers) request.set(name, value);
  request.body() = body;
  HttpAnswer answer;
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        auto exchange = co_await http.send(parsed->origin, std::move(request));
        answer.error = exchange.error.message();
        if (!exchange.error) {
          answer.status = static_cast<int>(exchange.response.result_int());
          for (const auto& field : exchange.response) {
            answer.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
          }
          answer.body = std::move(exchange.response.body());
        }
      },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  io.run();
  return answer;
}

Sandbox::Sandbox(std::vector<std::string> extra_args) {
  std::vector<std::string> args{"--listen", "127.0.0.1:0"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  process_ = std::make_unique<Process>(RESCIND_SANDBOX_BIN, args);
  auto line = process_->read_line(std::chrono::seconds(10));
  const std::string prefix = "listening on ";
  if (!line || line->rfind(prefix, 0) != 0) {
    throw std::runtime_error("rescind-sandbox did not start: " + process_->stderr_text());
  }
  url_ = "http://" + line->substr(prefix.size());
}

std::vector<Effect> Sandbox::ledger() {
  auto answer = http_call("GET", url_ + "/__ledger");
  if (answer.status != 200) {
    throw std::runtime_error("GET /__ledger answered " + std::to_string(answer.status) + " " + answer.error);
  }
  simdjson::dom::parser parser;
  simdjson::dom::element root = parser.parse(answer.body);
  std::vector<Effect> effects;
  for (simdjson::dom::element item : root["effects"].get_array()) {
    Effect effect;
    effect.provider = std::string(item["provider"].get_string().value());
    effect.action = std::string(item["action"].get_string().value());
    effect.job_id = std::string(item["job_id"].get_string().value());
    effect.ref = std::string(item["ref"].get_string().value_unsafe());
    if (auto amount = item["amount_minor"].get_int64(); !amount.error()) effect.amount_minor = amount.value();
    if (auto currency = item["currency"].get_string(); !currency.error())
      effect.currency = std::string(currency.value());
    if (auto to = item["to"].get_string(); !to.error()) effect.to = std::string(to.value());
    if (auto text = item["text"].get_string(); !text.error()) effect.text = std::string(text.value());
    if (auto status = item["status"].get_string(); !status.error()) effect.status = std::string(status.value());
    if (auto at = item["at"].get_string(); !at.error()) {  // 2026-11-25T11:49:28.643Z
      effect.at_ms = common::parse_rfc3339_ms(at.value()).value_or(0);
    }
    effects.push_back(std::move(effect));
  }
  return effects;
}

std::map<std::string, int> Sandbox::per_job(const std::string& action) {
  std::map<std::string, int> counts;
  for (const auto& effect : ledger()) {
    if (effect.action == action) ++counts[effect.job_id];
  }
  return counts;
}

std::string Sandbox::control(const std::string& provider, const std::string& action, const std::string& json) {
  auto answer = http_call("POST", url_ + "/__" + provider + "/" + action, json);
  if (answer.status != 200) {
    throw std::runtime_error("POST /__" + provider + "/" + action + " answered " + std::to_string(answer.status) + " " +
                             answer.body);
  }
  return answer.body;
}

void Sandbox::advance_clock(long long seconds) {
  auto answer = http_call("POST", url_ + "/__clock", "{\"advance_s\":" + std::to_string(seconds) + "}");
  if (answer.status != 200)
    throw std::runtime_error("POST /__clock answered " + std::to_string(answer.status) + " " + answer.body);
}

std::map<std::string, long long> Sandbox::count_by_action() {
  std::map<std::string, long long> counts;
  for (const auto& effect : ledger()) ++counts[effect.action];
  return counts;
}

long long Sandbox::summary(const std::string& field) {
  auto answer = http_call("GET", url_ + "/__ledger/summary");
  simdjson::dom::parser parser;
  simdjson::dom::element root = parser.parse(answer.body);
  return root[field].get_int64().value();
}

void Sandbox::set_faults(const std::string& json) {
  auto answer = http_call("POST", url_ + "/__faults", json, {{"Content-Type", "application/json"}});
  if (answer.status != 200)
    throw std::runtime_error("POST /__faults answered " + std::to_string(answer.status) + ": " + answer.body);
}

std::unique_ptr<Process> start_worker(const RedisServer& redis, const Sandbox& sandbox,
                                      std::vector<std::string> extra_args) {
  return std::make_unique<Process>(RESCIND_WORKER_BIN, worker_args(redis, sandbox, std::move(extra_args)));
}

std::vector<std::string> worker_args(const RedisServer& redis, const Sandbox& sandbox,
                                     std::vector<std::string> extra_args) {
  std::vector<std::string> args{"--sandbox", sandbox.url(), "--metrics-listen", "127.0.0.1:0", "--block", "100ms"};
  if (std::find(extra_args.begin(), extra_args.end(), "--redis") == extra_args.end()) {
    args.insert(args.end(), {"--redis", redis.url()});
  }
  // A test's own drain timeout replaces the default (the worker takes each flag once).
  if (std::find(extra_args.begin(), extra_args.end(), "--drain-timeout") == extra_args.end()) {
    args.insert(args.end(), {"--drain-timeout", "10s"});
  }
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  return args;
}

std::vector<std::string> provider_flags(const std::string& base_url) {
  namespace creds = sandbox_credentials;
  return {"--stripe-url",         base_url,
          "--stripe-api-key",     std::string(creds::stripe_api_key),
          "--sendgrid-url",       base_url,
          "--sendgrid-api-key",   std::string(creds::sendgrid_api_key),
          "--email-from",         std::string(creds::sendgrid_from),
          "--twilio-url",         base_url,
          "--twilio-account-sid", std::string(creds::twilio_account_sid),
          "--twilio-auth-token",  std::string(creds::twilio_auth_token),
          "--twilio-from",        std::string(creds::twilio_from),
          "--slack-webhook-url",  base_url + std::string(creds::slack_webhook_path)};
}

namespace {
std::optional<GroupState> group_from(const redis::Reply& reply, const std::string& group) {
  auto info = queue::group_named(reply, group);
  if (!info) return std::nullopt;
  return GroupState{info->pending, info->lag.value_or(-1), info->entries_read.value_or(0), info->last_delivered_id};
}
}  // namespace

std::optional<GroupState> group_state(RedisServer& redis, const std::string& stream, const std::string& group) {
  return group_from(redis.command({"XINFO", "GROUPS", stream}), group);
}

bool queue_settled(RedisServer& redis, long long entries_read) {
  redis::Request atomically;
  atomically.push("MULTI");
  atomically.push("XINFO", "GROUPS", "rescind:jobs");
  atomically.push("ZCARD", "rescind:retry");
  atomically.push("XINFO", "STREAM", "rescind:jobs");
  atomically.push("EXEC");
  auto replies = redis.exec(std::move(atomically));
  const auto& results = replies.back();
  if (!results.is_array() || results.elements.size() != 3) return false;
  auto state = group_from(results.elements[0], "rescind");
  if (!state || state->entries_read < entries_read || state->pending != 0 || results.elements[1].integer != 0)
    return false;
  if (state->lag == 0) return true;
  // Redis cannot always count the lag (nil after some AOF replays and trims): then nothing is
  // unread when the group has delivered the stream's last entry.
  auto stream = queue::stream_info_from(results.elements[2]);
  return state->lag < 0 && stream && stream->last_generated_id == state->last_delivered;
}

std::vector<std::map<std::string, std::string>> stream_entries(RedisServer& redis, const std::string& stream) {
  std::vector<std::map<std::string, std::string>> out;
  auto reply = redis.command({"XRANGE", stream, "-", "+"});
  for (auto& entry : redis::entries_from(std::move(reply))) {
    std::map<std::string, std::string> fields(entry.fields.begin(), entry.fields.end());
    fields["_id"] = entry.id;
    out.push_back(std::move(fields));
  }
  return out;
}

void run_sync(const std::function<boost::asio::awaitable<void>(boost::asio::any_io_executor)>& body) {
  boost::asio::io_context io;
  bool done = false;
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        co_await body(io.get_executor());
        done = true;
      },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  while (!done && io.run_one()) {
  }
}

Ran enqueue(const RedisServer& redis, const std::string& ndjson, bool validate) {
  std::vector<std::string> args{"--redis", redis.url(), "enqueue"};
  if (!validate) args.push_back("--no-validate");
  args.push_back("-");
  return run_command(RESCIND_CTL_BIN, args, ndjson);
}

std::string metrics_base(Process& worker) {
  using namespace std::chrono_literals;
  std::smatch match;
  std::string log;
  wait_until(
      [&] {
        log = worker.stderr_text();
        return std::regex_search(log, match, std::regex(R"("metrics_port":(\d+))"));
      },
      10s);
  if (match.empty()) throw std::runtime_error("worker did not report its metrics port: " + log);
  return "http://127.0.0.1:" + match[1].str();
}

double metric(const std::string& base, const std::string& name, const std::vector<std::string>& labels) {
  auto text = http_call("GET", base + "/metrics").body;
  std::istringstream lines(text);
  std::string line;
  double sum = 0;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto space = line.rfind(' ');
    auto series = line.substr(0, space);
    if (series.compare(0, name.size(), name) != 0 || (series.size() > name.size() && series[name.size()] != '{'))
      continue;
    bool all = true;
    for (const auto& label : labels) all = all && series.find(label) != std::string::npos;
    if (all) sum += std::stod(line.substr(space + 1));
  }
  return sum;
}

Ran ctl(const RedisServer& redis, std::vector<std::string> args, const std::string& input) {
  args.insert(args.begin(), {"--redis", redis.url()});
  return run_command(RESCIND_CTL_BIN, args, input);
}

std::string job_json(const std::string& id, long long total_minor, const std::string& currency) {
  return R"({"v":1,"id":")" + id +
         R"(","kind":"order.canceled","occurred_at":"2026-11-22T16:00:00Z",)"
         R"("shop":{"platform":"shopify","domain":"acme-crafts.myshopify.com"},)"
         R"("order":{"id":"450789469","name":"#1001","currency":")" +
         currency + R"(","total_minor":)" + std::to_string(total_minor) +
         R"(,"financial_status":"paid","fulfillment_status":"unfulfilled","line_items":[{"sku":"ACR-RED-500","quantity":2,"location_id":"655441491"}]},)"
         R"("customer":{"email":"ana@example.com","phone":"+15555550100","name":"Ana"},)"
         R"("payment":{"provider":"stripe","reference":"pi_3MtwBwLkdIwHu7ix28a3tqPa"},)"
         R"("reason":"customer","notify":["email","sms","staff"]})";
}

std::string replace(std::string json, const std::string& from, const std::string& to) {
  auto at = json.find(from);
  if (at == std::string::npos) throw std::logic_error("no '" + from + "' in job");
  return json.replace(at, from.size(), to);
}

}  // namespace rescind::testing
