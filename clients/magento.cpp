#include "clients/magento.hpp"

#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <simdjson.h>
#include <algorithm>
#include <chrono>
#include <cmath>

#include "clients/encoding.hpp"
#include "clients/provider.hpp"
#include "clients/provider_call.hpp"
#include "common/json_text.hpp"
#include "common/log.hpp"
#include "common/magento_credentials.hpp"
#include "common/text.hpp"
#include "jobs/money.hpp"

namespace rescind::clients {

namespace oauth1 {

std::string percent(std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string base_uri(bool tls, std::string_view host, std::string_view port, std::string_view path) {
  std::string out = tls ? "https://" : "http://";
  for (char c : host) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!port.empty() && port != (tls ? "443" : "80")) out += ":" + std::string(port);
  out += path.empty() ? std::string_view("/") : path;
  return out;
}

std::string base_string(std::string_view method, std::string_view uri, const Params& params) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(params.size());
  for (const auto& [name, value] : params) encoded.emplace_back(percent(name), percent(value));
  std::sort(encoded.begin(), encoded.end());
  std::string normalized;
  for (const auto& [name, value] : encoded) normalized += (normalized.empty() ? "" : "&") + name + "=" + value;
  std::string out;
  for (char c : method) out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out + "&" + percent(uri) + "&" + percent(normalized);
}

std::string signature(std::string_view base, std::string_view consumer_secret, std::string_view token_secret) {
  std::string key = percent(consumer_secret) + "&" + percent(token_secret);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(base.data()),
       base.size(), mac, &length);
  return base64(std::string_view(reinterpret_cast<const char*>(mac), length));
}

std::string authorization(const Credentials& credentials, std::string_view method, std::string_view uri,
                          const Params& query, std::string_view nonce, std::string_view timestamp) {
  Params protocol = {{"oauth_consumer_key", credentials.consumer_key}, {"oauth_nonce", std::string(nonce)},
                     {"oauth_signature_method", "HMAC-SHA256"},        {"oauth_timestamp", std::string(timestamp)},
                     {"oauth_token", credentials.access_token},        {"oauth_version", "1.0"}};
  Params all = query;
  all.insert(all.end(), protocol.begin(), protocol.end());
  auto signed_with =
      signature(base_string(method, uri, all), credentials.consumer_secret, credentials.access_token_secret);
  protocol.emplace_back("oauth_signature", signed_with);
  std::string header = "OAuth ";
  for (std::size_t i = 0; i < protocol.size(); ++i) {
    header += (i ? "," : "") + protocol[i].first + "=\"" + percent(protocol[i].second) + "\"";
  }
  return header;
}

}  // namespace oauth1

namespace {

namespace dom = simdjson::dom;

constexpr std::string_view marker_prefix = "Refunded by Rescind. rescind_job_id: ";

// searchCriteria for "field = value", Magento's REST form of a repository filter.
oauth1::Params filter_by(std::string_view field, std::string_view value) {
  std::string at = "searchCriteria[filter_groups][0][filters][0]";
  return {{at + "[field]", std::string(field)}, {at + "[value]", std::string(value)}, {at + "[condition_type]", "eq"}};
}

std::string nonce() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    // No entropy: a nonce repeated by chance is refused by Magento (401), never accepted twice.
    auto now = std::chrono::steady_clock::now().time_since_epoch().count();
    for (std::size_t i = 0; i < sizeof bytes; ++i) bytes[i] = static_cast<unsigned char>(now >> (8 * (i % 8)));
  }
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out += hex[b >> 4];
    out += hex[b & 15];
  }
  return out;
}

// A JSON number of major units (Magento's 149.5) in minor units of the currency.
std::int64_t minor_of(double amount, int exponent) { return std::llround(amount * std::pow(10.0, exponent)); }

double number_at(dom::element object, std::string_view key) {
  double value = 0;
  auto field = object[key];
  if (!field.get_double().get(value)) return value;
  std::int64_t whole = 0;
  if (!field.get_int64().get(whole)) return static_cast<double>(whole);
  std::string_view text;  // some extensions answer decimals as strings
  if (!field.get_string().get(text)) return std::strtod(std::string(text).c_str(), nullptr);
  return 0;
}

// Magento's message with its parameters put in: "%1" by position, "%name" by name.
std::string filled_message(std::string_view body) {
  dom::parser parser;
  dom::element root;
  std::string_view text;
  if (parser.parse(body.data(), body.size()).get(root) || root["message"].get_string().get(text)) return {};
  std::string message(text);
  auto put = [&](const std::string& name, std::string_view value) {
    for (auto at = message.find(name); at != std::string::npos; at = message.find(name, at + value.size())) {
      message.replace(at, name.size(), value);
    }
  };
  dom::array list;
  dom::object named;
  auto text_of = [](dom::element value) {
    std::string_view s;
    if (!value.get_string().get(s)) return std::string(s);
    return simdjson::to_string(value);
  };
  if (!root["parameters"].get_array().get(list)) {
    std::vector<std::string> values;
    for (auto value : list) values.push_back(text_of(value));
    for (std::size_t i = values.size(); i > 0; --i) put("%" + std::to_string(i), values[i - 1]);  // %10 before %1
  } else if (!root["parameters"].get_object().get(named)) {
    for (auto [key, value] : named) put("%" + std::string(key), text_of(value));
  }
  return message;
}

Outcome unreadable(int status, std::string what) {
  return Outcome::retryable(status, "unreadable_answer", "Magento answered " + std::move(what));
}

}  // namespace

Outcome MagentoOrders::interpret(const Exchange& exchange) {
  auto outcome = outcome_from(exchange);
  if (exchange.error || outcome.ok()) return outcome;
  switch (outcome.status) {
    case 400:
      outcome.code = "bad_request";
      break;
    case 401:
      outcome.code = "unauthorized";
      break;
    case 403:
      outcome.code = "forbidden";
      break;
    case 404:
      outcome.code = "not_found";
      break;
    case 429:
      outcome.code = "rate_limited";
      break;
    default:
      outcome.code = "http_" + std::to_string(outcome.status);
  }
  auto message = filled_message(exchange.response.body());
  if (!message.empty()) outcome.message = common::utf8_prefix(common::log::redact(message), 300);
  return outcome;
}

std::pair<Outcome, bool> MagentoOrders::interpret_cancel(const Exchange& exchange) {
  auto outcome = interpret(exchange);
  if (!outcome.ok()) return {outcome, false};
  std::string_view body = exchange.response.body();
  while (!body.empty() && std::isspace(static_cast<unsigned char>(body.back()))) body.remove_suffix(1);
  while (!body.empty() && std::isspace(static_cast<unsigned char>(body.front()))) body.remove_prefix(1);
  if (body == "true") return {outcome, true};
  if (body == "false") return {outcome, false};
  return {unreadable(outcome.status, "the cancel with neither true nor false"), false};
}

MagentoOrder MagentoOrders::interpret_order(const Exchange& exchange) {
  MagentoOrder order;
  order.outcome = interpret(exchange);
  if (!order.outcome.ok()) return order;
  const auto& body = exchange.response.body();
  dom::parser parser;
  dom::element root;
  std::string_view state, currency;
  if (parser.parse(body.data(), body.size()).get(root) || root["state"].get_string().get(state) ||
      root["order_currency_code"].get_string().get(currency)) {
    order.outcome = unreadable(order.outcome.status, "an order without state or order_currency_code");
    return order;
  }
  order.state = std::string(state);
  order.currency = std::string(currency);
  int exponent = jobs::currency_exponent(order.currency).value_or(2);
  order.grand_total_minor = minor_of(number_at(root, "grand_total"), exponent);
  order.refunded_minor = minor_of(number_at(root, "total_refunded"), exponent);
  order.invoiced_minor = minor_of(number_at(root, "total_invoiced"), exponent);
  dom::array items;
  if (!root["items"].get_array().get(items)) {
    for (auto item : items) {
      if (!item["parent_item_id"].error() && !item["parent_item_id"].is_null()) continue;
      MagentoOrder::Item line;
      if (item["item_id"].get_int64().get(line.item_id)) continue;
      std::string_view sku;
      if (!item["sku"].get_string().get(sku)) line.sku = std::string(sku);
      line.qty_invoiced = std::llround(number_at(item, "qty_invoiced"));
      line.qty_refunded = std::llround(number_at(item, "qty_refunded"));
      order.items.push_back(std::move(line));
    }
  }
  return order;
}

Outcome MagentoOrders::interpret_refund(const Exchange& exchange) {
  auto outcome = interpret(exchange);
  if (!outcome.ok()) return outcome;
  const auto& body = exchange.response.body();
  dom::parser parser;
  dom::element root;
  std::int64_t id = 0;
  std::string_view text;
  if (parser.parse(body.data(), body.size()).get(root)) return unreadable(outcome.status, "a refund it did not say");
  if (!root.get_int64().get(id)) {
    outcome.reference = std::to_string(id);
  } else if (!root.get_string().get(text) && !text.empty()) {
    outcome.reference = std::string(text);
  } else {
    return unreadable(outcome.status, "a refund without a credit memo id");
  }
  return outcome;
}

std::optional<std::vector<std::pair<std::string, int>>> MagentoOrders::interpret_list(const Exchange& exchange,
                                                                                      Outcome& outcome) {
  outcome = interpret(exchange);
  if (!outcome.ok()) return std::nullopt;
  const auto& body = exchange.response.body();
  dom::parser parser;
  dom::element root;
  dom::array items;
  if (parser.parse(body.data(), body.size()).get(root) || root["items"].get_array().get(items)) {
    outcome = unreadable(outcome.status, "a search result without items");
    return std::nullopt;
  }
  std::vector<std::pair<std::string, int>> found;
  for (auto item : items) {
    std::int64_t id = 0, state = 0;
    if (item["entity_id"].get_int64().get(id)) continue;
    if (item["state"].get_int64().get(state)) state = 0;
    found.emplace_back(std::to_string(id), static_cast<int>(state));
  }
  return found;
}

std::string MagentoOrders::marker(std::string_view job_id) { return std::string(marker_prefix) + std::string(job_id); }

bool MagentoOrders::has_marker(const Exchange& exchange, std::string_view job_id, Outcome& outcome) {
  outcome = interpret(exchange);
  if (!outcome.ok()) return false;
  const auto& body = exchange.response.body();
  dom::parser parser;
  dom::element root;
  dom::array items;
  if (parser.parse(body.data(), body.size()).get(root) || root["items"].get_array().get(items)) {
    outcome = unreadable(outcome.status, "credit memo comments without items");
    return false;
  }
  auto wanted = marker(job_id);
  for (auto item : items) {
    std::string_view comment;
    if (!item["comment"].get_string().get(comment) && comment == wanted) return true;
  }
  return false;
}

Outcome MagentoOrders::judge_not_canceled(const MagentoOrder& order, std::string_view order_id) {
  if (order.canceled_or_closed()) {
    auto done = Outcome::success(std::string(order_id));
    done.code = "already_canceled";
    return done;
  }
  // Magento cancels only what is not invoiced, and not a complete, held or reviewed order:
  // retrying changes nothing; a paid order needs its credit memo (the platform's refund).
  return Outcome::permanent(200, "not_cancelable",
                            "Magento cannot cancel order " + std::string(order_id) + " in state '" +
                                std::string(common::utf8_prefix(common::log::redact(order.state), 40)) +
                                "' (invoiced, shipped or on hold): refund it with a credit memo if that is due");
}

std::string MagentoOrders::refund_body(const jobs::Job& job, const MagentoOrder& order, bool online,
                                       std::string& problem) {
  const auto& currency = job.order.currency;
  if (!std::equal(currency.begin(), currency.end(), order.currency.begin(), order.currency.end(),
                  [](char a, char b) { return std::toupper(static_cast<unsigned char>(a)) == b; })) {
    problem = "the job refunds " + currency + " but Magento's order is in " + order.currency;
    return {};
  }
  auto amount = job.refund.amount_minor;
  auto remaining = order.grand_total_minor - order.refunded_minor;
  common::JsonWriter json;
  json.begin_object();
  json.key("items").begin_array();
  bool whole = amount >= remaining;
  std::vector<std::int64_t> restocked;
  for (const auto& item : order.items) {
    auto qty = whole ? std::max<std::int64_t>(item.qty_invoiced - item.qty_refunded, 0) : 0;
    json.begin_object().field("order_item_id", item.item_id).field("qty", qty).end_object();
    if (qty > 0) restocked.push_back(item.item_id);
  }
  json.end_array();
  if (online) json.field("isOnline", true);
  // Rescind tells the customer itself (the email step): no second message from the shop.
  json.field("notify", false).field("appendComment", true);
  json.key("comment").begin_object().field("comment", marker(job.id)).field("is_visible_on_front", 0).end_object();
  json.key("arguments").begin_object();
  // Decimals in the order's currency, written as JSON numbers (Magento's amounts are numbers).
  if (whole) {
    // Everything left, and whatever the job asks for beyond it as an adjustment, so that an
    // over-refund is Magento's 400 rather than a smaller refund than the job says.
    json.key("adjustment_positive").raw(jobs::format_minor(std::max<std::int64_t>(amount - remaining, 0), currency));
  } else {
    // Part of the order: an adjustment of exactly the job's amount, no item, no shipping.
    json.field("shipping_amount", 0).key("adjustment_positive").raw(jobs::format_minor(amount, currency));
  }
  json.field("adjustment_negative", 0);
  json.key("extension_attributes").begin_object().key("return_to_stock_items").begin_array();
  for (auto id : restocked) json.value(id);
  json.end_array().end_object().end_object();
  return json.end_object().take();
}

const MagentoShop* MagentoOrders::shop_for(const jobs::Job& job) {
  const auto& domain = job.shop.domain;
  if (auto it = settings_.shops.find(domain); it != settings_.shops.end()) return &it->second;
  if (settings_.sandbox.empty()) return nullptr;  // credentials go only to shops configured for them
  auto it = sandbox_shops_.find(domain);
  if (it == sandbox_shops_.end()) {
    std::string error;
    auto api = parse_url(settings_.sandbox + "/magento/" + path_segment(domain) + "/rest", error);
    if (!api) return nullptr;
    it = sandbox_shops_.emplace(domain, MagentoShop{*api, settings_.sandbox_oauth, {}}).first;
  }
  return &it->second;
}

asio::awaitable<Exchange> MagentoOrders::call(const MagentoShop& shop, const jobs::Job& job, http::verb method,
                                              std::string_view path, const oauth1::Params& query, std::string body,
                                              Resend resend) {
  std::string target(path);
  for (std::size_t i = 0; i < query.size(); ++i) {
    target += (i ? "&" : "?") + oauth1::percent(query[i].first) + "=" + oauth1::percent(query[i].second);
  }
  HttpRequest request;
  if (method == http::verb::get) {
    request = make_get(shop.api, target, job.id);
  } else {
    request = make_post(shop.api, target, job.id, "application/json");
    request.body() = std::move(body);
  }
  request.set(http::field::accept, "application/json");
  if (shop.oauth) {
    auto uri = oauth1::base_uri(shop.api.origin.tls, shop.api.origin.host, shop.api.origin.port,
                                shop.api.path + std::string(path));
    auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch());
    request.set(http::field::authorization, oauth1::authorization(*shop.oauth, http::to_string(method), uri, query,
                                                                  nonce(), std::to_string(now.count())));
  } else {
    request.set(http::field::authorization, "Bearer " + shop.bearer);
  }
  co_return co_await http_.send(shop.api.origin, std::move(request), resend);
}

asio::awaitable<MagentoOrder> MagentoOrders::read_order(const MagentoShop& shop, const jobs::Job& job) {
  auto order =
      interpret_order(co_await call(shop, job, http::verb::get, "/V1/orders/" + path_segment(job.order.id), {}, {}));
  if (order.outcome.code == "not_found") order.outcome.code = "order_not_found";
  co_return order;
}

asio::awaitable<RefundState> MagentoOrders::find_memo(const MagentoShop& shop, const jobs::Job& job) {
  Outcome outcome;
  auto memos = interpret_list(
      co_await call(shop, job, http::verb::get, "/V1/creditmemos", filter_by("order_id", job.order.id), {}), outcome);
  if (!memos) co_return lookup_failed(outcome, "Magento's credit memos of the order");
  // Newest first: a job's memo is the latest one touching the order, most of the time.
  for (auto it = memos->rbegin(); it != memos->rend(); ++it) {
    const auto& [id, state] = *it;
    Outcome read;
    bool ours = has_marker(
        co_await call(shop, job, http::verb::get, "/V1/creditmemo/" + path_segment(id) + "/comments", {}, {}), job.id,
        read);
    if (!read.ok()) co_return lookup_failed(read, "Magento's credit memo " + id + " comments");
    if (!ours) continue;
    // 1 open (an online refund the gateway has not settled), 2 refunded, 3 canceled.
    auto kind = state == 3   ? RefundState::Kind::failed
                : state == 1 ? RefundState::Kind::pending
                             : RefundState::Kind::succeeded;
    co_return RefundState{kind, id, kind == RefundState::Kind::failed ? "credit memo canceled" : "", {}};
  }
  co_return RefundState{RefundState::Kind::none, {}, {}, {}};
}

asio::awaitable<Outcome> MagentoOrders::refund_with(const MagentoShop& shop, const jobs::Job& job,
                                                    const MagentoOrder& order) {
  auto earlier = co_await find_memo(shop, job);
  if (earlier.kind == RefundState::Kind::unknown) co_return earlier.lookup;
  if (earlier.kind == RefundState::Kind::succeeded || earlier.kind == RefundState::Kind::pending) {
    auto done = Outcome::success(earlier.reference);
    done.code = "already_refunded";
    co_return done;
  }
  std::string problem;
  auto body = refund_body(job, order, settings_.online_refund, problem);
  if (body.empty()) co_return Outcome::permanent(0, "refund_not_representable", problem);
  std::string path = "/V1/order/" + path_segment(job.order.id) + "/refund";
  if (settings_.online_refund) {
    Outcome listed;
    auto invoices = interpret_list(
        co_await call(shop, job, http::verb::get, "/V1/invoices", filter_by("order_id", job.order.id), {}), listed);
    if (!invoices) co_return listed;
    if (invoices->empty()) {
      co_return Outcome::permanent(
          200, "not_invoiced", "Magento's order " + job.order.id + " has no invoice: nothing was captured to refund");
    }
    path = "/V1/invoice/" + path_segment(invoices->front().first) + "/refund";
  }
  auto outcome = interpret_refund(co_await call(shop, job, http::verb::post, path, {}, std::move(body), Resend::never));
  if (outcome.ok()) co_return outcome;
  // The memo may exist all the same: the answer was lost after Magento made it, or this
  // refusal (an over-refund) met the job's own memo made by a request whose answer was lost.
  auto again = co_await find_memo(shop, job);
  if (again.kind == RefundState::Kind::succeeded || again.kind == RefundState::Kind::pending) {
    auto done = Outcome::success(again.reference);
    done.code = "already_refunded";
    co_return done;
  }
  co_return outcome;
}

asio::awaitable<Outcome> MagentoOrders::refund(const jobs::Job& job) {
  const auto* shop = shop_for(job);
  if (!shop) co_return Outcome::permanent(0, "not_configured", "no Magento credentials for shop " + job.shop.domain);
  auto order = co_await read_order(*shop, job);
  if (!order.outcome.ok()) co_return order.outcome;
  co_return co_await refund_with(*shop, job, order);
}

asio::awaitable<Outcome> MagentoOrders::cancel(const jobs::Job& job, const jobs::Plan& plan) {
  const auto* shop = shop_for(job);
  if (!shop) co_return Outcome::permanent(0, "not_configured", "no Magento credentials for shop " + job.shop.domain);
  auto order = co_await read_order(*shop, job);
  if (!order.outcome.ok()) co_return order.outcome;
  std::string refunded;
  if (plan.refund_by_platform && job.refund.amount_minor > 0) {
    auto memo = co_await refund_with(*shop, job, order);
    if (!memo.ok()) co_return memo;
    refunded = memo.reference;
    order = co_await read_order(*shop, job);  // a memo of everything closed it
    if (!order.outcome.ok()) co_return order.outcome;
  }
  if (order.canceled_or_closed()) {
    auto done = judge_not_canceled(order, job.order.id);
    if (!refunded.empty()) done.reference = refunded;
    co_return done;
  }
  auto [outcome, canceled] = interpret_cancel(
      co_await call(*shop, job, http::verb::post, "/V1/orders/" + path_segment(job.order.id) + "/cancel", {}, "{}"));
  if (!outcome.ok()) co_return outcome;
  if (canceled) co_return Outcome::success(refunded.empty() ? job.order.id : refunded);
  // `false`: already canceled (by hand, or by an attempt whose answer was lost) or not
  // cancelable; only the order's state tells which.
  auto now = co_await read_order(*shop, job);
  if (!now.outcome.ok()) co_return now.outcome;
  auto judged = judge_not_canceled(now, job.order.id);
  if (judged.ok() && !refunded.empty()) judged.reference = refunded;
  co_return judged;
}

asio::awaitable<RefundState> MagentoOrders::find_refund(const jobs::Job& job) {
  const auto* shop = shop_for(job);
  if (!shop) {
    co_return lookup_failed(Outcome::permanent(0, "not_configured", "no Magento credentials for " + job.shop.domain),
                            "Magento's credit memos");
  }
  co_return co_await find_memo(*shop, job);
}

asio::awaitable<RefundState> MagentoOrders::refund_status(const jobs::Job& job, std::string_view reference) {
  const auto* shop = shop_for(job);
  if (!shop) {
    co_return lookup_failed(Outcome::permanent(0, "not_configured", "no Magento credentials for " + job.shop.domain),
                            "Magento's credit memo");
  }
  auto exchange = co_await call(*shop, job, http::verb::get, "/V1/creditmemo/" + path_segment(reference), {}, {});
  auto outcome = interpret(exchange);
  if (!outcome.ok()) co_return lookup_failed(outcome, "Magento's credit memo " + std::string(reference));
  dom::parser parser;
  dom::element root;
  std::int64_t state = 0;
  const auto& body = exchange.response.body();
  if (parser.parse(body.data(), body.size()).get(root) || root["state"].get_int64().get(state)) {
    co_return lookup_failed(unreadable(outcome.status, "a credit memo without state"), "Magento's credit memo");
  }
  auto kind = state == 3   ? RefundState::Kind::failed
              : state == 1 ? RefundState::Kind::pending
                           : RefundState::Kind::succeeded;
  co_return RefundState{
      kind, std::string(reference), kind == RefundState::Kind::failed ? "credit memo canceled" : "", {}};
}

// The component: Magento cancels (restocking what was not invoiced) and, when it holds the
// payment, refunds with a credit memo (restocking what it refunds).
namespace {

class MagentoProvider final : public Provider, public RefundLookups {
 public:
  MagentoProvider(HttpClient& http, const MagentoSettings& settings) : orders_(http, settings) {}
  std::string_view name() const override { return "magento"; }
  std::string_view account(jobs::Role, const jobs::Job& job) const override { return job.shop.domain; }
  // An invoiced order cannot be cancelled at Magento (the cancel answers false): the credit
  // memo comes first and closes it, so the cancel step is the one that refunds.
  bool cancel_refunds() const override { return true; }
  asio::awaitable<Outcome> perform(const StepCall& step, const jobs::Job& job) override {
    if (step.role == jobs::Role::refund) co_return co_await orders_.refund(job);
    co_return co_await orders_.cancel(job, step.plan);
  }
  RefundLookups* refunds() override { return this; }
  asio::awaitable<RefundState> find_refund(const jobs::Job& job) override {
    co_return co_await orders_.find_refund(job);
  }
  asio::awaitable<RefundState> refund_status(const jobs::Job& job, std::string_view reference) override {
    co_return co_await orders_.refund_status(job, reference);
  }

 private:
  MagentoOrders orders_;
};

class MagentoSpec final : public ProviderSpec {
 public:
  std::string_view name() const override { return "magento"; }
  std::vector<jobs::Role> roles() const override {
    return {jobs::Role::cancel, jobs::Role::restock, jobs::Role::refund};
  }
  std::string_view group() const override { return "Magento / Adobe Commerce (cancel, restock, refund)"; }
  void add_options(OptionSet& options) override {
    options.secrets("--magento-oauth-for", oauth_items_,
                    "A shop's integration, repeatable: DOMAIN=CONSUMER_KEY:CONSUMER_SECRET:ACCESS_TOKEN:TOKEN_SECRET "
                    "(OAuth 1.0a, HMAC-SHA256)",
                    "MAGENTO_OAUTH_BY_SHOP");
    options.secrets("--magento-token-for", token_items_,
                    "A shop's integration access token as a bearer, repeatable: DOMAIN=TOKEN (only where the shop "
                    "enabled integration tokens as bearer; --magento-oauth-for wins)",
                    "MAGENTO_TOKENS_BY_SHOP");
    options.setting("--magento-url-for", urls_,
                    "Shops' REST base URLs, ';'-separated DOMAIN=URL items (default https://DOMAIN/rest)",
                    "RESCIND_MAGENTO_URL_BY_SHOP");
    options.setting("--magento-refund", refund_,
                    "online: credit memo on the invoice, through the payment gateway; offline: on the order only",
                    "RESCIND_MAGENTO_REFUND", true);
  }
  std::vector<std::string> real_credentials() const override {
    std::vector<std::string> given;
    if (!oauth_items_.empty()) given.emplace_back("MAGENTO_OAUTH_BY_SHOP");
    if (!token_items_.empty()) given.emplace_back("MAGENTO_TOKENS_BY_SHOP");
    return given;
  }
  void finish(const Setup& setup) override {
    if (refund_ != "online" && refund_ != "offline")
      throw OptionError("--magento-refund: online or offline, not '" + refund_ + "'");
    settings_.online_refund = refund_ == "online";
    std::map<std::string, Url> urls;
    std::string rest = urls_;
    while (!rest.empty()) {
      auto end = rest.find(';');
      auto item = rest.substr(0, end);
      rest = end == std::string::npos ? "" : rest.substr(end + 1);
      if (item.empty()) continue;
      auto [shop, url] = per_shop_item(item, "--magento-url-for");
      urls[shop] = option_url(url, "--magento-url-for " + shop, setup);
    }
    auto shop_named = [&](const std::string& domain) -> MagentoShop& {
      auto it = settings_.shops.find(domain);
      if (it != settings_.shops.end()) return it->second;
      MagentoShop shop;
      if (auto own = urls.find(domain); own != urls.end()) {
        shop.api = own->second;
      } else {
        shop.api = option_url("https://" + domain + "/rest", "--magento-url-for " + domain, setup);
      }
      return settings_.shops.emplace(domain, std::move(shop)).first->second;
    };
    for (const auto& item : token_items_) {
      auto [shop, token] = per_shop_item(item, "--magento-token-for");
      common::log::register_secret(token);
      shop_named(shop).bearer = token;
    }
    for (const auto& item : oauth_items_) {
      auto [shop, value] = per_shop_item(item, "--magento-oauth-for");
      std::vector<std::string> parts;
      for (std::size_t at = 0;;) {
        auto colon = value.find(':', at);
        parts.push_back(value.substr(at, colon == std::string::npos ? std::string::npos : colon - at));
        if (colon == std::string::npos) break;
        at = colon + 1;
      }
      for (const auto& part : parts) common::log::register_secret(part);
      if (parts.size() != 4 || std::any_of(parts.begin(), parts.end(), [](const auto& p) { return p.empty(); }))
        throw OptionError("--magento-oauth-for " + shop + ": four ':'-separated credentials are needed");
      shop_named(shop).oauth = oauth1::Credentials{parts[0], parts[1], parts[2], parts[3]};
    }
    if (!setup.sandbox.empty()) {
      option_url(setup.sandbox, "--sandbox", setup);
      settings_.sandbox = setup.sandbox;
      namespace creds = sandbox_credentials;
      settings_.sandbox_oauth = {std::string(creds::magento_consumer_key), std::string(creds::magento_consumer_secret),
                                 std::string(creds::magento_access_token),
                                 std::string(creds::magento_access_token_secret)};
      // The secret option holds what the worker signs with, as every other spec's does under --sandbox.
      oauth_items_ = {"*=" + settings_.sandbox_oauth.consumer_key + ":" + settings_.sandbox_oauth.consumer_secret +
                      ":" + settings_.sandbox_oauth.access_token + ":" + settings_.sandbox_oauth.access_token_secret};
      for (auto part : {creds::magento_consumer_key, creds::magento_consumer_secret, creds::magento_access_token,
                        creds::magento_access_token_secret}) {
        common::log::register_secret(std::string(part));
      }
    }
  }
  std::unique_ptr<Provider> make(const Wiring& wiring) const override {
    return std::make_unique<MagentoProvider>(wiring.http, settings_);
  }

 private:
  MagentoSettings settings_;
  std::vector<std::string> oauth_items_, token_items_;
  std::string urls_;
  std::string refund_ = "online";
};

}  // namespace

std::unique_ptr<ProviderSpec> magento_spec(SharedOptions&) { return std::make_unique<MagentoSpec>(); }

}  // namespace rescind::clients
