#include "clients/shopify.hpp"

#include "clients/provider.hpp"
#include "common/sandbox_credentials.hpp"

#include <algorithm>

#include <simdjson.h>

#include "clients/provider_call.hpp"
#include "common/async.hpp"
#include "common/json_text.hpp"
#include "common/log.hpp"
#include "jobs/money.hpp"

namespace rescind::clients {

namespace {
// {"query":…,"variables":{"id":…}}: a query of one object by its id.
std::string graphql_body(std::string_view query, std::string_view id) {
  common::JsonWriter json;
  json.begin_object().field("query", query).key("variables").begin_object().field("id", id).end_object();
  return json.end_object().take();
}
}  // namespace

namespace {

// Versions compare as text: "2024-10" < "2025-07" < "2026-10" < "unstable".
constexpr std::string_view refund_method_since = "2025-07";  // refundMethod, `refund` deprecated (SH2)
constexpr std::string_view job_result_since = "2026-10";     // OrderCancelPayload.jobResult (SH5)

constexpr std::string_view job_query = "query CancelJob($id: ID!) { job(id: $id) { id done } }";
constexpr std::string_view order_query = "query OrderState($id: ID!) { order(id: $id) { id cancelledAt } }";
// Both amounts: the job's currency is the customer's, which may not be the shop's.
constexpr std::string_view order_refunds_query =
    "query OrderRefunds($id: ID!) { order(id: $id) { id cancelledAt displayFinancialStatus "
    "totalRefundedSet { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } } } }";

std::string cancel_mutation(std::string_view version) {
  bool refund_method = version >= refund_method_since;
  std::string out = "mutation Cancel($orderId: ID!, $reason: OrderCancelReason!, ";
  out += refund_method ? "$refundMethod: OrderCancelRefundMethodInput!" : "$refund: Boolean!";
  out +=
      ", $restock: Boolean!, $notifyCustomer: Boolean, $staffNote: String) { orderCancel(orderId: $orderId, "
      "reason: $reason, ";
  out += refund_method ? "refundMethod: $refundMethod" : "refund: $refund";
  out += ", restock: $restock, notifyCustomer: $notifyCustomer, staffNote: $staffNote) { job { id done } ";
  if (version >= job_result_since) out += "jobResult { id done status errors { field message code } } ";
  out += "orderCancelUserErrors { field message code } } }";
  return out;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::optional<bool> json_bool_at(std::string_view body, std::string_view pointer) {
  simdjson::padded_string padded(body);
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  bool value = false;
  if (parser.iterate(padded).get(doc) || doc.at_pointer(pointer).get_bool().get(value)) return std::nullopt;
  return value;
}

// Whether the value at `pointer` is JSON null (absent or anything else: false).
bool json_null_at(std::string_view body, std::string_view pointer) {
  simdjson::padded_string padded(body);
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  bool null = false;
  if (parser.iterate(padded).get(doc)) return false;
  auto value = doc.at_pointer(pointer);
  return !value.error() && !value.is_null().get(null) && null;
}

bool same_currency(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::toupper(static_cast<unsigned char>(x)) == std::toupper(static_cast<unsigned char>(y));
         });
}

// The HTTP status first, then GraphQL's own errors, which come inside an HTTP 200: THROTTLED
// waits, INTERNAL_SERVER_ERROR ("returned instead of 500 Internal Server Error", SH10) is
// tried again, anything else (ACCESS_DENIED, a query the schema refuses) is permanent.
Outcome answered(const Exchange& exchange) {
  auto outcome = outcome_from(exchange);
  if (exchange.error || !outcome.ok()) return outcome;
  const auto& body = exchange.response.body();
  outcome.slow_down = ShopifyOrders::slow_down(body);
  if (auto code = json_string_at(body, "/errors/0/extensions/code")) {
    outcome.code = *code;
    outcome.message = json_string_at(body, "/errors/0/message").value_or(*code);
    if (*code == "THROTTLED") {
      outcome.kind = Outcome::Kind::rate_limited;
      outcome.retry_after = std::chrono::seconds(1);
    } else {
      outcome.kind = *code == "INTERNAL_SERVER_ERROR" ? Outcome::Kind::retryable : Outcome::Kind::permanent;
    }
  } else if (auto message = json_string_at(body, "/errors/0/message")) {
    outcome.kind = Outcome::Kind::permanent;
    outcome.code = "graphql_error";
    outcome.message = *message;
  }
  return outcome;
}

// An OrderCancelUserError (SH7): INTERNAL_ERROR is Shopify's own fault and passes; the
// other codes (INVALID, NOT_FOUND, NO_REFUND_PERMISSION) stay as they are.
void refuse(Outcome& outcome, std::string code, std::string message) {
  outcome.kind = code == "INTERNAL_ERROR" ? Outcome::Kind::retryable : Outcome::Kind::permanent;
  outcome.code = code.empty() ? "user_error" : std::move(code);
  outcome.message = std::move(message);
}

}  // namespace

std::string ShopifyOrders::cancel_reason(const jobs::Job& job) {
  switch (job.kind) {
    case jobs::Kind::dispute_opened:
      return job.dispute.reason == "fraudulent" ? "FRAUD" : "OTHER";
    case jobs::Kind::order_unfulfillable:
      return job.reason == "declined" || job.reason == "payment_voided" ? "DECLINED" : "INVENTORY";
    case jobs::Kind::refund_requested:
      return "CUSTOMER";
    case jobs::Kind::order_canceled:
      break;
  }
  auto reason = lower(job.reason);
  if (reason == "inventory" || reason == "fraud" || reason == "declined" || reason == "staff") {
    std::string upper = job.reason;
    for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return upper;
  }
  return reason == "customer" ? "CUSTOMER" : "OTHER";
}

std::string ShopifyOrders::cancel_body(const jobs::Job& job, const jobs::Plan& plan,
                                       const std::string& order_gid) const {
  common::JsonWriter json;
  json.begin_object().field("query", cancel_mutation(settings_.api_version)).key("variables").begin_object();
  json.field("orderId", order_gid).field("reason", cancel_reason(job));
  if (settings_.api_version >= refund_method_since) {
    json.key("refundMethod").begin_object().field("originalPaymentMethodsRefund", plan.refund_by_platform).end_object();
  } else {
    json.field("refund", plan.refund_by_platform);
  }
  json.field("restock", true).field("notifyCustomer", false).field("staffNote", "Canceled by Rescind, event " + job.id);
  return json.end_object().end_object().take();
}

asio::awaitable<Outcome> ShopifyOrders::cancel(const jobs::Job& job, const jobs::Plan& plan) {
  const auto& domain = job.shop.domain;
  Shop shop;
  if (auto it = settings_.tokens.find(domain); it != settings_.tokens.end()) {
    shop.token = it->second;
  } else if (settings_.any_shop || domain.ends_with(".myshopify.com")) {
    // The default token only ever goes to Shopify's own domains: a job must not be able to
    // send our credentials to a host of its choosing.
    shop.token = settings_.default_token;
  }
  if (shop.token.empty()) {
    co_return Outcome{
        Outcome::Kind::permanent, 0, "not_configured", "no Shopify access token for shop " + domain, {}, {}};
  }
  std::string base = settings_.url_template;
  if (auto at = base.find("{shop}"); at != std::string::npos) base.replace(at, 6, domain);
  std::string error;
  auto api = parse_url(base, error);
  if (!api) co_return Outcome::permanent(0, "bad_shop_url", error);
  shop.api = std::move(*api);

  const std::string order_gid = "gid://shopify/Order/" + job.order.id;
  auto answer = interpret_cancel(co_await post(shop, job, cancel_body(job, plan, order_gid)));
  if (answer.refused || (answer.outcome.ok() && answer.job_id.empty())) {
    // Refused, or no job: the order may be canceled all the same (by hand, or by an earlier
    // attempt whose answer was lost), and then the step has what it wants. Shopify has no
    // code for "already canceled" (SH7) and its wording is not documented: cancelledAt is.
    auto state = co_await order_state(shop, job, order_gid, plan.refund_by_platform);
    if (!state.outcome.ok()) co_return state.outcome;
    if (state.canceled) co_return judge_already_canceled(job, plan, state, order_gid);
    if (answer.refused) co_return answer.outcome;
    co_return Outcome::retryable(200, "no_cancel_job", "Shopify answered orderCancel without a job or an error");
  }
  if (!answer.outcome.ok()) co_return answer.outcome;
  if (answer.job == CancelAnswer::Job::succeeded) co_return Outcome::success(answer.job_id);
  co_return co_await wait_for_job(shop, job, answer.job_id, order_gid);
}

asio::awaitable<Exchange> ShopifyOrders::post(const Shop& shop, const jobs::Job& job, std::string body) {
  auto request =
      make_post(shop.api, "/admin/api/" + settings_.api_version + "/graphql.json", job.id, "application/json");
  request.set("X-Shopify-Access-Token", shop.token);
  request.body() = std::move(body);
  auto exchange = co_await http_.send(shop.api.origin, std::move(request));
  note_version(exchange);
  co_return exchange;
}

asio::awaitable<Outcome> ShopifyOrders::wait_for_job(const Shop& shop, const jobs::Job& job, const std::string& job_gid,
                                                     const std::string& order_gid) {
  auto pause = std::chrono::milliseconds(100);
  for (int poll = 0; poll < 8; ++poll) {
    auto body = graphql_body(job_query, job_gid);
    Outcome polled;
    bool done = interpret_job(co_await post(shop, job, std::move(body)), polled);
    // Throttled: ask again after the pause; any other failure ends this attempt (a retry
    // sends orderCancel again, and an order canceled by now is recognised by its state).
    if (!polled.ok() && polled.kind != Outcome::Kind::rate_limited) co_return polled;
    if (done) {
      // A finished job is not a canceled order: the job can fail (SH5). The order says.
      auto state = co_await order_state(shop, job, order_gid);
      if (!state.outcome.ok()) co_return state.outcome;
      if (state.canceled) co_return Outcome::success(job_gid);
      co_return Outcome::retryable(
          200, "cancel_failed",
          "Shopify's cancel job " + job_gid + " finished but order " + order_gid + " is not canceled");
    }
    co_await common::sleep_for(pause);
    pause *= 2;
  }
  // Still running: retry later; by then the order is canceled (its state says so) or not.
  co_return Outcome{
      Outcome::Kind::retryable, 200, "cancel_pending", "Shopify's cancel job " + job_gid + " is not done yet", {}, {}};
}

asio::awaitable<OrderState> ShopifyOrders::order_state(const Shop& shop, const jobs::Job& job,
                                                       const std::string& order_gid, bool with_refunds) {
  auto body = graphql_body(with_refunds ? order_refunds_query : order_query, order_gid);
  co_return interpret_order(co_await post(shop, job, std::move(body)),
                            with_refunds ? std::string_view(job.order.currency) : std::string_view());
}

Outcome ShopifyOrders::judge_already_canceled(const jobs::Job& job, const jobs::Plan& plan, const OrderState& state,
                                              const std::string& order_gid) {
  const auto& refund = job.refund;
  if (!plan.refund_by_platform || (state.refunded_minor && *state.refunded_minor >= refund.amount_minor)) {
    auto done = Outcome::success(order_gid);
    done.code = "already_canceled";
    done.slow_down = state.outcome.slow_down;
    return done;
  }
  // Canceled by someone else (a merchant in the admin, most likely) without refunding what
  // this job was to refund: counting the step as done would tell the customer "refunded".
  // Not a retry either: only a person can refund the rest (then replay the job).
  Outcome stop{Outcome::Kind::permanent, 200, "canceled_without_refund", {}, order_gid, {}};
  const auto& currency = job.order.currency;
  if (state.refunded_minor) {
    stop.message = "order " + order_gid + " was already canceled at Shopify, and only " +
                   jobs::format_minor(*state.refunded_minor, currency) + " " + currency + " of the " +
                   jobs::format_minor(refund.amount_minor, currency) + " " + currency +
                   " this job was to refund is refunded";
  } else {
    stop.code = "refund_unconfirmed";
    stop.message = "order " + order_gid + " was already canceled at Shopify, and its refunded total is not in " +
                   currency + ", so the " + jobs::format_minor(refund.amount_minor, currency) + " " + currency +
                   " this job was to refund cannot be confirmed";
  }
  if (!state.financial_status.empty()) stop.message += " (Shopify shows it as " + state.financial_status + ")";
  stop.message +=
      ": refund the customer in the Shopify admin if that is due, then replay the job; no customer was told";
  stop.slow_down = state.outcome.slow_down;
  return stop;
}

void ShopifyOrders::note_version(const Exchange& exchange) {
  if (exchange.error) return;
  auto it = exchange.response.find("X-Shopify-API-Version");
  if (it == exchange.response.end()) return;
  std::string_view served = it->value();
  if (served.size() > 32) served = served.substr(0, 32);  // a version is "2026-10"; the rest is noise
  if (served == served_version_) return;
  served_version_ = std::string(served);
  if (served == settings_.api_version) {
    common::log::info("Shopify answers from the pinned API version", {{"api_version", served_version_}});
  } else {
    common::log::warn(
        "Shopify answers from another API version than the pinned one: it falls forward from a version "
        "it no longer serves; move --shopify-api-version to a supported one",
        {{"requested", settings_.api_version}, {"served", served_version_}});
  }
}

std::optional<std::chrono::milliseconds> ShopifyOrders::slow_down(std::string_view body) {
  simdjson::padded_string padded(body);
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  double available = 0, maximum = 0, restore = 0;
  if (parser.iterate(padded).get(doc)) return std::nullopt;
  auto status = doc.at_pointer("/extensions/cost/throttleStatus");
  simdjson::ondemand::object bucket;
  if (status.get_object().get(bucket)) return std::nullopt;
  for (auto field : bucket) {
    std::string_view key;
    double value = 0;
    if (field.unescaped_key().get(key) || field.value().get_double().get(value)) continue;
    if (key == "currentlyAvailable")
      available = value;
    else if (key == "maximumAvailable")
      maximum = value;
    else if (key == "restoreRate")
      restore = value;
  }
  // Below a tenth of the bucket: wait until it has refilled to that tenth, so concurrent
  // calls space themselves out instead of draining it into THROTTLED answers.
  if (maximum <= 0 || restore <= 0 || available >= maximum / 10) return std::nullopt;
  // At most an hour, like a Retry-After: a tiny restoreRate (the fuzzer sent 0.01) would
  // otherwise park the account for hours, or overflow the conversion (undefined behaviour).
  double pause_ms = (maximum / 10 - available) / restore * 1000 + 1;
  return std::chrono::milliseconds(static_cast<long long>(std::min(pause_ms, 3'600'000.0)));
}

CancelAnswer ShopifyOrders::interpret_cancel(const Exchange& exchange) {
  CancelAnswer answer;
  answer.outcome = answered(exchange);
  if (!answer.outcome.ok()) return answer;
  const auto& body = exchange.response.body();
  if (auto message = json_string_at(body, "/data/orderCancel/orderCancelUserErrors/0/message")) {
    answer.refused = true;
    refuse(answer.outcome, json_string_at(body, "/data/orderCancel/orderCancelUserErrors/0/code").value_or(""),
           *message);
    return answer;
  }
  answer.job_id = json_string_at(body, "/data/orderCancel/job/id").value_or("");
  auto status = json_string_at(body, "/data/orderCancel/jobResult/status");
  if (status == "SUCCEEDED") {
    answer.job = CancelAnswer::Job::succeeded;
  } else if (status == "FAILED") {
    answer.job = CancelAnswer::Job::failed;
    answer.refused = true;
    refuse(answer.outcome, json_string_at(body, "/data/orderCancel/jobResult/errors/0/code").value_or("cancel_failed"),
           "Shopify's cancel job failed: " +
               json_string_at(body, "/data/orderCancel/jobResult/errors/0/message").value_or("no error given"));
  } else if (status) {
    answer.job = CancelAnswer::Job::running;
  }
  answer.outcome.reference = answer.job_id;
  return answer;
}

OrderState ShopifyOrders::interpret_order(const Exchange& exchange, std::string_view refund_currency) {
  OrderState state;
  state.outcome = answered(exchange);
  if (!state.outcome.ok()) return state;
  const auto& body = exchange.response.body();
  if (json_string_at(body, "/data/order/cancelledAt")) {
    state.canceled = true;
  } else if (!json_null_at(body, "/data/order/cancelledAt")) {
    // No order (NOT_FOUND or a token that cannot see it) or an answer of another shape: no
    // verdict either way, so the step must not be taken as done.
    state.outcome.kind = json_null_at(body, "/data/order") ? Outcome::Kind::permanent : Outcome::Kind::retryable;
    state.outcome.code = json_null_at(body, "/data/order") ? "order_not_found" : "unexpected_answer";
    state.outcome.message = "Shopify's answer to order(id:) has no cancelledAt";
    return state;
  }
  if (refund_currency.empty() || !state.canceled) return state;  // the amounts matter only then
  state.financial_status = json_string_at(body, "/data/order/displayFinancialStatus").value_or("");
  bool answered_amount = false;
  for (std::string_view money :
       {"/data/order/totalRefundedSet/presentmentMoney", "/data/order/totalRefundedSet/shopMoney"}) {
    auto amount = json_string_at(body, std::string(money) + "/amount");
    auto currency = json_string_at(body, std::string(money) + "/currencyCode");
    answered_amount = answered_amount || (amount && currency);
    if (!amount || !currency || !same_currency(*currency, refund_currency) || state.refunded_minor) continue;
    auto exponent = jobs::currency_exponent(*currency);
    if (exponent) state.refunded_minor = jobs::decimal_minor(*amount, *exponent);
  }
  if (!answered_amount) {
    // An answer without the amounts (not what the query asked for): no verdict, ask again.
    state.outcome.kind = Outcome::Kind::retryable;
    state.outcome.code = "unexpected_answer";
    state.outcome.message = "Shopify's answer to order(id:) has no totalRefundedSet";
  }
  return state;
}

bool ShopifyOrders::interpret_job(const Exchange& exchange, Outcome& outcome) {
  outcome = answered(exchange);
  if (!outcome.ok()) return false;
  return json_bool_at(exchange.response.body(), "/data/job/done").value_or(false);
}

// The component: Shopify cancels (and restocks) orders of shops on it, refunding too when it
// holds the payment.
namespace {

class ShopifyProvider final : public Provider {
 public:
  ShopifyProvider(HttpClient& http, const ShopifySettings& settings) : orders_(http, settings) {}
  std::string_view name() const override { return "shopify"; }
  // Shopify's bucket is per shop.
  std::string_view account(jobs::Role, const jobs::Job& job) const override { return job.shop.domain; }
  // orderCancel refunds the payments Shopify holds (refund: true) in the same call.
  bool cancel_refunds() const override { return true; }
  asio::awaitable<Outcome> perform(const StepCall& step, const jobs::Job& job) override {
    co_return co_await orders_.cancel(job, step.plan);
  }

 private:
  ShopifyOrders orders_;
};

class ShopifySpec final : public ProviderSpec {
 public:
  std::string_view name() const override { return "shopify"; }
  std::vector<jobs::Role> roles() const override { return {jobs::Role::cancel, jobs::Role::restock}; }
  std::string_view group() const override {
    return "Shopify (cancel and restock; refund when Shopify holds the payment)";
  }
  void add_options(OptionSet& options) override {
    options.secrets("--shopify-token", tokens_, "Per shop, repeatable: DOMAIN=shpat_…", "SHOPIFY_TOKENS");
    options.secret("--shopify-default-token", settings_.default_token,
                   "Token for *.myshopify.com shops without their own", "SHOPIFY_ACCESS_TOKEN");
    options.setting("--shopify-api-version", settings_.api_version,
                    "Admin API version (2025-07 on: refundMethod; 2026-10 on: jobResult; Shopify serves each for about "
                    "12 months, then falls forward)",
                    "RESCIND_SHOPIFY_API_VERSION", true);
  }
  std::vector<std::string> real_credentials() const override {
    std::vector<std::string> given;
    if (!settings_.default_token.empty()) given.emplace_back("SHOPIFY_ACCESS_TOKEN");
    if (!tokens_.empty()) given.emplace_back("SHOPIFY_TOKENS");
    return given;
  }
  void finish(const Setup& setup) override {
    for (const auto& item : tokens_) {
      auto [shop, token] = per_shop_item(item, "--shopify-token");
      settings_.tokens[shop] = token;
      common::log::register_secret(token);
    }
    if (!setup.sandbox.empty()) {
      settings_.url_template = setup.sandbox + "/shops/{shop}";
      settings_.default_token = sandbox_credentials::shopify_access_token;
      settings_.any_shop = true;
    }
    common::log::register_secret(settings_.default_token);
  }
  std::unique_ptr<Provider> make(const Wiring& wiring) const override {
    return std::make_unique<ShopifyProvider>(wiring.http, settings_);
  }

 private:
  ShopifySettings settings_;
  std::vector<std::string> tokens_;
};

}  // namespace

std::unique_ptr<ProviderSpec> shopify_spec(SharedOptions&) { return std::make_unique<ShopifySpec>(); }

}  // namespace rescind::clients
