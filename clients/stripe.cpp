#include "clients/stripe.hpp"

#include <set>
#include "clients/provider.hpp"
#include "common/log.hpp"
#include "common/sandbox_credentials.hpp"

#include <simdjson.h>

#include "clients/encoding.hpp"
#include "clients/provider_call.hpp"
#include "jobs/money.hpp"

namespace rescind::clients {

namespace {
// The amount in Stripe's minor units (jobs/money.cpp says where they differ from ISO 4217),
// or why it has none: a refund is never sent rounded.
std::optional<std::int64_t> stripe_amount(const jobs::Job& job, std::string& problem) {
  const auto& currency = job.order.currency;
  int iso = jobs::currency_exponent(currency).value_or(2), stripe = jobs::stripe_exponent(currency).value_or(iso);
  auto amount = jobs::rescale_minor(job.refund.amount_minor, iso, stripe);
  if (!amount) {
    problem = "Stripe counts " + currency + " in units of 10^-" + std::to_string(stripe) + "; " +
              jobs::format_minor(job.refund.amount_minor, currency) + " " + currency + " has no exact amount there";
  } else if (stripe == 3 && *amount % 10 != 0) {
    // Stripe's three-decimal currencies: "the least-significant (last) digit must be 0".
    problem = "Stripe takes " + currency + " amounts in multiples of 0.010; " + jobs::format_minor(*amount, 3) +
              " is not one";
    amount.reset();
  }
  return amount;
}
}  // namespace

asio::awaitable<Outcome> StripeRefunds::refund(const jobs::Job& job, std::string_view idempotency_key) {
  std::string problem;
  auto amount = stripe_amount(job, problem);
  if (!amount) co_return Outcome::permanent(0, "amount_not_representable", problem);
  std::string body;
  // A charge id (ch_…) and a PaymentIntent id (pi_…) are both accepted by Stripe.
  bool charge = job.payment.reference.starts_with("ch_");
  append_form_field(body, charge ? "charge" : "payment_intent", job.payment.reference);
  append_form_field(body, "amount", std::to_string(*amount));
  append_form_field(body, "reason", job.refund.reason);
  append_form_field(body, "metadata[rescind_job_id]", job.id);
  append_form_field(body, "metadata[order_id]", job.order.id);
  // No currency: a refund takes its charge's (metadata[currency] only ever fed the sandbox).

  auto request = make_post(settings_.base, "/v1/refunds", job.id, "application/x-www-form-urlencoded");
  request.set(http::field::authorization, "Bearer " + key_for(job));
  request.set("Idempotency-Key", idempotency_key);
  if (!settings_.api_version.empty()) request.set("Stripe-Version", settings_.api_version);
  request.body() = std::move(body);
  co_return interpret(co_await http_.send(settings_.base.origin, std::move(request)));
}

const std::string& StripeRefunds::key_for(const jobs::Job& job) const {
  auto shop_key = settings_.api_key_by_shop.find(job.shop.domain);
  return shop_key == settings_.api_key_by_shop.end() ? settings_.api_key : shop_key->second;
}

HttpRequest StripeRefunds::get(const jobs::Job& job, std::string_view target) const {
  auto request = make_get(settings_.base, target, job.id);
  request.set(http::field::authorization, "Bearer " + key_for(job));
  if (!settings_.api_version.empty()) request.set("Stripe-Version", settings_.api_version);
  return request;
}

RefundState::Kind StripeRefunds::state_of(std::string_view status) {
  if (status == "succeeded") return RefundState::Kind::succeeded;
  if (status == "pending" || status == "requires_action") return RefundState::Kind::pending;
  if (status == "failed" || status == "canceled") return RefundState::Kind::failed;
  return RefundState::Kind::unknown;
}

asio::awaitable<RefundState> StripeRefunds::find_refund(const jobs::Job& job) {
  bool charge = job.payment.reference.starts_with("ch_");
  std::string filter;
  append_form_field(filter, charge ? "charge" : "payment_intent", job.payment.reference);
  filter += "&limit=100";
  // The job's refunds, best first: one that moved (or is moving) money beats a failed one.
  std::optional<RefundState> found;
  auto rank = [](RefundState::Kind kind) {
    return kind == RefundState::Kind::succeeded ? 3 : kind == RefundState::Kind::pending ? 2 : 1;
  };
  std::string after;
  for (int page = 0; page < 1000; ++page) {  // 100,000 refunds on one payment: beyond any real one
    std::string target = "/v1/refunds?" + filter;
    if (!after.empty()) {
      target += '&';
      append_form_field(target, "starting_after", after);
    }
    auto exchange = co_await http_.send(settings_.base.origin, get(job, target));
    auto outcome = interpret(exchange);
    if (!outcome.ok() || outcome.status != 200) co_return lookup_failed(std::move(outcome), "Stripe's refund list");
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    simdjson::dom::array data;
    bool more = false;
    if (parser.parse(exchange.response.body()).get(root) || root["data"].get_array().get(data) ||
        root["has_more"].get_bool().get(more)) {
      co_return lookup_failed(Outcome::retryable(outcome.status, "unreadable", "not a refund list"),
                              "Stripe's refund list");
    }
    for (auto item : data) {
      std::string_view id, status, job_id;
      if (item["id"].get_string().get(id)) continue;
      after = std::string(id);
      if (item["metadata"]["rescind_job_id"].get_string().get(job_id) || job_id != job.id) continue;
      if (item["status"].get_string().get(status)) status = "";
      RefundState state{state_of(status), std::string(id), std::string(status), {}};
      if (!found || rank(state.kind) > rank(found->kind)) found = std::move(state);
    }
    if (!more) co_return found.value_or(RefundState{RefundState::Kind::none, {}, {}, {}});
    if (data.size() == 0) break;
  }
  co_return lookup_failed(Outcome::permanent(200, "too_many_refunds", "more pages than any payment has"),
                          "Stripe's refund list");
}

asio::awaitable<RefundState> StripeRefunds::refund_status(const jobs::Job& job, std::string_view reference) {
  auto exchange = co_await http_.send(settings_.base.origin, get(job, "/v1/refunds/" + path_segment(reference)));
  auto outcome = outcome_from(exchange);
  if (!outcome.ok()) {
    outcome = interpret(exchange);
    co_return lookup_failed(std::move(outcome), "Stripe's refund " + std::string(reference));
  }
  auto status = json_string_at(exchange.response.body(), "/status").value_or("");
  RefundState state{state_of(status), std::string(reference), status, {}};
  if (state.kind == RefundState::Kind::failed) {
    state.detail = "Stripe refund " + std::string(reference) + " ended " + status + ": " +
                   json_string_at(exchange.response.body(), "/failure_reason").value_or("no reason given");
  }
  if (state.kind == RefundState::Kind::unknown)
    co_return lookup_failed(outcome, "Stripe's refund status '" + status + "'");
  co_return state;
}

Outcome StripeRefunds::interpret(const Exchange& exchange) {
  auto outcome = outcome_from(exchange);
  if (exchange.error) return outcome;
  const auto& body = exchange.response.body();
  if (outcome.ok()) {
    outcome.reference = json_string_at(body, "/id").value_or("");
    auto status = json_string_at(body, "/status").value_or("");
    fail_if_refund_ended(outcome, "Stripe", status, {"failed", "canceled"});
    mark_if_pending(outcome, status, {"pending", "requires_action"});
    return outcome;
  }
  outcome.code = json_string_at(body, "/error/code").value_or(json_string_at(body, "/error/type").value_or(""));
  if (auto message = json_string_at(body, "/error/message")) outcome.message = *message;
  if (outcome.code == "charge_already_refunded") {
    // Refunded before, by us or by hand: the customer has the money, which is the goal.
    outcome.kind = Outcome::Kind::ok;
    return outcome;
  }
  // Stripe says explicitly whether a retry can help; that beats our guess from the status.
  auto it = exchange.response.find("Stripe-Should-Retry");
  if (it != exchange.response.end() && outcome.kind != Outcome::Kind::rate_limited) {
    outcome.kind = it->value() == "true" ? Outcome::Kind::retryable : Outcome::Kind::permanent;
    // A 500 Stripe will not let us retry is its saved answer for the key: the refund may or
    // may not have happened, and only a lookup can tell.
    if (outcome.status >= 500 && it->value() == "false") {
      outcome.message = "indeterminate: reconcile before replaying (Stripe saved a " + std::to_string(outcome.status) +
                        " for this key): " + outcome.message;
    }
  }
  return outcome;
}

// The component: Stripe performs the refund step and can be asked about a job's refund.
namespace {

class StripeProvider final : public PaymentProvider<StripeRefunds> {
 public:
  StripeProvider(HttpClient& http, const StripeSettings& settings) : PaymentProvider("stripe", http, settings) {
    for (const auto& [shop, key] : settings.api_key_by_shop) own_accounts_.insert(shop);
  }
  // A shop with its own Stripe key has its own Stripe quota.
  std::string_view account(jobs::Role, const jobs::Job& job) const override {
    return own_accounts_.contains(job.shop.domain) ? std::string_view(job.shop.domain) : std::string_view("default");
  }

 private:
  std::set<std::string> own_accounts_;
};

class StripeSpec final : public ProviderSpec {
 public:
  std::string_view name() const override { return "stripe"; }
  std::vector<jobs::Role> roles() const override { return {jobs::Role::refund}; }
  std::string_view group() const override { return "Stripe (refund)"; }
  void add_options(OptionSet& options) override {
    options.setting("--stripe-url", url_, "Stripe API base URL", "RESCIND_STRIPE_URL", true);
    options.secret("--stripe-api-key", settings_.api_key, "Secret key sk_live_… / sk_test_…", "STRIPE_API_KEY");
    options.secrets("--stripe-api-key-for", keys_for_, "A shop's own Stripe account, repeatable: DOMAIN=sk_live_…",
                    "STRIPE_API_KEYS_BY_SHOP");
    options.setting("--stripe-version", settings_.api_version, "Stripe-Version header (default: the account's)",
                    "RESCIND_STRIPE_VERSION");
  }
  std::vector<std::string> real_credentials() const override {
    std::vector<std::string> given;
    if (!settings_.api_key.empty()) given.emplace_back("STRIPE_API_KEY");
    // A shop's own key is sent to the sandbox as given (that is how per-shop routing is
    // tested); a live Stripe key is never a test's.
    for (const auto& item : keys_for_) {
      auto eq = item.find('=');
      if (eq == std::string::npos) continue;
      auto key = std::string_view(item).substr(eq + 1);
      if (key.starts_with("sk_live_") || key.starts_with("rk_live_"))
        given.push_back("a live key for " + item.substr(0, eq));
    }
    return given;
  }
  void finish(const Setup& setup) override {
    for (const auto& item : keys_for_) {
      auto [shop, key] = per_shop_item(item, "--stripe-api-key-for");
      common::log::register_secret(key);
      settings_.api_key_by_shop[shop] = key;
    }
    if (!setup.sandbox.empty()) {
      url_ = setup.sandbox;
      settings_.api_key = sandbox_credentials::stripe_api_key;
    }
    require(settings_.api_key, "STRIPE_API_KEY (--stripe-api-key)");
    settings_.base = option_url(url_, "--stripe-url", setup);
    common::log::register_secret(settings_.api_key);
  }
  std::unique_ptr<Provider> make(const Wiring& wiring) const override {
    return std::make_unique<StripeProvider>(wiring.http, settings_);
  }

 private:
  StripeSettings settings_;
  std::string url_ = "https://api.stripe.com";
  std::vector<std::string> keys_for_;
};

}  // namespace

std::unique_ptr<ProviderSpec> stripe_spec(SharedOptions&) { return std::make_unique<StripeSpec>(); }

}  // namespace rescind::clients
