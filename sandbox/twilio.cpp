// Twilio's Messages API (POST /2010-04-01/Accounts/{AccountSid}/Messages.json): basic auth,
// form parameters, E.164 checks, 201 with the message resource, and Twilio's error shape.
// POST /__twilio/queue-full {"count":N}: the next N messages are refused with 21611, the
// answer Twilio gives while a sender's queue holds more than 10 hours of messages.
#include <cstdio>
#include <map>

#include "common/sandbox_credentials.hpp"
#include "sandbox/auth.hpp"
#include "sandbox/clock.hpp"
#include "sandbox/form.hpp"
#include "sandbox/json_answer.hpp"
#include "sandbox/json_body.hpp"
#include "sandbox/providers.hpp"

namespace rescind::sandbox {
namespace {

constexpr std::string_view api_prefix = "/2010-04-01/";
constexpr std::string_view accounts_prefix = "/2010-04-01/Accounts/";
constexpr std::string_view messages_suffix = "/Messages.json";
constexpr std::size_t max_body_chars = 1600;

Response error_response(http::status status, unsigned code, std::string_view message) {
  common::JsonWriter json;
  json.begin_object().field("code", code).field("message", message);
  json.field("more_info", "https://www.twilio.com/docs/errors/" + std::to_string(code));
  json.field("status", static_cast<unsigned>(status));
  return json_response(status, json.end_object().take());
}

Reply refuse(http::status status, unsigned code, std::string_view message) {
  return Reply{error_response(status, code, message), std::nullopt, false};
}

// "+" then 8 to 15 digits, the first not 0.
bool is_e164(std::string_view number) {
  if (number.size() < 9 || number.size() > 16 || number[0] != '+' || number[1] == '0') return false;
  for (char c : number.substr(1)) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Twilio counts characters, not bytes: count UTF-8 lead bytes.
std::size_t utf8_length(std::string_view text) {
  std::size_t count = 0;
  for (unsigned char c : text) count += (c & 0xC0) != 0x80;
  return count;
}

// The account sid in /2010-04-01/Accounts/{sid}/Messages.json, or empty for any other path.
std::string_view messages_account(std::string_view path) {
  if (!path.starts_with(accounts_prefix) || !path.ends_with(messages_suffix)) return {};
  std::string_view sid =
      path.substr(accounts_prefix.size(), path.size() - accounts_prefix.size() - messages_suffix.size());
  return sid.find('/') == std::string_view::npos ? sid : std::string_view{};
}

struct Message {
  std::string_view to;
  std::string_view from;  // empty when sent through a messaging service
  std::string_view messaging_service_sid;
  std::string_view body;
};

std::string message_json(const Message& message, std::string_view sid, std::string_view account,
                         std::chrono::system_clock::time_point now) {
  std::string date = format_rfc2822(now);
  std::size_t chars = utf8_length(message.body);
  std::size_t segments = chars <= 160 ? 1 : (chars + 152) / 153;
  common::JsonWriter json;
  json.begin_object().field("account_sid", account).field("api_version", "2010-04-01");
  json.field("body", message.body).field("date_created", date).key("date_sent").null();
  json.field("date_updated", date).field("direction", "outbound-api");
  json.key("error_code").null().key("error_message").null();
  string_or_null(json.key("from"), message.from);
  string_or_null(json.key("messaging_service_sid"), message.messaging_service_sid);
  // Twilio sends its counts as strings.
  json.field("num_media", "0").field("num_segments", std::to_string(segments));
  json.key("price").null().field("price_unit", "USD").field("sid", sid);
  // Through a messaging service Twilio answers "accepted" (it picks the sender later).
  json.field("status", message.from.empty() ? "accepted" : "queued").field("to", message.to);
  json.field("uri", "/2010-04-01/Accounts/" + std::string(account) + "/Messages/" + std::string(sid) + ".json");
  return json.end_object().take();
}

// "SM" and 32 hex digits, like Twilio's own sids.
std::string message_sid(std::uint64_t serial) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "SM%032llx", static_cast<unsigned long long>(serial));
  return buf;
}

class Twilio final : public Provider {
 public:
  std::string_view name() const override { return "twilio"; }
  bool owns(std::string_view path) const override { return path.starts_with(api_prefix); }

  Reply handle(Call& call) override {
    const Request& request = call.request;
    std::string_view account = messages_account(call.path);
    if (account.empty()) {
      return refuse(http::status::not_found, 20404,
                    "The requested resource " + std::string(call.path) + " was not found");
    }
    if (auto refused = refuse_unless_post(request,
                                          "{\"code\":20004,\"message\":\"Method not allowed\","
                                          "\"more_info\":\"https://www.twilio.com/docs/errors/20004\","
                                          "\"status\":405}")) {
      return std::move(*refused);
    }
    auto credentials = basic_credentials(request);
    if (!credentials || credentials->user != sandbox_credentials::twilio_account_sid ||
        credentials->password != sandbox_credentials::twilio_auth_token || account != credentials->user) {
      return refuse(http::status::unauthorized, 20003, "Authenticate");
    }

    auto form = Form::parse(request.body());
    if (!form) return refuse(http::status::bad_request, 20001, "Invalid form encoding");
    Message message;
    if (const std::string* to = form->find("To")) message.to = *to;
    if (const std::string* from = form->find("From")) message.from = *from;
    if (const std::string* service = form->find("MessagingServiceSid")) {
      message.messaging_service_sid = *service;
    }
    if (const std::string* body = form->find("Body")) message.body = *body;

    if (message.to.empty()) {
      return refuse(http::status::bad_request, 21604, "A 'To' phone number is required.");
    }
    if (!is_e164(message.to)) {
      return refuse(http::status::bad_request, 21211,
                    "The 'To' number " + std::string(message.to) + " is not a valid phone number.");
    }
    if (message.from.empty() && message.messaging_service_sid.empty()) {
      return refuse(http::status::bad_request, 21603, "A 'From' phone number is required.");
    }
    if (!message.from.empty() && message.from != sandbox_credentials::twilio_from) {
      return refuse(http::status::bad_request, 21606,
                    "The From phone number " + std::string(message.from) +
                        " is not a valid, SMS-capable inbound phone number or short code for "
                        "your account.");
    }
    if (message.from.empty() &&
        (!message.messaging_service_sid.starts_with("MG") || message.messaging_service_sid.size() != 34)) {
      return refuse(http::status::bad_request, 21701,
                    "The Messaging Service Sid " + std::string(message.messaging_service_sid) + " is invalid.");
    }
    if (message.body.empty()) {
      return refuse(http::status::bad_request, 21602, "Message body is required.");
    }
    if (utf8_length(message.body) > max_body_chars) {
      return refuse(http::status::bad_request, 21617,
                    "The concatenated message body exceeds the 1600 character limit.");
    }

    if (queue_full_ > 0) {
      // https://www.twilio.com/docs/api/errors/21611: temporary, the queue drains at the
      // sender's rate (a US long code: one segment a second); nothing was queued.
      --queue_full_;
      return refuse(http::status::bad_request, 21611,
                    "This 'From' number has exceeded the maximum number of queued messages");
    }

    std::string sid = message_sid(next_message_++);
    Reply reply{json_response(http::status::created, message_json(message, sid, account, call.now)), std::nullopt,
                false};
    reply.effect = effect_of(call, name(), Action::sms, std::move(sid));
    reply.effect->to = message.to;
    reply.effect->text = message.body;
    return reply;
  }

  Response failure(const Failure& failure) const override {
    unsigned status = static_cast<unsigned>(failure.status);
    // Twilio's generic REST errors are 20000 + the HTTP status (20429, 20500, 20503).
    std::string message = status == 429 ? std::string("Too Many Requests")
                                        : "Sandbox: injected failure (HTTP " + std::to_string(status) + ")";
    return error_response(failure.status, 20000 + status, message);
  }

  void reset() override { queue_full_ = 0; }

  std::optional<Response> control(std::string_view action, Request& request, std::chrono::system_clock::time_point,
                                  Ledger&) override {
    if (action != "queue-full") return std::nullopt;
    if (request.method() != http::verb::post) {
      return method_not_allowed("POST", "application/json", "{\"error\":\"method not allowed\"}");
    }
    std::map<std::string, long long> fields{{"count", 1}};
    if (!control_integers(request.body(), fields)) {
      return json_strings_response(http::status::bad_request, {{"error", R"(body: {"count":N}, N >= 0)"}});
    }
    queue_full_ = static_cast<std::uint64_t>(fields["count"]);
    return json_response(http::status::ok,
                         common::JsonWriter().begin_object().field("queue_full", queue_full_).end_object().take());
  }

 private:
  std::uint64_t next_message_ = 1;  // never reset: sids stay unique for the process
  std::uint64_t queue_full_ = 0;    // messages still to refuse with 21611
};

}  // namespace

std::unique_ptr<Provider> make_twilio(const ProviderOptions&) { return std::make_unique<Twilio>(); }

}  // namespace rescind::sandbox
