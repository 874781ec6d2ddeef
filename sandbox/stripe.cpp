// Stripe's refunds API: POST /v1/refunds, GET /v1/refunds/{id}, GET /v1/refunds?payment_intent=
// |charge= (limit, starting_after, has_more). Bearer auth, form parameters, Stripe's error
// shapes, and its idempotency layer: the first answer under an Idempotency-Key once the
// endpoint began executing — success, business refusal or a 500 — is saved for 24 h and
// replayed; validation failures, 429s (the rate limiter runs first) and 409s are not.
// Payments have state (sandbox/payments.hpp): refunds inherit the payment's currency (usd
// unless set by POST /__stripe/payment); over-refunds answer charge_already_refunded or
// amount_too_large; POST /__stripe/funds answers balance_insufficient; POST /__stripe/refunds
// makes refunds pending and settles them.
// Injected faults: a 500 on a keyed refund is Stripe's own (api_error, saved, replayed, with
// Stripe-Should-Retry: false); 502-504 come from in front of Stripe's API (not saved); a 409
// says Stripe-Should-Retry: true.
#include <algorithm>
#include <array>
#include <charconv>
#include <variant>

#include "common/sandbox_credentials.hpp"
#include "sandbox/auth.hpp"
#include "sandbox/clock.hpp"
#include "sandbox/form.hpp"
#include "sandbox/json_answer.hpp"
#include "sandbox/payments.hpp"
#include "sandbox/providers.hpp"

namespace rescind::sandbox {
namespace {

constexpr std::string_view refunds_path = "/v1/refunds";
constexpr std::string_view refund_prefix = "/v1/refunds/";
constexpr std::size_t max_idempotency_key = 255;
constexpr std::chrono::seconds key_retention = std::chrono::hours(24);  // "at least 24 hours"

constexpr std::array<std::string_view, 3> refund_reasons{"duplicate", "fraudulent", "requested_by_customer"};

// Parameters the refunds endpoint takes besides metadata[…] and expand[…]; anything else
// is rejected as Stripe does, which catches typos in the worker's client.
constexpr std::array<std::string_view, 9> known_parameters{
    "payment_intent",        "charge", "amount", "reason", "currency", "customer", "origin", "instructions_email",
    "refund_application_fee"};

struct StripeError {
  http::status status = http::status::bad_request;
  std::string_view type = "invalid_request_error";
  std::string_view code;  // omitted when empty
  std::string message;
  std::string_view param;  // omitted when empty
};

Response error_response(const StripeError& error) {
  common::JsonWriter json;
  json.begin_object().key("error").begin_object().field("type", error.type);
  if (!error.code.empty()) json.field("code", error.code);
  json.field("message", error.message);
  if (!error.param.empty()) json.field("param", error.param);
  return json_response(error.status, json.end_object().end_object().take());
}

Reply refuse(StripeError error) { return Reply{error_response(error), std::nullopt, false}; }

bool is_known_parameter(std::string_view name) {
  if (name.starts_with("metadata[") && name.ends_with("]")) return true;
  if (name.starts_with("expand[")) return true;
  for (auto known : known_parameters) {
    if (name == known) return true;
  }
  return false;
}

bool is_currency(std::string_view text) {
  if (text.size() != 3) return false;
  for (char c : text) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) return false;
  }
  return true;
}

// "sk_test_****************dbox": Stripe shows only the end of a rejected key.
std::string masked(std::string_view key) {
  std::size_t keep = key.size() > 4 ? 4 : 0;
  std::size_t prefix = key.starts_with("sk_test_") || key.starts_with("sk_live_") ? 8 : 0;
  if (prefix + keep >= key.size()) return std::string(key.size(), '*');
  return std::string(key.substr(0, prefix)) + std::string(key.size() - prefix - keep, '*') +
         std::string(key.substr(key.size() - keep));
}

// The refund a valid request describes.
struct RefundRequest {
  std::string_view payment_intent;
  std::string_view charge;
  std::optional<std::int64_t> amount;  // nullopt: what is left of the payment
  std::string_view reason;
  std::vector<const FormField*> metadata;

  std::string_view payment() const { return payment_intent.empty() ? charge : payment_intent; }
};

// Validation in the order Stripe reports problems; the first one wins.
std::variant<RefundRequest, StripeError> validate(const Form& form) {
  for (const auto& field : form.fields()) {
    if (!is_known_parameter(field.name)) {
      return StripeError{http::status::bad_request, "invalid_request_error", "parameter_unknown",
                         "Received unknown parameter: " + field.name, field.name};
    }
  }
  RefundRequest refund;
  const std::string* payment_intent = form.find("payment_intent");
  const std::string* charge = form.find("charge");
  if (payment_intent && charge) {
    return StripeError{http::status::bad_request, "invalid_request_error", "parameters_exclusive",
                       "You may only specify one of these parameters: charge, payment_intent.", "charge"};
  }
  if (!payment_intent && !charge) {
    return StripeError{http::status::bad_request, "invalid_request_error", "parameter_missing",
                       "One of the following params should be provided for this request: "
                       "payment_intent or charge.",
                       "payment_intent"};
  }
  if (payment_intent) {
    if (!payment_intent->starts_with("pi_") || payment_intent->size() == 3) {
      return StripeError{http::status::bad_request, "invalid_request_error", "resource_missing",
                         "No such payment_intent: '" + *payment_intent + "'", "payment_intent"};
    }
    refund.payment_intent = *payment_intent;
  } else {
    if (!charge->starts_with("ch_") || charge->size() == 3) {
      return StripeError{http::status::bad_request, "invalid_request_error", "resource_missing",
                         "No such charge: '" + *charge + "'", "charge"};
    }
    refund.charge = *charge;
  }
  if (const std::string* amount = form.find("amount")) {
    std::int64_t value = 0;
    auto [end, ec] = std::from_chars(amount->data(), amount->data() + amount->size(), value);
    if (ec != std::errc{} || end != amount->data() + amount->size()) {
      return StripeError{http::status::bad_request, "invalid_request_error", "parameter_invalid_integer",
                         "Invalid integer: " + *amount, "amount"};
    }
    if (value < 1) {
      return StripeError{http::status::bad_request, "invalid_request_error", "parameter_invalid_integer",
                         "This value must be greater than or equal to 1.", "amount"};
    }
    refund.amount = value;
  }
  if (const std::string* reason = form.find("reason")) {
    bool known = false;
    for (auto r : refund_reasons) known = known || *reason == r;
    if (!known) {
      return StripeError{http::status::bad_request, "invalid_request_error", "",
                         "Invalid reason: must be one of duplicate, fraudulent, or "
                         "requested_by_customer",
                         "reason"};
    }
    refund.reason = *reason;
  }
  // `currency` is for customer-balance refunds only: checked, never the refund's currency,
  // which is the payment's (metadata[currency] is only metadata).
  if (const std::string* currency = form.find("currency"); currency && !is_currency(*currency)) {
    return StripeError{http::status::bad_request, "invalid_request_error", "", "Invalid currency: " + *currency,
                       "currency"};
  }
  for (const auto& field : form.fields()) {
    if (field.name.starts_with("metadata[")) refund.metadata.push_back(&field);
  }
  return refund;
}

// The charge behind a payment: a PaymentIntent's is named after it (ch_ + the same suffix).
std::string charge_of(std::string_view payment) {
  return payment.starts_with("pi_") ? "ch_" + std::string(payment.substr(3)) : std::string(payment);
}

std::string_view stripe_status(RefundStatus status) { return status_word(status); }  // Stripe's own words

void write_refund(common::JsonWriter& json, const RefundRecord& refund) {
  json.begin_object().field("id", refund.id).field("object", "refund").field("amount", refund.amount);
  json.key("balance_transaction").null().field("charge", charge_of(refund.payment));
  json.field("created", unix_seconds(refund.created)).field("currency", refund.currency);
  if (refund.status == RefundStatus::failed) json.field("failure_reason", "declined");
  json.key("metadata").begin_object();
  for (const auto& [key, value] : refund.metadata) json.field(key, value);
  json.end_object();
  // A refund of a charge (ch_…) has no PaymentIntent.
  json.key("payment_intent");
  refund.payment.starts_with("pi_") ? json.value(refund.payment) : json.null();
  string_or_null(json.key("reason"), refund.reason);
  json.field("status", stripe_status(refund.status)).end_object();
}

std::string refund_json(const RefundRecord& refund) {
  common::JsonWriter json;
  write_refund(json, refund);
  return json.take();
}

// "$1.50" in the error texts: Stripe shows amounts as money; the sandbox shows minor units.
std::string money_text(std::int64_t minor, std::string_view currency) {
  return std::to_string(minor) + " " + std::string(currency);
}

class Stripe final : public Provider {
 public:
  std::string_view name() const override { return "stripe"; }
  bool owns(std::string_view path) const override { return path == refunds_path || path.starts_with(refund_prefix); }

  Reply handle(Call& call) override {
    const Request& request = call.request;
    if (request.method() == http::verb::get) return read(call);
    if (call.path != refunds_path) {
      return refuse(
          {http::status::not_found, "invalid_request_error", "",
           "Unrecognized request URL (" + std::string(request.method_string()) + ": " + std::string(call.path) + ").",
           ""});
    }
    if (auto refused = refuse_unless_post(request,
                                          "{\"error\":{\"type\":\"invalid_request_error\",\"message\":"
                                          "\"Unrecognized request URL. Refunds are created with POST.\"}}")) {
      return std::move(*refused);
    }
    if (auto error = check_key(request)) return refuse(std::move(*error));

    auto form = Form::parse(request.body());
    if (!form) {
      return refuse({http::status::bad_request, "invalid_request_error", "",
                     "Invalid request body: malformed form encoding.", ""});
    }

    std::string_view key = header(request, "Idempotency-Key");
    Fingerprint fingerprint;
    if (!key.empty()) {
      if (key.size() > max_idempotency_key) {
        return refuse({http::status::bad_request, "invalid_request_error", "",
                       "Idempotency-Key must be at most 255 characters long.", ""});
      }
      fingerprint = fingerprint_of(call.path, *form);
      if (auto answered = replay_or_mismatch(call, key, fingerprint)) return std::move(*answered);
    }

    // Validation failures are not saved: the request never reached the endpoint.
    auto checked = validate(*form);
    if (auto* error = std::get_if<StripeError>(&checked)) return refuse(std::move(*error));
    const RefundRequest& refund = std::get<RefundRequest>(checked);

    // From here the endpoint is executing: whatever it answers is saved under the key.
    auto keep = [&](Response response, std::optional<Effect> effect = std::nullopt) {
      if (!key.empty()) {
        call.idempotency.save(name(), key,
                              SavedResponse{fingerprint.value(), response.result_int(), response.body(), {}, call.now});
        response.set("Idempotency-Key", key);
      }
      return Reply{std::move(response), std::move(effect), false};
    };
    PaymentState& payment = book_.payment(refund.payment(), "", call.now);
    std::string charge = charge_of(payment.id);
    if (!payment.refundable) {
      return keep(error_response({http::status::bad_request, "invalid_request_error", "charge_not_refundable",
                                  "Charge " + charge + " cannot be refunded.", ""}));
    }
    if (book_.fully_refunded(payment)) {
      return keep(error_response({http::status::bad_request, "invalid_request_error", "charge_already_refunded",
                                  "Charge " + charge + " has already been refunded.", ""}));
    }
    std::int64_t amount = refund.amount.value_or(book_.remaining(payment));
    if (amount > book_.remaining(payment)) {
      return keep(error_response({http::status::bad_request, "invalid_request_error", "amount_too_large",
                                  "Refund amount (" + money_text(amount, payment.currency) +
                                      ") is greater than unrefunded amount on charge (" +
                                      money_text(book_.remaining(payment), payment.currency) + ")",
                                  "amount"}));
    }
    if (book_.insufficient_funds()) {
      return keep(error_response({http::status::bad_request, "invalid_request_error", "balance_insufficient",
                                  "You have insufficient funds in your Stripe account for this refund.", ""}));
    }

    const std::string* metadata_job = form->find("metadata[rescind_job_id]");
    RefundRecord record;
    record.id = "re_" + std::to_string(next_refund_++);
    record.amount = amount;
    record.reason = std::string(refund.reason);
    record.job_id = std::string(job_id_or(call.job_id, metadata_job ? std::string_view(*metadata_job) : ""));
    record.created = call.now;
    for (const FormField* field : refund.metadata) {
      std::string_view meta = field->name;
      record.metadata.emplace_back(std::string(meta.substr(9, meta.size() - 10)), field->value);  // metadata[<name>]
    }
    const RefundRecord& filed = book_.add_refund(payment, std::move(record));

    Effect effect = effect_of(call, name(), Action::refund, filed.id, filed.job_id);
    effect.amount_minor = filed.amount;
    effect.currency = filed.currency;
    effect.status = status_word(filed.status);
    return keep(json_response(http::status::ok, refund_json(filed)), std::move(effect));
  }

  // The idempotency layer sits behind the rate limiter and in front of the endpoint: a 500
  // is the endpoint's (saved, replayed, "do not retry": the retry would get the same 500);
  // a key in use is a 409 worth retrying; anything else is answered as injected.
  std::optional<Reply> on_fault(Call& call, const Failure& failure) override {
    unsigned code = static_cast<unsigned>(failure.status);
    if (code == 409) {
      Reply reply = refuse_with(this->failure(failure));
      reply.response.set("Stripe-Should-Retry", "true");
      return reply;
    }
    if (code != 500 || call.path != refunds_path || call.request.method() != http::verb::post) return std::nullopt;
    std::string_view key = header(call.request, "Idempotency-Key");
    auto form = Form::parse(call.request.body());
    if (key.empty() || key.size() > max_idempotency_key || !form || check_key(call.request)) return std::nullopt;
    Fingerprint fingerprint = fingerprint_of(call.path, *form);
    if (auto answered = replay_or_mismatch(call, key, fingerprint)) return answered;
    Response response = this->failure(failure);
    response.set("Stripe-Should-Retry", "false");
    response.set("Idempotency-Key", key);
    call.idempotency.save(
        name(), key,
        SavedResponse{fingerprint.value(), code, response.body(), {{"Stripe-Should-Retry", "false"}}, call.now});
    return refuse_with(std::move(response));
  }

  Response failure(const Failure& failure) const override {
    StripeError error;
    error.status = failure.status;
    unsigned code = static_cast<unsigned>(failure.status);
    if (code == 429) {
      error.code = "rate_limit";
      error.message =
          "Request rate limit exceeded. Learn more about rate limits here "
          "https://stripe.com/docs/rate-limits.";
    } else if (code == 409) {
      error.type = "idempotency_error";
      error.code = "idempotency_key_in_use";
      error.message =
          "There is currently another in-progress request using this Idempotent Key "
          "(that probably means you submitted twice, and the other request is still "
          "going through): please retry in a moment.";
    } else if (code >= 500) {
      error.type = "api_error";
      error.message = "Sandbox: injected failure (HTTP " + std::to_string(code) + ").";
    } else {
      error.message = "Sandbox: injected failure (HTTP " + std::to_string(code) + ").";
    }
    return error_response(error);
  }

  void reset() override { book_.clear(); }

  std::optional<Response> control(std::string_view action, Request& request, std::chrono::system_clock::time_point now,
                                  Ledger& ledger) override {
    return book_.control(action, request, ledger, now);
  }

 private:
  static Reply refuse_with(Response response) { return Reply{std::move(response), std::nullopt, false}; }

  static Fingerprint fingerprint_of(std::string_view path, const Form& form) {
    Fingerprint fingerprint;
    fingerprint.add(path);
    for (const FormField* field : form.sorted()) {
      fingerprint.add(field->name);
      fingerprint.add(field->value);
    }
    return fingerprint;
  }

  // The saved answer for `key` (replayed), the mismatch error, or nullopt for a new key.
  std::optional<Reply> replay_or_mismatch(Call& call, std::string_view key, const Fingerprint& fingerprint) const {
    auto seen = call.idempotency.find(name(), key, fingerprint.value(), call.now, key_retention);
    if (seen.match == IdempotencyStore::Match::same_request) return replay(*seen.saved, key);
    if (seen.match == IdempotencyStore::Match::different_request) {
      return refuse({http::status::bad_request, "idempotency_error", "",
                     "Keys for idempotent requests can only be used with the same parameters "
                     "they were first used with. Try using a key other than '" +
                         std::string(key) + "' if you meant to execute a different request.",
                     ""});
    }
    return std::nullopt;
  }

  static std::optional<StripeError> check_key(const Request& request) {
    auto token = bearer_token(request);
    if (!token || token->empty()) {
      return StripeError{http::status::unauthorized, "invalid_request_error", "",
                         "You did not provide an API key. You need to provide your API key in the "
                         "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
                         "YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for "
                         "details, or we can help at https://support.stripe.com/.",
                         ""};
    }
    if (*token != sandbox_credentials::stripe_api_key) {
      return StripeError{http::status::unauthorized, "invalid_request_error", "",
                         "Invalid API Key provided: " + masked(*token), ""};
    }
    return std::nullopt;
  }

  Reply replay(const SavedResponse& saved, std::string_view key) const {
    Reply reply{json_response(static_cast<http::status>(saved.status), saved.body), std::nullopt, true};
    for (const auto& [field, value] : saved.headers) reply.response.set(field, value);
    reply.response.set("Idempotency-Key", key);
    reply.response.set("Idempotent-Replayed", "true");
    return reply;
  }

  // GET /v1/refunds/{id} and GET /v1/refunds?payment_intent=|charge=&limit=&starting_after=.
  Reply read(Call& call) {
    if (auto error = check_key(call.request)) return refuse(std::move(*error));
    if (call.path != refunds_path) {
      std::string_view id = call.path.substr(refund_prefix.size());
      const RefundRecord* refund = book_.find_refund(id);
      if (!refund) {
        return refuse({http::status::not_found, "invalid_request_error", "resource_missing",
                       "No such refund: '" + std::string(id) + "'", "id"});
      }
      return refuse_with(json_response(http::status::ok, refund_json(*refund)));
    }
    auto query = Form::parse(target_query(call.request.target()));
    if (!query) return refuse({http::status::bad_request, "invalid_request_error", "", "Invalid query string.", ""});
    std::string payment_intent, charge, starting_after;
    long long limit = 10;
    for (const auto& field : query->fields()) {
      if (field.name == "payment_intent") {
        payment_intent = field.value;
      } else if (field.name == "charge") {
        charge = field.value;
      } else if (field.name == "starting_after") {
        starting_after = field.value;
      } else if (field.name == "limit") {
        auto [end, ec] = std::from_chars(field.value.data(), field.value.data() + field.value.size(), limit);
        if (ec != std::errc{} || end != field.value.data() + field.value.size() || limit < 1 || limit > 100) {
          return refuse({http::status::bad_request, "invalid_request_error", "parameter_invalid_integer",
                         "This value must be between 1 and 100 (inclusive).", "limit"});
        }
      } else {
        return refuse({http::status::bad_request, "invalid_request_error", "parameter_unknown",
                       "Received unknown parameter: " + field.name, field.name});
      }
    }
    // Newest first, as Stripe lists.
    auto matching = book_.refunds_where([&](const RefundRecord& refund) {
      if (!payment_intent.empty() && refund.payment != payment_intent) return false;
      if (!charge.empty() && charge_of(refund.payment) != charge) return false;
      return true;
    });
    std::reverse(matching.begin(), matching.end());
    std::size_t first = 0;
    if (!starting_after.empty()) {
      while (first < matching.size() && matching[first]->id != starting_after) ++first;
      if (first == matching.size()) {
        return refuse({http::status::bad_request, "invalid_request_error", "resource_missing",
                       "No such refund: '" + starting_after + "'", "starting_after"});
      }
      ++first;
    }
    std::size_t last = std::min(matching.size(), first + static_cast<std::size_t>(limit));
    common::JsonWriter json;
    json.begin_object().field("object", "list").key("data").begin_array();
    for (std::size_t i = first; i < last; ++i) write_refund(json, *matching[i]);
    json.end_array().field("has_more", last < matching.size()).field("url", refunds_path);
    return refuse_with(json_response(http::status::ok, json.end_object().take()));
  }

  PaymentBook book_{"stripe", "usd"};
  std::uint64_t next_refund_ = 1;  // never reset: refund ids stay unique for the process
};

}  // namespace

std::unique_ptr<Provider> make_stripe(const ProviderOptions&) { return std::make_unique<Stripe>(); }

}  // namespace rescind::sandbox
