#include "clients/sendgrid.hpp"

#include "clients/provider.hpp"
#include "common/log.hpp"
#include "common/sandbox_credentials.hpp"
#include "jobs/messages.hpp"

#include <algorithm>
#include <charconv>

#include "clients/provider_call.hpp"
#include "common/json_text.hpp"

namespace rescind::clients {

namespace {

// SendGrid gives a 403 two documented meanings: "From address doesn't match Verified Sender
// Identity" (permanent until someone fixes the account) and "temporarily blocked from sending
// emails due to repeated bad requests" (its v3 error table: "Too many bad requests. Temporary
// block"). No code or field is documented for the block, only that wording, so it is told
// apart by the message — conservatively: both words must be there, and any other 403 stays
// permanent. (The exact body SendGrid sends for the block is not documented.)
bool temporary_block(std::string_view message) {
  std::string lower(message);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower.find("temporar") != std::string::npos && lower.find("block") != std::string::npos;
}

// X-RateLimit-Reset: the epoch second the window ends (SendGrid's rate-limit page). Clamped
// to 1 s-1 h like a Retry-After: a clock apart from SendGrid's, or a nonsense number, must
// neither retry in a loop nor park the job past its horizon.
std::optional<std::chrono::milliseconds> until_reset(std::string_view value,
                                                     std::chrono::system_clock::time_point now) {
  long long reset = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), reset);
  if (ec != std::errc{} || end != value.data() + value.size()) return std::nullopt;
  auto now_s = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  return std::chrono::milliseconds(std::chrono::seconds(std::clamp(reset - now_s, 1LL, 3600LL)));
}

}  // namespace

asio::awaitable<Outcome> SendGridEmail::send(const jobs::Job& job, const jobs::EmailMessage& message) {
  common::JsonWriter json;
  json.begin_object().key("personalizations").begin_array().begin_object().key("to").begin_array().begin_object();
  json.field("email", job.customer.email);
  if (!job.customer.name.empty()) json.field("name", job.customer.name);
  json.end_object().end_array().end_object().end_array();
  json.key("from").begin_object().field("email", settings_.from_email);
  if (!settings_.from_name.empty()) json.field("name", settings_.from_name);
  json.end_object().field("subject", message.subject);
  json.key("content").begin_array().begin_object().field("type", "text/plain").field("value", message.text);
  json.end_object().end_array();
  json.key("custom_args").begin_object().field("rescind_job_id", job.id).end_object();
  auto body = json.end_object().take();

  auto request = make_post(settings_.base, "/v3/mail/send", job.id, "application/json");
  request.set(http::field::authorization, "Bearer " + settings_.api_key);
  request.body() = std::move(body);
  co_return interpret(co_await http_.send(settings_.base.origin, std::move(request)));
}

Outcome SendGridEmail::interpret(const Exchange& exchange, std::chrono::system_clock::time_point now) {
  auto outcome = outcome_from(exchange);
  if (exchange.error) return outcome;
  if (outcome.ok()) {
    if (auto it = exchange.response.find("X-Message-Id"); it != exchange.response.end()) {
      outcome.reference = std::string(it->value());
    }
    return outcome;
  }
  if (auto message = json_string_at(exchange.response.body(), "/errors/0/message")) outcome.message = *message;
  if (auto field = json_string_at(exchange.response.body(), "/errors/0/field")) outcome.code = *field;
  if (outcome.status == 403 && temporary_block(outcome.message)) {
    // Rate-limited: the account is paused fleet-wide and no attempt is used; retrying at once
    // would be one more of the bad requests the block is about. How long it lasts is not
    // documented.
    outcome.kind = Outcome::Kind::rate_limited;
    outcome.code = "temporary_block";
    if (!outcome.retry_after) outcome.retry_after = temporary_block_wait;
  }
  if (outcome.status == 429 && !outcome.retry_after) {
    if (auto it = exchange.response.find("X-RateLimit-Reset"); it != exchange.response.end()) {
      outcome.retry_after = until_reset(it->value(), now);
    }
  }
  return outcome;
}

// The component: SendGrid sends the customer's email.
namespace {

class SendGridProvider final : public Provider {
 public:
  SendGridProvider(HttpClient& http, const SendGridSettings& settings) : email_(http, settings) {}
  std::string_view name() const override { return "sendgrid"; }
  asio::awaitable<Outcome> perform(const StepCall& step, const jobs::Job& job) override {
    co_return co_await email_.send(job, jobs::customer_email(job, step.plan.situation, step.refunded));
  }

 private:
  SendGridEmail email_;
};

class SendGridSpec final : public ProviderSpec {
 public:
  explicit SendGridSpec(SharedOptions& shared) : shared_(shared) {}
  std::string_view name() const override { return "sendgrid"; }
  std::vector<jobs::Role> roles() const override { return {jobs::Role::email}; }
  std::string_view group() const override { return "SendGrid (email)"; }
  void add_options(OptionSet& options) override {
    options.setting("--sendgrid-url", url_, "SendGrid API base URL", "RESCIND_SENDGRID_URL", true);
    options.secret("--sendgrid-api-key", settings_.api_key, "API key SG.…", "SENDGRID_API_KEY");
    // Every email provider's sender: listed here, where it has always been.
    options.setting("--email-from", shared_.email_from, "Sender address of customer emails", "RESCIND_EMAIL_FROM");
    options.setting("--email-from-name", shared_.email_from_name, "Sender name of customer emails",
                    "RESCIND_EMAIL_FROM_NAME", true);
  }
  std::vector<std::string> real_credentials() const override {
    if (settings_.api_key.empty()) return {};
    return {"SENDGRID_API_KEY"};
  }
  void finish(const Setup& setup) override {
    if (!setup.sandbox.empty()) {
      url_ = setup.sandbox;
      settings_.api_key = sandbox_credentials::sendgrid_api_key;
      shared_.email_from = sandbox_credentials::sendgrid_from;  // the one sender the sandbox has verified
    }
    if (setup.routed_by_default) {
      require(settings_.api_key, "SENDGRID_API_KEY (--sendgrid-api-key)");
      require(shared_.email_from, "RESCIND_EMAIL_FROM (--email-from)");
    }
    settings_.base = option_url(url_, "--sendgrid-url", setup);
    settings_.from_email = shared_.email_from;
    settings_.from_name = shared_.email_from_name;
    common::log::register_secret(settings_.api_key);
  }
  std::unique_ptr<Provider> make(const Wiring& wiring) const override {
    return std::make_unique<SendGridProvider>(wiring.http, settings_);
  }

 private:
  SharedOptions& shared_;
  SendGridSettings settings_;
  std::string url_ = "https://api.sendgrid.com";
};

}  // namespace

std::unique_ptr<ProviderSpec> sendgrid_spec(SharedOptions& shared) { return std::make_unique<SendGridSpec>(shared); }

}  // namespace rescind::clients
