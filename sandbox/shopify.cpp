// Shopify Admin GraphQL (POST /shops/{shop}/admin/api/{version}/graphql.json): orderCancel,
// job(id:) and order(id:){cancelledAt displayFinancialStatus totalRefundedSet}, validated
// against the schema of the API version the URL names (served from the oldest supported
// version up, as Shopify falls forward; the answer says which in X-Shopify-API-Version).
// Orders have state: canceled or not, what was paid and what was refunded; cancel jobs run
// after a set number of requests and can fail; X-Shopify-Access-Token, query-cost extensions,
// THROTTLED and INTERNAL_SERVER_ERROR inside HTTP 200. Scenario controls (and orders canceled
// by hand in the admin, with or without a refund): POST /__shopify/scenario.
#include <algorithm>
#include <cstdio>
#include <deque>
#include <map>
#include <random>
#include <set>

#include "common/json_text.hpp"
#include "common/sandbox_credentials.hpp"
#include "sandbox/clock.hpp"
#include "sandbox/graphql.hpp"
#include "sandbox/json_body.hpp"
#include "sandbox/providers.hpp"

namespace rescind::sandbox {
namespace {

namespace od = simdjson::ondemand;
using graphql::Value;
using Kind = graphql::Value::Kind;

constexpr std::size_t max_jobs_kept = 100'000;
constexpr std::string_view shops_prefix = "/shops/";
constexpr std::string_view api_infix = "/admin/api/";
constexpr std::string_view graphql_suffix = "/graphql.json";
constexpr std::string_view order_gid_prefix = "gid://shopify/Order/";
constexpr std::string_view job_gid_prefix = "gid://shopify/Job/";
constexpr std::string_view reasons[] = {"CUSTOMER", "DECLINED", "FRAUD", "INVENTORY", "OTHER", "STAFF"};
constexpr std::string_view user_error_codes[] = {"INTERNAL_ERROR", "INVALID", "NOT_FOUND", "NO_REFUND_PERMISSION"};
// The sandbox's wordings. Shopify's texts for these were not verified, and no client may
// match on them: "already canceled" is known from the order's cancelledAt.
constexpr std::string_view already_canceled = "Sandbox: this order cannot be canceled in its current state";
constexpr std::string_view unrestockable =
    "Sandbox: the order is paid and its location is deactivated: it cannot be restocked";
constexpr std::string_view job_failed = "Sandbox: the cancellation failed";
constexpr std::string_view internal_error = "Sandbox: unexpected internal error";

// ---------------------------------------------------------------------------------------------
// API versions, as year * 100 + month (202610); "unstable" is newer than any.

constexpr int unstable = 999999;
constexpr int refund_method_since = 202507;  // refundMethod added, refund deprecated (SH2)
// `refund` is refused from here on. Shopify's 2026-07 reference example uses refundMethod
// only (SH3); the version that really drops `refund` is not published. The sandbox takes
// the earliest plausible cut-off, so that a client still relying on it fails here first.
constexpr int refund_removed_from = 202607;
constexpr int job_result_since = 202610;  // OrderCancelPayload.jobResult (SH5)
// The newest stable version on 2026-12-01; the four stable versions up to it are served
// (each is supported for at least 12 months, SH4), and the release candidate after it.
constexpr int default_latest = 202610;

int add_quarters(int version, int quarters) {
  int months = (version / 100) * 12 + (version % 100 - 1) + 3 * quarters;
  return (months / 12) * 100 + months % 12 + 1;
}

std::optional<int> version_key(std::string_view text) {
  if (text == "unstable") return unstable;
  if (text.size() != 7 || text[4] != '-') return std::nullopt;
  int year = 0, month = 0;
  for (std::size_t i = 0; i < 7; ++i) {
    if (i == 4) continue;
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    (i < 4 ? year : month) = (i < 4 ? year : month) * 10 + (text[i] - '0');
  }
  if (month != 1 && month != 4 && month != 7 && month != 10) return std::nullopt;
  return year * 100 + month;
}

std::string version_name(int version) {
  if (version == unstable) return "unstable";
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d", version / 100, version % 100);
  return buf;
}

// ---------------------------------------------------------------------------------------------
// The part of the Admin schema the sandbox serves.

constexpr int always = 0, never = unstable + 1;

struct FieldDef {
  std::string_view name;
  std::string_view type;  // "Boolean!", "Job", "[OrderCancelUserError!]!"
  int since = always;
  bool served = true;  // false: in Shopify's schema, not in the sandbox's
};

struct ObjectDef {
  std::string_view name;
  std::vector<FieldDef> fields;
  // complete: every field Shopify has is listed, so any other is an undefinedField error;
  // otherwise the sandbox says it does not serve it.
  bool complete;
};

const std::vector<ObjectDef>& objects() {
  static const std::vector<ObjectDef> all = {
      {"Mutation", {{"orderCancel", "OrderCancelPayload"}}, false},
      {"QueryRoot", {{"job", "Job"}, {"order", "Order"}}, false},
      {"OrderCancelPayload",
       {{"job", "Job"},
        {"jobResult", "OrderCancelJobResult", job_result_since},
        {"orderCancelUserErrors", "[OrderCancelUserError!]!"},
        {"userErrors", "[UserError!]!"}},
       true},
      {"Job", {{"id", "ID!"}, {"done", "Boolean!"}, {"query", "QueryRoot", always, false}}, true},
      {"OrderCancelJobResult",
       {{"id", "ID!"},
        {"done", "Boolean!"},
        {"status", "OrderCancelStatus!"},
        {"errors", "[OrderCancelUserError!]!"},
        {"order", "Order"}},
       true},
      {"OrderCancelUserError",
       {{"field", "[String!]"}, {"message", "String!"}, {"code", "OrderCancelUserErrorCode"}},
       true},
      {"UserError", {{"field", "[String!]"}, {"message", "String!"}}, true},
      // displayFinancialStatus and totalRefundedSet are in every version served (both are in
      // the 2024-04 reference already).
      {"Order",
       {{"id", "ID!"},
        {"cancelledAt", "DateTime"},
        {"cancelReason", "OrderCancelReason"},
        {"displayFinancialStatus", "OrderDisplayFinancialStatus"},
        {"totalRefundedSet", "MoneyBag!"}},
       false},
      {"MoneyBag", {{"presentmentMoney", "MoneyV2!"}, {"shopMoney", "MoneyV2!"}}, true},
      {"MoneyV2", {{"amount", "Decimal!"}, {"currencyCode", "CurrencyCode!"}}, true},
  };
  return all;
}

const ObjectDef* object_def(std::string_view name) {
  for (const auto& object : objects()) {
    if (object.name == name) return &object;
  }
  return nullptr;
}

struct ArgumentDef {
  std::string_view name;
  std::string_view type;  // a trailing "!" makes it required
  int since = always;
  int until = never;  // first version without it
};

// orderCancel's arguments by version (SH1, SH2, SH3); job(id:) and order(id:) take an ID!.
const std::vector<ArgumentDef> order_cancel_arguments = {
    {"orderId", "ID!"},
    {"reason", "OrderCancelReason!"},
    {"refund", "Boolean!", always, refund_method_since},
    {"refund", "Boolean", refund_method_since, refund_removed_from},  // deprecated
    {"refundMethod", "OrderCancelRefundMethodInput", refund_method_since},
    {"restock", "Boolean!"},
    {"notifyCustomer", "Boolean"},
    {"staffNote", "String"},
};
const std::vector<ArgumentDef> id_argument = {{"id", "ID!"}};

const std::vector<ArgumentDef>& arguments_of(std::string_view root_field) {
  static const std::vector<ArgumentDef> none;
  if (root_field == "orderCancel") return order_cancel_arguments;
  if (root_field == "job" || root_field == "order") return id_argument;
  return none;
}

bool input_type_defined(std::string_view name, int version) {
  for (std::string_view scalar : {"ID", "String", "Boolean", "Int", "Float", "DateTime", "OrderCancelReason"}) {
    if (name == scalar) return true;
  }
  return (name == "OrderCancelRefundMethodInput" || name == "OrderCancelStoreCreditRefundInput") &&
         version >= refund_method_since;
}

// Why `value` does not fit `type`, or empty. JSON variables give enum values as strings,
// documents as names.
std::string coercion_problem(std::string_view type, const Value& value, bool from_json) {
  bool required = type.ends_with('!');
  std::string_view inner = required ? type.substr(0, type.size() - 1) : type;
  if (value.is(Kind::absent) || value.is(Kind::null)) return required ? "Expected value to not be null" : "";
  if (inner.starts_with('[')) {
    std::string_view item_type = inner.substr(1, inner.size() - 2);
    if (!value.is(Kind::list)) return coercion_problem(item_type, value, from_json);
    for (const auto& item : value.items) {
      if (auto problem = coercion_problem(item_type, item, from_json); !problem.empty()) return problem;
    }
    return "";
  }
  auto could_not = [&] { return "Could not coerce value " + value.printed() + " to " + std::string(inner); };
  if (inner == "ID") return value.is(Kind::string) || value.is(Kind::integer) ? "" : could_not();
  if (inner == "String" || inner == "DateTime") return value.is(Kind::string) ? "" : could_not();
  if (inner == "Boolean") return value.is(Kind::boolean) ? "" : could_not();
  if (inner == "Int") return value.is(Kind::integer) ? "" : could_not();
  if (inner == "Float") return value.is(Kind::integer) || value.is(Kind::floating) ? "" : could_not();
  if (inner == "OrderCancelReason") {
    bool named = value.is(from_json ? Kind::string : Kind::enumeration);
    for (auto reason : reasons) {
      if (named && value.text == reason) return "";
    }
    return "Expected " + value.printed() + " to be one of: CUSTOMER, DECLINED, FRAUD, INVENTORY, OTHER, STAFF";
  }
  if (inner == "OrderCancelRefundMethodInput" || inner == "OrderCancelStoreCreditRefundInput") {
    if (!value.is(Kind::object)) return could_not();
    bool method = inner == "OrderCancelRefundMethodInput";
    for (const auto& [key, field] : value.fields) {
      std::string_view field_type = method ? (key == "originalPaymentMethodsRefund" ? "Boolean"
                                              : key == "storeCreditRefund" ? "OrderCancelStoreCreditRefundInput"
                                                                           : "")
                                           : (key == "expiresAt" ? "DateTime" : "");
      if (field_type.empty()) return "Field is not defined on " + std::string(inner);
      if (auto problem = coercion_problem(field_type, field, from_json); !problem.empty()) return problem;
    }
    return "";
  }
  return could_not();
}

// ---------------------------------------------------------------------------------------------
// Errors, in graphql-ruby's shape as Shopify answers them (HTTP 200).

void write_locations(common::JsonWriter& json, graphql::Location at) {
  json.key("locations").begin_array().begin_object().field("line", at.line).field("column", at.column);
  json.end_object().end_array();
}

struct Errors {
  std::vector<std::string> items;  // JSON objects

  void add(std::string_view message, graphql::Location at, std::initializer_list<std::string_view> path,
           std::initializer_list<std::pair<std::string_view, std::string_view>> extensions) {
    common::JsonWriter e;
    e.begin_object().field("message", message);
    write_locations(e, at);
    if (path.size() > 0) {
      e.key("path").begin_array();
      for (auto part : path) e.value(part);
      e.end_array();
    }
    if (extensions.size() > 0) {
      e.key("extensions").begin_object();
      for (auto [key, value] : extensions) e.field(key, value);
      e.end_object();
    }
    items.push_back(e.end_object().take());
  }

  // A variable whose JSON value does not fit its declared type.
  void invalid_variable(const graphql::VariableDefinition& definition, std::string_view explanation) {
    common::JsonWriter e;
    e.begin_object().field(
        "message", "Variable $" + definition.name + " of type " + definition.type + " was provided invalid value");
    write_locations(e, definition.at);
    e.key("extensions").begin_object().key("problems").begin_array().begin_object();
    e.key("path").begin_array().end_array().field("explanation", explanation);
    items.push_back(e.end_object().end_array().end_object().end_object().take());
  }

  std::string body() const {
    common::JsonWriter json;
    json.begin_object().key("errors").begin_array();
    for (const auto& item : items) json.raw(item);
    return json.end_array().end_object().take();
  }
};

// ---------------------------------------------------------------------------------------------
// The request body.

// false when malformed; JSON values become graphql::Values (strings stay strings).
bool read_json(od::value value, Value& out) {
  od::json_type type;
  if (value.type().get(type)) return false;
  switch (type) {
    case od::json_type::null: {
      bool null = false;
      if (value.is_null().get(null)) return false;
      out.kind = Kind::null;
      return true;
    }
    case od::json_type::boolean: {
      bool flag = false;
      if (value.get_bool().get(flag)) return false;
      out.kind = Kind::boolean;
      out.text = flag ? "true" : "false";
      return true;
    }
    case od::json_type::number: {
      std::string_view raw = value.raw_json_token();
      double number = 0;  // read, so that the value counts as consumed
      if (value.get_double().get(number)) return false;
      while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\n' || raw.back() == '\t' || raw.back() == '\r')) {
        raw.remove_suffix(1);
      }
      out.kind = raw.find_first_of(".eE") == std::string_view::npos ? Kind::integer : Kind::floating;
      out.text = std::string(raw);
      return true;
    }
    case od::json_type::string: {
      std::string_view text;
      if (value.get_string().get(text)) return false;
      out.kind = Kind::string;
      out.text = std::string(text);
      return true;
    }
    case od::json_type::array: {
      od::array array;
      if (value.get_array().get(array)) return false;
      out.kind = Kind::list;
      for (auto element : array) {
        od::value item_value;
        if (element.get(item_value)) return false;
        Value item;
        if (!read_json(item_value, item)) return false;
        out.items.push_back(std::move(item));
      }
      return true;
    }
    case od::json_type::object: {
      out.kind = Kind::object;
      return each_member(value, [&](std::string_view key, od::value field) {
        Value item;
        if (!read_json(field, item)) return false;
        out.fields.emplace_back(std::string(key), std::move(item));
        return true;
      });
    }
    default:
      return false;
  }
}

struct Body {
  std::string query;
  Value variables;  // an object, or absent
};

bool read_body(std::string& text, Body& body) {
  auto read = each_body_member(text, [&](std::string_view key, od::value value) {
    if (key == "query") {
      std::string_view query;
      if (is_malformed(value.get_string().get(query))) return false;
      body.query = std::string(query);
      return true;
    }
    if (key == "variables") return read_json(value, body.variables);
    return true;
  });
  return read == BodyRead::ok &&
         (body.variables.is(Kind::absent) || body.variables.is(Kind::null) || body.variables.is(Kind::object));
}

bool is_gid(std::string_view text, std::string_view prefix, bool digits) {
  if (!text.starts_with(prefix) || text.size() == prefix.size()) return false;
  if (!digits) return true;
  for (char c : text.substr(prefix.size())) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

struct Route {
  std::string_view shop, version;
};

// /shops/{shop}/admin/api/{version}/graphql.json, or nullopt for any other path.
std::optional<Route> route_of(std::string_view path) {
  if (!path.starts_with(shops_prefix) || !path.ends_with(graphql_suffix)) return std::nullopt;
  std::string_view rest = path.substr(shops_prefix.size(), path.size() - shops_prefix.size() - graphql_suffix.size());
  auto infix = rest.find(api_infix);
  if (infix == std::string_view::npos || infix == 0) return std::nullopt;
  Route route{rest.substr(0, infix), rest.substr(infix + api_infix.size())};
  if (route.shop.find('/') != std::string_view::npos || route.version.empty() ||
      route.version.find('/') != std::string_view::npos) {
    return std::nullopt;
  }
  return route;
}

Response errors_text(http::status status, std::string_view text) {
  return json_strings_response(status, {{"errors", text}});
}

// extensions.cost as Shopify reports it; actual null when the query did not run.
void write_cost(common::JsonWriter& json, int requested, std::optional<int> actual, int available) {
  json.key("extensions").begin_object().key("cost").begin_object().field("requestedQueryCost", requested);
  json.key("actualQueryCost");
  actual ? json.value(*actual) : json.null();
  // Shopify writes the bucket's size and rate as floats, the points left as an integer.
  json.key("throttleStatus").begin_object().key("maximumAvailable").raw("2000.0");
  json.field("currentlyAvailable", available).key("restoreRate").raw("100.0");
  json.end_object().end_object().end_object();
}

// ---------------------------------------------------------------------------------------------
// State: orders, cancel jobs and the scenario the tests set.

struct UserError {
  std::string field;  // empty: null
  std::string message;
  std::string code;
};

// Money in thousandths of the currency's unit: enough for every ISO 4217 exponent (KWD 3),
// so the sandbox needs no table of them.
using Milli = std::int64_t;
constexpr Milli default_total = 10'000'000;  // 10,000.00: an order no scenario described

// "149.00" → 149000; at most three decimals, no sign; nullopt otherwise.
std::optional<Milli> milli_of(std::string_view text) {
  auto dot = text.find('.');
  std::string_view whole = text.substr(0, dot), fraction = dot == std::string_view::npos ? "" : text.substr(dot + 1);
  if (whole.empty() || whole.size() > 15 || fraction.size() > 3 ||
      (dot != std::string_view::npos && fraction.empty())) {
    return std::nullopt;
  }
  Milli out = 0;
  for (char c : whole) {
    if (c < '0' || c > '9') return std::nullopt;
    out = out * 10 + (c - '0');
  }
  for (std::size_t i = 0; i < 3; ++i) {
    char c = i < fraction.size() ? fraction[i] : '0';
    if (c < '0' || c > '9') return std::nullopt;
    out = out * 10 + (c - '0');
  }
  return out;
}

// 149000 → "149.0", 1234 → "1.234": a Decimal as Ruby's BigDecimal prints it, trailing zeros
// dropped (Shopify's own formatting of amounts was not verified; a client must not count on
// two decimals).
std::string decimal_text(Milli amount) {
  std::string out = std::to_string(amount / 1000) + '.';
  std::string fraction = std::to_string(1000 + amount % 1000).substr(1);
  while (fraction.size() > 1 && fraction.back() == '0') fraction.pop_back();
  return out + fraction;
}

struct OrderState {
  std::optional<std::string> cancelled_at;  // RFC 3339
  std::string cancel_reason;
  Milli total = default_total;   // what the customer paid (the order is paid)
  std::string currency = "USD";  // the shop's and the customer's: one currency per order here
  Milli refunded = 0;

  // OrderDisplayFinancialStatus, as the admin shows it: a summary, the amounts are the facts.
  std::string_view financial_status() const {
    return refunded == 0 ? "PAID" : refunded >= total ? "REFUNDED" : "PARTIALLY_REFUNDED";
  }
};

struct CancelJob {
  std::string id, shop, order, reason;
  std::string rescind_job;  // X-Rescind-Job of the mutation: the ledger files the effects under it
  bool restock = false, refund = false;
  int requests_left = 0;  // requests to the shop before it runs
  bool done = false, succeeded = false;
  std::vector<UserError> errors;
};

// POST /__shopify/scenario replaces it; /__reset restores it.
struct Scenario {
  int latest_version = default_latest;
  // A cancel job is done at the job_polls-th request to its shop after the mutation (its own
  // polls, usually); 0: it has run by the time the mutation's answer is written.
  long long job_polls = 0;
  long long failing_jobs = 0;                // the next jobs finish without canceling (done, order open)…
  std::string failing_job_code = "INVALID";  // …with this OrderCancelUserError code in jobResult
  long long internal_errors = 0;             // the next orderCancel calls: INTERNAL_ERROR user error
  long long internal_server_errors = 0;      // the next requests: top-level INTERNAL_SERVER_ERROR
  std::set<std::string> unrestockable;       // order gids: paid, at a deactivated location (SH8)
};

struct Arguments {
  std::map<std::string, Value, std::less<>> values;  // effective: literal, variable or default

  const Value& get(std::string_view name) const {
    static const Value absent;
    auto it = values.find(name);
    return it == values.end() ? absent : it->second;
  }
  bool flag(std::string_view name) const { return get(name).is(Kind::boolean) && get(name).text == "true"; }
};

class Shopify final : public Provider {
 public:
  Shopify() : random_(std::random_device{}()) {}

  std::string_view name() const override { return "shopify"; }
  bool owns(std::string_view path) const override { return path.starts_with(shops_prefix); }

  Reply handle(Call& call) override {
    auto route = route_of(call.path);
    if (!route) return refuse(errors_text(http::status::not_found, "Not Found"));
    if (auto refused = refuse_unless_post(call.request, "{\"errors\":\"Method Not Allowed\"}")) {
      return std::move(*refused);
    }
    // Shopify falls forward from a version it no longer serves to the oldest it does (SH4).
    // What it answers for a malformed or future version was not verified: here, 404.
    auto served = served_version(route->version);
    if (!served) return refuse(errors_text(http::status::not_found, "Not Found"));
    auto answer = [&](Response response, std::vector<Effect> effects = {}) {
      response.set("X-Shopify-API-Version", version_name(*served));
      Reply reply = refuse(std::move(response));
      reply.more_effects = std::move(effects);
      return reply;
    };
    if (header(call.request, "X-Shopify-Access-Token") != sandbox_credentials::shopify_access_token) {
      return answer(errors_text(http::status::unauthorized,
                                "[API] Invalid API key or access token (unrecognized login or wrong password)"));
    }
    Body body;
    if (!read_body(call.request.body(), body) || body.query.empty()) {
      return answer(json_response(http::status::bad_request,
                                  "{\"errors\":{\"query\":\"Required parameter missing or invalid\"}}"));
    }
    std::string shop(route->shop);
    std::vector<Effect> effects;
    run_due_jobs(shop, call.now, effects);  // Shopify's jobs run whether or not anyone looks
    if (scenario_.internal_server_errors > 0) {
      --scenario_.internal_server_errors;
      return answer(json_response(http::status::ok, internal_server_error()), std::move(effects));
    }

    auto parsed = graphql::parse(body.query);
    if (auto* error = std::get_if<graphql::ParseError>(&parsed)) {
      Errors errors;
      errors.add(error->message, error->at, {}, {});
      return answer(json_response(http::status::ok, errors.body()), std::move(effects));
    }
    const auto& operation = std::get<graphql::Operation>(parsed);
    Errors errors;
    std::vector<Arguments> arguments = validate(operation, body.variables, *served, errors);
    if (!errors.items.empty()) return answer(json_response(http::status::ok, errors.body()), std::move(effects));

    common::JsonWriter json;
    json.begin_object().key("data").begin_object();
    for (std::size_t i = 0; i < operation.selections.size(); ++i) {
      const auto& field = operation.selections[i];
      json.key(field.key());
      if (field.name == "__typename") {
        json.value(operation.kind == "mutation" ? "Mutation" : "QueryRoot");
      } else if (field.name == "orderCancel") {
        cancel(call, shop, arguments[i], field.selections, json, effects);
      } else if (field.name == "job") {
        auto it = jobs_.find(arguments[i].get("id").text);
        write_job(json, field.selections, it == jobs_.end() ? nullptr : &it->second);
      } else {
        write_order(json, field.selections, shop, arguments[i].get("id").text);
      }
    }
    json.end_object();
    write_cost(json, operation.kind == "mutation" ? 10 : 1, operation.kind == "mutation" ? 10 : 1, 1990);
    return answer(json_response(http::status::ok, json.end_object().take()), std::move(effects));
  }

  // HTTP 200 with a THROTTLED error: GraphQL's way of saying the cost bucket is empty.
  Response throttled(const Failure&) const override {
    common::JsonWriter json;
    json.begin_object().key("errors").begin_array().begin_object().field("message", "Throttled");
    json.key("extensions").begin_object().field("code", "THROTTLED");
    json.field("documentation", "https://shopify.dev/api/usage/rate-limits").end_object().end_object().end_array();
    write_cost(json, 10, std::nullopt, 0);
    return json_response(http::status::ok, json.end_object().take());
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
      case 402:
        return errors_text(failure.status, "Unavailable Shop");
      case 403:
        return errors_text(failure.status, "Forbidden");
      case 404:
        return errors_text(failure.status, "Not Found");
      case 500:
        return errors_text(failure.status, "Internal Server Error");
      case 502:
        return errors_text(failure.status, "Bad Gateway");
      case 503:
        return errors_text(failure.status, "Service Unavailable");
      case 504:
        return errors_text(failure.status, "Gateway Timeout");
      default:
        return errors_text(failure.status, "Sandbox: injected failure (HTTP " +
                                               std::to_string(static_cast<unsigned>(failure.status)) + ")");
    }
  }

  void reset() override {
    orders_.clear();
    jobs_.clear();
    started_.clear();
    pending_.clear();
    scenario_ = Scenario{};
  }

  // POST /__shopify/scenario {"job_polls":2,"failing_jobs":1,"failing_job_code":"INVALID",
  // "internal_errors":1,"internal_server_errors":1,"unrestockable_orders":["1001"],
  // "latest_version":"2026-10"}: replaces the scenario (absent fields take their defaults);
  // GET shows what is left of it.
  // "canceled_by_hand":[{"shop":"acme-crafts.myshopify.com","order":"450789469",
  // "total":"149.00","currency":"USD","refund":true}] is no scenario but something a merchant
  // did in the admin: the orders are canceled now, paid `total` (default 10000.00 USD) and
  // refunded all of it (refund: true), `refunded` of it ("50.00": a partial refund) or
  // nothing (neither). No ledger effect: Rescind did none of it.
  std::optional<Response> control(std::string_view action, Request& request, std::chrono::system_clock::time_point now,
                                  Ledger&) override {
    if (action != "scenario") return std::nullopt;
    if (request.method() == http::verb::get) return json_response(http::status::ok, scenario_json());
    if (request.method() != http::verb::post) {
      return method_not_allowed("GET, POST", "application/json", "{\"error\":\"method not allowed\"}");
    }
    Scenario next;
    std::vector<std::pair<std::string, OrderState>> by_hand;  // "shop\norder gid" → its state
    std::string error;
    auto count = [&](od::value value, long long& out, std::string_view key) {
      std::int64_t n = 0;
      if (value.get_int64().get(n) || n < 0) {
        error = std::string(key) + ": a count (an integer, 0 or more)";
        return false;
      }
      out = n;
      return true;
    };
    auto read = each_body_member(request.body(), [&](std::string_view key, od::value value) {
      if (key == "job_polls") return count(value, next.job_polls, key);
      if (key == "failing_jobs") return count(value, next.failing_jobs, key);
      if (key == "internal_errors") return count(value, next.internal_errors, key);
      if (key == "internal_server_errors") return count(value, next.internal_server_errors, key);
      std::string_view text;
      if (key == "failing_job_code") {
        bool known = false;
        if (!value.get_string().get(text)) {
          for (auto code : user_error_codes) known = known || text == code;
        }
        if (!known) error = "failing_job_code: one of INTERNAL_ERROR, INVALID, NOT_FOUND, NO_REFUND_PERMISSION";
        next.failing_job_code = std::string(text);
        return known;
      }
      if (key == "latest_version") {
        auto version = value.get_string().get(text) ? std::nullopt : version_key(text);
        if (!version || *version == unstable) {
          error = "latest_version: a stable version such as \"2026-10\"";
          return false;
        }
        next.latest_version = *version;
        return true;
      }
      if (key == "unrestockable_orders") {
        Value orders;
        if (!read_json(value, orders) || !orders.is(Kind::list)) {
          error = "unrestockable_orders: a list of order ids";
          return false;
        }
        for (const auto& order : orders.items) {
          next.unrestockable.insert(
              order.text.starts_with(order_gid_prefix) ? order.text : std::string(order_gid_prefix) + order.text);
        }
        return true;
      }
      if (key == "canceled_by_hand") {
        Value orders;
        if (!read_json(value, orders) || !orders.is(Kind::list)) {
          error = "canceled_by_hand: a list of orders";
          return false;
        }
        for (const auto& order : orders.items) {
          auto hand = canceled_by_hand(order, now, error);
          if (!hand) return false;
          by_hand.push_back(std::move(*hand));
        }
        return true;
      }
      error = std::string(key) +
              ": unknown; the fields are job_polls, failing_jobs, failing_job_code, internal_errors, "
              "internal_server_errors, unrestockable_orders, latest_version, canceled_by_hand";
      return false;
    });
    if (read != BodyRead::ok) {
      if (error.empty()) error = "a JSON object";
      return json_strings_response(http::status::bad_request, {{"error", error}});
    }
    scenario_ = std::move(next);
    for (auto& [key, state] : by_hand) orders_[key] = std::move(state);
    return json_response(http::status::ok, scenario_json());
  }

 private:
  // One entry of canceled_by_hand, as the order's key and state; nullopt with `error` set.
  static std::optional<std::pair<std::string, OrderState>> canceled_by_hand(const Value& entry,
                                                                            std::chrono::system_clock::time_point now,
                                                                            std::string& error) {
    auto text = [&](std::string_view name) -> const Value* {
      const Value* value = entry.field(name);
      return value && value->is(Kind::string) ? value : nullptr;
    };
    const Value* shop = text("shop");
    const Value* order = text("order");
    if (!entry.is(Kind::object) || !shop || shop->text.empty() || !order || order->text.empty()) {
      error =
          "canceled_by_hand: each order is {\"shop\":…,\"order\":…} and optionally total, currency, refund or refunded";
      return std::nullopt;
    }
    for (const auto& [key, field] : entry.fields) {
      if (key != "shop" && key != "order" && key != "total" && key != "currency" && key != "refund" &&
          key != "refunded") {
        error = "canceled_by_hand: " + key + ": unknown; the fields are shop, order, total, currency, refund, refunded";
        return std::nullopt;
      }
    }
    OrderState state;
    std::string at;
    append_rfc3339_ms(at, now);
    state.cancelled_at = at;
    state.cancel_reason = "STAFF";
    if (const Value* total = entry.field("total")) {
      auto amount = total->is(Kind::string) ? milli_of(total->text) : std::nullopt;
      if (!amount || *amount == 0) {
        error = "canceled_by_hand: total: a decimal string such as \"149.00\", more than 0";
        return std::nullopt;
      }
      state.total = *amount;
    }
    if (const Value* currency = entry.field("currency")) {
      bool code =
          currency->is(Kind::string) && currency->text.size() == 3 &&
          std::all_of(currency->text.begin(), currency->text.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
      if (!code) {
        error = "canceled_by_hand: currency: an upper-case ISO 4217 code such as \"USD\"";
        return std::nullopt;
      }
      state.currency = currency->text;
    }
    const Value* refund = entry.field("refund");
    const Value* refunded = entry.field("refunded");
    if ((refund && !refund->is(Kind::boolean)) || (refund && refunded)) {
      error = "canceled_by_hand: refund: true or false, and not together with refunded";
      return std::nullopt;
    }
    if (refund && refund->text == "true") state.refunded = state.total;
    if (refunded) {
      auto amount = refunded->is(Kind::string) ? milli_of(refunded->text) : std::nullopt;
      if (!amount || *amount > state.total) {
        error = "canceled_by_hand: refunded: a decimal string such as \"50.00\", at most the total";
        return std::nullopt;
      }
      state.refunded = *amount;
    }
    std::string gid =
        order->text.starts_with(order_gid_prefix) ? order->text : std::string(order_gid_prefix) + order->text;
    return std::pair{shop->text + '\n' + gid, std::move(state)};
  }

  // The version that answers a request for `requested`, or nullopt when none does.
  std::optional<int> served_version(std::string_view requested) const {
    auto version = version_key(requested);
    if (!version) return std::nullopt;
    if (*version == unstable) return version;
    int oldest = add_quarters(scenario_.latest_version, -3);
    int release_candidate = add_quarters(scenario_.latest_version, 1);
    if (*version > release_candidate) return std::nullopt;
    return std::max(*version, oldest);
  }

  std::string internal_server_error() {
    std::string id = uuid();
    common::JsonWriter json;
    json.begin_object().key("errors").begin_array().begin_object();
    json.field("message", "Internal error. Looks like something went wrong on our end.\nRequest ID: " + id +
                              " (include this in support requests).");
    json.key("extensions").begin_object().field("code", "INTERNAL_SERVER_ERROR").field("requestId", id).end_object();
    return json.end_object().end_array().end_object().take();
  }

  // ---- validation (graphql-ruby's static rules that matter here), then the arguments'
  // effective values, one set per root field.
  std::vector<Arguments> validate(const graphql::Operation& operation, const Value& variables, int version,
                                  Errors& errors) const {
    std::vector<Arguments> resolved(operation.selections.size());
    const std::string path = operation.path_name();
    std::map<std::string, const graphql::VariableDefinition*, std::less<>> declared;
    for (const auto& definition : operation.variables) {
      declared[definition.name] = &definition;
      auto base = graphql::base_type(definition.type);
      if (!input_type_defined(base, version)) {
        errors.add(std::string(base) + " isn't a defined input type (on $" + definition.name + ")", definition.at,
                   {path},
                   {{"code", "variableRequiresValidType"}, {"typeName", base}, {"variableName", definition.name}});
      }
    }
    std::set<std::string, std::less<>> used;
    const ObjectDef* root = object_def(operation.kind == "mutation" ? "Mutation" : "QueryRoot");
    for (std::size_t i = 0; i < operation.selections.size(); ++i) {
      const auto& field = operation.selections[i];
      const FieldDef* def = field_def(*root, field, version, {path}, errors);
      if (!def) continue;
      check_selections(field, def->type, version, {path, field.key()}, errors);
      const auto& defs = arguments_of(field.name);
      std::vector<std::string_view> missing;
      for (const auto& argument_def : defs) {
        if (version < argument_def.since || version >= argument_def.until) continue;
        const auto* argument = field.argument(argument_def.name);
        if (!argument && argument_def.type.ends_with('!')) missing.push_back(argument_def.name);
      }
      if (!missing.empty()) {
        std::string list;
        for (auto name : missing) list += (list.empty() ? "" : ", ") + std::string(name);
        errors.add(
            "Field '" + field.name + "' is missing required arguments: " + list, field.at, {path, field.key()},
            {{"code", "missingRequiredArguments"}, {"className", "Field"}, {"name", field.name}, {"arguments", list}});
      }
      for (const auto& argument : field.arguments) {
        const ArgumentDef* argument_def = nullptr;
        for (const auto& candidate : defs) {
          if (candidate.name == argument.name && version >= candidate.since && version < candidate.until)
            argument_def = &candidate;
        }
        mark_used(argument.value, used);
        if (!argument_def) {
          errors.add("Field '" + field.name + "' doesn't accept argument '" + argument.name + "'", argument.at,
                     {path, field.key(), argument.name},
                     {{"code", "argumentNotAccepted"},
                      {"name", field.name},
                      {"typeName", "Field"},
                      {"argumentName", argument.name}});
          continue;
        }
        if (argument.value.is(Kind::variable)) {
          auto it = declared.find(argument.value.text);
          if (it == declared.end()) continue;  // reported below
          const auto& definition = *it->second;
          bool nullable_variable = !definition.type.ends_with('!') && definition.default_value.is(Kind::absent);
          std::string_view bare = argument_def->type.ends_with('!')
                                      ? argument_def->type.substr(0, argument_def->type.size() - 1)
                                      : argument_def->type;
          std::string_view variable_bare = definition.type.ends_with('!')
                                               ? std::string_view(definition.type).substr(0, definition.type.size() - 1)
                                               : std::string_view(definition.type);
          if (bare != variable_bare || (argument_def->type.ends_with('!') && nullable_variable)) {
            errors.add("Type mismatch on variable $" + definition.name + " and argument " + argument.name + " (" +
                           definition.type + " / " + std::string(argument_def->type) + ")",
                       argument.at, {path, field.key(), argument.name},
                       {{"code", "variableMismatch"},
                        {"variableName", definition.name},
                        {"typeName", definition.type},
                        {"argumentName", argument.name},
                        {"errorMessage", "Type mismatch"}});
            continue;
          }
          const Value* given = variables.field(definition.name);
          const Value& value = given && !given->is(Kind::absent) ? *given : definition.default_value;
          resolved[i].values[argument.name] = value;
        } else {
          auto problem = coercion_problem(argument_def->type, argument.value, false);
          if (!problem.empty()) {
            errors.add(
                "Argument '" + argument.name + "' on Field '" + field.name + "' has an invalid value (" +
                    argument.value.printed() + "). Expected type '" + std::string(argument_def->type) + "'.",
                argument.at, {path, field.key(), argument.name},
                {{"code", "argumentLiteralsIncompatible"}, {"typeName", "Field"}, {"argumentName", argument.name}});
            continue;
          }
          resolved[i].values[argument.name] = argument.value;
        }
      }
    }
    for (const auto& name : used) {
      if (declared.count(name)) continue;
      errors.add("Variable $" + name + " is used by " + operation.display_name() + " but not declared", operation.at,
                 {path}, {{"code", "variableNotDefined"}, {"variableName", name}});
    }
    for (const auto& definition : operation.variables) {
      if (used.count(definition.name)) continue;
      errors.add("Variable $" + definition.name + " is declared by " + operation.display_name() + " but not used",
                 definition.at, {path}, {{"code", "variableNotUsed"}, {"variableName", definition.name}});
    }
    if (!errors.items.empty()) return resolved;
    // Then the variables' values, against their declared types.
    for (const auto& definition : operation.variables) {
      const Value* given = variables.field(definition.name);
      const Value& value = given ? *given : definition.default_value;
      if (auto problem = coercion_problem(definition.type, value, given != nullptr); !problem.empty()) {
        errors.invalid_variable(definition, problem);
      }
    }
    // An order or job id must be a gid of its kind (Shopify: "Invalid global id").
    for (std::size_t i = 0; i < operation.selections.size() && errors.items.empty(); ++i) {
      const auto& field = operation.selections[i];
      std::string_view key = field.name == "orderCancel" ? "orderId" : "id";
      std::string_view prefix = field.name == "job" ? job_gid_prefix : order_gid_prefix;
      const Value& id = resolved[i].get(key);
      if (field.name == "__typename" || id.is(Kind::absent)) continue;
      if (!is_gid(id.text, prefix, field.name != "job")) {
        errors.add("Invalid global id '" + id.text + "'", field.at, {path, field.key()},
                   {{"code", "argumentLiteralsIncompatible"}, {"typeName", "CoercionError"}});
      }
    }
    return resolved;
  }

  static void mark_used(const Value& value, std::set<std::string, std::less<>>& used) {
    if (value.is(Kind::variable)) used.insert(value.text);
    for (const auto& item : value.items) mark_used(item, used);
    for (const auto& [key, item] : value.fields) mark_used(item, used);
  }

  // The field's definition on `object` in `version`, or nullptr with the error added.
  static const FieldDef* field_def(const ObjectDef& object, const graphql::Field& field, int version,
                                   std::vector<std::string> path, Errors& errors) {
    static const FieldDef typename_def{"__typename", "String!"};
    if (field.name == "__typename") return &typename_def;
    path.push_back(field.key());
    auto add_path = [&](std::string_view message,
                        std::initializer_list<std::pair<std::string_view, std::string_view>> ext) {
      // Paths are at most four deep here.
      std::string_view p[4] = {};
      for (std::size_t i = 0; i < path.size() && i < 4; ++i) p[i] = path[i];
      switch (path.size()) {
        case 1:
          errors.add(message, field.at, {p[0]}, ext);
          break;
        case 2:
          errors.add(message, field.at, {p[0], p[1]}, ext);
          break;
        case 3:
          errors.add(message, field.at, {p[0], p[1], p[2]}, ext);
          break;
        default:
          errors.add(message, field.at, {p[0], p[1], p[2], p[3]}, ext);
          break;
      }
    };
    for (const auto& def : object.fields) {
      if (def.name != field.name || version < def.since) continue;
      if (!def.served) {
        add_path("Sandbox: " + std::string(object.name) + "." + field.name + " is not served",
                 {{"code", "sandboxUnsupported"}});
        return nullptr;
      }
      return &def;
    }
    if (object.complete) {
      add_path("Field '" + field.name + "' doesn't exist on type '" + std::string(object.name) + "'",
               {{"code", "undefinedField"}, {"typeName", object.name}, {"fieldName", field.name}});
    } else {
      add_path("Sandbox: " + std::string(object.name) + "." + field.name + " is not served",
               {{"code", "sandboxUnsupported"}});
    }
    return nullptr;
  }

  // Objects need a selection set, scalars must not have one; then the same for each child.
  static void check_selections(const graphql::Field& field, std::string_view type, int version,
                               std::vector<std::string> path, Errors& errors) {
    const ObjectDef* object = object_def(graphql::base_type(type));
    std::string node = "field '" + field.name + "'";
    std::string named(graphql::base_type(type));
    if (!object && field.has_selection_set) {
      errors.add("Selections can't be made on scalars (" + node + " returns " + named + " but has selections)",
                 field.at, {}, {{"code", "selectionMismatch"}, {"nodeName", node}, {"typeName", named}});
      return;
    }
    if (!object) return;
    if (!field.has_selection_set) {
      errors.add("Field must have selections (" + node + " returns " + named +
                     " but has no selections. Did you mean '" + field.name + " { ... }'?)",
                 field.at, {}, {{"code", "selectionMismatch"}, {"nodeName", node}, {"typeName", named}});
      return;
    }
    for (const auto& child : field.selections) {
      if (!child.arguments.empty()) {
        errors.add("Field '" + child.name + "' doesn't accept argument '" + child.arguments[0].name + "'",
                   child.arguments[0].at, {},
                   {{"code", "argumentNotAccepted"},
                    {"name", child.name},
                    {"typeName", "Field"},
                    {"argumentName", child.arguments[0].name}});
        continue;
      }
      const FieldDef* def = field_def(*object, child, version, path, errors);
      if (!def) continue;
      auto child_path = path;
      child_path.push_back(child.key());
      check_selections(child, def->type, version, std::move(child_path), errors);
    }
  }

  // ---- orderCancel, jobs and orders

  void cancel(Call& call, const std::string& shop, const Arguments& args, const std::vector<graphql::Field>& selections,
              common::JsonWriter& json, std::vector<Effect>& effects) {
    std::string order = args.get("orderId").text;
    bool restock = args.flag("restock");
    const Value* method = args.get("refundMethod").field("originalPaymentMethodsRefund");
    bool refund = args.flag("refund") || (method && method->is(Kind::boolean) && method->text == "true");

    std::vector<UserError> refused;
    if (scenario_.internal_errors > 0) {
      --scenario_.internal_errors;
      refused.push_back({"", std::string(internal_error), "INTERNAL_ERROR"});
    } else if (orders_[shop + '\n' + order].cancelled_at) {
      refused.push_back({"orderId", std::string(already_canceled), "INVALID"});
    } else if (restock && scenario_.unrestockable.count(order)) {
      refused.push_back({"restock", std::string(unrestockable), "INVALID"});
    }
    CancelJob* job = nullptr;
    if (refused.empty()) {
      std::string id = std::string(job_gid_prefix) + uuid();
      job = &jobs_[id];
      *job = CancelJob{id,
                       shop,
                       order,
                       std::string(args.get("reason").text),
                       std::string(call.job_id),
                       restock,
                       refund,
                       static_cast<int>(scenario_.job_polls),
                       false,
                       false,
                       {}};
      if (job->requests_left == 0) {
        run(*job, call.now, effects);
      } else {
        pending_[shop].push_back(id);
      }
      started_.push_back(id);
      forget_old_jobs();
    }
    json.begin_object();
    for (const auto& field : selections) {
      json.key(field.key());
      if (field.name == "job") {
        write_job(json, field.selections, job);
      } else if (field.name == "jobResult") {
        write_job_result(json, field.selections, job);
      } else if (field.name == "orderCancelUserErrors") {
        write_user_errors(json, field.selections, refused);
      } else if (field.name == "userErrors") {
        write_user_errors(json, field.selections, refused);
      } else {
        json.value("OrderCancelPayload");
      }
    }
    json.end_object();
  }

  // Jobs of `shop` still waiting count this request; those whose count is up run now, in the
  // order they were started.
  void run_due_jobs(const std::string& shop, std::chrono::system_clock::time_point now, std::vector<Effect>& effects) {
    auto waiting = pending_.find(shop);
    if (waiting == pending_.end()) return;
    std::erase_if(waiting->second, [&](const std::string& id) {
      auto it = jobs_.find(id);
      if (it == jobs_.end()) return true;
      if (--it->second.requests_left > 0) return false;
      run(it->second, now, effects);
      return true;
    });
    if (waiting->second.empty()) pending_.erase(waiting);
  }

  // A benchmark cancels millions of orders: finished jobs are kept for their polls, not forever.
  void forget_old_jobs() {
    while (started_.size() > max_jobs_kept) {
      jobs_.erase(started_.front());
      started_.pop_front();
    }
  }

  void run(CancelJob& job, std::chrono::system_clock::time_point now, std::vector<Effect>& effects) {
    job.done = true;
    auto& order = orders_[job.shop + '\n' + job.order];
    if (order.cancelled_at) {
      job.errors.push_back({"orderId", std::string(already_canceled), "INVALID"});
      return;
    }
    if (scenario_.failing_jobs > 0) {
      --scenario_.failing_jobs;
      job.errors.push_back({"", std::string(job_failed), scenario_.failing_job_code});
      return;
    }
    job.succeeded = true;
    std::string at;
    append_rfc3339_ms(at, now);
    order.cancelled_at = at;
    order.cancel_reason = job.reason;
    if (job.refund) order.refunded = order.total;  // to the original payment methods, all that was paid
    auto effect = [&](Action action) {
      Effect e;
      e.provider = name();
      e.action = action;
      e.job_id = job.rescind_job;
      e.ref = job.order;
      e.at = now;
      return e;
    };
    effects.push_back(effect(Action::cancel));
    if (job.restock) effects.push_back(effect(Action::restock));
    // The platform refunds what the order was paid; the amount is Shopify's to know.
    if (job.refund) effects.push_back(effect(Action::refund));
  }

  static void write_user_errors(common::JsonWriter& json, const std::vector<graphql::Field>& selections,
                                const std::vector<UserError>& errors) {
    json.begin_array();
    for (const auto& error : errors) {
      json.begin_object();
      for (const auto& field : selections) {
        json.key(field.key());
        if (field.name == "field") {
          // [String!]: the path to the argument at fault, null when the error has none.
          error.field.empty() ? json.null() : json.begin_array().value(error.field).end_array();
        } else if (field.name == "message") {
          json.value(error.message);
        } else if (field.name == "code") {
          json.value(error.code);
        } else {
          json.value("OrderCancelUserError");
        }
      }
      json.end_object();
    }
    json.end_array();
  }

  static void write_job(common::JsonWriter& json, const std::vector<graphql::Field>& selections, const CancelJob* job) {
    if (!job) {
      json.null();
      return;
    }
    json.begin_object();
    for (const auto& field : selections) {
      json.key(field.key());
      if (field.name == "id") {
        json.value(job->id);
      } else if (field.name == "done") {
        json.value(job->done);
      } else {
        json.value("Job");
      }
    }
    json.end_object();
  }

  void write_job_result(common::JsonWriter& json, const std::vector<graphql::Field>& selections, const CancelJob* job) {
    if (!job) {
      json.null();
      return;
    }
    json.begin_object();
    for (const auto& field : selections) {
      json.key(field.key());
      if (field.name == "id") {
        json.value(job->id);
      } else if (field.name == "done") {
        json.value(job->done);
      } else if (field.name == "status") {
        json.value(!job->done ? "STARTED" : job->succeeded ? "SUCCEEDED" : "FAILED");
      } else if (field.name == "errors") {
        write_user_errors(json, field.selections, job->errors);
      } else if (field.name == "order") {
        write_order(json, field.selections, job->shop, job->order);
      } else {
        json.value("OrderCancelJobResult");
      }
    }
    json.end_object();
  }

  // Every well-formed order id is an order of the shop, open until canceled.
  void write_order(common::JsonWriter& json, const std::vector<graphql::Field>& selections, const std::string& shop,
                   const std::string& order) {
    static const OrderState untouched;
    auto it = orders_.find(shop + '\n' + order);
    const OrderState* state = it == orders_.end() ? nullptr : &it->second;
    const OrderState& money = state ? *state : untouched;
    bool cancelled = state && state->cancelled_at;
    json.begin_object();
    for (const auto& field : selections) {
      json.key(field.key());
      if (field.name == "id") {
        json.value(order);
      } else if (field.name == "cancelledAt") {
        cancelled ? json.value(*state->cancelled_at) : json.null();
      } else if (field.name == "cancelReason") {
        cancelled ? json.value(state->cancel_reason) : json.null();
      } else if (field.name == "displayFinancialStatus") {
        json.value(money.financial_status());
      } else if (field.name == "totalRefundedSet") {
        write_money_bag(json, field.selections, money.refunded, money.currency);
      } else {
        json.value("Order");
      }
    }
    json.end_object();
  }

  static void write_money_bag(common::JsonWriter& json, const std::vector<graphql::Field>& selections, Milli amount,
                              std::string_view currency) {
    json.begin_object();
    for (const auto& field : selections) {
      json.key(field.key());
      if (field.name == "shopMoney" || field.name == "presentmentMoney") {
        json.begin_object();
        for (const auto& money : field.selections) {
          json.key(money.key());
          if (money.name == "amount") {
            json.value(decimal_text(amount));
          } else if (money.name == "currencyCode") {
            json.value(currency);
          } else {
            json.value("MoneyV2");
          }
        }
        json.end_object();
      } else {
        json.value("MoneyBag");
      }
    }
    json.end_object();
  }

  std::string scenario_json() const {
    common::JsonWriter json;
    json.begin_object().field("latest_version", version_name(scenario_.latest_version));
    json.field("job_polls", scenario_.job_polls).field("failing_jobs", scenario_.failing_jobs);
    json.field("failing_job_code", scenario_.failing_job_code).field("internal_errors", scenario_.internal_errors);
    json.field("internal_server_errors", scenario_.internal_server_errors).key("unrestockable_orders").begin_array();
    for (const auto& order : scenario_.unrestockable) json.value(order);
    return json.end_array().end_object().take();
  }

  std::string uuid() {
    std::uint64_t a = random_();
    std::uint64_t b = random_();
    char buf[48];
    std::snprintf(buf, sizeof buf, "%08x-%04x-4%03x-8%03x-%012llx", static_cast<unsigned>(a >> 32),
                  static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xfff),
                  static_cast<unsigned>(b >> 52), static_cast<unsigned long long>(b & 0xffffffffffffull));
    return buf;
  }

  std::mt19937_64 random_;
  std::map<std::string, OrderState> orders_;                 // "shop\norder gid"
  std::map<std::string, CancelJob> jobs_;                    // job gid
  std::deque<std::string> started_;                          // job gids, oldest first
  std::map<std::string, std::vector<std::string>> pending_;  // shop → gids of jobs not run yet
  Scenario scenario_;
};

}  // namespace

std::unique_ptr<Provider> make_shopify(const ProviderOptions&) { return std::make_unique<Shopify>(); }

}  // namespace rescind::sandbox
