#include "clients/woocommerce.hpp"

#include <simdjson.h>

#include <algorithm>

#include "clients/encoding.hpp"
#include "clients/provider.hpp"
#include "clients/provider_call.hpp"
#include "common/json_text.hpp"
#include "common/log.hpp"
#include "common/woocommerce_credentials.hpp"
#include "jobs/money.hpp"

namespace rescind::clients {

namespace {

constexpr std::string_view api = "/wp-json/wc/v3/orders/";
constexpr std::string_view marker_key = "rescind_job_id";
// WP REST's refusal of a refund wc_create_refund did not make: an amount over what is left
// to refund, or the gateway's own refusal (WCS refunds controller). The only code that is
// judged by the order's state rather than by its status.
constexpr std::string_view refund_refused = "woocommerce_rest_cannot_create_order_refund";
// What the worker asks for per page of refunds (WP REST's most) and how many pages it reads:
// an order with more than 1,000 refunds is not one it can judge.
constexpr int per_page = 100;
constexpr int most_pages = 10;

std::string job_marker(const jobs::Job& job) { return " (rescind job " + job.id + ")"; }

bool digits_only(std::string_view text) {
  return !text.empty() && text.size() <= 19 &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// An id WooCommerce answers as a JSON number (it may be a numeric string elsewhere).
std::string id_text(simdjson::dom::element value) {
  std::int64_t number = 0;
  if (!value.get_int64().get(number)) return std::to_string(number);
  std::string_view text;
  if (!value.get_string().get(text)) return std::string(text);
  return {};
}

// A 2xx answer that is not what the call asks for (a caching proxy's page, a plugin's HTML):
// nothing may be concluded; another attempt asks again.
Outcome unreadable(const Exchange& exchange, std::string what) {
  return Outcome::retryable(static_cast<int>(exchange.response.result_int()), "unexpected_answer",
                            "WooCommerce's answer is not " + std::move(what));
}

}  // namespace

std::optional<std::int64_t> WooCommerceOrders::minor_of(std::string_view decimal, int exponent) {
  // WooCommerce writes a refund's amount negative in some places ("-10.00").
  bool negative = !decimal.empty() && decimal.front() == '-';
  if (negative) decimal.remove_prefix(1);
  auto minor = jobs::decimal_minor(decimal, exponent);
  if (minor && negative) *minor = -*minor;
  return minor;
}

Outcome WooCommerceOrders::interpret(const Exchange& exchange) {
  auto outcome = outcome_from(exchange);
  if (exchange.error || outcome.ok()) return outcome;
  const auto& body = exchange.response.body();
  // WP REST's error shape; a host's or proxy's page (HTML, plain text) has none and keeps
  // the status's classification.
  if (auto code = json_string_at(body, "/code")) {
    outcome.code = *code;
    if (auto message = json_string_at(body, "/message")) {
      outcome.message = common::log::redact(*message);
    }
  }
  // HTTP 500 is "try again" for anything but this one: retried, an over-refund would be
  // refused forever, and a gateway's refusal repeated at the gateway.
  if (outcome.code == refund_refused) outcome.kind = Outcome::Kind::permanent;
  return outcome;
}

WooOrder WooCommerceOrders::interpret_order(const Exchange& exchange) {
  WooOrder order;
  order.outcome = interpret(exchange);
  if (!order.outcome.ok()) return order;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  std::string_view status, currency, total;
  if (parser.parse(exchange.response.body()).get(root) || root["status"].get_string().get(status) ||
      root["currency"].get_string().get(currency) || root["total"].get_string().get(total)) {
    order.outcome = unreadable(exchange, "an order");
    return order;
  }
  order.status = std::string(status);
  order.currency = std::string(currency);
  auto exponent = jobs::currency_exponent(currency);
  if (!exponent) {
    order.outcome =
        Outcome::permanent(200, "unknown_currency",
                           "the order's currency '" + order.currency + "' is not an ISO 4217 code the worker knows");
    return order;
  }
  order.total_minor = minor_of(total, *exponent);
  simdjson::dom::array refunds;
  if (!root["refunds"].get_array().get(refunds)) {
    for (auto refund : refunds) {
      std::string_view amount;
      std::optional<std::int64_t> minor;
      // The order lists each refund's total as a negative decimal ("-10.00").
      if (!refund["total"].get_string().get(amount)) minor = minor_of(amount, *exponent);
      if (!minor) {
        order.outcome = unreadable(exchange, "an order with readable refunds");
        return order;
      }
      order.refunded_minor += *minor < 0 ? -*minor : *minor;
    }
  }
  if (!order.total_minor) order.outcome = unreadable(exchange, "an order with a readable total");
  return order;
}

WooRefunds WooCommerceOrders::interpret_refunds(const Exchange& exchange, std::string_view job_id) {
  WooRefunds refunds;
  refunds.outcome = interpret(exchange);
  if (!refunds.outcome.ok()) return refunds;
  simdjson::dom::parser parser;
  simdjson::dom::array list;
  if (parser.parse(exchange.response.body()).get_array().get(list)) {
    refunds.outcome = unreadable(exchange, "a list of refunds");
    return refunds;
  }
  if (auto it = exchange.response.find("X-WP-TotalPages"); it != exchange.response.end()) {
    int pages = 0;
    for (char c : std::string_view(it->value())) {
      if (c < '0' || c > '9' || pages > 100'000) break;
      pages = pages * 10 + (c - '0');
    }
    refunds.total_pages = std::max(pages, 1);
  }
  std::string reason_marker = " (rescind job " + std::string(job_id) + ")";
  for (auto refund : list) {
    bool mine = false;
    simdjson::dom::array meta;
    if (!refund["meta_data"].get_array().get(meta)) {
      for (auto entry : meta) {
        std::string_view key, value;
        if (!entry["key"].get_string().get(key) && key == marker_key && !entry["value"].get_string().get(value) &&
            value == job_id)
          mine = true;
      }
    }
    // The reason too: a site whose plugins strip unknown meta still keeps the reason.
    std::string_view reason;
    if (!mine && !refund["reason"].get_string().get(reason)) mine = reason.ends_with(reason_marker);
    if (mine) {
      refunds.found = id_text(refund["id"]);
      if (refunds.found.empty()) refunds.found = "unknown";
      return refunds;
    }
  }
  return refunds;
}

Outcome WooCommerceOrders::interpret_refund_created(const Exchange& exchange) {
  auto outcome = interpret(exchange);
  if (!outcome.ok()) return outcome;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(exchange.response.body()).get(root)) return unreadable(exchange, "a refund");
  auto id = root["id"];
  outcome.reference = id.error() ? std::string() : id_text(id.value_unsafe());
  if (outcome.reference.empty()) return unreadable(exchange, "a refund with an id");
  return outcome;
}

Outcome WooCommerceOrders::judge_refused_refund(const jobs::Job& job, const WooOrder& order, Outcome refused) {
  if (!order.outcome.ok()) {
    // The refusal cannot be judged without the order: ask again later (the next attempt
    // looks for the job's refund first, so nothing is refunded twice).
    refused.kind =
        order.outcome.kind == Outcome::Kind::rate_limited ? Outcome::Kind::rate_limited : Outcome::Kind::retryable;
    refused.retry_after = order.outcome.retry_after;
    refused.message += " (and reading the order failed: " + order.outcome.message + ")";
    return refused;
  }
  if (order.total_minor && *order.total_minor > 0 && order.refunded_minor >= *order.total_minor) {
    // Refunded in full by someone else (the merchant in the admin, another system): the
    // customer has the money.
    auto done = Outcome::success("");
    done.code = "already_refunded";
    return done;
  }
  const auto& currency = job.order.currency;
  refused.message = "WooCommerce refused to refund " + jobs::format_minor(job.refund.amount_minor, currency) + " " +
                    currency + " of order " + job.order.id + " (" + refused.message + "); " +
                    jobs::format_minor(order.refunded_minor, currency) + " of " +
                    jobs::format_minor(order.total_minor.value_or(0), currency) +
                    " is refunded already: refund the rest by hand if that is due, then replay the job";
  return refused;
}

std::string WooCommerceOrders::reason_for(const jobs::Job& job) { return job.refund.reason + job_marker(job); }

std::string WooCommerceOrders::refund_body(const jobs::Job& job, bool record_only) {
  common::JsonWriter json;
  json.begin_object().field("amount", jobs::format_minor(job.refund.amount_minor, job.order.currency));
  json.field("reason", reason_for(job)).field("api_refund", !record_only).field("api_restock", false);
  json.key("meta_data").begin_array().begin_object().field("key", marker_key).field("value", job.id).end_object();
  return json.end_array().end_object().take();
}

std::optional<WooCommerceOrders::Target> WooCommerceOrders::target(const jobs::Job& job, Outcome& refused) const {
  Target to;
  if (auto it = settings_.shops.find(job.shop.domain); it != settings_.shops.end()) {
    to.shop = it->second;
  } else if (settings_.any_shop) {
    to.shop = *settings_.any_shop;
    to.shop.site.path += "/sites/" + path_segment(job.shop.domain);
  } else {
    // Keys go only to the site configured for the shop: a job cannot send them elsewhere.
    refused = Outcome::permanent(
        0, "not_configured",
        "no WooCommerce keys for shop " + job.shop.domain + " (--woocommerce-key-for and --woocommerce-secret-for)");
    return std::nullopt;
  }
  if (!digits_only(job.order.id)) {
    refused = Outcome::permanent(
        0, "invalid_order_id",
        "a WooCommerce order id is a number, not '" + common::log::redact(job.order.id.substr(0, 40)) + "'");
    return std::nullopt;
  }
  to.orders = std::string(api) + path_segment(job.order.id);
  return to;
}

asio::awaitable<Exchange> WooCommerceOrders::call(const Target& to, const jobs::Job& job, http::verb verb,
                                                  std::string path, std::string body, Resend resend) {
  HttpRequest request = verb == http::verb::get ? make_get(to.shop.site, path, job.id)
                                                : make_post(to.shop.site, path, job.id, "application/json");
  request.method(verb);
  request.set(http::field::authorization, basic_auth(to.shop.consumer_key, to.shop.consumer_secret));
  request.body() = std::move(body);
  co_return co_await http_.send(to.shop.site.origin, std::move(request), resend);
}

asio::awaitable<WooOrder> WooCommerceOrders::order(const Target& to, const jobs::Job& job) {
  co_return interpret_order(co_await call(to, job, http::verb::get, to.orders));
}

asio::awaitable<WooRefunds> WooCommerceOrders::job_refund(const Target& to, const jobs::Job& job) {
  WooRefunds refunds;
  for (int page = 1; page <= most_pages; ++page) {
    auto path = to.orders + "/refunds?per_page=" + std::to_string(per_page) + "&page=" + std::to_string(page);
    refunds = interpret_refunds(co_await call(to, job, http::verb::get, std::move(path)), job.id);
    if (!refunds.outcome.ok() || !refunds.found.empty() || page >= refunds.total_pages) co_return refunds;
  }
  refunds.outcome = Outcome::permanent(200, "too_many_refunds",
                                       "order " + job.order.id + " has more refunds than the worker reads (" +
                                           std::to_string(per_page * most_pages) + "): check it by hand");
  co_return refunds;
}

asio::awaitable<Outcome> WooCommerceOrders::cancel(const jobs::Job& job) {
  Outcome refused;
  auto to = target(job, refused);
  if (!to) co_return refused;
  auto state = co_await order(*to, job);
  if (!state.outcome.ok()) co_return state.outcome;
  Outcome cancelled = Outcome::success(job.order.id);
  // Cancelled already (by hand, or by an attempt whose answer was lost), or refunded in full,
  // which WooCommerce marks "refunded" and takes out of fulfilment: either way not shipped.
  if (state.status == "cancelled" || state.status == "refunded") {
    cancelled.code = state.status == "cancelled" ? "already_canceled" : "already_refunded";
  } else {
    auto answer = interpret(co_await call(*to, job, http::verb::put, to->orders, R"({"status":"cancelled"})"));
    if (!answer.ok()) co_return answer;
  }
  // The cancel leaves the money (cancel_refunds() is false): the refund is a step of its own.
  co_return cancelled;
}

asio::awaitable<Outcome> WooCommerceOrders::refund(const jobs::Job& job) {
  Outcome refused;
  auto to = target(job, refused);
  if (!to) co_return refused;
  co_return co_await refund_at(*to, job);
}

asio::awaitable<Outcome> WooCommerceOrders::refund_at(const Target& to, const jobs::Job& job) {
  // Every attempt looks first: a crash loses whatever this process knew.
  auto earlier = co_await job_refund(to, job);
  if (!earlier.outcome.ok()) co_return earlier.outcome;
  if (!earlier.found.empty()) {
    auto done = Outcome::success(earlier.found);
    done.code = "found_by_marker";
    co_return done;
  }
  auto made = interpret_refund_created(co_await call(to, job, http::verb::post, to.orders + "/refunds",
                                                     refund_body(job, to.shop.record_only), Resend::never));
  if (made.code != refund_refused) co_return made;
  // Refused: this job's refund may exist all the same (another worker's concurrent attempt),
  // or the order may be refunded in full already; the state says, never the message.
  auto again = co_await job_refund(to, job);
  if (again.outcome.ok() && !again.found.empty()) {
    auto done = Outcome::success(again.found);
    done.code = "found_by_marker";
    co_return done;
  }
  if (!again.outcome.ok()) co_return judge_refused_refund(job, WooOrder{again.outcome, {}, {}, {}, 0}, made);
  co_return judge_refused_refund(job, co_await order(to, job), made);
}

asio::awaitable<Outcome> WooCommerceOrders::create_refund(const jobs::Job& job) {
  Outcome refused;
  auto to = target(job, refused);
  if (!to) co_return refused;
  co_return interpret_refund_created(co_await call(*to, job, http::verb::post, to->orders + "/refunds",
                                                   refund_body(job, to->shop.record_only), Resend::never));
}

asio::awaitable<RefundState> WooCommerceOrders::find_refund(const jobs::Job& job) {
  Outcome refused;
  auto to = target(job, refused);
  if (!to) co_return lookup_failed(refused, "WooCommerce's refunds");
  auto refunds = co_await job_refund(*to, job);
  if (!refunds.outcome.ok()) co_return lookup_failed(refunds.outcome, "WooCommerce's refunds");
  if (refunds.found.empty()) co_return RefundState{RefundState::Kind::none, {}, {}, {}};
  // A WooCommerce refund exists only once it is made (a gateway refusal deletes it).
  co_return RefundState{RefundState::Kind::succeeded, refunds.found, {}, {}};
}

asio::awaitable<RefundState> WooCommerceOrders::refund_status(const jobs::Job& job, std::string_view reference) {
  Outcome refused;
  auto to = target(job, refused);
  if (!to) co_return lookup_failed(refused, "WooCommerce's refund");
  auto exchange = co_await call(*to, job, http::verb::get, to->orders + "/refunds/" + path_segment(reference));
  auto read = interpret_refund_created(exchange);
  if (!read.ok()) co_return lookup_failed(read, "WooCommerce's refund " + std::string(reference));
  co_return RefundState{RefundState::Kind::succeeded, read.reference, {}, {}};
}

// The component: WooCommerce cancels (and so restocks) orders of shops on it, and refunds
// payments it holds.
namespace {

class WooCommerceProvider final : public Provider, public RefundLookups {
 public:
  WooCommerceProvider(HttpClient& http, const WooCommerceSettings& settings) : orders_(http, settings) {}
  std::string_view name() const override { return "woocommerce"; }
  // Each shop is its own server.
  std::string_view account(jobs::Role, const jobs::Job& job) const override { return job.shop.domain; }
  asio::awaitable<Outcome> perform(const StepCall& step, const jobs::Job& job) override {
    if (step.role == jobs::Role::refund) co_return co_await orders_.refund(job);
    co_return co_await orders_.cancel(job);
  }
  RefundLookups* refunds() override { return this; }
  asio::awaitable<RefundState> find_refund(const jobs::Job& job) override {
    co_return co_await orders_.find_refund(job);
  }
  asio::awaitable<RefundState> refund_status(const jobs::Job& job, std::string_view reference) override {
    co_return co_await orders_.refund_status(job, reference);
  }

 private:
  WooCommerceOrders orders_;
};

// "a.example=https://a.example;b.example=https://b.example/shop" or "a.example;b.example".
std::vector<std::string> split_items(const std::string& text) {
  std::vector<std::string> items;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find(';', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) items.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return items;
}

class WooCommerceSpec final : public ProviderSpec {
 public:
  std::string_view name() const override { return "woocommerce"; }
  std::vector<jobs::Role> roles() const override {
    return {jobs::Role::cancel, jobs::Role::restock, jobs::Role::refund};
  }
  std::string_view group() const override {
    return "WooCommerce (cancel and restock; refund when payment.provider is woocommerce)";
  }
  void add_options(OptionSet& options) override {
    options.secrets("--woocommerce-key-for", keys_, "A shop's consumer key, repeatable: DOMAIN=ck_…",
                    "WOOCOMMERCE_KEYS_BY_SHOP");
    options.secrets("--woocommerce-secret-for", secrets_, "A shop's consumer secret, repeatable: DOMAIN=cs_…",
                    "WOOCOMMERCE_SECRETS_BY_SHOP");
    options.setting("--woocommerce-sites", sites_,
                    "Shops whose site is not https://DOMAIN, ';'-separated: DOMAIN=https://example.com/shop",
                    "RESCIND_WOOCOMMERCE_SITES");
    options.setting("--woocommerce-record-only", record_only_,
                    "Shops whose refunds are only recorded (api_refund false), ';'-separated domains; the others "
                    "refund through the order's payment gateway",
                    "RESCIND_WOOCOMMERCE_RECORD_ONLY");
  }
  std::vector<std::string> real_credentials() const override {
    std::vector<std::string> given;
    if (!keys_.empty()) given.emplace_back("WOOCOMMERCE_KEYS_BY_SHOP");
    if (!secrets_.empty()) given.emplace_back("WOOCOMMERCE_SECRETS_BY_SHOP");
    return given;
  }
  void finish(const Setup& setup) override {
    std::map<std::string, std::string> keys, secrets;
    for (const auto& item : keys_) {
      auto [shop, key] = per_shop_item(item, "--woocommerce-key-for");
      keys[shop] = key;
      common::log::register_secret(key);
    }
    for (const auto& item : secrets_) {
      auto [shop, secret] = per_shop_item(item, "--woocommerce-secret-for");
      secrets[shop] = secret;
      common::log::register_secret(secret);
    }
    std::map<std::string, std::string> sites;
    for (const auto& item : split_items(sites_)) {
      auto [shop, site] = per_shop_item(item, "--woocommerce-sites");
      sites[shop] = site;
    }
    auto record_only = split_items(record_only_);
    auto is_record_only = [&](const std::string& shop) {
      return std::find(record_only.begin(), record_only.end(), shop) != record_only.end();
    };
    for (const auto& [shop, key] : keys) {
      auto secret = secrets.find(shop);
      if (secret == secrets.end())
        throw OptionError("--woocommerce-key-for " + shop + ": no --woocommerce-secret-for " + shop);
      auto site = sites.count(shop) ? sites[shop] : "https://" + shop;
      settings_.shops[shop] =
          WooShop{option_url(site, "--woocommerce-sites " + shop, setup), key, secret->second, is_record_only(shop)};
    }
    for (const auto& [shop, secret] : secrets) {
      if (!keys.count(shop))
        throw OptionError("--woocommerce-secret-for " + shop + ": no --woocommerce-key-for " + shop);
    }
    for (const auto& [shop, site] : sites) {
      if (!keys.count(shop) && setup.sandbox.empty())
        throw OptionError("--woocommerce-sites " + shop + ": no --woocommerce-key-for " + shop);
    }
    if (!setup.sandbox.empty()) {
      // Every shop is a site of the sandbox's, with the test keys; the lists then hold those
      // keys themselves, the values of this spec's secret options under --sandbox.
      std::string key(sandbox_credentials::woocommerce_consumer_key);
      std::string secret(sandbox_credentials::woocommerce_consumer_secret);
      settings_.any_shop = WooShop{option_url(setup.sandbox, "--sandbox", setup), key, secret, false};
      keys_ = {key};
      secrets_ = {secret};
      common::log::register_secret(key);
      common::log::register_secret(secret);
      // Record-only shops keep their setting there, so both kinds of refund can be tried.
      record_only_shops_ = record_only;
    }
  }
  std::unique_ptr<Provider> make(const Wiring& wiring) const override {
    auto settings = settings_;
    if (settings.any_shop) {
      for (const auto& shop : record_only_shops_) {
        WooShop own = *settings.any_shop;
        own.site.path += "/sites/" + path_segment(shop);
        own.record_only = true;
        settings.shops[shop] = std::move(own);
      }
    }
    return std::make_unique<WooCommerceProvider>(wiring.http, settings);
  }

 private:
  WooCommerceSettings settings_;
  std::vector<std::string> keys_, secrets_;
  std::string sites_, record_only_;
  std::vector<std::string> record_only_shops_;
};

}  // namespace

std::unique_ptr<ProviderSpec> woocommerce_spec(SharedOptions&) { return std::make_unique<WooCommerceSpec>(); }

}  // namespace rescind::clients
