// Mailgun's messages API (POST /v3/{domain}/messages): basic auth api:<key>, form fields
// from/to/subject/text and v:rescind_job_id, the sending domain, {"message":…} answers.
#include <cstdio>
#include <ctime>
#include <optional>
#include <vector>

#include "common/sandbox_credentials.hpp"
#include "sandbox/auth.hpp"
#include "sandbox/form.hpp"
#include "sandbox/providers.hpp"

namespace rescind::sandbox {
namespace {

constexpr std::string_view api_prefix = "/v3/";
constexpr std::string_view messages_suffix = "/messages";

Response message_response(http::status status, std::string_view message) {
  return json_strings_response(status, {{"message", message}});
}

// The domain of /v3/{domain}/messages, or empty.
std::string_view domain_of(std::string_view path) {
  std::string_view domain = path.substr(api_prefix.size(), path.size() - api_prefix.size() - messages_suffix.size());
  return domain.find('/') == std::string_view::npos ? domain : std::string_view{};
}

// "<20261122160000.1.5F3A@mg.example>": Mailgun's ids are a timestamp, a serial and the domain.
std::string message_id(std::chrono::system_clock::time_point now, std::uint64_t serial, std::string_view domain) {
  std::time_t secs = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d%H%M%S", &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "<%s.%llu.%04llX@", stamp, static_cast<unsigned long long>(serial),
                static_cast<unsigned long long>(serial * 2654435761u % 0xFFFF));
  return std::string(buf) + std::string(domain) + ">";
}

// The addresses of a `to` list as Mailgun reads it: recipients separated by commas, each
// `addr@host` or `Name <addr@host>`; a comma inside a quoted display name ("Doe, Ana") or
// inside <…> separates nothing. nullopt for an unbalanced quote or bracket, or a recipient
// without an address.
std::optional<std::vector<std::string>> recipients_of(std::string_view to) {
  std::vector<std::string> addresses;
  auto take = [&](std::string_view recipient) {
    auto open = recipient.rfind('<');
    if (open != std::string_view::npos) {
      auto close = recipient.find('>', open);
      if (close == std::string_view::npos) return false;
      // RFC 5322: a display name is words, atoms or quoted strings ('.' tolerated, as the
      // obsolete syntax allows); a special such as '@' or ':' outside quotes makes the address
      // invalid, and Mailgun refuses addresses that fail RFC 5321/5322 syntax.
      bool in_quotes = false, escaped = false;
      for (char c : recipient.substr(0, open)) {
        if (escaped) {
          escaped = false;
        } else if (in_quotes) {
          if (c == '\\')
            escaped = true;
          else if (c == '"')
            in_quotes = false;
        } else if (c == '"') {
          in_quotes = true;
        } else if (std::string_view("<>[]:;@\\").find(c) != std::string_view::npos) {
          return false;
        }
      }
      recipient = recipient.substr(open + 1, close - open - 1);
    }
    while (!recipient.empty() && recipient.front() == ' ') recipient.remove_prefix(1);
    while (!recipient.empty() && recipient.back() == ' ') recipient.remove_suffix(1);
    if (recipient.find('@') == std::string_view::npos) return false;
    addresses.emplace_back(recipient);
    return true;
  };
  bool quoted = false, escaped = false;
  int angle = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i < to.size(); ++i) {
    char c = to[i];
    if (escaped) {
      escaped = false;
    } else if (quoted) {
      if (c == '\\')
        escaped = true;
      else if (c == '"')
        quoted = false;
    } else if (c == '"') {
      quoted = true;
    } else if (c == '<') {
      ++angle;
    } else if (c == '>') {
      --angle;
    } else if (c == ',' && angle == 0) {
      if (!take(to.substr(start, i - start))) return std::nullopt;
      start = i + 1;
    }
  }
  if (quoted || angle != 0 || !take(to.substr(start))) return std::nullopt;
  return addresses;
}

class Mailgun final : public Provider {
 public:
  std::string_view name() const override { return "mailgun"; }
  bool owns(std::string_view path) const override {
    return path.starts_with(api_prefix) && path.ends_with(messages_suffix) &&
           path.size() > api_prefix.size() + messages_suffix.size();
  }

  Reply handle(Call& call) override {
    const Request& request = call.request;
    if (auto refused = refuse_unless_post(request, "{\"message\":\"Method not allowed\"}")) {
      return std::move(*refused);
    }
    auto credentials = basic_credentials(request);
    if (!credentials || credentials->user != "api" || credentials->password != sandbox_credentials::mailgun_api_key) {
      return refuse(text_response(http::status::unauthorized, "Forbidden"));
    }
    std::string_view domain = domain_of(call.path);
    if (domain != sandbox_credentials::mailgun_domain) {
      return refuse(message_response(http::status::not_found, "Domain not found: " + std::string(domain)));
    }
    // Mailgun also takes multipart/form-data; the sandbox reads only the urlencoded form.
    std::string_view type = header(request, http::field::content_type);
    if (!type.starts_with("application/x-www-form-urlencoded")) {
      return refuse(message_response(http::status::bad_request,
                                     "Sandbox: send the message as application/x-www-form-urlencoded"));
    }
    auto form = Form::parse(request.body());
    if (!form) return refuse(message_response(http::status::bad_request, "Invalid form encoding"));
    for (std::string_view field : {"from", "to", "subject"}) {
      const std::string* value = form->find(field);
      if (!value || value->empty()) {
        return refuse(message_response(http::status::bad_request, "'" + std::string(field) + "' parameter is missing"));
      }
    }
    auto recipients = recipients_of(*form->find("to"));
    if (!recipients) {
      return refuse(message_response(http::status::bad_request,
                                     "to parameter is not a valid address. please check documentation"));
    }
    bool has_content = false;
    for (std::string_view field : {"text", "html", "amp-html", "template"}) {
      const std::string* value = form->find(field);
      has_content = has_content || (value && !value->empty());
    }
    if (!has_content) {
      return refuse(message_response(http::status::bad_request,
                                     "Need at least one of 'text', 'html', 'amp-html' or 'template' "
                                     "parameters specified"));
    }

    std::string id = message_id(call.now, next_message_++, domain);
    Reply reply = refuse(json_strings_response(http::status::ok, {{"id", id}, {"message", "Queued. Thank you."}}));
    const std::string* job = form->find("v:rescind_job_id");
    reply.effect =
        effect_of(call, name(), Action::email, std::move(id), job ? std::string_view(*job) : std::string_view{});
    // One message to every recipient, as Mailgun sends it: all of them are in the ledger.
    for (const auto& address : *recipients) reply.effect->to += (reply.effect->to.empty() ? "" : ",") + address;
    return reply;
  }

  Response failure(const Failure& failure) const override {
    unsigned code = static_cast<unsigned>(failure.status);
    if (code == 429) return message_response(failure.status, "Too many requests");
    return message_response(failure.status, "Sandbox: injected failure (HTTP " + std::to_string(code) + ")");
  }

 private:
  std::uint64_t next_message_ = 1;  // never reset: message ids stay unique for the process
};

}  // namespace

std::unique_ptr<Provider> make_mailgun(const ProviderOptions&) { return std::make_unique<Mailgun>(); }

}  // namespace rescind::sandbox
