// SendGrid's v3 Mail Send (POST /v3/mail/send): Bearer auth, the JSON mail body, a verified
// sender, 202 with X-Message-Id, and SendGrid's {"errors":[…]} shape.
// POST /__sendgrid/block {"count":N}: the next N sends get the 403 of a temporary block
// ("Too many bad requests. Temporary block"); POST /__sendgrid/rate-limit
// {"count":N,"reset_in_s":S}: the next N get a 429 whose window ends S seconds from now,
// announced only in X-RateLimit-Reset (epoch seconds), as SendGrid's rate-limit page shows.
#include <map>
#include <vector>

#include "common/sandbox_credentials.hpp"
#include "sandbox/auth.hpp"
#include "sandbox/json_answer.hpp"
#include "sandbox/json_body.hpp"
#include "sandbox/providers.hpp"

namespace rescind::sandbox {
namespace {

namespace od = simdjson::ondemand;

constexpr std::string_view send_path = "/v3/mail/send";

struct FieldError {
  std::string_view message;
  std::string_view field;  // null in the answer when empty
};

Response errors_response(http::status status, const std::vector<FieldError>& errors) {
  common::JsonWriter json;
  json.begin_object().key("errors").begin_array();
  for (const auto& error : errors) {
    json.begin_object().field("message", error.message);
    string_or_null(json.key("field"), error.field).key("help").null().end_object();
  }
  return json_response(status, json.end_array().end_object().take());
}

Reply refuse(http::status status, std::vector<FieldError> errors) {
  return Reply{errors_response(status, errors), std::nullopt, false};
}

// What the sandbox reads of a mail; views into the parser's buffer, valid during one call.
struct Mail {
  bool has_personalization = false;
  bool has_recipient = false;
  std::string_view to_email;
  std::string_view personalization_subject;
  std::string_view from_email;
  std::string_view subject;
  std::string_view content_value;
  bool has_template = false;
  std::string_view job_id;
};

// A string member, or empty when it is missing or of another type.
std::string_view string_or_empty(simdjson::simdjson_result<od::value> value) {
  std::string_view text;
  return value.get_string().get(text) ? std::string_view{} : text;
}

// Walks the document once, in whatever order its members come; false when it is malformed.
// Members of an unexpected type are left unread and reported later as missing.
bool read_first_recipient(simdjson::simdjson_result<od::value> value, Mail& mail) {
  od::array to;
  auto error = value.get_array().get(to);
  if (error) return !is_malformed(error);
  for (auto item : to) {
    od::object recipient;
    error = item.get_object().get(recipient);
    if (error) return !is_malformed(error);
    mail.has_recipient = true;
    for (auto member : recipient) {
      std::string_view key;
      if (member.unescaped_key().get(key)) return false;
      if (key == "email") mail.to_email = string_or_empty(member.value());
    }
    break;  // only the first recipient is checked
  }
  return true;
}

bool read_personalizations(simdjson::simdjson_result<od::value> value, Mail& mail) {
  od::array list;
  auto error = value.get_array().get(list);
  if (error) return !is_malformed(error);
  for (auto item : list) {
    od::object personalization;
    error = item.get_object().get(personalization);
    if (error) return !is_malformed(error);
    mail.has_personalization = true;
    for (auto member : personalization) {
      std::string_view key;
      if (member.unescaped_key().get(key)) return false;
      if (key == "to") {
        if (!read_first_recipient(member.value(), mail)) return false;
      } else if (key == "subject") {
        mail.personalization_subject = string_or_empty(member.value());
      }
    }
    break;  // the sandbox sends one mail per call; the first personalization is the one checked
  }
  return true;
}

bool read_string_member(simdjson::simdjson_result<od::value> value, std::string_view name, std::string_view& out) {
  od::object object;
  auto error = value.get_object().get(object);
  if (error) return !is_malformed(error);
  for (auto member : object) {
    std::string_view key;
    if (member.unescaped_key().get(key)) return false;
    if (key == name) out = string_or_empty(member.value());
  }
  return true;
}

bool read_first_content(simdjson::simdjson_result<od::value> value, Mail& mail) {
  od::array list;
  auto error = value.get_array().get(list);
  if (error) return !is_malformed(error);
  for (auto item : list) {
    if (!read_string_member(item, "value", mail.content_value)) return false;
    break;
  }
  return true;
}

bool read_mail(std::string& body, Mail& mail) {
  auto read = each_body_member(body, [&](std::string_view key, od::value field) {
    // The readers take a simdjson_result, the form array items come in.
    simdjson::simdjson_result<od::value> value(std::move(field));
    if (key == "personalizations") return read_personalizations(value, mail);
    if (key == "from") return read_string_member(value, "email", mail.from_email);
    if (key == "subject") {
      mail.subject = string_or_empty(value);
    } else if (key == "content") {
      return read_first_content(value, mail);
    } else if (key == "template_id") {
      mail.has_template = !string_or_empty(value).empty();
    } else if (key == "custom_args") {
      return read_string_member(value, "rescind_job_id", mail.job_id);
    }
    return true;
  });
  return read == BodyRead::ok;
}

std::vector<FieldError> mail_errors(const Mail& mail) {
  std::vector<FieldError> errors;
  if (!mail.has_personalization) {
    errors.push_back(
        {"The personalizations field is required and must have at least one "
         "personalization.",
         "personalizations"});
  } else if (!mail.has_recipient) {
    errors.push_back(
        {"The to array is required for all personalization objects, and must have "
         "at least one email object with a valid email address.",
         "personalizations.0.to"});
  } else if (mail.to_email.find('@') == std::string_view::npos) {
    errors.push_back({"Does not contain a valid address.", "personalizations.0.to.0.email"});
  }
  if (mail.from_email.empty()) {
    errors.push_back(
        {"The from object must be provided for every email send. It is an object "
         "that requires the email parameter, but may also contain a name parameter.",
         "from.email"});
  }
  if (mail.subject.empty() && mail.personalization_subject.empty() && !mail.has_template) {
    errors.push_back(
        {"The subject is required. You can get around this requirement if you use a "
         "template with a subject defined or if every personalization has a subject "
         "defined.",
         "subject"});
  }
  if (mail.content_value.empty() && !mail.has_template) {
    errors.push_back(
        {"Unless a valid template_id is provided, the content parameter is required. "
         "There must be at least one defined content block.",
         "content"});
  }
  return errors;
}

class SendGrid final : public Provider {
 public:
  std::string_view name() const override { return "sendgrid"; }
  bool owns(std::string_view path) const override { return path == send_path; }

  Reply handle(Call& call) override {
    Request& request = call.request;
    if (auto refused = refuse_unless_post(request,
                                          "{\"errors\":[{\"message\":\"Method Not Allowed\","
                                          "\"field\":null,\"help\":null}]}")) {
      return std::move(*refused);
    }
    auto token = bearer_token(request);
    if (!token || token->empty()) {
      return refuse(http::status::unauthorized, {{"authorization required", ""}});
    }
    if (*token != sandbox_credentials::sendgrid_api_key) {
      return refuse(http::status::unauthorized,
                    {{"The provided authorization grant is invalid, expired, or revoked", ""}});
    }

    Mail mail;
    if (!read_mail(request.body(), mail)) {
      return refuse(http::status::bad_request, {{"Bad Request", ""}});
    }
    auto errors = mail_errors(mail);
    if (!errors.empty()) return refuse(http::status::bad_request, std::move(errors));
    if (mail.from_email != sandbox_credentials::sendgrid_from) {
      return refuse(http::status::forbidden,
                    {{"The from address does not match a verified Sender Identity. Mail cannot be "
                      "sent until this error is resolved. Visit "
                      "https://sendgrid.com/docs/for-developers/sending-email/sender-identity/ to "
                      "see the Sender Identity requirements",
                      "from"}});
    }

    if (rate_limited_ > 0) {
      --rate_limited_;
      Response response = errors_response(http::status::too_many_requests, {{"too many requests", ""}});
      auto reset = std::chrono::duration_cast<std::chrono::seconds>(call.now.time_since_epoch()).count() + reset_in_s_;
      response.set("X-RateLimit-Limit", "600");
      response.set("X-RateLimit-Remaining", "0");
      response.set("X-RateLimit-Reset", std::to_string(reset));
      return Reply{std::move(response), std::nullopt, false};
    }
    if (blocked_ > 0) {
      // SendGrid's v3 error table: "403 Too many bad requests. Temporary block"; its responses
      // page: "temporarily blocked from sending emails due to repeated bad requests". The body
      // of that answer is not documented: this is the documented sentence in the usual shape.
      --blocked_;
      return refuse(http::status::forbidden,
                    {{"You have been temporarily blocked from sending emails due to repeated bad requests", ""}});
    }

    std::string id = "sbx_msg_" + std::to_string(next_message_++);
    Reply reply{Response{http::status::accepted, 11}, std::nullopt, false};
    reply.response.set("X-Message-Id", id);
    reply.effect = effect_of(call, name(), Action::email, std::move(id), mail.job_id);
    return reply;
  }

  Response failure(const Failure& failure) const override {
    unsigned code = static_cast<unsigned>(failure.status);
    std::string message = code == 429 ? std::string("too many requests")
                                      : "Sandbox: injected failure (HTTP " + std::to_string(code) + ")";
    std::vector<FieldError> errors{{message, ""}};
    Response response = errors_response(failure.status, errors);
    if (code == 429) {
      // SendGrid announces its window with these rather than (only) Retry-After.
      auto reset = std::chrono::duration_cast<std::chrono::seconds>(failure.now.time_since_epoch()).count() +
                   (failure.retry_after_s ? *failure.retry_after_s : 1);
      response.set("X-RateLimit-Limit", "600");
      response.set("X-RateLimit-Remaining", "0");
      response.set("X-RateLimit-Reset", std::to_string(reset));
    }
    return response;
  }

  void reset() override { blocked_ = rate_limited_ = 0; }

  std::optional<Response> control(std::string_view action, Request& request, std::chrono::system_clock::time_point,
                                  Ledger&) override {
    if (action != "block" && action != "rate-limit") return std::nullopt;
    if (request.method() != http::verb::post) {
      return method_not_allowed("POST", "application/json", "{\"error\":\"method not allowed\"}");
    }
    std::map<std::string, long long> fields{{"count", 1}};
    if (action == "rate-limit") fields["reset_in_s"] = 60;
    if (!control_integers(request.body(), fields, 86'400)) {
      return json_strings_response(
          http::status::bad_request,
          {{"error", R"(body: {"count":N} (rate-limit: and "reset_in_s":S), each from 0 to 86400)"}});
    }
    if (action == "block") {
      blocked_ = static_cast<std::uint64_t>(fields["count"]);
    } else {
      rate_limited_ = static_cast<std::uint64_t>(fields["count"]);
      reset_in_s_ = fields["reset_in_s"];
    }
    return json_response(http::status::ok, "{}");
  }

 private:
  std::uint64_t next_message_ = 1;  // never reset: message ids stay unique for the process
  std::uint64_t blocked_ = 0;       // sends still to answer with the temporary-block 403
  std::uint64_t rate_limited_ = 0;  // sends still to answer with 429 + X-RateLimit-Reset
  long long reset_in_s_ = 60;
};

}  // namespace

std::unique_ptr<Provider> make_sendgrid(const ProviderOptions&) { return std::make_unique<SendGrid>(); }

}  // namespace rescind::sandbox
