// PayPal refunds of a capture (POST /v2/payments/captures/{id}/refund) behind an OAuth2
// client-credentials token (POST /v1/oauth2/token): expiring tokens, decimal-string amounts
// checked against the currency's decimals, PayPal's errors. Every refund answer (201, 400,
// 422) is saved under its PayPal-Request-Id for 45 days and replayed whatever the body.
// Captures have state (sandbox/payments.hpp; POST /__paypal/payment, /refunds, /funds):
// CAPTURE_FULLY_REFUNDED, REFUND_AMOUNT_EXCEEDED, DUPLICATE_INVOICE_ID (an invoice_id already
// used to refund any capture of the account, "previously used to refund a capture"),
// PENDING_CAPTURE, REFUND_TIME_LIMIT_EXCEEDED (not refundable), REFUND_FAILED_INSUFFICIENT_FUNDS;
// a refund without an amount refunds what is left. Reads: GET /v2/payments/refunds/{id},
// GET /v2/payments/captures/{id} (status COMPLETED, PARTIALLY_REFUNDED, REFUNDED or PENDING;
// like PayPal's, it does not list the refunds). POST /__paypal/expire-tokens drops tokens.
#include <array>
#include <cstdio>
#include <random>
#include <unordered_map>

#include "common/json_text.hpp"
#include "common/sandbox_credentials.hpp"
#include "sandbox/auth.hpp"
#include "sandbox/clock.hpp"
#include "sandbox/form.hpp"
#include "sandbox/json_body.hpp"
#include "sandbox/payments.hpp"
#include "sandbox/providers.hpp"

namespace rescind::sandbox {
namespace {

namespace od = simdjson::ondemand;

constexpr std::string_view token_path = "/v1/oauth2/token";
constexpr std::string_view captures_prefix = "/v2/payments/captures/";
constexpr std::string_view refund_suffix = "/refund";
constexpr std::string_view refunds_prefix = "/v2/payments/refunds/";
constexpr std::chrono::seconds request_id_retention = std::chrono::hours(24 * 45);  // "stores keys for 45 days"

constexpr std::size_t max_tokens_kept = 256;  // expired ones are dropped past this

struct Decimals {
  std::string_view code;
  int paypal;  // decimals PayPal accepts in `value`
  int iso;     // ISO 4217 exponent: the ledger's minor units
};

// Currencies whose decimals are not 2. PayPal refuses decimals for HUF, JPY and TWD
// (developer.paypal.com currency codes), although ISO 4217 gives HUF and TWD two.
constexpr std::array<Decimals, 25> non_two_decimals{
    {{"BHD", 3, 3}, {"BIF", 0, 0}, {"CLP", 0, 0}, {"DJF", 0, 0}, {"GNF", 0, 0}, {"HUF", 0, 2}, {"IQD", 3, 3},
     {"ISK", 0, 0}, {"JOD", 3, 3}, {"JPY", 0, 0}, {"KMF", 0, 0}, {"KRW", 0, 0}, {"KWD", 3, 3}, {"LYD", 3, 3},
     {"OMR", 3, 3}, {"PYG", 0, 0}, {"RWF", 0, 0}, {"TND", 3, 3}, {"TWD", 0, 2}, {"UGX", 0, 0}, {"VND", 0, 0},
     {"VUV", 0, 0}, {"XAF", 0, 0}, {"XOF", 0, 0}, {"XPF", 0, 0}}};

Decimals decimals_of(std::string_view code) {
  for (const auto& entry : non_two_decimals) {
    if (entry.code == code) return entry;
  }
  return {code, 2, 2};
}

struct Issue {
  std::string_view field;  // omitted when empty
  std::string_view issue;
  std::string description;
};

// {"name":…,"message":…,"debug_id":…,"details":[…]}: the shape of every PayPal REST error.
Response error_response(http::status status, std::string_view name, std::string_view message, std::string_view debug_id,
                        const std::optional<Issue>& issue = {}) {
  common::JsonWriter json;
  json.begin_object().field("name", name).field("message", message).field("debug_id", debug_id);
  if (issue) {
    json.key("details").begin_array().begin_object();
    if (!issue->field.empty()) json.field("field", issue->field).field("location", "body");
    json.field("issue", issue->issue).field("description", issue->description);
    json.end_object().end_array();
  }
  return json_response(status, json.end_object().take());
}

// The OAuth2 errors of the token endpoint and of a token PayPal no longer knows.
Response oauth_error(http::status status, std::string_view error, std::string_view description) {
  return json_strings_response(status, {{"error", error}, {"error_description", description}});
}

constexpr std::string_view bad_request_message =
    "Request is not well-formed, syntactically incorrect, or violates schema.";
constexpr std::string_view unprocessable_message =
    "The requested action could not be performed, semantically incorrect, or failed business "
    "validation.";

// What a refund request asks for; views into the parsed body, valid during one call.
struct RefundBody {
  bool has_amount = false;
  std::string_view value;
  std::string_view currency;
  bool has_invoice_id = false;
  std::string_view invoice_id;
  std::string_view note_to_payer;
};

enum class Parse { ok, malformed, bad_type };

Parse read_amount(od::value value, RefundBody& refund) {
  od::object amount;
  auto error = value.get_object().get(amount);
  if (error) return is_malformed(error) ? Parse::malformed : Parse::bad_type;
  refund.has_amount = true;
  for (auto member : amount) {
    std::string_view key;
    if (member.unescaped_key().get(key)) return Parse::malformed;
    std::string_view* slot = key == "value" ? &refund.value : key == "currency_code" ? &refund.currency : nullptr;
    if (!slot) continue;
    error = member.value().get_string().get(*slot);
    if (error) return is_malformed(error) ? Parse::malformed : Parse::bad_type;
  }
  return Parse::ok;
}

Parse read_refund(std::string& body, RefundBody& refund) {
  bool blank = true;
  for (char c : body) blank = blank && (c == ' ' || c == '\n' || c == '\r' || c == '\t');
  if (blank) return Parse::ok;  // no body at all: a full refund
  Parse result = Parse::ok;
  auto read = each_body_member(body, [&](std::string_view key, od::value value) {
    if (key == "amount") {
      result = read_amount(value, refund);
    } else if (key == "invoice_id" || key == "note_to_payer") {
      if (key == "invoice_id") refund.has_invoice_id = true;
      auto error = value.get_string().get(key == "invoice_id" ? refund.invoice_id : refund.note_to_payer);
      if (error) result = is_malformed(error) ? Parse::malformed : Parse::bad_type;
    }
    return result == Parse::ok;
  });
  if (read == BodyRead::stopped) return result;
  return read == BodyRead::ok ? Parse::ok : Parse::malformed;
}

bool is_currency_code(std::string_view code) {
  if (code.size() != 3) return false;
  for (char c : code) {
    if (c < 'A' || c > 'Z') return false;
  }
  return true;
}

// Digits with at most one '.', as PayPal's `value` pattern has it (no sign: refunds are positive).
bool is_decimal(std::string_view text) {
  if (text.empty() || text.size() > 32 || text.front() == '.' || text.back() == '.') return false;
  bool dot = false;
  for (char c : text) {
    if (c == '.') {
      if (dot) return false;
      dot = true;
    } else if (c < '0' || c > '9') {
      return false;
    }
  }
  return true;
}

// "149.00" USD → 14900; HUF "1490" → 149000 (ISO minor units). nullopt past 18 digits.
std::optional<std::int64_t> to_minor(std::string_view value, const Decimals& decimals) {
  std::int64_t minor = 0;
  int digits = 0;
  for (char c : value) {
    if (c == '.') continue;
    if (++digits > 18) return std::nullopt;
    minor = minor * 10 + (c - '0');
  }
  for (int i = decimals.paypal; i < decimals.iso; ++i) minor *= 10;
  return minor;
}

// Lets the token map be searched with the header's string_view, without a copy per call.
struct TextHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
};

class PayPal final : public Provider {
 public:
  PayPal(std::chrono::seconds token_ttl, std::optional<long long> claimed_expires_in)
      : token_ttl_(token_ttl), claimed_expires_in_(claimed_expires_in), random_(std::random_device{}()) {}

  std::string_view name() const override { return "paypal"; }
  bool owns(std::string_view path) const override {
    // Not all of /v2/payments/: Square's GET /v2/payments/{id} shares the prefix on this one host.
    return path == token_path || path.starts_with(captures_prefix) || path.starts_with(refunds_prefix);
  }
  // Faults are for the refunds: a token fetch spending a `count` or a lost answer would only
  // blur what a test or benchmark asked for.
  bool takes_faults(std::string_view path) const override { return path != token_path; }

  Reply handle(Call& call) override {
    if (call.request.method() == http::verb::get && call.path != token_path) return read(call);
    if (auto refused = refuse_unless_post(call.request,
                                          "{\"name\":\"METHOD_NOT_SUPPORTED\",\"message\":\"The server "
                                          "does not implement the requested HTTP method.\"}")) {
      return std::move(*refused);
    }
    if (call.path == token_path) return issue_token(call);
    std::string_view capture = capture_id(call.path);
    if (capture.empty()) {
      return refuse(error_response(http::status::not_found, "RESOURCE_NOT_FOUND",
                                   "The specified resource does not exist.", debug_id(),
                                   Issue{"", "INVALID_RESOURCE_ID",
                                         "Specified resource ID does not exist. Please check the "
                                         "resource ID and try again."}));
    }
    return refund(call, capture);
  }

  Response failure(const Failure& failure) const override {
    unsigned code = static_cast<unsigned>(failure.status);
    switch (code) {
      case 429:
        return error_response(failure.status, "RATE_LIMIT_REACHED", "Too many requests. Blocked due to rate limiting.",
                              debug_id());
      case 401:
        return error_response(failure.status, "AUTHENTICATION_FAILURE",
                              "Authentication failed due to invalid authentication credentials or "
                              "a missing Authorization header.",
                              debug_id());
      case 403:
        return error_response(failure.status, "NOT_AUTHORIZED", "Authorization failed due to insufficient permissions.",
                              debug_id());
      case 404:
        return error_response(failure.status, "RESOURCE_NOT_FOUND", "The specified resource does not exist.",
                              debug_id());
      case 422:
        return error_response(failure.status, "UNPROCESSABLE_ENTITY", unprocessable_message, debug_id());
      case 503:
        return error_response(failure.status, "SERVICE_UNAVAILABLE", "Service Unavailable.", debug_id());
      default:
        if (code >= 500) {
          return error_response(failure.status, "INTERNAL_SERVER_ERROR", "An internal server error has occurred.",
                                debug_id());
        }
        return error_response(failure.status, "INVALID_REQUEST", bad_request_message, debug_id());
    }
  }

  void reset() override { book_.clear(); }

  // POST /__paypal/expire-tokens: every token issued so far stops working, as when PayPal
  // drops a token before its expires_in.
  std::optional<Response> control(std::string_view action, Request& request, std::chrono::system_clock::time_point now,
                                  Ledger& ledger) override {
    if (action != "expire-tokens") return book_.control(action, request, ledger, now);
    if (request.method() != http::verb::post) {
      return method_not_allowed("POST", "application/json", "{\"error\":\"method not allowed\"}");
    }
    std::string body = common::JsonWriter().begin_object().field("expired", tokens_.size()).end_object().take();
    tokens_.clear();
    return json_response(http::status::ok, std::move(body));
  }

 private:
  // The {capture_id} of /v2/payments/captures/{capture_id}/refund, or empty.
  static std::string_view capture_id(std::string_view path) {
    if (!path.starts_with(captures_prefix) || !path.ends_with(refund_suffix)) return {};
    std::string_view id =
        path.substr(captures_prefix.size(), path.size() - captures_prefix.size() - refund_suffix.size());
    return is_resource_id(id) ? id : std::string_view{};
  }

  static bool is_resource_id(std::string_view id) {
    if (id.empty() || id.size() > 64) return false;
    for (char c : id) {
      bool ok = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-' || c == '_';
      if (!ok) return false;
    }
    return true;
  }

  std::string hex(int digits) const {
    static constexpr char alphabet[] = "0123456789abcdef";
    std::string out(static_cast<std::size_t>(digits), '0');
    std::uint64_t bits = random_();
    for (auto& c : out) {
      c = alphabet[bits & 15];
      bits >>= 4;
      if (bits == 0) bits = random_();
    }
    return out;
  }

  std::string debug_id() const { return hex(13); }

  Reply issue_token(Call& call) {
    auto credentials = basic_credentials(call.request);
    if (!credentials || credentials->user != sandbox_credentials::paypal_client_id ||
        credentials->password != sandbox_credentials::paypal_secret) {
      return refuse(oauth_error(http::status::unauthorized, "invalid_client", "Client Authentication failed"));
    }
    auto form = Form::parse(call.request.body());
    const std::string* grant = form ? form->find("grant_type") : nullptr;
    if (!grant) {
      return refuse(oauth_error(http::status::bad_request, "unsupported_grant_type", "Grant Type is NULL"));
    }
    if (*grant != "client_credentials") {
      return refuse(
          oauth_error(http::status::bad_request, "unsupported_grant_type", "Grant Type is not supported: " + *grant));
    }
    if (tokens_.size() >= max_tokens_kept) {
      std::erase_if(tokens_, [&](const auto& entry) { return entry.second <= call.now; });
    }
    std::string token = "A21AA" + hex(16) + hex(16) + hex(16) + hex(16);
    tokens_.insert_or_assign(token, call.now + token_ttl_);

    std::string nonce = format_rfc3339_ms(call.now) + hex(16);
    common::JsonWriter json;
    json.begin_object().field("scope",
                              "https://uri.paypal.com/services/payments/refund "
                              "https://uri.paypal.com/services/payments/payment/authcapture");
    json.field("access_token", token).field("token_type", "Bearer").field("app_id", "APP-80W284485P519543T");
    json.field("expires_in", claimed_expires_in_.value_or(token_ttl_.count())).field("nonce", nonce);
    return refuse(json_response(http::status::ok, json.end_object().take()));
  }

  std::optional<Response> check_token(const Call& call) {
    auto token = bearer_token(call.request);
    if (!token || token->empty()) {
      return error_response(http::status::unauthorized, "AUTHENTICATION_FAILURE",
                            "Authentication failed due to invalid authentication credentials or a "
                            "missing Authorization header.",
                            debug_id());
    }
    auto it = tokens_.find(*token);
    if (it == tokens_.end() || it->second <= call.now) {
      return oauth_error(http::status::unauthorized, "invalid_token", "Access Token not found in cache");
    }
    return std::nullopt;
  }

  Reply refund(Call& call, std::string_view capture) {
    if (auto refused = check_token(call)) return refuse(std::move(*refused));
    if (!header(call.request, http::field::content_type).starts_with("application/json")) {
      return refuse(error_response(http::status::unsupported_media_type, "UNSUPPORTED_MEDIA_TYPE",
                                   "The server does not support the request payload's media type.", debug_id()));
    }
    // PayPal answers a repeated PayPal-Request-Id with the previous answer, whatever the body,
    // failures included, for 45 days.
    std::string_view request_id = header(call.request, "PayPal-Request-Id");
    if (!request_id.empty()) {
      auto seen = call.idempotency.find(name(), request_id, 0, call.now, request_id_retention);
      if (seen.saved) {
        return Reply{json_response(static_cast<http::status>(seen.saved->status), seen.saved->body), std::nullopt,
                     true};
      }
    }
    auto keep = [&](Response response, std::optional<Effect> effect = std::nullopt) {
      if (!request_id.empty()) {
        call.idempotency.save(name(), request_id,
                              SavedResponse{0, response.result_int(), response.body(), {}, call.now});
      }
      return Reply{std::move(response), std::move(effect), false};
    };
    auto business = [&](std::string_view issue, std::string description) {
      return keep(error_response(http::status::unprocessable_entity, "UNPROCESSABLE_ENTITY", unprocessable_message,
                                 debug_id(), Issue{"", issue, std::move(description)}));
    };

    RefundBody body;
    switch (read_refund(call.request.body(), body)) {
      case Parse::malformed:
        return keep(error_response(http::status::bad_request, "INVALID_REQUEST", bad_request_message, debug_id(),
                                   Issue{"/", "MALFORMED_REQUEST_JSON", "The request JSON is not well formed."}));
      case Parse::bad_type:
        return keep(error_response(http::status::bad_request, "INVALID_REQUEST", bad_request_message, debug_id(),
                                   Issue{"/", "INVALID_PARAMETER_SYNTAX",
                                         "The value of a field does not conform to the expected "
                                         "format."}));
      case Parse::ok:
        break;
    }
    // refund_request: invoice_id and custom_id 1-127 characters, note_to_payer at most 255.
    if (body.has_invoice_id && (body.invoice_id.empty() || body.invoice_id.size() > 127)) {
      return keep(error_response(
          http::status::bad_request, "INVALID_REQUEST", bad_request_message, debug_id(),
          Issue{"/invoice_id", "INVALID_STRING_LENGTH", "The value of a field is either too short or too long."}));
    }
    if (body.note_to_payer.size() > 255) {
      return keep(error_response(
          http::status::bad_request, "INVALID_REQUEST", bad_request_message, debug_id(),
          Issue{"/note_to_payer", "INVALID_STRING_LENGTH", "The value of a field is either too short or too long."}));
    }
    Decimals decimals{};
    std::optional<std::int64_t> amount_minor;
    if (body.has_amount) {
      if (auto problem = check_amount(body, decimals, amount_minor)) return keep(std::move(*problem));
    }

    PaymentState& payment = book_.payment(capture, body.currency, call.now);
    if (payment.currency.empty()) payment.currency = "usd";
    if (!payment.refundable) {
      return business("REFUND_TIME_LIMIT_EXCEEDED", "You are over the time limit to perform a refund on this capture.");
    }
    if (payment.pending_capture) {
      return business("PENDING_CAPTURE",
                      "Cannot initiate a refund as the capture is pending. Capture is typically "
                      "pending when the payer has funded the transaction by e-check.");
    }
    if (book_.fully_refunded(payment)) {
      return business("CAPTURE_FULLY_REFUNDED", "The capture has already been fully refunded.");
    }
    if (!body.invoice_id.empty()) {
      auto used = book_.refunds_where([&](const RefundRecord& refund) {
        return refund.status != RefundStatus::failed && refund.invoice_id == body.invoice_id;
      });
      if (!used.empty()) return business("DUPLICATE_INVOICE_ID", "Invoice ID was previously used to refund a capture.");
    }
    std::int64_t amount = amount_minor.value_or(book_.remaining(payment));
    if (amount > book_.remaining(payment)) {
      return business(
          "REFUND_AMOUNT_EXCEEDED",
          "The refund amount must be less than or equal to the capture amount that has not yet been refunded.");
    }
    if (book_.insufficient_funds()) {
      return business("REFUND_FAILED_INSUFFICIENT_FUNDS", "Capture could not be refunded due to insufficient funds.");
    }

    char id[24];
    std::snprintf(id, sizeof id, "5SB%014llu", static_cast<unsigned long long>(next_refund_++));
    RefundRecord record;
    record.id = id;
    record.amount = amount;
    record.invoice_id = std::string(body.invoice_id);
    record.reason = std::string(body.note_to_payer);
    record.job_id = std::string(job_id_or(call.job_id, body.invoice_id));
    record.created = call.now;
    const RefundRecord& filed = book_.add_refund(payment, std::move(record));

    bool representation = header(call.request, "Prefer").find("return=representation") != std::string_view::npos;
    Effect effect = effect_of(call, name(), Action::refund, filed.id, body.invoice_id);
    effect.amount_minor = filed.amount;
    effect.currency = filed.currency;
    effect.status = status_word(filed.status);
    return keep(json_response(http::status::created, refund_json(filed, representation)), std::move(effect));
  }

  // GET /v2/payments/refunds/{id} and GET /v2/payments/captures/{id}.
  Reply read(Call& call) {
    if (auto refused = check_token(call)) return refuse(std::move(*refused));
    auto not_found = [&] {
      return refuse(error_response(http::status::not_found, "RESOURCE_NOT_FOUND",
                                   "The specified resource does not exist.", debug_id(),
                                   Issue{"", "INVALID_RESOURCE_ID",
                                         "Specified resource ID does not exist. Please check the "
                                         "resource ID and try again."}));
    };
    if (call.path.starts_with(refunds_prefix)) {
      const RefundRecord* refund = book_.find_refund(call.path.substr(refunds_prefix.size()));
      if (!refund) return not_found();
      return refuse(json_response(http::status::ok, refund_json(*refund, true)));
    }
    std::string_view capture = call.path.starts_with(captures_prefix) ? call.path.substr(captures_prefix.size()) : "";
    if (!is_resource_id(capture)) return not_found();
    PaymentState& payment = book_.payment(capture, "", call.now);
    if (payment.currency.empty()) payment.currency = "usd";
    std::int64_t completed = book_.completed(payment);
    std::string_view status = payment.pending_capture         ? "PENDING"
                              : completed >= payment.captured ? "REFUNDED"
                              : completed > 0                 ? "PARTIALLY_REFUNDED"
                                                              : "COMPLETED";
    common::JsonWriter json;
    json.begin_object().field("id", payment.id).field("status", status);
    if (payment.pending_capture) json.key("status_details").begin_object().field("reason", "ECHECK").end_object();
    write_money(json.key("amount"), payment.captured, payment.currency);
    std::string created = format_rfc3339_ms(payment.created);
    json.field("final_capture", true).field("create_time", created).field("update_time", created);
    std::string self = std::string(captures_prefix) + payment.id;
    json.key("links").begin_array();
    write_link(json, self, "self", "GET");
    write_link(json, self + "/refund", "refund", "POST");
    json.end_array();
    return refuse(json_response(http::status::ok, json.end_object().take()));
  }

  std::optional<Response> check_amount(const RefundBody& body, Decimals& decimals,
                                       std::optional<std::int64_t>& amount_minor) const {
    auto invalid = [&](http::status status, std::string_view field, std::string_view issue, std::string description) {
      bool schema = status == http::status::bad_request;
      return error_response(status, schema ? "INVALID_REQUEST" : "UNPROCESSABLE_ENTITY",
                            schema ? bad_request_message : unprocessable_message, debug_id(),
                            Issue{field, issue, std::move(description)});
    };
    if (body.currency.empty()) {
      return invalid(http::status::bad_request, "/amount/currency_code", "MISSING_REQUIRED_PARAMETER",
                     "A required field / parameter is missing.");
    }
    if (!is_currency_code(body.currency)) {
      return invalid(http::status::bad_request, "/amount/currency_code", "INVALID_PARAMETER_SYNTAX",
                     "The value of a field does not conform to the expected format.");
    }
    if (body.value.empty()) {
      return invalid(http::status::bad_request, "/amount/value", "MISSING_REQUIRED_PARAMETER",
                     "A required field / parameter is missing.");
    }
    if (!is_decimal(body.value)) {
      return invalid(http::status::bad_request, "/amount/value", "INVALID_PARAMETER_SYNTAX",
                     "The value of a field does not conform to the expected format.");
    }
    decimals = decimals_of(body.currency);
    auto dot = body.value.find('.');
    std::size_t places = dot == std::string_view::npos ? 0 : body.value.size() - dot - 1;
    if (places != static_cast<std::size_t>(decimals.paypal)) {
      return invalid(http::status::unprocessable_entity, "/amount/value", "DECIMAL_PRECISION",
                     "If the currency supports decimals, only two decimal place precision is "
                     "supported. " +
                         std::string(body.currency) + " takes " + std::to_string(decimals.paypal) + " decimal places.");
    }
    amount_minor = to_minor(body.value, decimals);
    if (!amount_minor || *amount_minor <= 0) {
      return invalid(http::status::unprocessable_entity, "/amount/value", "INVALID_PARAMETER_VALUE",
                     "The refund amount must be greater than zero and at most 18 digits.");
    }
    return std::nullopt;
  }

  // {"value":"149.00","currency_code":"USD"} for ISO minor units.
  static void write_money(common::JsonWriter& json, std::int64_t minor, std::string_view currency) {
    std::string code(currency);
    for (char& c : code) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
    Decimals decimals = decimals_of(code);
    for (int i = decimals.paypal; i < decimals.iso; ++i) minor /= 10;
    std::string digits = std::to_string(minor);
    if (decimals.paypal > 0) {
      auto places = static_cast<std::size_t>(decimals.paypal);
      if (digits.size() <= places) digits.insert(0, places + 1 - digits.size(), '0');
      digits.insert(digits.size() - places, 1, '.');
    }
    // A decimal string, never a number: PayPal's amounts do not pass through a float.
    json.begin_object().field("value", digits).field("currency_code", code).end_object();
  }

  // One HATEOAS link of PayPal's "links" arrays.
  static void write_link(common::JsonWriter& json, std::string_view href, std::string_view rel,
                         std::string_view method) {
    json.begin_object().field("href", href).field("rel", rel).field("method", method).end_object();
  }

  static std::string_view paypal_status(RefundStatus status) {
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

  std::string refund_json(const RefundRecord& refund, bool representation) const {
    common::JsonWriter json;
    json.begin_object().field("id", refund.id).field("status", paypal_status(refund.status));
    if (refund.status != RefundStatus::succeeded) {
      json.key("status_details").begin_object().field("reason", "ECHECK").end_object();
    }
    write_money(json.key("amount"), refund.amount, refund.currency);
    if (representation) {
      if (!refund.invoice_id.empty()) json.field("invoice_id", refund.invoice_id);
      if (!refund.reason.empty()) json.field("note_to_payer", refund.reason);
      std::string created = format_rfc3339_ms(refund.created);
      json.field("create_time", created).field("update_time", created);
    }
    json.key("links").begin_array();
    write_link(json, std::string(refunds_prefix) + refund.id, "self", "GET");
    write_link(json, std::string(captures_prefix) + refund.payment, "up", "GET");
    return json.end_array().end_object().take();
  }

  std::chrono::seconds token_ttl_;
  std::optional<long long> claimed_expires_in_;
  mutable std::mt19937_64 random_;  // debug ids and tokens; called under the sandbox's lock
  std::unordered_map<std::string, std::chrono::system_clock::time_point, TextHash, std::equal_to<>>
      tokens_;  // → expiry
  PaymentBook book_{"paypal"};
  std::uint64_t next_refund_ = 1;  // never reset: refund ids stay unique for the process
};

}  // namespace

std::unique_ptr<Provider> make_paypal(const ProviderOptions& options) {
  return std::make_unique<PayPal>(options.paypal_token_ttl, options.paypal_claimed_expires_in);
}

}  // namespace rescind::sandbox
