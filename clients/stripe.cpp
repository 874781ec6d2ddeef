#include "clients/stripe.hpp"

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
    problem = "Stripe takes " + currency + " amounts in multiples of 0.010; " + jobs::format_minor(*amount, 3) + " is not one";
    amount.reset();
  }
  return amount;
}
}  // namespace

asio::awaitable<retry::Outcome> StripeRefunds::refund(const jobs::Job& job, std::string_view idempotency_key) {
  std::string problem;
  auto amount = stripe_amount(job, problem);
  if (!amount) co_return retry::Outcome{retry::Outcome::Kind::permanent, 0, "amount_not_representable", problem, {}, {}};
  std::string body;
  // A charge id (ch_…) and a PaymentIntent id (pi_…) are both accepted by Stripe.
  bool charge = job.payment.reference.starts_with("ch_");
  append_form_field(body, charge ? "charge" : "payment_intent", job.payment.reference);
  append_form_field(body, "amount", std::to_string(*amount));
  append_form_field(body, "reason", job.refund.reason);
  append_form_field(body, "metadata[rescind_job_id]", job.id);
  append_form_field(body, "metadata[order_id]", job.order.id);
  append_form_field(body, "metadata[currency]", job.order.currency);

  auto request = make_post(settings_.base, "/v1/refunds", job.id, "application/x-www-form-urlencoded");
  auto shop_key = settings_.api_key_by_shop.find(job.shop.domain);
  const auto& key = shop_key == settings_.api_key_by_shop.end() ? settings_.api_key : shop_key->second;
  request.set(http::field::authorization, "Bearer " + key);
  request.set("Idempotency-Key", idempotency_key);
  if (!settings_.api_version.empty()) request.set("Stripe-Version", settings_.api_version);
  request.body() = std::move(body);
  co_return interpret(co_await http_.send(settings_.base.origin, std::move(request)));
}

retry::Outcome StripeRefunds::interpret(const Exchange& exchange) {
  auto outcome = outcome_from(exchange);
  if (exchange.error) return outcome;
  const auto& body = exchange.response.body();
  if (outcome.ok()) {
    outcome.reference = json_string_at(body, "/id").value_or("");
    fail_if_refund_ended(outcome, "Stripe", json_string_at(body, "/status").value_or(""), {"failed", "canceled"});
    return outcome;
  }
  outcome.code = json_string_at(body, "/error/code").value_or(json_string_at(body, "/error/type").value_or(""));
  if (auto message = json_string_at(body, "/error/message")) outcome.message = *message;
  if (outcome.code == "charge_already_refunded") {
    // Refunded before, by us or by hand: the customer has the money, which is the goal.
    outcome.kind = retry::Outcome::Kind::ok;
    return outcome;
  }
  // Stripe says explicitly whether a retry can help; that beats our guess from the status.
  auto it = exchange.response.find("Stripe-Should-Retry");
  if (it != exchange.response.end() && outcome.kind != retry::Outcome::Kind::rate_limited) {
    outcome.kind = it->value() == "true" ? retry::Outcome::Kind::retryable : retry::Outcome::Kind::permanent;
  }
  return outcome;
}

}  // namespace rescind::clients
