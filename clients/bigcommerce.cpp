#include "clients/bigcommerce.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cmath>

#include "clients/encoding.hpp"
#include "clients/provider.hpp"
#include "clients/provider_call.hpp"
#include "common/async.hpp"
#include "common/bigcommerce_credentials.hpp"
#include "common/json_text.hpp"
#include "common/log.hpp"
#include "common/text.hpp"
#include "jobs/money.hpp"

namespace rescind::clients {

namespace {

constexpr int cancelled = 5;  // BigCommerce's status_id for Cancelled
// A window is 30 s at BigCommerce; a wait longer than that is not one to spend inside a step.
constexpr auto longest_wait = std::chrono::seconds(30);

std::optional<long long> header_number(const HttpResponse& response, std::string_view name) {
  auto it = response.find(name);
  if (it == response.end()) return std::nullopt;
  std::string_view text = it->value();
  if (text.empty() || text.size() > 12) return std::nullopt;
  long long value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

std::int64_t minor_of(double amount, int exponent) {
  return static_cast<std::int64_t>(std::llround(amount * std::pow(10.0, exponent)));
}

bool digits(std::string_view text) {
  return !text.empty() && text.size() <= 18 &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string title_of(std::string_view body) {
  auto title = json_string_at(body, "/title");
  if (!title) title = json_string_at(body, "/0/message");  // v2's [{"status":…,"message":…}]
  return title ? std::string(common::utf8_prefix(common::log::redact(*title), 300)) : std::string();
}

}  // namespace

BigCommerceQuota BigCommerceOrders::read_quota(const HttpResponse& response) {
  return {header_number(response, "X-Rate-Limit-Requests-Left"), header_number(response, "X-Rate-Limit-Time-Reset-Ms"),
          header_number(response, "X-Rate-Limit-Requests-Quota"),
          header_number(response, "X-Rate-Limit-Time-Window-Ms")};
}

Outcome BigCommerceOrders::classify(const Exchange& exchange) {
  auto outcome = outcome_from(exchange);
  if (exchange.error || outcome.ok()) return outcome;
  const auto& body = exchange.response.body();
  outcome.code = "http_" + std::to_string(outcome.status);
  if (auto title = title_of(body); !title.empty()) outcome.message = "BigCommerce: " + title;
  if (outcome.status == 429) {
    auto quota = read_quota(exchange.response);
    outcome.kind = Outcome::Kind::rate_limited;
    outcome.code = "rate_limited";
    // The store's window says when it has requests again; without it, a second.
    outcome.retry_after = std::chrono::milliseconds(std::min<long long>(quota.reset_ms.value_or(1000), 3'600'000));
  } else if (outcome.status == 423) {
    outcome.kind = Outcome::Kind::retryable;  // locked: the order is being changed elsewhere
  }
  return outcome;
}

Outcome BigCommerceOrders::interpret_cancel(const Exchange& exchange) {
  auto outcome = classify(exchange);
  if (!outcome.ok()) {
    if (outcome.status == 404) outcome.code = "order_not_found";
    return outcome;
  }
  simdjson::dom::parser parser;
  simdjson::dom::element order;
  std::int64_t status = 0, id = 0;
  if (parser.parse(exchange.response.body()).get(order) || order["status_id"].get(status) || order["id"].get(id)) {
    return Outcome::retryable(outcome.status, "unexpected_answer", "BigCommerce answered the cancel without an order");
  }
  if (status != cancelled) {
    return Outcome::retryable(outcome.status, "not_cancelled",
                              "BigCommerce answered the cancel with status_id " + std::to_string(status));
  }
  outcome.reference = std::to_string(id);
  return outcome;
}

RefundsRead BigCommerceOrders::interpret_refunds(const Exchange& exchange, std::string_view marker, int exponent) {
  RefundsRead read;
  read.outcome = classify(exchange);
  if (!read.outcome.ok()) return read;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  simdjson::dom::array data;
  if (parser.parse(exchange.response.body()).get(doc) || doc["data"].get(data)) {
    read.outcome =
        Outcome::retryable(read.outcome.status, "unexpected_answer", "BigCommerce's refunds answer has no data array");
    return read;
  }
  for (auto refund : data) {
    double amount = 0;
    if (!refund["total_amount"].get(amount)) read.refunded_minor += minor_of(amount, exponent);
    std::string_view reason;
    bool ours = !refund["reason"].get(reason) && reason == marker;
    simdjson::dom::array items;
    if (!ours && !refund["items"].get(items)) {
      for (auto item : items) ours = ours || (!item["reason"].get(reason) && reason == marker);
    }
    std::int64_t id = 0;
    if (ours && read.job_refund.empty() && !refund["id"].get(id)) read.job_refund = std::to_string(id);
  }
  return read;
}

RefundQuote BigCommerceOrders::interpret_quote(const Exchange& exchange, int exponent) {
  RefundQuote quote;
  quote.outcome = classify(exchange);
  if (!quote.outcome.ok()) {
    // 422: the quote refuses the refund (more than is left to refund): asking again changes nothing.
    if (quote.outcome.status == 422) quote.outcome.code = "refund_refused";
    return quote;
  }
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  double total = 0;
  simdjson::dom::array methods;
  if (parser.parse(exchange.response.body()).get(doc) || doc["data"]["total_refund_amount"].get(total) ||
      doc["data"]["refund_methods"].get(methods)) {
    quote.outcome = Outcome::retryable(quote.outcome.status, "unexpected_answer",
                                       "BigCommerce's refund quote has no total_refund_amount or refund_methods");
    return quote;
  }
  quote.refundable_minor = minor_of(total, exponent);
  for (auto method : methods) {
    simdjson::dom::array options;
    if (method.get(options)) continue;
    std::vector<std::pair<std::string, double>> payments;
    bool online = true;
    for (auto option : options) {
      std::string_view provider;
      double amount = 0;
      bool offline = true;
      if (option["provider_id"].get(provider) || option["amount"].get(amount) || option["offline"].get(offline)) {
        online = false;
        break;
      }
      online = online && !offline && provider != "storecredit";
      payments.emplace_back(std::string(provider), amount);
    }
    if (online && !payments.empty()) {
      quote.payments = std::move(payments);
      break;
    }
  }
  return quote;
}

Outcome BigCommerceOrders::interpret_refund(const Exchange& exchange) {
  auto outcome = classify(exchange);
  if (!outcome.ok()) {
    if (outcome.status == 422) outcome.code = "refund_refused";
    // 409: another refund on the order is being processed (they run one at a time).
    if (outcome.status == 409) outcome.code = "refund_in_progress";
    return outcome;
  }
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::int64_t id = 0;
  if (parser.parse(exchange.response.body()).get(doc) || doc["data"]["id"].get(id)) {
    // Accepted, but unreadable: the refund may exist; the next attempt reads the refunds first.
    return Outcome::retryable(outcome.status, "unreadable_answer", "BigCommerce accepted the refund without an id");
  }
  outcome.reference = std::to_string(id);
  return outcome;
}

std::string BigCommerceOrders::hash_of_domain(std::string_view domain) {
  constexpr std::string_view prefix = "store-", suffix = ".mybigcommerce.com";
  if (!domain.starts_with(prefix) || !domain.ends_with(suffix)) return {};
  auto hash = domain.substr(prefix.size(), domain.size() - prefix.size() - suffix.size());
  bool word = !hash.empty() && hash.size() <= 32 && std::all_of(hash.begin(), hash.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  });
  return word ? std::string(hash) : std::string();
}

std::optional<BigCommerceOrders::Store> BigCommerceOrders::store_for(const jobs::Job& job) const {
  const auto& domain = job.shop.domain;
  auto token = settings_.tokens.find(domain);
  auto hash = settings_.store_hashes.find(domain);
  if (token != settings_.tokens.end() && hash != settings_.store_hashes.end())
    return Store{hash->second, token->second};
  if (settings_.sandbox_token.empty()) return std::nullopt;
  auto own = hash_of_domain(domain);
  return Store{own.empty() ? std::string(sandbox_credentials::bigcommerce_store_hash) : own, settings_.sandbox_token};
}

asio::awaitable<Exchange> BigCommerceOrders::send(const Store& store, HttpRequest request) {
  if (auto it = windows_.find(store.hash); it != windows_.end() && it->second.left <= 0) {
    auto now = std::chrono::steady_clock::now();
    if (now < it->second.reset_at)
      co_await common::sleep_for(
          std::min<std::chrono::steady_clock::duration>(it->second.reset_at - now, longest_wait));
  }
  request.set("X-Auth-Token", store.token);
  request.set(http::field::accept, "application/json");
  auto exchange = co_await http_.send(settings_.api.origin, std::move(request));
  if (!exchange.error) {
    auto quota = read_quota(exchange.response);
    auto& window = windows_[store.hash];
    if (exchange.response.result_int() == 429) {
      window.left = 0;
    } else if (quota.left) {
      window.left = *quota.left;
    }
    if (quota.reset_ms) window.reset_at = std::chrono::steady_clock::now() + std::chrono::milliseconds(*quota.reset_ms);
  }
  co_return exchange;
}

std::optional<std::chrono::milliseconds> BigCommerceOrders::slow_down(const Store& store) const {
  auto it = windows_.find(store.hash);
  if (it == windows_.end() || it->second.left > 0) return std::nullopt;
  auto now = std::chrono::steady_clock::now();
  if (now >= it->second.reset_at) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::milliseconds>(it->second.reset_at - now) +
         std::chrono::milliseconds(1);
}

asio::awaitable<Outcome> BigCommerceOrders::cancel(const jobs::Job& job, const jobs::Plan& plan) {
  auto store = store_for(job);
  if (!store) co_return Outcome::permanent(0, "not_configured", "no BigCommerce store for shop " + job.shop.domain);
  if (!digits(job.order.id)) co_return Outcome::permanent(0, "bad_order_id", "a BigCommerce order id is a number");
  auto request =
      make_post(settings_.api, "/stores/" + path_segment(store->hash) + "/v2/orders/" + path_segment(job.order.id),
                job.id, "application/json");
  request.method(http::verb::put);
  request.body() = R"({"status_id":5})";
  auto outcome = interpret_cancel(co_await send(*store, std::move(request)));
  outcome.slow_down = slow_down(*store);
  // The platform holds the payment: the cancel step is also the refund (the plan has no other).
  if (!outcome.ok() || !plan.refund_by_platform) co_return outcome;
  co_return co_await refund(job);
}

asio::awaitable<Outcome> BigCommerceOrders::refund(const jobs::Job& job) {
  auto store = store_for(job);
  if (!store) co_return Outcome::permanent(0, "not_configured", "no BigCommerce store for shop " + job.shop.domain);
  if (!digits(job.order.id)) co_return Outcome::permanent(0, "bad_order_id", "a BigCommerce order id is a number");
  // One refund per order at a time (BigCommerce refuses concurrent ones): a second job for
  // the order waits its turn, or comes back later.
  auto key = store->hash + "/" + job.order.id;
  for (int wait = 0; refunding_.contains(key); ++wait) {
    if (wait == 100) co_return Outcome::rate_limited("order_busy", "another refund on the order is in flight", {});
    co_await common::sleep_for(std::chrono::milliseconds(50));
  }
  refunding_.insert(key);
  struct Release {
    std::set<std::string>& set;
    std::string key;
    ~Release() { set.erase(key); }
  } release{refunding_, key};
  auto outcome = co_await refund_once(*store, job);
  if (!outcome.slow_down) outcome.slow_down = slow_down(*store);
  co_return outcome;
}

asio::awaitable<RefundState> BigCommerceOrders::find_refund(const jobs::Job& job) {
  auto store = store_for(job);
  auto exponent = jobs::currency_exponent(job.order.currency);
  if (!store || !digits(job.order.id) || !exponent) {
    co_return RefundState{RefundState::Kind::unknown, {}, "no BigCommerce store or order to ask", {}};
  }
  auto target =
      "/stores/" + path_segment(store->hash) + "/v3/orders/" + path_segment(job.order.id) + "/payment_actions/refunds";
  auto read = interpret_refunds(co_await send(*store, make_get(settings_.api, target, job.id)), marker(job), *exponent);
  if (!read.outcome.ok()) co_return lookup_failed(read.outcome, "BigCommerce's refunds of the order");
  // BigCommerce's refunds are made or refused when answered: none is left pending.
  if (read.job_refund.empty()) co_return RefundState{RefundState::Kind::none, {}, {}, {}};
  co_return RefundState{RefundState::Kind::succeeded, read.job_refund, {}, {}};
}

asio::awaitable<Outcome> BigCommerceOrders::refund_once(const Store& store, const jobs::Job& job) {
  auto exponent = jobs::currency_exponent(job.order.currency);
  if (!exponent) co_return Outcome::permanent(0, "bad_currency", "unknown currency " + job.order.currency);
  const auto base =
      "/stores/" + path_segment(store.hash) + "/v3/orders/" + path_segment(job.order.id) + "/payment_actions/";
  const auto mark = marker(job);

  // Look up before create, on every attempt: an earlier attempt's refund whose answer was
  // lost, or whose step record a crash prevented, carries the marker.
  auto read =
      interpret_refunds(co_await send(store, make_get(settings_.api, base + "refunds", job.id)), mark, *exponent);
  if (!read.outcome.ok()) co_return read.outcome;
  if (!read.job_refund.empty()) {
    auto done = Outcome::success(read.job_refund);
    done.code = "already_refunded";
    co_return done;
  }

  auto amount = jobs::format_minor(job.refund.amount_minor, *exponent);
  auto items = [&](bool with_reason) {
    common::JsonWriter json;
    json.begin_array().begin_object().field("item_type", "ORDER").key("item_id").raw(job.order.id);
    json.key("amount").raw(amount);
    if (with_reason) json.field("reason", mark);
    return json.end_object().end_array().take();
  };
  auto quote_request = make_post(settings_.api, base + "refund_quotes", job.id, "application/json");
  quote_request.body() = R"({"items":)" + items(false) + "}";
  auto quote = interpret_quote(co_await send(store, std::move(quote_request)), *exponent);
  if (!quote.outcome.ok()) co_return quote.outcome;
  if (quote.refundable_minor < job.refund.amount_minor) {
    // More than the order has left to refund: a person must look (another refund came first).
    co_return Outcome::permanent(200, "over_refund",
                                 "BigCommerce can refund " + jobs::format_minor(quote.refundable_minor, *exponent) +
                                     " " + job.order.currency + " of order " + job.order.id + ", not " + amount);
  }
  if (quote.payments.empty()) {
    co_return Outcome::permanent(
        200, "no_online_refund_method",
        "BigCommerce offers no online refund method for order " + job.order.id + ": refund it in the control panel");
  }
  common::JsonWriter payments;
  payments.begin_array();
  for (const auto& [provider, paid] : quote.payments) {
    payments.begin_object().field("provider_id", provider);
    payments.key("amount").raw(jobs::format_minor(minor_of(paid, *exponent), *exponent));
    payments.field("offline", false).end_object();
  }
  auto refund_request = make_post(settings_.api, base + "refunds", job.id, "application/json");
  refund_request.body() = R"({"items":)" + items(true) + R"(,"payments":)" + payments.end_array().take() + "}";
  co_return interpret_refund(co_await send(store, std::move(refund_request)));
}

// The component.
namespace {

class BigCommerceProvider final : public Provider, public RefundLookups {
 public:
  BigCommerceProvider(HttpClient& http, const BigCommerceSettings& settings) : orders_(http, settings) {}
  std::string_view name() const override { return "bigcommerce"; }
  // The quota is per store.
  std::string_view account(jobs::Role, const jobs::Job& job) const override { return job.shop.domain; }
  asio::awaitable<Outcome> perform(const StepCall& step, const jobs::Job& job) override {
    if (step.role == jobs::Role::refund) co_return co_await orders_.refund(job);
    co_return co_await orders_.cancel(job, step.plan);
  }
  RefundLookups* refunds() override { return this; }
  asio::awaitable<RefundState> find_refund(const jobs::Job& job) override {
    co_return co_await orders_.find_refund(job);
  }
  asio::awaitable<RefundState> refund_status(const jobs::Job& job, std::string_view reference) override {
    // Nothing is pending at BigCommerce (see find_refund): the refund asked about is made.
    (void)job;
    co_return RefundState{RefundState::Kind::succeeded, std::string(reference), {}, {}};
  }

 private:
  BigCommerceOrders orders_;
};

class BigCommerceSpec final : public ProviderSpec {
 public:
  std::string_view name() const override { return "bigcommerce"; }
  std::vector<jobs::Role> roles() const override {
    return {jobs::Role::cancel, jobs::Role::restock, jobs::Role::refund};
  }
  std::string_view group() const override { return "BigCommerce (cancel, restock by the store's settings, refund)"; }
  void add_options(OptionSet& options) override {
    options.setting("--bigcommerce-url", url_, "BigCommerce API base URL", "RESCIND_BIGCOMMERCE_URL", true);
    options.secrets("--bigcommerce-token-for", tokens_, "Per shop, repeatable: DOMAIN=ACCESS_TOKEN",
                    "BIGCOMMERCE_TOKENS");
    options.setting("--bigcommerce-stores", stores_, "The shops' stores, ';'-separated: DOMAIN=STORE_HASH;…",
                    "RESCIND_BIGCOMMERCE_STORES");
  }
  std::vector<std::string> real_credentials() const override {
    if (tokens_.empty()) return {};
    return {"BIGCOMMERCE_TOKENS"};
  }
  void finish(const Setup& setup) override {
    if (!setup.sandbox.empty()) {
      url_ = setup.sandbox;
      // Every shop's token under the sandbox: its one test token.
      tokens_ = {"*=" + std::string(sandbox_credentials::bigcommerce_access_token)};
      settings_.sandbox_token = sandbox_credentials::bigcommerce_access_token;
    }
    for (const auto& item : tokens_) {
      auto [shop, token] = per_shop_item(item, "--bigcommerce-token-for");
      settings_.tokens[shop] = token;
      common::log::register_secret(token);
    }
    std::string_view rest = stores_;
    while (!rest.empty()) {
      auto end = rest.find(';');
      auto item = std::string(rest.substr(0, end));
      rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
      if (item.empty()) continue;
      auto [shop, hash] = per_shop_item(item, "--bigcommerce-stores");
      if (BigCommerceOrders::hash_of_domain("store-" + hash + ".mybigcommerce.com").empty())
        throw OptionError("--bigcommerce-stores " + shop + ": a store hash is lowercase letters and digits");
      settings_.store_hashes[shop] = hash;
    }
    for (const auto& [shop, token] : settings_.tokens) {
      if (shop != "*" && !settings_.store_hashes.contains(shop))
        throw OptionError("--bigcommerce-token-for " + shop + ": no store hash for it in --bigcommerce-stores");
    }
    settings_.api = option_url(url_, "--bigcommerce-url", setup);
  }
  std::unique_ptr<Provider> make(const Wiring& wiring) const override {
    return std::make_unique<BigCommerceProvider>(wiring.http, settings_);
  }

 private:
  BigCommerceSettings settings_;
  std::vector<std::string> tokens_;
  std::string stores_;
  std::string url_ = "https://api.bigcommerce.com";
};

}  // namespace

std::unique_ptr<ProviderSpec> bigcommerce_spec(SharedOptions&) { return std::make_unique<BigCommerceSpec>(); }

}  // namespace rescind::clients
