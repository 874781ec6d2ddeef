#include "clients/shopify.hpp"

#include <algorithm>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <simdjson.h>

#include "clients/provider_call.hpp"
#include "common/json_text.hpp"

namespace rescind::clients {

using common::append_json_string;
using retry::Outcome;

namespace {

constexpr std::string_view cancel_mutation =
    "mutation Cancel($orderId: ID!, $reason: OrderCancelReason!, $refund: Boolean!, $restock: Boolean!, "
    "$notifyCustomer: Boolean, $staffNote: String) { orderCancel(orderId: $orderId, reason: $reason, refund: $refund, "
    "restock: $restock, notifyCustomer: $notifyCustomer, staffNote: $staffNote) { job { id done } "
    "orderCancelUserErrors { field message code } userErrors { field message } } }";
constexpr std::string_view job_query = "query Job($id: ID!) { job(id: $id) { id done } }";

std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

HttpRequest graphql_request(const Url& api, const std::string& version, const std::string& token,
                            const jobs::Job& job, std::string body) {
  auto request = make_post(api, "/admin/api/" + version + "/graphql.json", job.id, "application/json");
  request.set("X-Shopify-Access-Token", token);
  request.body() = std::move(body);
  return request;
}

}  // namespace

std::string ShopifyOrders::cancel_reason(const jobs::Job& job) {
  switch (job.kind) {
    case jobs::Kind::dispute_opened: return job.dispute.reason == "fraudulent" ? "FRAUD" : "OTHER";
    case jobs::Kind::order_unfulfillable: return job.reason == "declined" || job.reason == "payment_voided" ? "DECLINED" : "INVENTORY";
    case jobs::Kind::refund_requested: return "CUSTOMER";
    case jobs::Kind::order_canceled: break;
  }
  auto reason = lower(job.reason);
  if (reason == "inventory" || reason == "fraud" || reason == "declined" || reason == "staff") {
    std::string upper = job.reason;
    for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return upper;
  }
  return reason == "customer" ? "CUSTOMER" : "OTHER";
}

asio::awaitable<Outcome> ShopifyOrders::cancel(const jobs::Job& job, const jobs::Plan& plan) {
  const auto& domain = job.shop.domain;
  std::string token;
  if (auto it = settings_.tokens.find(domain); it != settings_.tokens.end()) {
    token = it->second;
  } else if (settings_.any_shop || domain.ends_with(".myshopify.com")) {
    // The default token only ever goes to Shopify's own domains: a job must not be able to
    // send our credentials to a host of its choosing.
    token = settings_.default_token;
  }
  if (token.empty()) {
    co_return Outcome{Outcome::Kind::permanent, 0, "not_configured", "no Shopify access token for shop " + domain, {}, {}};
  }
  std::string base = settings_.url_template;
  if (auto at = base.find("{shop}"); at != std::string::npos) base.replace(at, 6, domain);
  std::string error;
  auto api = parse_url(base, error);
  if (!api) co_return Outcome{Outcome::Kind::permanent, 0, "bad_shop_url", error, {}, {}};

  std::string body = R"({"query":)";
  append_json_string(body, cancel_mutation);
  body += R"(,"variables":{"orderId":)";
  append_json_string(body, "gid://shopify/Order/" + job.order.id);
  body += R"(,"reason":)";
  append_json_string(body, cancel_reason(job));
  body += R"(,"refund":)";
  body += plan.refund_by_platform ? "true" : "false";
  body += R"(,"restock":true,"notifyCustomer":false,"staffNote":)";
  append_json_string(body, "Canceled by Rescind, event " + job.id);
  body += "}}";
  auto exchange = co_await http_.send(api->origin, graphql_request(*api, settings_.api_version, token, job, std::move(body)));
  auto outcome = interpret_cancel(exchange);
  if (!outcome.ok() || outcome.code == "already_canceled" || outcome.reference.empty()) co_return outcome;
  co_return co_await wait_for_job(*api, token, job, outcome.reference);
}

asio::awaitable<Outcome> ShopifyOrders::wait_for_job(const Url& api, const std::string& token, const jobs::Job& job,
                                                     const std::string& job_gid) {
  auto executor = co_await asio::this_coro::executor;
  auto pause = std::chrono::milliseconds(100);
  for (int poll = 0; poll < 8; ++poll) {
    std::string body = R"({"query":)";
    append_json_string(body, job_query);
    body += R"(,"variables":{"id":)";
    append_json_string(body, job_gid);
    body += "}}";
    auto exchange = co_await http_.send(api.origin, graphql_request(api, settings_.api_version, token, job, std::move(body)));
    auto outcome = outcome_from(exchange);
    if (!outcome.ok()) co_return outcome;
    simdjson::padded_string padded(exchange.response.body());
    simdjson::ondemand::parser parser;
    simdjson::ondemand::document doc;
    bool done = false;
    if (!parser.iterate(padded).get(doc) && !doc.at_pointer("/data/job/done").get_bool().get(done) && done) {
      co_return Outcome::success(job_gid);
    }
    asio::steady_timer wait(executor, pause);
    co_await wait.async_wait(asio::as_tuple(asio::use_awaitable));
    pause *= 2;
  }
  // Still running: retry later; canceling again then answers "already canceled" (ok).
  co_return Outcome{Outcome::Kind::retryable, 200, "cancel_pending", "Shopify's cancel job " + job_gid + " is not done yet", {}, {}};
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
    if (key == "currentlyAvailable") available = value;
    else if (key == "maximumAvailable") maximum = value;
    else if (key == "restoreRate") restore = value;
  }
  // Below a tenth of the bucket: wait until it has refilled to that tenth, so concurrent
  // calls space themselves out instead of draining it into THROTTLED answers.
  if (maximum <= 0 || restore <= 0 || available >= maximum / 10) return std::nullopt;
  // At most an hour, like a Retry-After: a tiny restoreRate (the fuzzer sent 0.01) would
  // otherwise park the account for hours, or overflow the conversion (undefined behaviour).
  double pause_ms = (maximum / 10 - available) / restore * 1000 + 1;
  return std::chrono::milliseconds(static_cast<long long>(std::min(pause_ms, 3'600'000.0)));
}

Outcome ShopifyOrders::interpret_cancel(const Exchange& exchange) {
  auto outcome = outcome_from(exchange);
  if (exchange.error || !outcome.ok()) return outcome;
  const auto& body = exchange.response.body();
  outcome.slow_down = slow_down(body);
  // GraphQL answers 200 even when it refuses: throttling and other errors are in `errors`.
  if (auto code = json_string_at(body, "/errors/0/extensions/code")) {
    outcome.code = *code;
    outcome.message = json_string_at(body, "/errors/0/message").value_or(*code);
    outcome.kind = *code == "THROTTLED" ? Outcome::Kind::rate_limited : Outcome::Kind::permanent;
    if (outcome.kind == Outcome::Kind::rate_limited) outcome.retry_after = std::chrono::seconds(1);
    return outcome;
  }
  if (auto message = json_string_at(body, "/errors/0/message")) {
    outcome.kind = Outcome::Kind::permanent;
    outcome.code = "graphql_error";
    outcome.message = *message;
    return outcome;
  }
  auto user_error = json_string_at(body, "/data/orderCancel/orderCancelUserErrors/0/message");
  if (!user_error) user_error = json_string_at(body, "/data/orderCancel/userErrors/0/message");
  if (user_error) {
    auto text = lower(*user_error);
    // "Already canceled" is the state we want: matched on the message (Shopify gives it the
    // generic INVALID code), both spellings, and only for an order that is canceled.
    if ((text.find("already been cancel") != std::string::npos || text.find("already cancel") != std::string::npos)) {
      outcome.code = "already_canceled";
      outcome.message = *user_error;
      return outcome;
    }
    outcome.kind = Outcome::Kind::permanent;
    outcome.code = json_string_at(body, "/data/orderCancel/orderCancelUserErrors/0/code").value_or("user_error");
    outcome.message = *user_error;
    return outcome;
  }
  outcome.reference = json_string_at(body, "/data/orderCancel/job/id").value_or("");
  return outcome;
}

}  // namespace rescind::clients
