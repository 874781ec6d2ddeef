// Magento Open Source / Adobe Commerce REST, per shop at /magento/{shop}/rest[/{store}]/V1/…:
// GET orders/{id}, POST orders/{id}/cancel (HTTP 200 `true`, or `false` when the order
// cannot be canceled: complete, closed, canceled, on hold, or everything invoiced), POST
// order/{id}/refund and invoice/{id}/refund (a credit memo; the money available is checked,
// over-refund is a 400), GET invoices and creditmemos?searchCriteria (order_id eq), GET
// creditmemo/{id} and creditmemo/{id}/comments. Each request is signed OAuth 1.0a
// HMAC-SHA256 with the integration's four credentials and verified here for real (signature,
// consumer, token, timestamp within 600 s, a nonce used once); a bearer integration token is
// refused unless POST /__magento/integration_as_bearer {"enabled":true} (Magento 2.4.4+
// default: off). Errors in Magento's shape {"message":"… %1 …","parameters":[…]}.
// Orders exist only once a test places them: POST /__magento/orders. Injected faults meet
// only the calls that act (cancel, refund).
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <deque>
#include <map>
#include <set>

#include "common/json_text.hpp"
#include "common/magento_credentials.hpp"
#include "sandbox/auth.hpp"
#include "sandbox/form.hpp"
#include "sandbox/json_body.hpp"
#include "sandbox/providers.hpp"

namespace rescind::sandbox {
namespace {

namespace od = simdjson::ondemand;
namespace creds = sandbox_credentials;

constexpr std::string_view prefix = "/magento/";
constexpr std::size_t most_nonces = 100'000;
constexpr long long timestamp_window_s = 600;

// ---------------------------------------------------------------------------------------------
// OAuth 1.0a, written here apart from the worker's signer: a bug shared by both would
// otherwise pass.

std::string rfc3986(std::string_view text) {
  std::string out;
  char buf[4];
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

std::string hmac_sha256_base64(std::string_view key, std::string_view text) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(text.data()),
       text.size(), mac, &length);
  std::string out(4 * ((length + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), mac, static_cast<int>(length));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

// The parameters of an `Authorization: OAuth k="v", …` header, decoded; nullopt when malformed.
std::optional<std::map<std::string, std::string>> oauth_params(std::string_view header) {
  if (!header.starts_with("OAuth ")) return std::nullopt;
  header.remove_prefix(6);
  std::map<std::string, std::string> params;
  while (!header.empty()) {
    while (!header.empty() && (header.front() == ' ' || header.front() == ',')) header.remove_prefix(1);
    if (header.empty()) break;
    auto eq = header.find('=');
    if (eq == std::string_view::npos || eq + 1 >= header.size() || header[eq + 1] != '"') return std::nullopt;
    auto name = header.substr(0, eq);
    auto close = header.find('"', eq + 2);
    if (close == std::string_view::npos) return std::nullopt;
    std::string value;
    if (!form_decode(header.substr(eq + 2, close - eq - 2), value)) return std::nullopt;
    params[std::string(name)] = value;
    header.remove_prefix(close + 1);
  }
  return params;
}

// ---------------------------------------------------------------------------------------------
// Magento's answers.

Response error(http::status status, std::string_view message, std::initializer_list<std::string_view> parameters = {}) {
  common::JsonWriter json;
  json.begin_object().field("message", message);
  if (parameters.size() > 0) {
    json.key("parameters").begin_array();
    for (auto parameter : parameters) json.value(parameter);
    json.end_array();
  }
  return json_response(status, json.end_object().take());
}

Response unauthorized() {
  common::JsonWriter json;
  json.begin_object().field("message", "The consumer isn't authorized to access %resources.");
  json.key("parameters").begin_object().field("resources", "Magento_Sales::sales").end_object();
  return json_response(http::status::unauthorized, json.end_object().take());
}

Response not_found() {
  return error(http::status::not_found,
               "The entity that was requested doesn't exist. Verify the entity and try again.");
}

int exponent_of(std::string_view currency) {
  static const std::set<std::string, std::less<>> zero = {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW",
                                                          "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"};
  static const std::set<std::string, std::less<>> three = {"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"};
  return zero.contains(currency) ? 0 : three.contains(currency) ? 3 : 2;
}

// Minor units as a JSON number of major units: 14900 → 149.00.
std::string decimal(long long minor, int exponent) {
  std::string digits = std::to_string(minor < 0 ? -minor : minor);
  if (exponent > 0) {
    if (digits.size() <= static_cast<std::size_t>(exponent)) digits.insert(0, exponent + 1 - digits.size(), '0');
    digits.insert(digits.size() - exponent, 1, '.');
  }
  return minor < 0 ? "-" + digits : digits;
}

struct Item {
  long long item_id = 0;
  std::string sku;
  long long qty_ordered = 0, qty_invoiced = 0, qty_refunded = 0, qty_canceled = 0;
  long long price_minor = 0;
};

struct Memo {
  long long id = 0;
  std::string order_key;
  long long order_id = 0;
  long long total_minor = 0;
  int state = 2;  // refunded
  std::string comment;
};

struct Order {
  long long entity_id = 0;
  std::string state = "processing", status = "processing";
  std::string currency = "USD";
  int exponent = 2;
  std::vector<Item> items;
  long long shipping_minor = 0, shipping_refunded_minor = 0;
  long long refunded_minor = 0;
  long long invoice_id = 0;  // 0: not invoiced

  long long grand_total() const {
    long long total = shipping_minor;
    for (const auto& item : items) total += item.qty_ordered * item.price_minor;
    return total;
  }
  long long invoiced() const {
    if (!invoice_id) return 0;
    long long total = shipping_minor;
    for (const auto& item : items) total += item.qty_invoiced * item.price_minor;
    return total;
  }
  // Order::canCancel(): nothing left to cancel once every item is invoiced (or refunded).
  bool can_cancel() const {
    if (state == "canceled" || state == "complete" || state == "closed" || state == "holded" ||
        state == "payment_review")
      return false;
    return std::any_of(items.begin(), items.end(),
                       [](const Item& item) { return item.qty_ordered > item.qty_invoiced + item.qty_canceled; });
  }
};

// The value of searchCriteria[filter_groups][0][filters][0][value] when its field is order_id.
std::optional<std::string> order_filter(const Form& query) {
  std::string at = "searchCriteria[filter_groups][0][filters][0]";
  const auto* field = query.find(at + "[field]");
  const auto* value = query.find(at + "[value]");
  const auto* condition = query.find(at + "[condition_type]");
  if (!field || *field != "order_id" || !value) return std::nullopt;
  if (condition && *condition != "eq") return std::nullopt;
  return *value;
}

std::optional<long long> number(std::string_view text) {
  if (text.empty() || text.size() > 15) return std::nullopt;
  long long n = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  return n;
}

// A JSON number of major units in minor units; nullopt when it is not one.
std::optional<long long> minor_from(od::value value, int exponent) {
  double amount = 0;
  if (value.get_double().get(amount)) return std::nullopt;
  return std::llround(amount * std::pow(10.0, exponent));
}

class Magento final : public Provider {
 public:
  std::string_view name() const override { return "magento"; }
  bool owns(std::string_view path) const override { return path.starts_with(prefix); }

  Reply handle(Call& call) override {
    // /magento/{shop}/rest[/{store}]/V1/…
    std::string_view rest = call.path.substr(prefix.size());
    auto slash = rest.find('/');
    if (slash == std::string_view::npos) return refuse(no_route());
    std::string shop(rest.substr(0, slash));
    rest.remove_prefix(slash);
    if (!rest.starts_with("/rest/")) return refuse(no_route());
    rest.remove_prefix(5);
    if (!rest.starts_with("/V1/")) {
      auto store_end = rest.find('/', 1);
      if (store_end == std::string_view::npos) return refuse(no_route());
      rest.remove_prefix(store_end);
    }
    if (!rest.starts_with("/V1/")) return refuse(no_route());
    auto query = Form::parse(target_query(call.request.target()));
    if (!query) return refuse(error(http::status::bad_request, "Sandbox: the query string is malformed"));
    if (!authorized(call, *query)) return refuse(unauthorized());
    std::string_view api = rest.substr(3);  // "/orders/5", "/creditmemos", …
    auto method = call.request.method();
    std::vector<std::string_view> parts;
    for (std::size_t at = 1; at <= api.size();) {
      auto end = api.find('/', at);
      parts.push_back(api.substr(at, end == std::string_view::npos ? std::string_view::npos : end - at));
      if (end == std::string_view::npos) break;
      at = end + 1;
    }
    auto get = method == http::verb::get, post = method == http::verb::post;
    if (get && parts.size() == 2 && parts[0] == "orders") return read_order(shop, parts[1]);
    if (post && parts.size() == 3 && parts[0] == "orders" && parts[2] == "cancel") return cancel(call, shop, parts[1]);
    if (post && parts.size() == 3 && parts[0] == "order" && parts[2] == "refund")
      return refund(call, shop, parts[1], false);
    if (post && parts.size() == 3 && parts[0] == "invoice" && parts[2] == "refund")
      return refund(call, shop, parts[1], true);
    if (get && parts.size() == 1 && (parts[0] == "invoices" || parts[0] == "creditmemos"))
      return search(shop, parts[0], *query);
    if (get && parts.size() == 2 && parts[0] == "creditmemo") return read_memo(shop, parts[1], false);
    if (get && parts.size() == 3 && parts[0] == "creditmemo" && parts[2] == "comments")
      return read_memo(shop, parts[1], true);
    return refuse(no_route());
  }

  // Faults (failures, lost answers, latency, quotas) meet the calls that act, cancel and refund:
  // a count is spent where the worker's retry logic matters, not on the reads around them.
  bool takes_faults(std::string_view path) const override {
    return path.ends_with("/cancel") || path.ends_with("/refund");
  }

  Response failure(const Failure& failure) const override {
    auto code = static_cast<unsigned>(failure.status);
    if (code == 401) return unauthorized();
    if (code == 404) return not_found();
    if (code == 429) return error(failure.status, "Too Many Requests");
    if (code >= 500) return error(failure.status, "Internal Error. Details are available in Magento log file.");
    return error(failure.status, "Sandbox: injected failure (HTTP %1)", {std::to_string(code)});
  }

  void reset() override {
    orders_.clear();
    memos_.clear();
    nonces_.clear();
    nonce_order_.clear();
    bearer_enabled_ = false;
  }

  // POST /__magento/orders {"shop":"…","id":"450789469","currency":"USD","state":"processing",
  // "invoiced":true,"shipping_minor":0,"items":[{"sku":"…","qty":2,"price_minor":7450}]}: an
  // order placed (and invoiced: paid) at the shop. POST /__magento/integration_as_bearer
  // {"enabled":true}: the store setting that lets an integration token act as a bearer.
  std::optional<Response> control(std::string_view action, Request& request, std::chrono::system_clock::time_point,
                                  Ledger&) override {
    if (action == "integration_as_bearer") {
      bool enabled = false;
      auto read = each_body_member(request.body(), [&](std::string_view key, od::value value) {
        return key == "enabled" && !value.get_bool().get(enabled);
      });
      if (read != BodyRead::ok) return error(http::status::bad_request, "Sandbox: {\"enabled\":true|false}");
      bearer_enabled_ = enabled;
      return json_response(http::status::ok, enabled ? R"({"enabled":true})" : R"({"enabled":false})");
    }
    if (action != "orders") return std::nullopt;
    std::string shop, id;
    Order order;
    bool invoiced = true;
    bool ok = true;
    auto read = each_body_member(request.body(), [&](std::string_view key, od::value value) {
      std::string_view text;
      if (key == "shop" || key == "id" || key == "currency" || key == "state") {
        if (value.get_string().get(text)) return ok = false;
        (key == "shop"       ? shop
         : key == "id"       ? id
         : key == "currency" ? order.currency
                             : order.state) = std::string(text);
      } else if (key == "invoiced") {
        if (value.get_bool().get(invoiced)) return ok = false;
      } else if (key == "shipping_minor") {
        std::int64_t n = 0;
        if (value.get_int64().get(n) || n < 0) return ok = false;
        order.shipping_minor = n;
      } else if (key == "items") {
        od::array list;
        if (value.get_array().get(list)) return ok = false;
        for (auto entry : list) {
          od::value object;
          if (entry.get(object)) return ok = false;
          Item item;
          item.item_id = static_cast<long long>(order.items.size()) + 1;
          bool read_item = each_member(object, [&](std::string_view name, od::value field) {
            std::int64_t n = 0;
            std::string_view sku;
            if (name == "sku") return !field.get_string().get(sku) && (item.sku = std::string(sku), true);
            if (name == "qty") return !field.get_int64().get(n) && n > 0 && (item.qty_ordered = n, true);
            if (name == "price_minor") return !field.get_int64().get(n) && n >= 0 && (item.price_minor = n, true);
            return true;
          });
          if (!read_item || item.qty_ordered == 0) return ok = false;
          order.items.push_back(std::move(item));
        }
      }
      return true;
    });
    auto entity = number(id);
    if (read != BodyRead::ok || !ok || shop.empty() || !entity || order.items.empty()) {
      return error(http::status::bad_request, "Sandbox: an order needs shop, a numeric id and items");
    }
    order.entity_id = *entity;
    order.exponent = exponent_of(order.currency);
    order.status = order.state;
    if (invoiced) {
      order.invoice_id = next_invoice_++;
      for (auto& item : order.items) item.qty_invoiced = item.qty_ordered;
    }
    auto body = order_json(order);
    orders_[shop + '\n' + id] = std::move(order);
    return json_response(http::status::ok, std::move(body));
  }

 private:
  static Response no_route() { return error(http::status::not_found, "Request does not match any route."); }

  bool authorized(const Call& call, const Form& query) {
    auto header_value = header(call.request, http::field::authorization);
    if (auto bearer = bearer_token(call.request)) return bearer_enabled_ && *bearer == creds::magento_access_token;
    auto params = oauth_params(header_value);
    if (!params) return false;
    auto value = [&](const char* name) -> std::string {
      auto it = params->find(name);
      return it == params->end() ? std::string() : it->second;
    };
    if (value("oauth_consumer_key") != creds::magento_consumer_key ||
        value("oauth_token") != creds::magento_access_token)
      return false;
    if (value("oauth_signature_method") != "HMAC-SHA256") return false;
    if (params->contains("oauth_version") && value("oauth_version") != "1.0") return false;
    auto timestamp = number(value("oauth_timestamp"));
    auto now = std::chrono::duration_cast<std::chrono::seconds>(call.now.time_since_epoch()).count();
    if (!timestamp || std::llabs(*timestamp - now) > timestamp_window_s) return false;
    auto nonce = value("oauth_nonce");
    if (nonce.empty() || nonces_.contains(nonce)) return false;  // a request replayed is refused
    // The base string: method, the URL as this server was asked for it, and every parameter.
    std::vector<std::pair<std::string, std::string>> all;
    for (const auto& field : query.fields()) all.emplace_back(rfc3986(field.name), rfc3986(field.value));
    for (const auto& [name, v] : *params) {
      if (name != "oauth_signature") all.emplace_back(rfc3986(name), rfc3986(v));
    }
    std::sort(all.begin(), all.end());
    std::string normalized;
    for (const auto& [name, v] : all) normalized += (normalized.empty() ? "" : "&") + name + "=" + v;
    std::string host(header(call.request, http::field::host));
    for (auto& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (host.ends_with(":80")) host.resize(host.size() - 3);
    std::string uri = "http://" + host + std::string(target_path(call.request.target()));
    std::string base =
        std::string(http::to_string(call.request.method())) + "&" + rfc3986(uri) + "&" + rfc3986(normalized);
    std::string key = rfc3986(creds::magento_consumer_secret) + "&" + rfc3986(creds::magento_access_token_secret);
    if (hmac_sha256_base64(key, base) != value("oauth_signature")) return false;
    if (nonce_order_.size() >= most_nonces) {
      nonces_.erase(nonce_order_.front());
      nonce_order_.pop_front();
    }
    nonces_.insert(nonce);
    nonce_order_.push_back(nonce);
    return true;
  }

  Order* find(const std::string& shop, std::string_view id) {
    auto it = orders_.find(shop + '\n' + std::string(id));
    return it == orders_.end() ? nullptr : &it->second;
  }

  std::string order_json(const Order& order) const {
    common::JsonWriter json;
    json.begin_object().field("entity_id", order.entity_id).field("increment_id", std::to_string(order.entity_id));
    json.field("state", order.state).field("status", order.status).field("order_currency_code", order.currency);
    json.key("grand_total").raw(decimal(order.grand_total(), order.exponent));
    json.key("shipping_amount").raw(decimal(order.shipping_minor, order.exponent));
    // Magento leaves out what was never set: no invoice, no total_invoiced; no refund, no total_refunded.
    if (order.invoice_id) json.key("total_invoiced").raw(decimal(order.invoiced(), order.exponent));
    if (order.refunded_minor) json.key("total_refunded").raw(decimal(order.refunded_minor, order.exponent));
    json.key("items").begin_array();
    for (const auto& item : order.items) {
      json.begin_object().field("item_id", item.item_id).field("order_id", order.entity_id).field("sku", item.sku);
      json.field("qty_ordered", item.qty_ordered).field("qty_invoiced", item.qty_invoiced);
      json.field("qty_refunded", item.qty_refunded).field("qty_canceled", item.qty_canceled);
      json.key("price").raw(decimal(item.price_minor, order.exponent));
      json.key("row_total").raw(decimal(item.price_minor * item.qty_ordered, order.exponent)).end_object();
    }
    json.end_array();
    return json.end_object().take();
  }

  Reply read_order(const std::string& shop, std::string_view id) {
    auto* order = find(shop, id);
    if (!order) return refuse(not_found());
    return refuse(json_response(http::status::ok, order_json(*order)));
  }

  Reply cancel(const Call& call, const std::string& shop, std::string_view id) {
    auto* order = find(shop, id);
    if (!order) return refuse(not_found());
    if (!order->can_cancel()) return refuse(json_response(http::status::ok, "false"));
    long long returned = 0;
    for (auto& item : order->items) {
      auto open = item.qty_ordered - item.qty_invoiced - item.qty_canceled;
      item.qty_canceled += open;
      returned += open;
    }
    order->state = order->status = "canceled";
    Reply reply = refuse(json_response(http::status::ok, "true"));
    reply.effect = effect_of(call, name(), Action::cancel, std::string(id));
    // What was not invoiced goes back to stock with the cancellation.
    if (returned > 0) reply.more_effects.push_back(effect_of(call, name(), Action::restock, std::string(id)));
    return reply;
  }

  Reply search(const std::string& shop, std::string_view what, const Form& query) {
    auto id = order_filter(query);
    if (!id) return refuse(error(http::status::bad_request, "Sandbox: the only search it answers is order_id eq <id>"));
    common::JsonWriter json;
    json.begin_object().key("items").begin_array();
    std::size_t count = 0;
    auto* order = find(shop, *id);
    if (what == "invoices") {
      if (order && order->invoice_id) {
        ++count;
        json.begin_object().field("entity_id", order->invoice_id).field("order_id", order->entity_id);
        json.field("state", 2).key("grand_total").raw(decimal(order->invoiced(), order->exponent)).end_object();
      }
    } else {
      for (const auto& [memo_id, memo] : memos_) {
        if (memo.order_key != shop + '\n' + *id) continue;
        ++count;
        json.begin_object().field("entity_id", memo.id).field("order_id", memo.order_id).field("state", memo.state);
        json.key("grand_total").raw(decimal(memo.total_minor, order ? order->exponent : 2)).end_object();
      }
    }
    json.end_array().key("search_criteria").begin_object().end_object().field("total_count", count);
    return refuse(json_response(http::status::ok, json.end_object().take()));
  }

  Reply read_memo(const std::string& shop, std::string_view id, bool comments) {
    auto number_id = number(id);
    auto it = number_id ? memos_.find(*number_id) : memos_.end();
    if (it == memos_.end() || !it->second.order_key.starts_with(shop + '\n')) return refuse(not_found());
    const auto& memo = it->second;
    common::JsonWriter json;
    json.begin_object();
    if (comments) {
      json.key("items").begin_array();
      if (!memo.comment.empty()) {
        json.begin_object().field("comment", memo.comment).field("entity_id", memo.id * 10);
        json.field("is_customer_notified", 0).field("is_visible_on_front", 0).field("parent_id", memo.id).end_object();
      }
      json.end_array().field("total_count", memo.comment.empty() ? 0 : 1);
    } else {
      json.field("entity_id", memo.id).field("order_id", memo.order_id).field("state", memo.state);
    }
    return refuse(json_response(http::status::ok, json.end_object().take()));
  }

  Reply refund(const Call& call, const std::string& shop, std::string_view id, bool by_invoice) {
    Order* order = nullptr;
    std::string order_key;
    if (by_invoice) {
      auto invoice = number(id);
      for (auto& [key, candidate] : orders_) {
        if (invoice && candidate.invoice_id == *invoice && key.starts_with(shop + '\n')) {
          order = &candidate;
          order_key = key;
        }
      }
    } else {
      order = find(shop, id);
      order_key = shop + '\n' + std::string(id);
    }
    if (!order) return refuse(not_found());
    struct Line {
      long long item_id = 0, qty = -1;
    };
    std::vector<Line> lines;
    bool online = false, items_given = false;
    std::optional<long long> shipping, adjustment_positive, adjustment_negative;
    std::vector<long long> to_stock;
    std::string comment;
    bool ok = true;
    int exponent = order->exponent;
    auto read = each_body_member(call.request.body(), [&](std::string_view key, od::value value) {
      if (key == "items") {
        items_given = true;
        od::array list;
        if (value.get_array().get(list)) return ok = false;
        for (auto entry : list) {
          od::value object;
          if (entry.get(object)) return ok = false;
          Line line;
          bool read_line = each_member(object, [&](std::string_view name, od::value field) {
            std::int64_t n = 0;
            double q = 0;
            if (name == "order_item_id") return !field.get_int64().get(n) && (line.item_id = n, true);
            if (name == "qty") return !field.get_double().get(q) && q >= 0 && (line.qty = std::llround(q), true);
            return true;
          });
          if (!read_line || line.item_id == 0 || line.qty < 0) return ok = false;
          lines.push_back(line);
        }
      } else if (key == "isOnline" || key == "is_online") {
        if (value.get_bool().get(online)) return ok = false;
      } else if (key == "comment") {
        return each_member(value, [&](std::string_view name, od::value field) {
          std::string_view text;
          if (name == "comment" && !field.get_string().get(text)) comment = std::string(text);
          return true;
        });
      } else if (key == "arguments") {
        return each_member(value, [&](std::string_view name, od::value field) {
          if (name == "shipping_amount") return (shipping = minor_from(field, exponent)).has_value();
          if (name == "adjustment_positive") return (adjustment_positive = minor_from(field, exponent)).has_value();
          if (name == "adjustment_negative") return (adjustment_negative = minor_from(field, exponent)).has_value();
          if (name == "extension_attributes") {
            return each_member(field, [&](std::string_view inner, od::value list_value) {
              if (inner != "return_to_stock_items") return true;
              od::array list;
              if (list_value.get_array().get(list)) return false;
              for (auto entry : list) {
                std::int64_t n = 0;
                if (entry.get_int64().get(n)) return false;
                to_stock.push_back(n);
              }
              return true;
            });
          }
          return true;
        });
      }
      return true;
    });
    if (read != BodyRead::ok || !ok) return refuse(error(http::status::bad_request, "Decoding error."));
    // Magento's RefundOrder / RefundInvoice validation, in its order.
    if (order->state == "canceled" || order->state == "closed" || !order->invoice_id ||
        order->invoiced() - order->refunded_minor <= 0) {
      return refuse(error(http::status::bad_request,
                          "Creditmemo Document Validation Error(s):\nThe order does not allow a creditmemo."));
    }
    if (online && !by_invoice) {
      return refuse(error(http::status::bad_request,
                          "Creditmemo Document Validation Error(s):\n"
                          "The credit memo can be refunded online only through an invoice."));
    }
    std::map<long long, long long> qty;  // item id → qty refunded now
    if (!items_given || lines.empty()) {
      for (const auto& item : order->items) qty[item.item_id] = item.qty_invoiced - item.qty_refunded;
    } else {
      for (const auto& line : lines) qty[line.item_id] += line.qty;
    }
    long long total = 0;
    for (const auto& [item_id, count] : qty) {
      auto item =
          std::find_if(order->items.begin(), order->items.end(), [&](const Item& i) { return i.item_id == item_id; });
      if (item == order->items.end()) {
        return refuse(error(http::status::bad_request,
                            "Creditmemo Document Validation Error(s):\n"
                            "The creditmemo contains product item that is not part of the "
                            "original order."));
      }
      if (count > item->qty_invoiced - item->qty_refunded) {
        return refuse(error(http::status::bad_request,
                            "Creditmemo Document Validation Error(s):\nThe quantity to creditmemo must not be greater "
                            "than the unrefunded quantity for product SKU \"%1\".",
                            {item->sku}));
      }
      total += count * item->price_minor;
    }
    long long shipping_now = shipping.value_or(order->shipping_minor - order->shipping_refunded_minor);
    if (shipping_now > order->shipping_minor - order->shipping_refunded_minor) {
      return refuse(error(http::status::bad_request, "Maximum shipping amount allowed to refund is: %1",
                          {decimal(order->shipping_minor - order->shipping_refunded_minor, exponent)}));
    }
    total += shipping_now + adjustment_positive.value_or(0) - adjustment_negative.value_or(0);
    if (total <= 0) return refuse(error(http::status::bad_request, "The credit memo's total must be positive."));
    long long available = order->invoiced() - order->refunded_minor;
    if (total > available) {
      return refuse(error(http::status::bad_request, "The most money available to refund is %1.",
                          {decimal(available, exponent)}));
    }
    // Made: the order's refunded totals, the memo, and what goes back to stock.
    bool restocked = false;
    for (auto& item : order->items) {
      auto it = qty.find(item.item_id);
      if (it == qty.end()) continue;
      item.qty_refunded += it->second;
      restocked =
          restocked || (it->second > 0 && std::find(to_stock.begin(), to_stock.end(), item.item_id) != to_stock.end());
    }
    order->shipping_refunded_minor += shipping_now;
    order->refunded_minor += total;
    if (order->refunded_minor >= order->grand_total()) order->state = order->status = "closed";
    Memo memo{next_memo_++, order_key, order->entity_id, total, 2, comment};
    auto memo_id = memo.id;
    memos_[memo_id] = std::move(memo);
    Reply reply = refuse(json_response(http::status::ok, std::to_string(memo_id)));
    Effect effect = effect_of(call, name(), Action::refund, std::to_string(memo_id));
    effect.amount_minor = total;
    effect.currency = order->currency;
    for (auto& c : effect.currency) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    effect.status = "succeeded";
    reply.effect = std::move(effect);
    if (restocked) reply.more_effects.push_back(effect_of(call, name(), Action::restock, std::to_string(memo_id)));
    return reply;
  }

  std::map<std::string, Order> orders_;  // shop '\n' entity id
  std::map<long long, Memo> memos_;
  std::set<std::string> nonces_;
  std::deque<std::string> nonce_order_;
  bool bearer_enabled_ = false;
  long long next_memo_ = 1;  // never reset: ids stay unique for the process
  long long next_invoice_ = 1;
};

}  // namespace

std::unique_ptr<Provider> make_magento(const ProviderOptions&) { return std::make_unique<Magento>(); }

}  // namespace rescind::sandbox
