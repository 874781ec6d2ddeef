// WooCommerce REST API v3 of many self-hosted sites: /sites/{domain}/wp-json/wc/v3/…, each
// site its own orders. GET and PUT /orders/{id} (status "cancelled": the cancel effect and,
// when the order had reduced stock, the restock effect, as wc_maybe_increase_stock_levels
// does; cancelling a cancelled order changes nothing), GET and POST /orders/{id}/refunds and
// GET /orders/{id}/refunds/{refund}. HTTP Basic with the consumer key and secret (accepted
// over the sandbox's plain http, where a real site would want OAuth 1.0a). WP REST's error
// shape {"code","message","data":{"status"}}; a refund over what is left to refund answers
// 500 woocommerce_rest_cannot_create_order_refund, as wc_create_refund's refusal does, and no
// refund is made. No idempotency, as WooCommerce has none: every POST that passes makes one.
// Orders no scenario described exist (processing, 10,000.00 USD, stock reduced). Scenario:
// POST /__woocommerce/order {"site","id","status","total","currency","refunded","missing"}
// (refunded: a refund someone else made; missing: the id answers 404) and
// POST /__woocommerce/gateway {"refusals":N} (the gateway refuses the next N api_refunds).
#include <map>
#include <set>

#include "common/json_text.hpp"
#include "common/woocommerce_credentials.hpp"
#include "sandbox/auth.hpp"
#include "sandbox/form.hpp"
#include "sandbox/json_body.hpp"
#include "sandbox/providers.hpp"

namespace rescind::sandbox {
namespace {

namespace od = simdjson::ondemand;

constexpr std::string_view sites_prefix = "/sites/";
constexpr std::string_view api_infix = "/wp-json/wc/v3/";
constexpr std::string_view statuses[] = {"pending",   "processing", "on-hold", "completed",
                                         "cancelled", "refunded",   "failed",  "trash"};

Response error_response(http::status status, std::string_view code, std::string_view message) {
  common::JsonWriter json;
  json.begin_object().field("code", code).field("message", message);
  json.key("data").begin_object().field("status", static_cast<unsigned>(status)).end_object();
  return json_response(status, json.end_object().take());
}

Reply refuse(http::status status, std::string_view code, std::string_view message) {
  return sandbox::refuse(error_response(status, code, message));
}

Reply no_route() {
  return refuse(http::status::not_found, "rest_no_route", "No route was found matching the URL and request method.");
}

Reply invalid_param(std::string_view param, std::string_view why) {
  common::JsonWriter json;
  json.begin_object()
      .field("code", "rest_invalid_param")
      .field("message", "Invalid parameter(s): " + std::string(param));
  json.key("data").begin_object().field("status", 400).key("params").begin_object().field(param, why).end_object();
  return sandbox::refuse(json_response(http::status::bad_request, json.end_object().end_object().take()));
}

// Minor units of a 2-decimal currency (the sandbox's orders are in such currencies).
std::optional<std::int64_t> cents(std::string_view text) {
  auto dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  std::string_view fraction = dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
  if (whole.empty() || whole.size() > 12 || fraction.size() > 2) return std::nullopt;
  std::int64_t value = 0;
  for (char c : whole) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  for (std::size_t i = 0; i < 2; ++i) {
    char c = i < fraction.size() ? fraction[i] : '0';
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

std::string decimal(std::int64_t minor) {
  std::string sign = minor < 0 ? "-" : "";
  if (minor < 0) minor = -minor;
  auto fraction = std::to_string(minor % 100);
  return sign + std::to_string(minor / 100) + "." + (fraction.size() < 2 ? "0" : "") + fraction;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

struct RefundRecord {
  long long id = 0;
  std::int64_t amount = 0;
  std::string reason;
  std::string job_id;  // meta_data rescind_job_id
  bool refunded_payment = false;
  std::string created;
};

struct Order {
  long long id = 0;
  std::string status = "processing";
  std::string currency = "USD";
  std::int64_t total = 1'000'000;  // 10,000.00
  bool stock_reduced = true;
  bool missing = false;
  std::vector<RefundRecord> refunds;

  std::int64_t refunded() const {
    std::int64_t sum = 0;
    for (const auto& refund : refunds) sum += refund.amount;
    return sum;
  }
};

std::string iso_time(std::chrono::system_clock::time_point at) {
  auto seconds = std::chrono::system_clock::to_time_t(at);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return buf;
}

void write_refund(common::JsonWriter& json, const RefundRecord& refund) {
  json.begin_object().field("id", refund.id).field("date_created", refund.created);
  json.field("date_created_gmt", refund.created).field("amount", decimal(refund.amount));
  json.field("reason", refund.reason).field("refunded_by", 1).field("refunded_payment", refund.refunded_payment);
  json.key("meta_data").begin_array();
  if (!refund.job_id.empty()) {
    json.begin_object().field("id", refund.id * 10).field("key", "rescind_job_id").field("value", refund.job_id);
    json.end_object();
  }
  json.end_array().key("line_items").begin_array().end_array().end_object();
}

std::string order_json(const Order& order) {
  common::JsonWriter json;
  json.begin_object().field("id", order.id).field("parent_id", 0).field("status", order.status);
  json.field("currency", order.currency).field("total", decimal(order.total)).field("payment_method", "stripe");
  json.key("meta_data").begin_array().end_array().key("refunds").begin_array();
  for (const auto& refund : order.refunds) {
    json.begin_object().field("id", refund.id).field("reason", refund.reason);
    json.field("total", decimal(-refund.amount)).end_object();
  }
  return json.end_array().end_object().take();
}

class WooCommerce final : public Provider {
 public:
  std::string_view name() const override { return "woocommerce"; }
  bool owns(std::string_view path) const override {
    return path.starts_with(sites_prefix) && path.find(api_infix) != std::string_view::npos;
  }

  Reply handle(Call& call) override {
    std::string_view rest = call.path.substr(sites_prefix.size());
    auto infix = rest.find(api_infix);
    std::string site(rest.substr(0, infix));
    std::string_view route = rest.substr(infix + api_infix.size());
    auto verb = call.request.method();
    if (auto refused = authenticate(call.request, verb)) return std::move(*refused);

    // orders/{id}, orders/{id}/refunds, orders/{id}/refunds/{refund}: ids are digits (WP's
    // route patterns), anything else has no route.
    std::vector<std::string_view> parts;
    for (std::size_t start = 0; start <= route.size();) {
      auto end = route.find('/', start);
      if (end == std::string_view::npos) end = route.size();
      parts.push_back(route.substr(start, end - start));
      start = end + 1;
    }
    auto digits = [](std::string_view text) {
      return !text.empty() && text.size() < 18 &&
             std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
    };
    if (parts.size() < 2 || parts[0] != "orders" || !digits(parts[1])) return no_route();
    long long id = std::stoll(std::string(parts[1]));
    if (parts.size() == 2) {
      if (verb == http::verb::get) return get_order(site, id);
      if (verb == http::verb::put || verb == http::verb::post || verb == http::verb::patch)
        return update_order(call, site, id);
      return no_route();
    }
    if (parts[2] != "refunds") return no_route();
    if (parts.size() == 3) {
      if (verb == http::verb::get) return list_refunds(call, site, id);
      if (verb == http::verb::post) return create_refund(call, site, id);
      return no_route();
    }
    if (parts.size() == 4 && digits(parts[3]) && verb == http::verb::get)
      return get_refund(site, id, std::stoll(std::string(parts[3])));
    return no_route();
  }

  Response failure(const Failure& failure) const override {
    unsigned code = static_cast<unsigned>(failure.status);
    if (code == 401)
      return error_response(failure.status, "woocommerce_rest_authentication_error", "Consumer key is invalid.");
    // WooCommerce has no limiter of its own: a 429 or a 502-504 comes from the host or a
    // proxy in front of it, as a page of its own, not in WP REST's shape.
    if (code == 429 || code == 502 || code == 503 || code == 504) {
      return make_response(failure.status, "text/html",
                           "<html><body><h1>" + std::to_string(code) + "</h1>Sandbox: the host refused</body></html>");
    }
    // A PHP fatal error as WordPress answers it in a REST request.
    if (code >= 500)
      return error_response(failure.status, "internal_server_error",
                            "<p>There has been a critical error on this website.</p>");
    return error_response(failure.status, "sandbox_injected", "Sandbox: injected failure");
  }

  void reset() override {
    orders_.clear();
    gateway_refusals_ = 0;
  }

  std::optional<Response> control(std::string_view action, Request& request, std::chrono::system_clock::time_point,
                                  Ledger&) override {
    if (action == "gateway") {
      std::map<std::string, long long> fields{{"refusals", 0}};
      if (!control_integers(request.body(), fields))
        return error_response(http::status::bad_request, "bad_request", "{\"refusals\":N}");
      gateway_refusals_ = fields["refusals"];
      return json_response(http::status::ok, R"({"refusals":)" + std::to_string(gateway_refusals_) + "}");
    }
    if (action != "order") return std::nullopt;
    std::string site, id, status, total, currency, refunded;
    bool missing = false;
    auto read = each_body_member(request.body(), [&](std::string_view key, od::value value) {
      std::string_view text;
      if (key == "missing") return !value.get_bool().get(missing);
      if (value.get_string().get(text)) return false;
      if (key == "site")
        site = text;
      else if (key == "id")
        id = text;
      else if (key == "status")
        status = text;
      else if (key == "total")
        total = text;
      else if (key == "currency")
        currency = text;
      else if (key == "refunded")
        refunded = text;
      else
        return false;
      return true;
    });
    bool known_status = status.empty();
    for (auto s : statuses) known_status = known_status || status == s;
    if (read != BodyRead::ok || site.empty() || id.empty() || id.size() > 17 || !known_status ||
        id.find_first_not_of("0123456789") != std::string::npos || (!total.empty() && !cents(total)) ||
        (!refunded.empty() && !cents(refunded))) {
      return error_response(
          http::status::bad_request, "bad_request",
          R"(expected {"site","id":"digits","status","total":"149.00","currency","refunded","missing"})");
    }
    Order& order = find(site, std::stoll(id));
    if (!status.empty()) order.status = status;
    if (!currency.empty()) order.currency = currency;
    if (!total.empty()) order.total = *cents(total);
    order.missing = missing;
    if (!refunded.empty() && *cents(refunded) > 0) {
      order.refunds.push_back(
          RefundRecord{next_refund_++, *cents(refunded), "Refunded in the admin", {}, true, "2026-11-22T16:30:00"});
    }
    return json_response(http::status::ok, order_json(order));
  }

 private:
  // Basic auth with the sandbox's key and secret. Without it WordPress knows no user, and the
  // permission check refuses with the route's own code (WCS: rest_authorization_required_code
  // is 401 then).
  std::optional<Reply> authenticate(const Request& request, http::verb verb) const {
    auto credentials = basic_credentials(request);
    if (!credentials) {
      if (verb == http::verb::get)
        return refuse(http::status::unauthorized, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.");
      if (verb == http::verb::post)
        return refuse(http::status::unauthorized, "woocommerce_rest_cannot_create",
                      "Sorry, you are not allowed to create resources.");
      return refuse(http::status::unauthorized, "woocommerce_rest_cannot_edit",
                    "Sorry, you are not allowed to edit this resource.");
    }
    if (credentials->user != sandbox_credentials::woocommerce_consumer_key)
      return refuse(http::status::unauthorized, "woocommerce_rest_authentication_error", "Consumer key is invalid.");
    if (credentials->password != sandbox_credentials::woocommerce_consumer_secret)
      return refuse(http::status::unauthorized, "woocommerce_rest_authentication_error", "Consumer secret is invalid.");
    return std::nullopt;
  }

  Order& find(const std::string& site, long long id) {
    auto& order = orders_[{site, id}];
    order.id = id;
    return order;
  }

  // The order, or nullptr when it does not exist (the refunds routes say so in their own code).
  Order* existing(const std::string& site, long long id) {
    Order& order = find(site, id);
    return order.missing ? nullptr : &order;
  }

  Reply get_order(const std::string& site, long long id) {
    Order* order = existing(site, id);
    if (!order) return refuse(http::status::not_found, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.");
    return sandbox::refuse(json_response(http::status::ok, order_json(*order)));
  }

  Reply update_order(Call& call, const std::string& site, long long id) {
    Order* order = existing(site, id);
    if (!order) return refuse(http::status::not_found, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.");
    std::string status;
    bool status_string = true;
    auto read = each_body_member(call.request.body(), [&](std::string_view key, od::value value) {
      std::string_view text;
      if (key != "status") return true;
      status_string = !value.get_string().get(text);
      status = text;
      return true;
    });
    if (read == BodyRead::malformed || read == BodyRead::not_object)
      return refuse(http::status::bad_request, "rest_invalid_json", "Invalid JSON body passed.");
    bool known = status.empty();
    for (auto s : statuses) known = known || status == s;
    if (!status_string || !known) {
      return invalid_param("status",
                           "status is not one of pending, processing, on-hold, completed, cancelled, refunded, "
                           "failed, and trash.");
    }
    Reply reply = sandbox::refuse(json_response(http::status::ok, order_json(*order)));
    if (status.empty() || status == order->status) return reply;  // no transition, no hooks
    order->status = status;
    if (status == "cancelled") {
      reply.effect = effect_of(call, name(), Action::cancel, std::to_string(id));
      // woocommerce_order_status_cancelled → wc_maybe_increase_stock_levels: only stock the
      // order reduced, once.
      if (order->stock_reduced) {
        order->stock_reduced = false;
        reply.more_effects.push_back(effect_of(call, name(), Action::restock, std::to_string(id)));
      }
    }
    reply.response = json_response(http::status::ok, order_json(*order));
    return reply;
  }

  Reply list_refunds(Call& call, const std::string& site, long long id) {
    Order* order = existing(site, id);
    if (!order) return refuse(http::status::not_found, "woocommerce_rest_invalid_order_id", "Invalid order ID.");
    long long page = 1, per_page = 10;  // WP REST's default page size
    if (auto form = Form::parse(target_query(call.request.target()))) {
      auto number = [](const std::string* text, long long& out) {
        if (!text) return true;
        if (text->empty() || text->size() > 6 || text->find_first_not_of("0123456789") != std::string::npos)
          return false;
        out = std::stoll(*text);
        return true;
      };
      if (!number(form->find("page"), page) || page < 1)
        return invalid_param("page", "page must be greater than or equal to 1");
      if (!number(form->find("per_page"), per_page) || per_page < 1 || per_page > 100)
        return invalid_param("per_page", "per_page must be between 1 (inclusive) and 100 (inclusive)");
    }
    // Newest first, as WooCommerce lists them (date descending).
    std::vector<const RefundRecord*> newest(order->refunds.size());
    for (std::size_t i = 0; i < order->refunds.size(); ++i) newest[i] = &order->refunds[order->refunds.size() - 1 - i];
    long long total = static_cast<long long>(newest.size());
    long long pages = (total + per_page - 1) / per_page;
    common::JsonWriter json;
    json.begin_array();
    for (long long i = (page - 1) * per_page; i < total && i < page * per_page; ++i) write_refund(json, *newest[i]);
    Response response = json_response(http::status::ok, json.end_array().take());
    response.set("X-WP-Total", std::to_string(total));
    response.set("X-WP-TotalPages", std::to_string(pages));
    return sandbox::refuse(std::move(response));
  }

  Reply get_refund(const std::string& site, long long id, long long refund_id) {
    Order* order = existing(site, id);
    if (!order) return refuse(http::status::not_found, "woocommerce_rest_invalid_order_id", "Invalid order ID.");
    for (const auto& refund : order->refunds) {
      if (refund.id != refund_id) continue;
      common::JsonWriter json;
      write_refund(json, refund);
      return sandbox::refuse(json_response(http::status::ok, json.take()));
    }
    return refuse(http::status::not_found, "woocommerce_rest_shop_order_refund_invalid_id", "Invalid ID.");
  }

  Reply create_refund(Call& call, const std::string& site, long long id) {
    Order* order = existing(site, id);
    if (!order) return refuse(http::status::not_found, "woocommerce_rest_invalid_order_id", "Invalid order ID.");
    std::string amount_text, reason, job_id;
    bool amount_string = true, api_refund = true;
    auto read = each_body_member(call.request.body(), [&](std::string_view key, od::value value) {
      std::string_view text;
      if (key == "amount") {
        amount_string = !value.get_string().get(text);
        amount_text = text;
      } else if (key == "reason") {
        if (!value.get_string().get(text)) reason = text;
      } else if (key == "api_refund") {
        bool flag = true;
        if (!value.get_bool().get(flag)) api_refund = flag;
      } else if (key == "meta_data") {
        od::array list;
        if (value.get_array().get(list)) return true;
        for (auto item : list) {
          od::value entry;
          if (item.get(entry)) return false;
          std::string meta_key, meta_value;
          bool ok = each_member(entry, [&](std::string_view name, od::value field) {
            std::string_view inner;
            if (name == "key" && !field.get_string().get(inner)) meta_key = inner;
            if (name == "value" && !field.get_string().get(inner)) meta_value = inner;
            return true;
          });
          if (!ok) return false;
          if (meta_key == "rescind_job_id") job_id = meta_value;
        }
      }
      return true;
    });
    if (read == BodyRead::malformed || read == BodyRead::not_object)
      return refuse(http::status::bad_request, "rest_invalid_json", "Invalid JSON body passed.");
    auto amount = cents(amount_text);
    if (!amount_string || !amount) return invalid_param("amount", "amount is not of type string.");
    if (*amount <= 0)
      return refuse(http::status::bad_request, "woocommerce_rest_invalid_order_refund",
                    "Refund amount must be greater than zero.");
    // wc_create_refund: more than is left to refund is refused, and the REST controller
    // answers any such refusal as 500 (WCS).
    if (*amount > order->total - order->refunded())
      return refuse(http::status::internal_server_error, "woocommerce_rest_cannot_create_order_refund",
                    "Invalid refund amount.");
    if (api_refund && gateway_refusals_ > 0) {
      // The gateway refused: wc_create_refund deletes the refund it had made, and answers the
      // gateway's message through the same code.
      --gateway_refusals_;
      return refuse(http::status::internal_server_error, "woocommerce_rest_cannot_create_order_refund",
                    "Sandbox gateway: the refund was declined.");
    }
    RefundRecord refund{next_refund_++, *amount, reason, job_id, api_refund, iso_time(call.now)};
    order->refunds.push_back(refund);
    // A full refund moves the order to "refunded" (wc_order_fully_refunded).
    if (order->refunded() >= order->total) order->status = "refunded";
    common::JsonWriter json;
    write_refund(json, refund);
    Reply reply = sandbox::refuse(json_response(http::status::created, json.take()));
    Effect effect = effect_of(call, name(), Action::refund, std::to_string(refund.id), job_id);
    effect.amount_minor = *amount;
    effect.currency = lower(order->currency);
    effect.status = "succeeded";
    effect.text = api_refund ? "api_refund" : "recorded";
    reply.effect = std::move(effect);
    return reply;
  }

  std::map<std::pair<std::string, long long>, Order> orders_;
  long long gateway_refusals_ = 0;
  long long next_refund_ = 9001;  // never reset: refund ids stay unique for the process
};

}  // namespace

std::unique_ptr<Provider> make_woocommerce(const ProviderOptions&) { return std::make_unique<WooCommerce>(); }

}  // namespace rescind::sandbox
