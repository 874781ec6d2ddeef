// BigCommerce's REST API under /stores/{store_hash}: PUT /v2/orders/{id} (status_id; v2 order
// JSON back), GET and POST /v3/orders/{id}/payment_actions/refunds and POST
// …/payment_actions/refund_quotes, in v3's {"data":…,"meta":…} envelopes. X-Auth-Token
// checked (401 without the test token), v3 errors {"status","title","type","errors":{}}, 404
// for an order the store does not have (ids 1 to 999999999 exist, paid 10000.00 USD), 422
// for a refund over what is left. No idempotency key, as at BigCommerce: a refund sent twice
// is two refunds. A refund is processing for refund_processing_ms after it is made, and a
// second one on the order meanwhile answers 409 (BigCommerce processes them one at a time).
// The per-store quota is a window (150 requests per 30 s, like Standard and Plus plans) with
// the four X-Rate-Limit headers on every answer and 429 past it.
// Controls: POST /__bigcommerce/quota {"requests":N,"window_ms":M,"exhausted":0|1};
// POST /__bigcommerce/stats (requests, throttled, most_in_window, refund_conflicts);
// POST /__bigcommerce/processing {"refund_processing_ms":M}; POST /__bigcommerce/after_effect
// {"refund_errors":N}: the next N refunds are made and then answered 500, as when the gateway
// took the money but BigCommerce's answer failed: the client cannot tell it from a lost one.
#include <map>
#include <vector>

#include "common/bigcommerce_credentials.hpp"
#include "common/json_text.hpp"
#include "sandbox/json_body.hpp"
#include "sandbox/providers.hpp"

namespace rescind::sandbox {
namespace {

namespace od = simdjson::ondemand;
using Clock = std::chrono::system_clock;

constexpr std::string_view stores_prefix = "/stores/";
constexpr std::string_view error_type = "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes";
constexpr std::int64_t order_total_minor = 1'000'000;  // 10000.00 USD

Response v3_error(http::status status, std::string_view title) {
  common::JsonWriter json;
  json.begin_object().field("status", static_cast<unsigned>(status)).field("title", title).field("type", error_type);
  json.key("errors").begin_object().end_object();
  return json_response(status, json.end_object().take());
}

std::string decimal(std::int64_t minor) {
  auto text = std::to_string(minor / 100) + "." + (minor % 100 < 10 ? "0" : "") + std::to_string(minor % 100);
  return text;
}

// "149.00" or 149 or 149.5 as a JSON number → minor units; nullopt when not a number.
std::optional<std::int64_t> amount_of(od::value value) {
  double amount = 0;
  if (value.get_double().get(amount) || amount < 0 || amount > 1e12) return std::nullopt;
  return static_cast<std::int64_t>(std::llround(amount * 100));
}

struct Refund {
  std::int64_t id;
  std::string reason;
  std::int64_t amount;
  Clock::time_point at;
};

struct Order {
  int status_id = 11;  // Awaiting Fulfillment
  std::vector<Refund> refunds;
  Clock::time_point processing_until{};
  std::int64_t refunded() const {
    std::int64_t sum = 0;
    for (const auto& refund : refunds) sum += refund.amount;
    return sum;
  }
};

struct Window {
  Clock::time_point start{};
  long long used = 0;
};

struct Target {
  std::string_view store, version, order, action;  // action: "", "refunds", "refund_quotes"
};

// /stores/{hash}/v2/orders/{id} or /stores/{hash}/v3/orders/{id}/payment_actions/{action}.
std::optional<Target> parse_target(std::string_view path) {
  path.remove_prefix(stores_prefix.size());
  Target target;
  auto slash = path.find('/');
  if (slash == std::string_view::npos || slash == 0) return std::nullopt;
  target.store = path.substr(0, slash);
  path.remove_prefix(slash + 1);
  if (!path.starts_with("v2/orders/") && !path.starts_with("v3/orders/")) return std::nullopt;
  target.version = path.substr(0, 2);
  path.remove_prefix(10);
  slash = path.find('/');
  target.order = path.substr(0, slash);
  if (target.order.empty()) return std::nullopt;
  if (slash == std::string_view::npos) return target.version == "v2" ? std::optional(target) : std::nullopt;
  if (target.version != "v3") return std::nullopt;
  auto rest = path.substr(slash + 1);
  if (rest != "payment_actions/refunds" && rest != "payment_actions/refund_quotes") return std::nullopt;
  target.action = rest.substr(16);
  return target;
}

bool known_order(std::string_view id) {
  if (id.empty() || id.size() > 9 || id.front() == '0') return false;
  for (char c : id) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

class BigCommerce final : public Provider {
 public:
  std::string_view name() const override { return "bigcommerce"; }
  bool owns(std::string_view path) const override { return path.starts_with(stores_prefix); }

  Reply handle(Call& call) override {
    auto target = parse_target(call.path);
    if (!target) return refuse(v3_error(http::status::not_found, "The requested resource was not found"));
    auto& window = windows_[std::string(target->store)];
    if (call.now - window.start >= window_) window = Window{call.now, 0};
    if (exhausted_) {
      window.used = quota_;
      exhausted_ = false;
    }
    if (window.used >= quota_) {
      ++throttled_;
      Reply reply = refuse(v3_error(http::status::too_many_requests, "Too many requests"));
      add_quota_headers(reply.response, window, call.now);
      return reply;
    }
    ++window.used;
    ++requests_;
    most_in_window_ = std::max(most_in_window_, window.used);
    Reply reply = route(call, *target);
    add_quota_headers(reply.response, window, call.now);
    return reply;
  }

  Response failure(const Failure& failure) const override {
    auto response = v3_error(failure.status, "Sandbox: injected failure");
    if (failure.status == http::status::too_many_requests) {
      auto reset = static_cast<long long>(failure.retry_after_s.value_or(1)) * 1000;
      response.set("X-Rate-Limit-Requests-Left", "0");
      response.set("X-Rate-Limit-Time-Reset-Ms", std::to_string(reset));
      response.set("X-Rate-Limit-Requests-Quota", std::to_string(quota_));
      response.set("X-Rate-Limit-Time-Window-Ms", std::to_string(window_.count()));
    }
    return response;
  }

  void reset() override {
    orders_.clear();
    windows_.clear();
    quota_ = 150;
    window_ = std::chrono::milliseconds(30'000);
    processing_ = std::chrono::milliseconds(0);
    exhausted_ = false;
    errors_after_effect_ = 0;
    requests_ = throttled_ = most_in_window_ = conflicts_ = 0;
  }

  std::optional<Response> control(std::string_view action, Request& request, Clock::time_point, Ledger&) override {
    if (action == "stats") {
      common::JsonWriter json;
      json.begin_object().field("requests", requests_).field("throttled", throttled_);
      json.field("most_in_window", most_in_window_).field("refund_conflicts", conflicts_);
      return json_response(http::status::ok, json.end_object().take());
    }
    std::map<std::string, long long> fields;
    if (action == "quota") {
      fields = {{"requests", quota_}, {"window_ms", window_.count()}, {"exhausted", 0}};
    } else if (action == "processing") {
      fields = {{"refund_processing_ms", processing_.count()}};
    } else if (action == "after_effect") {
      fields = {{"refund_errors", errors_after_effect_}};
    } else {
      return std::nullopt;
    }
    if (!control_integers(request.body(), fields)) {
      return json_strings_response(http::status::bad_request, {{"error", "a JSON object of known integer fields"}});
    }
    if (action == "quota") {
      quota_ = std::max(1ll, fields["requests"]);
      window_ = std::chrono::milliseconds(std::max(1ll, fields["window_ms"]));
      exhausted_ = fields["exhausted"] != 0;
      windows_.clear();
    } else if (action == "processing") {
      processing_ = std::chrono::milliseconds(fields["refund_processing_ms"]);
    } else {
      errors_after_effect_ = fields["refund_errors"];
    }
    return json_strings_response(http::status::ok, {{"ok", "true"}});
  }

 private:
  void add_quota_headers(Response& response, const Window& window, Clock::time_point now) const {
    // Rounded up: a client that waits this long finds the next window open.
    auto reset = std::chrono::ceil<std::chrono::milliseconds>(window.start + window_ - now).count();
    response.set("X-Rate-Limit-Requests-Left", std::to_string(std::max(0ll, quota_ - window.used)));
    response.set("X-Rate-Limit-Time-Reset-Ms", std::to_string(std::max(0ll, static_cast<long long>(reset))));
    response.set("X-Rate-Limit-Requests-Quota", std::to_string(quota_));
    response.set("X-Rate-Limit-Time-Window-Ms", std::to_string(window_.count()));
  }

  Reply route(Call& call, const Target& target) {
    auto token = header(call.request, "X-Auth-Token");
    if (token != sandbox_credentials::bigcommerce_access_token) {
      return refuse(v3_error(http::status::unauthorized, "Unauthorized: the X-Auth-Token is missing or invalid"));
    }
    if (!known_order(target.order)) return refuse(v3_error(http::status::not_found, "Order not found"));
    auto& order = orders_[std::string(target.store) + "/" + std::string(target.order)];
    auto method = call.request.method();
    if (target.version == "v2") {
      if (method == http::verb::put) return update(call, target, order);
      if (method == http::verb::get) return refuse(json_response(http::status::ok, order_json(target, order)));
      return refuse(method_not_allowed("GET, PUT", "application/json", "[]"));
    }
    if (target.action == "refunds" && method == http::verb::get) return list(order);
    if (method != http::verb::post) return refuse(method_not_allowed("POST", "application/json", "{}"));
    return target.action == "refunds" ? create_refund(call, target, order) : quote(target, order, call);
  }

  std::string order_json(const Target& target, const Order& order) const {
    common::JsonWriter json;
    json.begin_object().key("id").raw(target.order).field("status_id", order.status_id);
    json.field("status", order.status_id == 5   ? "Cancelled"
                         : order.status_id == 4 ? "Refunded"
                                                : "Awaiting Fulfillment");
    json.field("currency_code", "USD").field("total_inc_tax", decimal(order_total_minor));
    json.field("refunded_amount", decimal(order.refunded())).field("payment_provider_id", "sandbox-txn-1");
    return json.end_object().take();
  }

  Reply update(Call& call, const Target& target, Order& order) {
    std::optional<std::int64_t> status;
    auto read = each_body_member(call.request.body(), [&](std::string_view key, od::value value) {
      std::int64_t number = 0;
      if (key == "status_id" && !value.get_int64().get(number)) status = number;
      return true;
    });
    if (read != BodyRead::ok) return refuse(v3_error(http::status::bad_request, "The request body is not valid JSON"));
    if (!status || *status < 0 || *status > 14) {
      return refuse(v3_error(http::status::bad_request, "status_id: a valid order status id"));
    }
    bool was_cancelled = order.status_id == 5;
    order.status_id = static_cast<int>(*status);
    Reply reply = refuse(json_response(http::status::ok, order_json(target, order)));
    if (order.status_id == 5 && !was_cancelled) {
      reply.effect = effect_of(call, name(), Action::cancel, std::string(target.order));
      // The store's inventory settings return the stock on cancellation (the sandbox store's do).
      reply.more_effects.push_back(effect_of(call, name(), Action::restock, std::string(target.order)));
    }
    return reply;
  }

  Reply list(const Order& order) const {
    common::JsonWriter json;
    json.begin_object().key("data").begin_array();
    for (const auto& refund : order.refunds) {
      json.begin_object().field("id", refund.id).field("reason", refund.reason);
      json.key("total_amount").raw(decimal(refund.amount)).field("total_tax", 0);
      json.key("payments").begin_array().begin_object().field("provider_id", "braintree");
      json.key("amount").raw(decimal(refund.amount)).field("offline", false).field("is_declined", false);
      json.end_object().end_array().end_object();
    }
    json.end_array().key("meta").begin_object().end_object();
    return refuse(json_response(http::status::ok, json.end_object().take()));
  }

  // items[0] of a quote or refund: {"item_type":"ORDER","item_id":<order>,"amount":…,"reason":…}.
  struct Items {
    std::optional<std::int64_t> amount;
    std::string reason;
    bool valid = false;
  };
  struct Body {
    Items items;
    std::optional<std::int64_t> paid;  // payments[].amount together
    bool has_payments = false;
  };

  static std::optional<Body> read_body(std::string& text, std::string_view order) {
    Body body;
    auto read = each_body_member(text, [&](std::string_view key, od::value value) {
      od::array list;
      if (key == "items") {
        if (value.get_array().get(list)) return false;
        std::size_t count = 0;
        for (auto entry : list) {
          od::value item;
          if (entry.get(item)) return false;
          ++count;
          std::string_view type, reason;
          std::int64_t id = 0;
          bool ok = each_member(item, [&](std::string_view name, od::value field) {
            if (name == "item_type") return !field.get_string().get(type);
            if (name == "item_id") return !field.get_int64().get(id);
            if (name == "amount") return (body.items.amount = amount_of(field)).has_value();
            if (name == "reason") return !field.get_string().get(reason);
            return name == "quantity";
          });
          if (!ok) return false;
          body.items.reason = std::string(reason);
          body.items.valid = count == 1 && type == "ORDER" && std::to_string(id) == order && body.items.amount;
        }
        return true;
      }
      if (key == "payments") {
        if (value.get_array().get(list)) return false;
        body.has_payments = true;
        std::int64_t sum = 0;
        for (auto entry : list) {
          od::value payment;
          if (entry.get(payment)) return false;
          std::optional<std::int64_t> amount;
          std::string_view provider;
          bool ok = each_member(payment, [&](std::string_view name, od::value field) {
            if (name == "amount") return (amount = amount_of(field)).has_value();
            if (name == "provider_id") return !field.get_string().get(provider);
            if (name == "offline") return true;
            return false;
          });
          if (!ok || !amount || provider.empty()) return false;
          sum += *amount;
        }
        body.paid = sum;
        return true;
      }
      return key == "merchant_calculated_override";
    });
    if (read != BodyRead::ok) return std::nullopt;
    return body;
  }

  Reply quote(const Target& target, const Order& order, Call& call) {
    auto body = read_body(call.request.body(), target.order);
    if (!body || !body->items.valid) return refuse(v3_error(http::status::unprocessable_entity, "items: invalid"));
    auto left = order_total_minor - order.refunded();
    if (*body->items.amount > left) {
      return refuse(v3_error(http::status::unprocessable_entity, "Refund amount is greater than remaining amount"));
    }
    auto amount = decimal(*body->items.amount);
    common::JsonWriter json;
    json.begin_object().key("data").begin_object().key("order_id").raw(target.order);
    json.key("total_refund_amount").raw(amount).field("total_refund_tax_amount", 0).field("rounding", 0);
    json.field("adjustment", 0).field("tax_inclusive", true).key("refund_methods").begin_array();
    // Store credit first, as BigCommerce lists it; then the gateway the customer paid through.
    for (auto [provider, description] :
         {std::pair{"storecredit", "Store Credit"}, std::pair{"braintree", "Braintree"}}) {
      json.begin_array().begin_object().field("provider_id", provider).field("provider_description", description);
      json.key("amount").raw(amount).field("offline", false).field("offline_provider", false);
      json.field("offline_reason", "").end_object().end_array();
    }
    json.end_array().end_object().key("meta").begin_object().end_object();
    return refuse(json_response(http::status::created, json.end_object().take()));
  }

  Reply create_refund(Call& call, const Target& target, Order& order) {
    auto body = read_body(call.request.body(), target.order);
    if (!body || !body->items.valid || !body->has_payments) {
      return refuse(v3_error(http::status::unprocessable_entity, "items and payments: invalid"));
    }
    if (call.now < order.processing_until) {
      ++conflicts_;
      return refuse(v3_error(http::status::conflict, "A refund on this order is being processed"));
    }
    auto left = order_total_minor - order.refunded();
    if (*body->items.amount > left || body->paid != body->items.amount) {
      return refuse(v3_error(http::status::unprocessable_entity, "Refund amount is greater than remaining amount"));
    }
    Refund refund{next_refund_++, body->items.reason, *body->items.amount, call.now};
    order.refunds.push_back(refund);
    order.processing_until = call.now + processing_;
    if (order.refunded() >= order_total_minor) order.status_id = 4;
    common::JsonWriter json;
    json.begin_object().key("data").begin_object().field("id", refund.id).key("order_id").raw(target.order);
    json.field("reason", refund.reason).key("total_amount").raw(decimal(refund.amount)).field("total_tax", 0);
    json.end_object().key("meta").begin_object().end_object();
    Reply reply = refuse(json_response(http::status::created, json.end_object().take()));
    if (errors_after_effect_ > 0) {
      --errors_after_effect_;
      reply.response = v3_error(http::status::internal_server_error, "Internal Server Error");
    }
    Effect effect = effect_of(call, name(), Action::refund, std::to_string(refund.id));
    effect.amount_minor = refund.amount;
    effect.currency = "usd";
    effect.status = "succeeded";
    reply.effect = std::move(effect);
    return reply;
  }

  std::map<std::string, Order> orders_;
  std::map<std::string, Window> windows_;
  long long quota_ = 150;
  std::chrono::milliseconds window_{30'000};
  std::chrono::milliseconds processing_{0};
  bool exhausted_ = false;
  long long errors_after_effect_ = 0;
  long long requests_ = 0, throttled_ = 0, most_in_window_ = 0, conflicts_ = 0;
  std::int64_t next_refund_ = 1;  // never reset: refund ids stay unique for the process
};

}  // namespace

std::unique_ptr<Provider> make_bigcommerce(const ProviderOptions&) { return std::make_unique<BigCommerce>(); }

}  // namespace rescind::sandbox
