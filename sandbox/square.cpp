// Square's RefundPayment (POST /v2/refunds): Bearer auth, a required Square-Version header,
// the body's idempotency_key (at most 45 characters) with replay and reuse detection, and
// Square's {"errors":[…]} shape. Only successes are saved under a key (Square documents the
// replay of "the original response" for the same request; which errors it keeps is not
// published, and retention neither: keys are kept for ever here).
// Payments have state (sandbox/payments.hpp; POST /__square/payment, /refunds):
// REFUND_AMOUNT_INVALID (more than is left), REFUND_ALREADY_PENDING, PAYMENT_NOT_REFUNDABLE.
// A refund is COMPLETED at once unless POST /__square/refunds {"next_pending":N} asks for
// PENDING (Square itself usually answers PENDING first): so jobs sharing a test payment do not
// meet REFUND_ALREADY_PENDING. Reads: GET /v2/refunds/{id}, GET /v2/payments/{id}
// (refund_ids, refunded_money = the completed refunds).
#include <cstdio>

#include "common/json_text.hpp"
#include "common/sandbox_credentials.hpp"
#include "sandbox/auth.hpp"
#include "sandbox/clock.hpp"
#include "sandbox/json_body.hpp"
#include "sandbox/payments.hpp"
#include "sandbox/providers.hpp"

namespace rescind::sandbox {
namespace {

namespace od = simdjson::ondemand;

constexpr std::string_view refunds_path = "/v2/refunds";
constexpr std::string_view refund_prefix = "/v2/refunds/";
constexpr std::string_view payment_prefix = "/v2/payments/";
// Square documents 45 as the limit of RefundPayment's idempotency_key (fewer characters
// when they are multi-byte: the limit is on bytes).
constexpr std::size_t max_idempotency_key = 45;
constexpr std::size_t max_reason = 192;

struct SquareError {
  http::status status = http::status::bad_request;
  std::string_view category = "INVALID_REQUEST_ERROR";
  std::string_view code;
  std::string detail;
  std::string_view field;  // omitted when empty
};

Response error_response(const SquareError& error) {
  common::JsonWriter json;
  json.begin_object().key("errors").begin_array().begin_object().field("category", error.category);
  json.field("code", error.code).field("detail", error.detail);
  if (!error.field.empty()) json.field("field", error.field);
  return json_response(error.status, json.end_object().end_array().end_object().take());
}

Reply refuse(SquareError error) { return Reply{error_response(error), std::nullopt, false}; }

SquareError invalid(std::string_view code, std::string detail, std::string_view field) {
  return {http::status::bad_request, "INVALID_REQUEST_ERROR", code, std::move(detail), field};
}

SquareError malformed_body() { return invalid("BAD_REQUEST", "The request body is not valid JSON.", ""); }

// What the sandbox reads of a refund; views into the parser's buffer, valid during one call.
struct RefundRequest {
  std::optional<std::string_view> idempotency_key;
  std::optional<std::string_view> payment_id;
  bool has_money = false;
  std::optional<std::int64_t> amount;
  std::optional<std::string_view> currency;
  std::string_view reason;
};

// nullopt when the body reads; otherwise the error to answer.
std::optional<SquareError> read_string(od::value value, std::string_view field, std::optional<std::string_view>& out) {
  std::string_view text;
  auto error = value.get_string().get(text);
  if (is_malformed(error)) return malformed_body();
  if (error) return invalid("EXPECTED_STRING", "Expected a string value.", field);
  out = text;
  return std::nullopt;
}

std::optional<SquareError> read_money(od::value value, RefundRequest& refund) {
  od::object money;
  auto error = value.get_object().get(money);
  if (is_malformed(error)) return malformed_body();
  if (error) return invalid("EXPECTED_OBJECT", "Expected an object.", "amount_money");
  refund.has_money = true;
  for (auto member : money) {
    std::string_view key;
    if (member.unescaped_key().get(key)) return malformed_body();
    od::value field;
    if (member.value().get(field)) return malformed_body();
    if (key == "amount") {
      std::int64_t amount = 0;
      error = field.get_int64().get(amount);
      if (is_malformed(error)) return malformed_body();
      if (error) return invalid("EXPECTED_INTEGER", "Expected an integer value.", "amount_money.amount");
      refund.amount = amount;
    } else if (key == "currency") {
      if (auto problem = read_string(field, "amount_money.currency", refund.currency)) return problem;
    }
  }
  return std::nullopt;
}

std::optional<SquareError> read_refund(std::string& body, RefundRequest& refund) {
  std::optional<SquareError> problem;
  auto read = each_body_member(body, [&](std::string_view key, od::value value) {
    if (key == "idempotency_key") {
      problem = read_string(value, key, refund.idempotency_key);
    } else if (key == "payment_id") {
      problem = read_string(value, key, refund.payment_id);
    } else if (key == "amount_money") {
      problem = read_money(value, refund);
    } else if (key == "reason") {
      std::optional<std::string_view> reason;
      problem = read_string(value, key, reason);
      if (reason) refund.reason = *reason;
    }
    return !problem;
  });
  switch (read) {
    case BodyRead::ok:
      return std::nullopt;
    case BodyRead::stopped:
      return problem;
    case BodyRead::not_object:
      return invalid("EXPECTED_JSON_BODY", "The request body must be a JSON object.", "");
    case BodyRead::malformed:
      break;
  }
  return malformed_body();
}

std::optional<SquareError> validate(const RefundRequest& refund) {
  auto missing = [](std::string_view field) {
    return invalid("MISSING_REQUIRED_PARAMETER", "Field must be set", field);
  };
  if (!refund.idempotency_key) return missing("idempotency_key");
  if (refund.idempotency_key->empty()) {
    return invalid("VALUE_TOO_SHORT", "Field must not be less than 1 length", "idempotency_key");
  }
  if (refund.idempotency_key->size() > max_idempotency_key) {
    return invalid("VALUE_TOO_LONG", "Field must not be greater than 45 length", "idempotency_key");
  }
  if (!refund.payment_id) return missing("payment_id");
  if (refund.payment_id->empty() || refund.payment_id->size() > 192) {
    return invalid("INVALID_VALUE", "Field must be 1 to 192 characters long", "payment_id");
  }
  if (!refund.has_money) return missing("amount_money");
  if (!refund.amount) return missing("amount_money.amount");
  if (*refund.amount < 1) {
    return invalid("VALUE_TOO_LOW", "Field must not be less than 1", "amount_money.amount");
  }
  if (!refund.currency) return missing("amount_money.currency");
  bool code = refund.currency->size() == 3;
  for (char c : *refund.currency) code = code && c >= 'A' && c <= 'Z';
  if (!code) {
    return invalid("INVALID_ENUM_VALUE", "Expected amount_money.currency to be a valid ISO 4217 currency code.",
                   "amount_money.currency");
  }
  if (refund.reason.size() > max_reason) {
    return invalid("VALUE_TOO_LONG", "Field must not be greater than 192 length", "reason");
  }
  return std::nullopt;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// YYYY-MM-DD, the form of every Square API version.
bool is_version(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (i != 4 && i != 7 && (text[i] < '0' || text[i] > '9')) return false;
  }
  return true;
}

class Square final : public Provider {
 public:
  std::string_view name() const override { return "square"; }
  bool owns(std::string_view path) const override {
    return path == refunds_path || path.starts_with(refund_prefix) || path.starts_with(payment_prefix);
  }

  Reply handle(Call& call) override {
    Request& request = call.request;
    if (request.method() == http::verb::get && call.path != refunds_path) return read(call);
    if (call.path != refunds_path) {
      return refuse({http::status::not_found, "INVALID_REQUEST_ERROR", "NOT_FOUND", "Resource not found.", ""});
    }
    if (auto refused = refuse_unless_post(request,
                                          "{\"errors\":[{\"category\":\"INVALID_REQUEST_ERROR\",\"code\":"
                                          "\"METHOD_NOT_ALLOWED\",\"detail\":\"Refunds are created with "
                                          "POST.\"}]}")) {
      return std::move(*refused);
    }
    auto token = bearer_token(request);
    if (!token || *token != sandbox_credentials::square_access_token) {
      return refuse({http::status::unauthorized, "AUTHENTICATION_ERROR", "UNAUTHORIZED",
                     "This request could not be authorized.", ""});
    }
    std::string_view version = header(request, "Square-Version");
    if (version.empty()) {
      return refuse(invalid("MISSING_REQUIRED_PARAMETER", "The Square-Version header is required.", "Square-Version"));
    }
    if (!is_version(version)) {
      return refuse(invalid("INVALID_SQUARE_VERSION_FORMAT", "Square-Version must be a date such as 2024-10-17.",
                            "Square-Version"));
    }

    RefundRequest refund;
    if (auto problem = read_refund(request.body(), refund)) return refuse(std::move(*problem));
    if (auto problem = validate(refund)) return refuse(std::move(*problem));

    // The same key is the same refund only with the same data.
    Fingerprint fingerprint;
    fingerprint.add(*refund.payment_id);
    fingerprint.add(std::to_string(*refund.amount));
    fingerprint.add(*refund.currency);
    fingerprint.add(refund.reason);
    auto seen = call.idempotency.find(name(), *refund.idempotency_key, fingerprint.value(), call.now);
    if (seen.match == IdempotencyStore::Match::same_request) {
      return Reply{json_response(static_cast<http::status>(seen.saved->status), seen.saved->body), std::nullopt, true};
    }
    if (seen.match == IdempotencyStore::Match::different_request) {
      return refuse(invalid("IDEMPOTENCY_KEY_REUSED",
                            "The idempotency key can only be retried with the same request data.", "idempotency_key"));
    }

    PaymentState& payment = book_.payment(*refund.payment_id, *refund.currency, call.now);
    if (!payment.refundable) {
      return refuse({http::status::bad_request, "INVALID_REQUEST_ERROR", "PAYMENT_NOT_REFUNDABLE",
                     "The payment is not refundable.", ""});
    }
    if (book_.has_pending(payment)) {
      return refuse({http::status::bad_request, "INVALID_REQUEST_ERROR", "REFUND_ALREADY_PENDING",
                     "The payment already has a pending refund.", ""});
    }
    if (*refund.amount > book_.remaining(payment)) {
      return refuse({http::status::bad_request, "INVALID_REQUEST_ERROR", "REFUND_AMOUNT_INVALID",
                     "The requested refund amount exceeds the amount available to refund.", "amount_money.amount"});
    }

    char suffix[24];
    std::snprintf(suffix, sizeof suffix, "_SBX%010llu", static_cast<unsigned long long>(next_refund_++));
    RefundRecord record;
    record.id = std::string(*refund.payment_id) + suffix;
    record.amount = *refund.amount;
    record.currency = lower(*refund.currency);
    record.reason = std::string(refund.reason);
    record.job_id = std::string(call.job_id);
    record.created = call.now;
    const RefundRecord& filed = book_.add_refund(payment, std::move(record));
    std::string body = refund_answer(filed);
    call.idempotency.save(name(), *refund.idempotency_key, SavedResponse{fingerprint.value(), 200, body, {}, call.now});

    Reply reply{json_response(http::status::ok, std::move(body)), std::nullopt, false};
    Effect effect = effect_of(call, name(), Action::refund, filed.id);
    effect.amount_minor = filed.amount;
    effect.currency = filed.currency;
    effect.status = status_word(filed.status);
    reply.effect = std::move(effect);
    return reply;
  }

  void reset() override { book_.clear(); }

  std::optional<Response> control(std::string_view action, Request& request, std::chrono::system_clock::time_point now,
                                  Ledger& ledger) override {
    return book_.control(action, request, ledger, now);
  }

  Response failure(const Failure& failure) const override {
    unsigned code = static_cast<unsigned>(failure.status);
    SquareError error{failure.status, "API_ERROR", "INTERNAL_SERVER_ERROR",
                      "Sandbox: injected failure (HTTP " + std::to_string(code) + ").", ""};
    switch (code) {
      case 429:
        error.category = "RATE_LIMIT_ERROR";
        error.code = "RATE_LIMITED";
        error.detail = "Rate limited.";
        break;
      case 401:
        error.category = "AUTHENTICATION_ERROR";
        error.code = "UNAUTHORIZED";
        break;
      case 403:
        error.category = "AUTHENTICATION_ERROR";
        error.code = "FORBIDDEN";
        break;
      case 404:
        error.category = "INVALID_REQUEST_ERROR";
        error.code = "NOT_FOUND";
        break;
      case 409:
        error.category = "INVALID_REQUEST_ERROR";
        error.code = "CONFLICT";
        break;
      case 502:
        error.code = "BAD_GATEWAY";
        break;
      case 503:
        error.code = "SERVICE_UNAVAILABLE";
        break;
      case 504:
        error.code = "GATEWAY_TIMEOUT";
        break;
      default:
        if (code < 500) {
          error.category = "INVALID_REQUEST_ERROR";
          error.code = "BAD_REQUEST";
        }
    }
    return error_response(error);
  }

 private:
  static std::string_view square_status(RefundStatus status) {
    switch (status) {
      case RefundStatus::pending:
        return "PENDING";
      case RefundStatus::succeeded:
        return "COMPLETED";
      case RefundStatus::failed:
        return "FAILED";
    }
    return "FAILED";
  }

  // Money as Square writes it: {"amount":1500,"currency":"USD"}, the book keeps lower case.
  static void write_money(common::JsonWriter& json, std::int64_t amount, std::string_view currency) {
    std::string code(currency);
    for (char& c : code) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
    json.begin_object().field("amount", amount).field("currency", code).end_object();
  }

  // {"refund":{…}}: the answer to RefundPayment and to GET /v2/refunds/{id}.
  static std::string refund_answer(const RefundRecord& refund) {
    common::JsonWriter json;
    json.begin_object().key("refund").begin_object().field("id", refund.id);
    json.field("status", square_status(refund.status));
    write_money(json.key("amount_money"), refund.amount, refund.currency);
    json.field("payment_id", refund.payment);
    if (!refund.reason.empty()) json.field("reason", refund.reason);
    std::string created = format_rfc3339_ms(refund.created);
    json.field("created_at", created).field("updated_at", created);
    return json.end_object().end_object().take();
  }

  // GET /v2/refunds/{id} and GET /v2/payments/{id}.
  Reply read(Call& call) {
    auto token = bearer_token(call.request);
    if (!token || *token != sandbox_credentials::square_access_token) {
      return refuse({http::status::unauthorized, "AUTHENTICATION_ERROR", "UNAUTHORIZED",
                     "This request could not be authorized.", ""});
    }
    auto not_found = [] {
      return refuse({http::status::not_found, "INVALID_REQUEST_ERROR", "NOT_FOUND", "Resource not found.", ""});
    };
    if (call.path.starts_with(refund_prefix)) {
      const RefundRecord* refund = book_.find_refund(call.path.substr(refund_prefix.size()));
      if (!refund) return not_found();
      return Reply{json_response(http::status::ok, refund_answer(*refund)), std::nullopt, false};
    }
    std::string_view id = call.path.substr(payment_prefix.size());
    if (id.empty() || id.size() > 192 || id.find('/') != std::string_view::npos) return not_found();
    PaymentState& payment = book_.payment(id, "", call.now);
    if (payment.currency.empty()) payment.currency = "usd";
    common::JsonWriter json;
    json.begin_object().key("payment").begin_object().field("id", payment.id).field("status", "COMPLETED");
    write_money(json.key("amount_money"), payment.captured, payment.currency);
    write_money(json.key("total_money"), payment.captured, payment.currency);
    write_money(json.key("refunded_money"), book_.completed(payment), payment.currency);
    json.key("refund_ids").begin_array();
    for (auto index : payment.refunds) json.value(book_.record(index).id);
    std::string created = format_rfc3339_ms(payment.created);
    json.end_array().field("created_at", created).field("updated_at", created);
    return Reply{json_response(http::status::ok, json.end_object().end_object().take()), std::nullopt, false};
  }

  PaymentBook book_{"square"};
  std::uint64_t next_refund_ = 1;  // never reset: refund ids stay unique for the process
};

}  // namespace

std::unique_ptr<Provider> make_square(const ProviderOptions&) { return std::make_unique<Square>(); }

}  // namespace rescind::sandbox
