#include "clients/slack.hpp"

#include "clients/provider.hpp"
#include "common/sandbox_credentials.hpp"
#include "jobs/messages.hpp"

#include "clients/provider_call.hpp"
#include "common/json_text.hpp"
#include "common/log.hpp"
#include "common/text.hpp"

namespace rescind::clients {

std::string slack_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

asio::awaitable<Outcome> SlackStaffAlert::send(const jobs::Job& job, std::string_view text) {
  // The alert is plain text made of job fields: nothing in it may become a mention or a link.
  auto request = make_post(settings_.webhook, "", job.id, "application/json");
  request.body() = common::JsonWriter().begin_object().field("text", slack_escape(text)).end_object().take();
  co_return interpret(co_await http_.send(settings_.webhook.origin, std::move(request)));
}

Outcome SlackStaffAlert::interpret(const Exchange& exchange) {
  auto outcome = outcome_from(exchange);
  if (exchange.error || outcome.ok()) return outcome;
  // Slack answers errors as plain text: invalid_payload, channel_not_found, rollup_error…
  outcome.code = common::utf8_prefix(common::log::redact(exchange.response.body()), 64);
  return outcome;
}

// The component: Slack alerts staff through an incoming webhook.
namespace {

class SlackProvider final : public Provider {
 public:
  SlackProvider(HttpClient& http, const SlackSettings& settings) : alert_(http, settings) {}
  std::string_view name() const override { return "slack"; }
  asio::awaitable<Outcome> perform(const StepCall& step, const jobs::Job& job) override {
    co_return co_await alert_.send(job, jobs::staff_alert(job, step.plan.situation, step.refunded));
  }

 private:
  SlackStaffAlert alert_;
};

class SlackSpec final : public ProviderSpec {
 public:
  std::string_view name() const override { return "slack"; }
  std::vector<jobs::Role> roles() const override { return {jobs::Role::staff}; }
  std::string_view group() const override { return "Slack (staff)"; }
  void add_options(OptionSet& options) override {
    options.secret("--slack-webhook-url", url_, "Incoming webhook URL (it is the secret)", "SLACK_WEBHOOK_URL");
  }
  std::vector<std::string> real_credentials() const override {
    if (url_.empty()) return {};
    return {"SLACK_WEBHOOK_URL"};
  }
  void finish(const Setup& setup) override {
    if (!setup.sandbox.empty()) url_ = setup.sandbox + std::string(sandbox_credentials::slack_webhook_path);
    require(url_, "SLACK_WEBHOOK_URL (--slack-webhook-url)");
    settings_.webhook = option_url(url_, "--slack-webhook-url", setup);
    common::log::register_secret(url_);
    common::log::register_secret(settings_.webhook.path);
  }
  std::unique_ptr<Provider> make(const Wiring& wiring) const override {
    return std::make_unique<SlackProvider>(wiring.http, settings_);
  }

 private:
  SlackSettings settings_;
  std::string url_;
};

}  // namespace

std::unique_ptr<ProviderSpec> slack_spec(SharedOptions&) { return std::make_unique<SlackSpec>(); }

}  // namespace rescind::clients
