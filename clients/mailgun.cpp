#include "clients/mailgun.hpp"

#include "clients/provider.hpp"
#include "common/log.hpp"
#include "common/sandbox_credentials.hpp"
#include "jobs/messages.hpp"

#include "clients/encoding.hpp"
#include "clients/provider_call.hpp"

namespace rescind::clients {

MailgunEmail::MailgunEmail(HttpClient& http, MailgunSettings settings)
    : http_(http), settings_(std::move(settings)), authorization_(basic_auth("api", settings_.api_key)) {}

asio::awaitable<Outcome> MailgunEmail::send(const jobs::Job& job, const jobs::EmailMessage& message) {
  if (!configured())
    co_return Outcome{
        Outcome::Kind::permanent, 0, "not_configured", "Mailgun is not configured (MAILGUN_API_KEY)", {}, {}};
  std::string body;
  append_form_field(body, "from", settings_.from);
  // Mailgun's `to` is a recipient list: the shopper's name is quoted, or it could add recipients.
  append_form_field(body, "to", mailbox(job.customer.name, job.customer.email));
  append_form_field(body, "subject", message.subject);
  append_form_field(body, "text", message.text);
  append_form_field(body, "v:rescind_job_id", job.id);
  auto request =
      make_post(settings_.base, "/v3/" + settings_.domain + "/messages", job.id, "application/x-www-form-urlencoded");
  request.set(http::field::authorization, authorization_);
  request.body() = std::move(body);
  co_return interpret(co_await http_.send(settings_.base.origin, std::move(request)));
}

Outcome MailgunEmail::interpret(const Exchange& exchange) {
  auto outcome = outcome_from(exchange);
  if (exchange.error) return outcome;
  if (outcome.ok()) {
    outcome.reference = json_string_at(exchange.response.body(), "/id").value_or("");
    return outcome;
  }
  if (auto message = json_string_at(exchange.response.body(), "/message")) outcome.message = *message;
  return outcome;
}

// The component: Mailgun sends the customer's email where it is chosen (--email-provider,
// --email-provider-for).
namespace {

class MailgunProvider final : public Provider {
 public:
  MailgunProvider(HttpClient& http, const MailgunSettings& settings) : email_(http, settings) {}
  std::string_view name() const override { return "mailgun"; }
  asio::awaitable<Outcome> perform(const StepCall& step, const jobs::Job& job) override {
    co_return co_await email_.send(job, jobs::customer_email(job, step.plan.situation, step.refunded));
  }

 private:
  MailgunEmail email_;
};

class MailgunSpec final : public ProviderSpec {
 public:
  explicit MailgunSpec(const SharedOptions& shared) : shared_(shared) {}
  std::string_view name() const override { return "mailgun"; }
  std::vector<jobs::Role> roles() const override { return {jobs::Role::email}; }
  std::string_view group() const override { return "Email provider"; }
  void add_options(OptionSet& options) override {
    options.setting("--mailgun-url", url_, "Mailgun API base URL (EU: https://api.eu.mailgun.net)",
                    "RESCIND_MAILGUN_URL", true);
    options.secret("--mailgun-api-key", settings_.api_key, "Mailgun API key", "MAILGUN_API_KEY");
    options.setting("--mailgun-domain", settings_.domain, "Mailgun sending domain", "MAILGUN_DOMAIN");
  }
  std::vector<std::string> real_credentials() const override {
    if (settings_.api_key.empty()) return {};
    return {"MAILGUN_API_KEY"};
  }
  void finish(const Setup& setup) override {
    if (!setup.sandbox.empty()) {
      url_ = setup.sandbox;
      settings_.api_key = sandbox_credentials::mailgun_api_key;
      settings_.domain = sandbox_credentials::mailgun_domain;
    }
    // The customer's emails come from one sender whichever provider sends them.
    settings_.from = mailbox(shared_.email_from_name,
                             shared_.email_from.empty() ? "orders@" + settings_.domain : shared_.email_from);
    if (setup.routed_by_default) {
      require(settings_.api_key, "MAILGUN_API_KEY (--mailgun-api-key)");
      require(settings_.domain, "MAILGUN_DOMAIN (--mailgun-domain)");
    }
    settings_.base = option_url(url_, "--mailgun-url", setup);
    common::log::register_secret(settings_.api_key);
  }
  std::unique_ptr<Provider> make(const Wiring& wiring) const override {
    return std::make_unique<MailgunProvider>(wiring.http, settings_);
  }

 private:
  const SharedOptions& shared_;
  MailgunSettings settings_;
  std::string url_ = "https://api.mailgun.net";
};

}  // namespace

std::unique_ptr<ProviderSpec> mailgun_spec(SharedOptions& shared) { return std::make_unique<MailgunSpec>(shared); }

}  // namespace rescind::clients
