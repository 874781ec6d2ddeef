#include "clients/paypal.hpp"

#include "clients/provider.hpp"
#include "common/sandbox_credentials.hpp"

#include <simdjson.h>

#include <algorithm>

#include "clients/encoding.hpp"
#include "clients/provider_call.hpp"
#include "common/json_text.hpp"
#include "common/log.hpp"
#include "jobs/money.hpp"

namespace rescind::clients {

namespace {
// PayPal's own exponent (HUF and TWD whole, jobs/money.cpp): the amount must be exact in it.
std::optional<std::string> paypal_value(std::int64_t minor, const std::string& currency) {
  int iso = jobs::currency_exponent(currency).value_or(2), paypal = jobs::paypal_exponent(currency).value_or(iso);
  auto amount = jobs::rescale_minor(minor, iso, paypal);
  if (!amount) return std::nullopt;
  return jobs::format_minor(*amount, paypal);
}

// Tokens live hours at PayPal (32,400 s typically). A longer claim is capped, so that the
// conversion cannot overflow and a token is still refreshed daily; a claim under two
// minutes (zero, negative) is read as two minutes, so that the minute's early refresh below
// leaves a minute of use instead of a fetch before every call.
std::chrono::seconds token_lifetime(std::int64_t expires_in) {
  return std::chrono::seconds(std::clamp<std::int64_t>(expires_in, 120, 24 * 3600));
}
}  // namespace

PayPalRefunds::PayPalRefunds(HttpClient& http, PayPalSettings settings, asio::any_io_executor executor)
    : http_(http), settings_(std::move(settings)) {
  if (!settings_.client_id.empty()) {
    default_account_ = std::make_unique<Account>(settings_.client_id, settings_.secret, executor);
  }
  for (const auto& [shop, credentials] : settings_.by_shop) {
    shop_accounts_[shop] = std::make_unique<Account>(credentials.first, credentials.second, executor);
  }
}

PayPalRefunds::Account* PayPalRefunds::account_for(const jobs::Job& job) {
  auto own = shop_accounts_.find(job.shop.domain);
  return own != shop_accounts_.end() ? own->second.get() : default_account_.get();
}

asio::awaitable<std::optional<std::string>> PayPalRefunds::token(Account& account, bool renew, Outcome& failure) {
  // Refresh a minute early: a token that expires in flight costs a 401 and a second call.
  auto fresh = [&] {
    return !account.token.empty() && std::chrono::steady_clock::now() + std::chrono::minutes(1) < account.expires_at;
  };
  if (!renew && fresh()) co_return account.token;
  if (account.fetching) {
    co_await account.fetched.wait();
    if (!account.token.empty()) co_return account.token;
    failure = Outcome::transport_failure("the shared PayPal token fetch failed");
    co_return std::nullopt;
  }
  account.fetching = true;
  account.token.clear();
  auto request = make_post(settings_.base, "/v1/oauth2/token", "", "application/x-www-form-urlencoded");
  request.erase("X-Rescind-Job");
  request.set(http::field::authorization, basic_auth(account.client_id, account.secret));
  request.body() = "grant_type=client_credentials";
  auto exchange = co_await http_.send(settings_.base.origin, std::move(request));
  auto outcome = outcome_from(exchange);
  if (outcome.ok()) {
    simdjson::padded_string body(exchange.response.body());
    simdjson::ondemand::parser parser;
    simdjson::ondemand::document doc;
    std::string_view access;
    int64_t expires_in = 0;
    if (!parser.iterate(body).get(doc) && !doc["access_token"].get_string().get(access) &&
        !doc["expires_in"].get_int64().get(expires_in)) {
      account.token = std::string(access);
      common::log::register_secret(account.token);  // once per renewal; a provider may echo it bare
      account.expires_at = std::chrono::steady_clock::now() + token_lifetime(expires_in);
    } else {
      outcome = Outcome::retryable(outcome.status, "bad_token_response", "PayPal's token answer had no access_token");
    }
  } else {
    outcome.code = json_string_at(exchange.response.body(), "/error").value_or(outcome.code);
  }
  account.fetching = false;
  account.fetched.notify_all();
  if (account.token.empty()) {
    failure = outcome;
    co_return std::nullopt;
  }
  co_return account.token;
}

std::string PayPalRefunds::invoice_id(const jobs::Job& job) {
  // refund_request.invoice_id is 1-127 characters; a job id may have 128.
  return job.id.size() <= 127 ? job.id : "rescind-" + sha256_base64url(job.id);
}

asio::awaitable<std::optional<Exchange>> PayPalRefunds::send(const jobs::Job& job,
                                                             const std::function<HttpRequest(const std::string&)>& make,
                                                             Outcome& failure) {
  Account* account = account_for(job);
  if (!account) {
    failure = Outcome::permanent(
        0, "not_configured",
        "PayPal is not configured for " + job.shop.domain + " (PAYPAL_CLIENT_ID or --paypal-credentials-for)");
    co_return std::nullopt;
  }
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto bearer = co_await token(*account, attempt > 0, failure);
    if (!bearer) co_return std::nullopt;
    auto exchange = co_await http_.send(settings_.base.origin, make(*bearer));
    // A token PayPal dropped before its expiry: fetch a new one, once.
    if (!exchange.error && exchange.response.result_int() == 401 && attempt == 0) continue;
    co_return exchange;
  }
  failure = Outcome::permanent(401, "invalid_token", "PayPal refused a freshly issued token");
  co_return std::nullopt;
}

asio::awaitable<Outcome> PayPalRefunds::refund(const jobs::Job& job, std::string_view request_id) {
  auto value = paypal_value(job.refund.amount_minor, job.order.currency);
  if (!value) {
    co_return Outcome::permanent(
        0, "DECIMAL_PRECISION",
        "PayPal takes whole " + job.order.currency + " amounts only; refund.amount_minor has a fraction");
  }
  common::JsonWriter json;
  json.begin_object().key("amount").begin_object().field("value", *value).field("currency_code", job.order.currency);
  json.end_object().field("invoice_id", invoice_id(job));
  json.field("note_to_payer", "Refund for order " + (job.order.name.empty() ? job.order.id : job.order.name));
  auto body = json.end_object().take();
  auto path = "/v2/payments/captures/" + path_segment(job.payment.reference) + "/refund";
  Outcome failure;
  auto exchange = co_await send(
      job,
      [&](const std::string& bearer) {
        auto request = make_post(settings_.base, path, job.id, "application/json");
        request.set(http::field::authorization, "Bearer " + bearer);
        request.set("PayPal-Request-Id", request_id);
        request.set("Prefer", "return=representation");
        request.body() = body;
        return request;
      },
      failure);
  if (!exchange) co_return failure;
  co_return interpret(*exchange);
}

namespace {
RefundState::Kind paypal_state(std::string_view status) {
  if (status == "COMPLETED") return RefundState::Kind::succeeded;
  if (status == "PENDING") return RefundState::Kind::pending;
  if (status == "FAILED" || status == "CANCELLED") return RefundState::Kind::failed;
  return RefundState::Kind::unknown;
}
}  // namespace

asio::awaitable<RefundState> PayPalRefunds::find_refund(const jobs::Job& job) {
  auto target = "/v2/payments/captures/" + path_segment(job.payment.reference);
  Outcome failure;
  auto exchange = co_await send(
      job,
      [&](const std::string& bearer) {
        auto request = make_get(settings_.base, target, job.id);
        request.set(http::field::authorization, "Bearer " + bearer);
        return request;
      },
      failure);
  if (!exchange) co_return lookup_failed(std::move(failure), "PayPal's capture");
  auto outcome = outcome_from(*exchange);
  if (!outcome.ok()) co_return lookup_failed(interpret(*exchange), "PayPal's capture");
  auto status = json_string_at(exchange->response.body(), "/status").value_or("");
  // COMPLETED: captured and nothing refunded; PENDING: not even captured. Either way no refund exists.
  if (status == "COMPLETED" || status == "PENDING") co_return RefundState{RefundState::Kind::none, {}, {}, {}};
  RefundState unknown;
  unknown.kind = RefundState::Kind::unknown;
  unknown.detail = "PayPal's capture is " + (status.empty() ? std::string("of no known status") : status) +
                   " and does not say whose refunds those are; a new PayPal-Request-Id is still refused for this job "
                   "(DUPLICATE_INVOICE_ID) if its refund exists";
  unknown.lookup = outcome;
  unknown.guarded = true;
  co_return unknown;
}

asio::awaitable<RefundState> PayPalRefunds::refund_status(const jobs::Job& job, std::string_view reference) {
  auto target = "/v2/payments/refunds/" + path_segment(reference);
  Outcome failure;
  auto exchange = co_await send(
      job,
      [&](const std::string& bearer) {
        auto request = make_get(settings_.base, target, job.id);
        request.set(http::field::authorization, "Bearer " + bearer);
        return request;
      },
      failure);
  if (!exchange) co_return lookup_failed(std::move(failure), "PayPal's refund " + std::string(reference));
  auto outcome = outcome_from(*exchange);
  if (!outcome.ok()) co_return lookup_failed(interpret(*exchange), "PayPal's refund " + std::string(reference));
  auto status = json_string_at(exchange->response.body(), "/status").value_or("");
  RefundState state{paypal_state(status), std::string(reference), status, {}};
  if (state.kind == RefundState::Kind::failed) {
    state.detail = "PayPal refund " + std::string(reference) + " ended " + status + " (" +
                   json_string_at(exchange->response.body(), "/status_details/reason").value_or("no reason given") +
                   ")";
  }
  if (state.kind == RefundState::Kind::unknown)
    co_return lookup_failed(outcome, "PayPal's refund status '" + status + "'");
  co_return state;
}

Outcome PayPalRefunds::interpret(const Exchange& exchange) {
  auto outcome = outcome_from(exchange);
  if (exchange.error) return outcome;
  const auto& body = exchange.response.body();
  if (outcome.ok()) {
    outcome.reference = json_string_at(body, "/id").value_or("");
    auto status = json_string_at(body, "/status").value_or("");
    fail_if_refund_ended(outcome, "PayPal", status, {"FAILED", "CANCELLED"});
    mark_if_pending(outcome, status, {"PENDING"});
    return outcome;
  }
  outcome.code = json_string_at(body, "/details/0/issue").value_or(json_string_at(body, "/name").value_or(""));
  if (auto message = json_string_at(body, "/message")) outcome.message = *message;
  // The money is back already: the whole capture, or this job's refund (invoice_id is the
  // job's, and PayPal refuses it only when a refund with it exists).
  if (outcome.code == "CAPTURE_FULLY_REFUNDED" || outcome.code == "DUPLICATE_INVOICE_ID")
    outcome.kind = Outcome::Kind::ok;
  // Not yet possible: an e-check capture still clearing.
  if (outcome.code == "PENDING_CAPTURE") outcome.kind = Outcome::Kind::retryable;
  if (outcome.code == "RATE_LIMIT_REACHED") outcome.kind = Outcome::Kind::rate_limited;
  return outcome;
}

// The component: PayPal performs the refund step for payments it holds, and can be asked
// about a job's refund (PaymentProvider over PayPalRefunds); its spec owns its options.
namespace {

class PayPalSpec final : public ProviderSpec {
 public:
  std::string_view name() const override { return "paypal"; }
  std::vector<jobs::Role> roles() const override { return {jobs::Role::refund}; }
  std::string_view group() const override { return "PayPal (refund when payment.provider is paypal)"; }
  void add_options(OptionSet& options) override {
    options.setting("--paypal-url", url_, "PayPal API base URL", "RESCIND_PAYPAL_URL", true);
    options.setting("--paypal-client-id", settings_.client_id, "REST app client id", "PAYPAL_CLIENT_ID");
    options.secret("--paypal-secret", settings_.secret, "REST app secret", "PAYPAL_SECRET");
    options.secrets("--paypal-credentials-for", credentials_for_,
                    "A shop's own REST app, repeatable: DOMAIN=CLIENT_ID:SECRET", "PAYPAL_CREDENTIALS_BY_SHOP");
  }
  std::vector<std::string> real_credentials() const override {
    std::vector<std::string> given;
    if (!settings_.client_id.empty()) given.emplace_back("PAYPAL_CLIENT_ID");
    if (!settings_.secret.empty()) given.emplace_back("PAYPAL_SECRET");
    return given;
  }
  void finish(const Setup& setup) override {
    if (!setup.sandbox.empty()) {
      url_ = setup.sandbox;
      settings_.client_id = sandbox_credentials::paypal_client_id;
      settings_.secret = sandbox_credentials::paypal_secret;
    }
    for (const auto& item : credentials_for_) {
      auto [shop, pair] = per_shop_item(item, "--paypal-credentials-for");
      auto colon = pair.find(':');
      if (colon == std::string::npos)
        throw OptionError("--paypal-credentials-for " + shop + ": the value is CLIENT_ID:SECRET");
      settings_.by_shop[shop] = {pair.substr(0, colon), pair.substr(colon + 1)};
      common::log::register_secret(pair.substr(colon + 1));
    }
    settings_.base = option_url(url_, "--paypal-url", setup);
    common::log::register_secret(settings_.secret);
  }
  std::unique_ptr<Provider> make(const Wiring& wiring) const override {
    return std::make_unique<PaymentProvider<PayPalRefunds>>("paypal", wiring.http, settings_, wiring.executor);
  }

 private:
  PayPalSettings settings_;
  std::string url_ = "https://api-m.paypal.com";
  std::vector<std::string> credentials_for_;
};

}  // namespace

std::unique_ptr<ProviderSpec> paypal_spec(SharedOptions&) { return std::make_unique<PayPalSpec>(); }

}  // namespace rescind::clients
