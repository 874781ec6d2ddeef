// Stripe's refunds API (POST /v1/refunds): Bearer auth, form parameters, Idempotency-Key
// replay, and Stripe's error shapes, so the worker's Stripe client meets the real contract.
#include <array>
#include <charconv>
#include <variant>

#include "common/json_text.hpp"
#include "common/sandbox_credentials.hpp"
#include "sandbox/auth.hpp"
#include "sandbox/clock.hpp"
#include "sandbox/form.hpp"
#include "sandbox/providers.hpp"

namespace rescind::sandbox {
namespace {

constexpr std::string_view refunds_path = "/v1/refunds";
constexpr std::size_t max_idempotency_key = 255;

constexpr std::array<std::string_view, 3> refund_reasons{"duplicate", "fraudulent",
                                                         "requested_by_customer"};

// Parameters the refunds endpoint takes besides metadata[…] and expand[…]; anything else
// is rejected as Stripe does, which catches typos in the worker's client.
constexpr std::array<std::string_view, 9> known_parameters{
    "payment_intent", "charge",   "amount",         "reason",          "currency",
    "customer",       "origin",   "instructions_email", "refund_application_fee"};

struct StripeError {
  http::status status = http::status::bad_request;
  std::string_view type = "invalid_request_error";
  std::string_view code;  // omitted when empty
  std::string message;
  std::string_view param;  // omitted when empty
};

Response error_response(const StripeError& error) {
  std::string body = "{\"error\":{\"type\":";
  common::append_json_string(body, error.type);
  if (!error.code.empty()) {
    body += ",\"code\":";
    common::append_json_string(body, error.code);
  }
  body += ",\"message\":";
  common::append_json_string(body, error.message);
  if (!error.param.empty()) {
    body += ",\"param\":";
    common::append_json_string(body, error.param);
  }
  body += "}}";
  return json_response(error.status, std::move(body));
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

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
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
  std::optional<std::int64_t> amount;  // nullopt: the full amount, which the sandbox cannot know
  std::string_view reason;
  std::string currency;
  std::vector<const FormField*> metadata;
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
                       "You may only specify one of these parameters: charge, payment_intent.",
                       "charge"};
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
      return StripeError{http::status::bad_request, "invalid_request_error",
                         "parameter_invalid_integer", "Invalid integer: " + *amount, "amount"};
    }
    if (value < 1) {
      return StripeError{http::status::bad_request, "invalid_request_error",
                         "parameter_invalid_integer",
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
  // Refunds inherit the charge's currency; the sandbox has no charge, so the worker says it.
  std::string_view currency_param = "currency";
  const std::string* currency = form.find(currency_param);
  if (!currency) {
    currency_param = "metadata[currency]";
    currency = form.find(currency_param);
  }
  if (currency) {
    if (!is_currency(*currency)) {
      return StripeError{http::status::bad_request, "invalid_request_error", "",
                         "Invalid currency: " + *currency, currency_param};
    }
    refund.currency = lower(*currency);
  } else {
    refund.currency = "usd";
  }
  for (const auto& field : form.fields()) {
    if (field.name.starts_with("metadata[")) refund.metadata.push_back(&field);
  }
  return refund;
}

std::string refund_json(const RefundRequest& refund, std::string_view id, long long created) {
  std::string out;
  out.reserve(384);
  out += "{\"id\":";
  common::append_json_string(out, id);
  out += ",\"object\":\"refund\",\"amount\":";
  out += refund.amount ? std::to_string(*refund.amount) : std::string("null");
  out += ",\"balance_transaction\":null,\"charge\":";
  out += refund.charge.empty() ? std::string("null") : common::json_string(refund.charge);
  out += ",\"created\":";
  out += std::to_string(created);
  out += ",\"currency\":";
  common::append_json_string(out, refund.currency);
  out += ",\"metadata\":{";
  for (std::size_t i = 0; i < refund.metadata.size(); ++i) {
    std::string_view name = refund.metadata[i]->name;
    name = name.substr(9, name.size() - 10);  // metadata[<name>]
    if (i) out += ',';
    common::append_json_string(out, name);
    out += ':';
    common::append_json_string(out, refund.metadata[i]->value);
  }
  out += "},\"payment_intent\":";
  out += refund.payment_intent.empty() ? std::string("null") : common::json_string(refund.payment_intent);
  out += ",\"reason\":";
  out += refund.reason.empty() ? std::string("null") : common::json_string(refund.reason);
  out += ",\"status\":\"succeeded\"}";
  return out;
}

class Stripe final : public Provider {
 public:
  std::string_view name() const override { return "stripe"; }
  bool owns(std::string_view path) const override { return path == refunds_path; }

  Reply handle(Call& call) override {
    const Request& request = call.request;
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
      fingerprint.add(call.path);
      for (const FormField* field : form->sorted()) {
        fingerprint.add(field->name);
        fingerprint.add(field->value);
      }
      auto seen = call.idempotency.find(name(), key, fingerprint.value());
      if (seen.match == IdempotencyStore::Match::same_request) return replay(*seen.saved, key);
      if (seen.match == IdempotencyStore::Match::different_request) {
        return refuse({http::status::bad_request, "idempotency_error", "",
                       "Keys for idempotent requests can only be used with the same parameters "
                       "they were first used with. Try using a key other than '" +
                           std::string(key) + "' if you meant to execute a different request.",
                       ""});
      }
    }

    auto checked = validate(*form);
    if (auto* error = std::get_if<StripeError>(&checked)) return refuse(std::move(*error));
    const RefundRequest& refund = std::get<RefundRequest>(checked);

    std::string id = "re_" + std::to_string(next_refund_++);
    std::string body = refund_json(refund, id, unix_seconds(call.now));
    if (!key.empty()) {
      call.idempotency.save(name(), key, SavedResponse{fingerprint.value(), 200, body});
    }

    Reply reply{json_response(http::status::ok, std::move(body)), std::nullopt, false};
    if (!key.empty()) reply.response.set("Idempotency-Key", key);
    const std::string* metadata_job = form->find("metadata[rescind_job_id]");
    Effect effect = effect_of(call, name(), Action::refund, std::move(id),
                              metadata_job ? std::string_view(*metadata_job) : "");
    effect.amount_minor = refund.amount;
    effect.currency = refund.currency;
    reply.effect = std::move(effect);
    return reply;
  }

  Response failure(const Failure& failure) const override {
    StripeError error;
    error.status = failure.status;
    unsigned code = static_cast<unsigned>(failure.status);
    if (code == 429) {
      error.code = "rate_limit";
      error.message = "Request rate limit exceeded. Learn more about rate limits here "
                      "https://stripe.com/docs/rate-limits.";
    } else if (code == 409) {
      error.type = "idempotency_error";
      error.code = "idempotency_key_in_use";
      error.message = "There is currently another in-progress request using this Idempotent Key "
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

 private:
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
    Reply reply{json_response(static_cast<http::status>(saved.status), saved.body), std::nullopt,
                true};
    reply.response.set("Idempotency-Key", key);
    reply.response.set("Idempotent-Replayed", "true");
    return reply;
  }

  std::uint64_t next_refund_ = 1;  // never reset: refund ids stay unique for the process
};

}  // namespace

std::unique_ptr<Provider> make_stripe() { return std::make_unique<Stripe>(); }

}  // namespace rescind::sandbox
