// Shopify Admin GraphQL (POST /shops/{shop}/admin/api/{version}/graphql.json): orderCancel
// (cancel, restock, refund by the platform; "already canceled" as a user error), job polling,
// X-Shopify-Access-Token, query-cost extensions and the HTTP 200 THROTTLED answer.
#include <cstdio>
#include <random>
#include <unordered_set>

#include "common/json_text.hpp"
#include "common/sandbox_credentials.hpp"
#include "sandbox/json_body.hpp"
#include "sandbox/providers.hpp"

namespace rescind::sandbox {
namespace {

namespace od = simdjson::ondemand;

constexpr std::string_view shops_prefix = "/shops/";
constexpr std::string_view api_infix = "/admin/api/";
constexpr std::string_view graphql_suffix = "/graphql.json";
constexpr std::string_view order_gid_prefix = "gid://shopify/Order/";
constexpr std::string_view job_gid_prefix = "gid://shopify/Job/";
constexpr std::string_view reasons[] = {"CUSTOMER", "DECLINED", "FRAUD", "INVENTORY", "STAFF", "OTHER"};
// The sandbox's wording: Shopify's own text for this user error was not verified.
constexpr std::string_view already_canceled = "Cannot cancel an order that has already been canceled.";

Response errors_text(http::status status, std::string_view text) {
  return json_strings_response(status, {{"errors", text}});
}

// extensions.cost as Shopify reports it; actual null when the query did not run.
void append_cost(std::string& out, int requested, std::optional<int> actual, int available) {
  out += ",\"extensions\":{\"cost\":{\"requestedQueryCost\":";
  out += std::to_string(requested);
  out += ",\"actualQueryCost\":";
  out += actual ? std::to_string(*actual) : std::string("null");
  out += ",\"throttleStatus\":{\"maximumAvailable\":2000.0,\"currentlyAvailable\":";
  out += std::to_string(available);
  out += ",\"restoreRate\":100.0}}}";
}

// A top-level GraphQL error for a variable the schema refuses (HTTP 200, no data).
Reply variable_error(std::string_view variable, std::string_view type, std::string_view explanation) {
  std::string body = "{\"errors\":[{\"message\":";
  common::append_json_string(body, "Variable $" + std::string(variable) + " of type " +
                                       std::string(type) + " was provided invalid value");
  body += ",\"extensions\":{\"problems\":[{\"path\":[],\"explanation\":";
  common::append_json_string(body, explanation);
  body += "}]}}]}";
  return refuse(json_response(http::status::ok, std::move(body)));
}

template <class T>
struct Var {
  bool present = false;
  bool wrong_type = false;
  T value{};

  bool bad(bool required) const { return wrong_type || (required && !present); }
  // GraphQL's explanation for a value bad(): null where it must not be, or the wrong type.
  std::string_view problem(std::string_view wrong) const {
    return present ? wrong : std::string_view("Expected value to not be null");
  }
};

// The variables orderCancel and job take; views into the parser's buffer, valid during one call.
struct Variables {
  Var<std::string_view> order_id, reason, staff_note, id;
  Var<bool> refund, restock, notify_customer;
  Var<bool> original_payment_methods_refund;  // refundMethod of newer API versions
  bool has_refund_method = false;
};

struct Body {
  std::string_view query;
  Variables variables;
};

// false when the JSON is malformed; a null value counts as absent.
template <class T>
bool read_var(od::value value, Var<T>& var) {
  bool null = false;
  if (value.is_null().get(null)) return false;
  if (null) return true;
  var.present = true;
  simdjson::error_code error;
  if constexpr (std::is_same_v<T, bool>) {
    error = value.get_bool().get(var.value);
  } else {
    error = value.get_string().get(var.value);
  }
  if (is_malformed(error)) return false;
  var.wrong_type = error != simdjson::SUCCESS;
  return true;
}

bool read_refund_method(od::value value, Variables& vars) {
  od::object method;
  auto error = value.get_object().get(method);
  if (error) return !is_malformed(error);
  vars.has_refund_method = true;
  for (auto member : method) {
    std::string_view key;
    od::value field;
    if (member.unescaped_key().get(key) || member.value().get(field)) return false;
    if (key == "originalPaymentMethodsRefund" && !read_var(field, vars.original_payment_methods_refund)) {
      return false;
    }
  }
  return true;
}

bool read_variables(od::value value, Variables& vars) {
  return each_member(value, [&](std::string_view key, od::value field) {
    if (key == "orderId") return read_var(field, vars.order_id);
    if (key == "reason") return read_var(field, vars.reason);
    if (key == "refund") return read_var(field, vars.refund);
    if (key == "restock") return read_var(field, vars.restock);
    if (key == "notifyCustomer") return read_var(field, vars.notify_customer);
    if (key == "staffNote") return read_var(field, vars.staff_note);
    if (key == "id") return read_var(field, vars.id);
    if (key == "refundMethod") return read_refund_method(field, vars);
    return true;
  });
}

bool read_body(std::string& text, Body& body) {
  auto read = each_body_member(text, [&](std::string_view key, od::value value) {
    if (key == "query") return !is_malformed(value.get_string().get(body.query));
    if (key == "variables") return read_variables(value, body.variables);
    return true;
  });
  return read == BodyRead::ok;
}

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Whether the document selects `field(…)`: the name as a whole word, then "(".
bool selects(std::string_view query, std::string_view field) {
  for (auto at = query.find(field); at != std::string_view::npos; at = query.find(field, at + 1)) {
    if (at > 0 && is_name_char(query[at - 1])) continue;
    auto next = at + field.size();
    while (next < query.size() && (query[next] == ' ' || query[next] == '\n' || query[next] == '\t')) ++next;
    if (next < query.size() && query[next] == '(') return true;
  }
  return false;
}

bool is_gid(std::string_view text, std::string_view prefix, bool digits) {
  if (!text.starts_with(prefix) || text.size() == prefix.size()) return false;
  if (!digits) return true;
  for (char c : text.substr(prefix.size())) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// The shop of /shops/{shop}/admin/api/{version}/graphql.json, or empty for any other path.
std::string_view shop_of(std::string_view path) {
  if (!path.starts_with(shops_prefix) || !path.ends_with(graphql_suffix)) return {};
  std::string_view rest = path.substr(shops_prefix.size(), path.size() - shops_prefix.size() - graphql_suffix.size());
  auto infix = rest.find(api_infix);
  if (infix == std::string_view::npos || infix == 0) return {};
  std::string_view shop = rest.substr(0, infix);
  std::string_view version = rest.substr(infix + api_infix.size());
  if (shop.find('/') != std::string_view::npos || version.empty() ||
      version.find('/') != std::string_view::npos) {
    return {};
  }
  return shop;
}

class Shopify final : public Provider {
 public:
  Shopify() : random_(std::random_device{}()) {}

  std::string_view name() const override { return "shopify"; }
  bool owns(std::string_view path) const override { return path.starts_with(shops_prefix); }

  Reply handle(Call& call) override {
    std::string_view shop = shop_of(call.path);
    if (shop.empty()) return refuse(errors_text(http::status::not_found, "Not Found"));
    if (auto refused = refuse_unless_post(call.request, "{\"errors\":\"Method Not Allowed\"}")) {
      return std::move(*refused);
    }
    if (header(call.request, "X-Shopify-Access-Token") != sandbox_credentials::shopify_access_token) {
      return refuse(errors_text(http::status::unauthorized,
                                "[API] Invalid API key or access token (unrecognized login or wrong "
                                "password)"));
    }
    Body body;
    if (!read_body(call.request.body(), body) || body.query.empty()) {
      return refuse(json_response(http::status::bad_request,
                                  "{\"errors\":{\"query\":\"Required parameter missing or invalid\"}}"));
    }
    if (selects(body.query, "orderCancel")) return cancel(call, shop, body.variables);
    if (selects(body.query, "job")) return job(body.variables);
    std::string answer =
        "{\"errors\":[{\"message\":\"Sandbox: only orderCancel and job(id:) are served\","
        "\"extensions\":{\"code\":\"undefinedField\"}}]}";
    return refuse(json_response(http::status::ok, std::move(answer)));
  }

  // HTTP 200 with a THROTTLED error: GraphQL's way of saying the cost bucket is empty.
  Response throttled(const Failure&) const override {
    std::string body =
        "{\"errors\":[{\"message\":\"Throttled\",\"extensions\":{\"code\":\"THROTTLED\","
        "\"documentation\":\"https://shopify.dev/api/usage/rate-limits\"}}]";
    append_cost(body, 10, std::nullopt, 0);
    body += '}';
    return json_response(http::status::ok, std::move(body));
  }

  Response failure(const Failure& failure) const override {
    switch (static_cast<unsigned>(failure.status)) {
      case 429:
        return errors_text(failure.status,
                           "Exceeded 2 calls per second for api client. Reduce request rates to "
                           "resume uninterrupted service.");
      case 401:
        return errors_text(failure.status,
                           "[API] Invalid API key or access token (unrecognized login or wrong "
                           "password)");
      case 402: return errors_text(failure.status, "Unavailable Shop");
      case 403: return errors_text(failure.status, "Forbidden");
      case 404: return errors_text(failure.status, "Not Found");
      case 500: return errors_text(failure.status, "Internal Server Error");
      case 502: return errors_text(failure.status, "Bad Gateway");
      case 503: return errors_text(failure.status, "Service Unavailable");
      case 504: return errors_text(failure.status, "Gateway Timeout");
      default:
        return errors_text(failure.status, "Sandbox: injected failure (HTTP " +
                                               std::to_string(static_cast<unsigned>(failure.status)) + ")");
    }
  }

  void reset() override { canceled_.clear(); }

 private:
  Reply cancel(Call& call, std::string_view shop, const Variables& vars) {
    if (vars.order_id.bad(true)) {
      return variable_error("orderId", "ID!", vars.order_id.problem("Expected value to be an ID"));
    }
    if (!is_gid(vars.order_id.value, order_gid_prefix, true)) {
      return variable_error("orderId", "ID!", "Invalid global id '" + std::string(vars.order_id.value) + "'");
    }
    bool known_reason = false;
    for (auto reason : reasons) known_reason = known_reason || vars.reason.value == reason;
    if (vars.reason.bad(true) || !known_reason) {
      return variable_error("reason", "OrderCancelReason!",
                            vars.reason.problem("Expected a value of CUSTOMER, DECLINED, FRAUD, "
                                                "INVENTORY, STAFF or OTHER"));
    }
    // Newer API versions take refundMethod instead of refund.
    if (vars.refund.bad(!vars.has_refund_method)) {
      return variable_error("refund", "Boolean!", vars.refund.problem("Expected value to be a Boolean"));
    }
    if (vars.restock.bad(true)) {
      return variable_error("restock", "Boolean!", vars.restock.problem("Expected value to be a Boolean"));
    }
    if (vars.notify_customer.wrong_type) {
      return variable_error("notifyCustomer", "Boolean", "Expected value to be a Boolean");
    }
    if (vars.staff_note.wrong_type) {
      return variable_error("staffNote", "String", "Expected value to be a String");
    }

    std::string body;
    body.reserve(512);
    std::string key = std::string(shop) + '\n' + std::string(vars.order_id.value);
    if (!canceled_.insert(std::move(key)).second) {
      body += "{\"data\":{\"orderCancel\":{\"job\":null,\"orderCancelUserErrors\":[{\"field\":[\"orderId\"],"
              "\"message\":";
      common::append_json_string(body, already_canceled);
      body += ",\"code\":\"INVALID\"}],\"userErrors\":[{\"field\":[\"orderId\"],\"message\":";
      common::append_json_string(body, already_canceled);
      body += "}]}}";
      append_cost(body, 10, 10, 1990);
      body += '}';
      return refuse(json_response(http::status::ok, std::move(body)));
    }

    body += "{\"data\":{\"orderCancel\":{\"job\":{\"id\":";
    common::append_json_string(body, job_gid());
    body += ",\"done\":false},\"orderCancelUserErrors\":[],\"userErrors\":[]}}";
    append_cost(body, 10, 10, 1990);
    body += '}';

    Reply reply = refuse(json_response(http::status::ok, std::move(body)));
    auto effect = [&](Action action) {
      return effect_of(call, name(), action, std::string(vars.order_id.value));
    };
    reply.effect = effect(Action::cancel);
    if (vars.restock.value) reply.more_effects.push_back(effect(Action::restock));
    // The platform refunds what the order was paid; the amount is Shopify's to know.
    if (vars.refund.value || vars.original_payment_methods_refund.value) {
      reply.more_effects.push_back(effect(Action::refund));
    }
    return reply;
  }

  // Cancel jobs finish at once in the sandbox: any job id it could have issued is done.
  Reply job(const Variables& vars) const {
    if (vars.id.bad(true)) return variable_error("id", "ID!", vars.id.problem("Expected value to be an ID"));
    std::string body = "{\"data\":{\"job\":";
    if (is_gid(vars.id.value, job_gid_prefix, false)) {
      body += "{\"id\":";
      common::append_json_string(body, vars.id.value);
      body += ",\"done\":true}";
    } else {
      body += "null";
    }
    body += '}';
    append_cost(body, 1, 1, 1999);
    body += '}';
    return refuse(json_response(http::status::ok, std::move(body)));
  }

  std::string job_gid() {
    std::uint64_t a = random_();
    std::uint64_t b = random_();
    char buf[64];
    std::snprintf(buf, sizeof buf, "gid://shopify/Job/%08x-%04x-4%03x-8%03x-%012llx",
                  static_cast<unsigned>(a >> 32), static_cast<unsigned>((a >> 16) & 0xffff),
                  static_cast<unsigned>(a & 0xfff), static_cast<unsigned>(b >> 52),
                  static_cast<unsigned long long>(b & 0xffffffffffffull));
    return buf;
  }

  std::mt19937_64 random_;
  std::unordered_set<std::string> canceled_;  // "shop\norder gid"
};

}  // namespace

std::unique_ptr<Provider> make_shopify() { return std::make_unique<Shopify>(); }

}  // namespace rescind::sandbox
