#include "clients/zendesk.hpp"

#include "clients/provider.hpp"
#include "common/log.hpp"
#include "common/sandbox_credentials.hpp"
#include "jobs/messages.hpp"

#include "clients/encoding.hpp"
#include "clients/provider_call.hpp"
#include "common/json_text.hpp"

namespace rescind::clients {

ZendeskTickets::ZendeskTickets(HttpClient& http, ZendeskSettings settings)
    : http_(http),
      settings_(std::move(settings)),
      authorization_(basic_auth(settings_.email + "/token", settings_.api_token)) {}

asio::awaitable<Outcome> ZendeskTickets::open(const jobs::Job& job, const jobs::TicketMessage& ticket,
                                              std::string_view external_id, std::string_view idempotency_key) {
  if (!configured())
    co_return Outcome{
        Outcome::Kind::permanent, 0, "not_configured", "Zendesk is not configured (ZENDESK_API_TOKEN)", {}, {}};
  common::JsonWriter json;
  json.begin_object().key("ticket").begin_object().field("subject", ticket.subject);
  json.key("comment").begin_object().field("body", ticket.body).end_object();
  json.field("priority", ticket.priority);
  json.key("requester").begin_object();
  json.field("email", job.customer.email.empty() ? settings_.email : job.customer.email);
  json.field("name", job.customer.name.empty() ? job.customer.email : job.customer.name);
  json.end_object().field("external_id", external_id);
  json.key("tags").begin_array().value("rescind").value(ticket.tag).end_array();
  auto body = json.end_object().end_object().take();
  auto request = make_post(settings_.base, "/api/v2/tickets.json", job.id, "application/json");
  request.set(http::field::authorization, authorization_);
  // The same key on every attempt and for every holder of the job: Zendesk creates the ticket
  // once and answers the repeats with it (x-idempotency-lookup: hit).
  request.set("Idempotency-Key", idempotency_key);
  request.body() = std::move(body);
  co_return interpret(co_await http_.send(settings_.base.origin, std::move(request)));
}

Outcome ZendeskTickets::interpret(const Exchange& exchange) {
  auto outcome = outcome_from(exchange);
  if (exchange.error) return outcome;
  const auto& body = exchange.response.body();
  if (outcome.ok()) {
    // The id is a number: take its digits from the JSON text.
    auto at = body.find("\"id\":");
    if (at != std::string::npos) {
      auto start = at + 5, end = start;
      while (end < body.size() && body[end] >= '0' && body[end] <= '9') ++end;
      outcome.reference = body.substr(start, end - start);
    }
    return outcome;
  }
  outcome.code = json_string_at(body, "/error").value_or("");
  if (auto description = json_string_at(body, "/description")) outcome.message = *description;
  if (outcome.status == 400 && outcome.code == "IdempotentRequestError") {
    // The key was used with another body: this job's ticket was opened by an earlier attempt
    // (whose text a newer version words differently). It exists; opening another would be the
    // duplicate the key is there to prevent.
    return Outcome::success("existing", 200);
  }
  return outcome;
}

// The component: Zendesk opens the support ticket (a return to arrange, a dispute to answer).
namespace {

class ZendeskProvider final : public Provider {
 public:
  ZendeskProvider(HttpClient& http, const ZendeskSettings& settings) : tickets_(http, settings) {}
  std::string_view name() const override { return "zendesk"; }
  asio::awaitable<Outcome> perform(const StepCall& step, const jobs::Job& job) override {
    co_return co_await tickets_.open(job, jobs::support_ticket(job, step.plan.situation), "rescind:" + job.id,
                                     step.idempotency_key);
  }

 private:
  ZendeskTickets tickets_;
};

class ZendeskSpec final : public ProviderSpec {
 public:
  std::string_view name() const override { return "zendesk"; }
  std::vector<jobs::Role> roles() const override { return {jobs::Role::ticket}; }
  std::string_view group() const override { return "Zendesk (ticket)"; }
  void add_options(OptionSet& options) override {
    options.setting("--zendesk-url", url_, "https://SUBDOMAIN.zendesk.com", "RESCIND_ZENDESK_URL");
    options.setting("--zendesk-email", settings_.email, "Agent email for API-token auth", "ZENDESK_EMAIL");
    options.secret("--zendesk-api-token", settings_.api_token, "API token", "ZENDESK_API_TOKEN");
  }
  std::vector<std::string> real_credentials() const override {
    if (settings_.api_token.empty()) return {};
    return {"ZENDESK_API_TOKEN"};
  }
  void finish(const Setup& setup) override {
    if (!setup.sandbox.empty()) {
      url_ = setup.sandbox;
      settings_.email = sandbox_credentials::zendesk_email;
      settings_.api_token = sandbox_credentials::zendesk_api_token;
    }
    common::log::register_secret(settings_.api_token);
    if (!url_.empty())
      settings_.base = option_url(url_, "--zendesk-url", setup);
    else
      settings_.api_token.clear();  // no URL: not configured, whatever the token says
  }
  std::unique_ptr<Provider> make(const Wiring& wiring) const override {
    return std::make_unique<ZendeskProvider>(wiring.http, settings_);
  }

 private:
  ZendeskSettings settings_;
  std::string url_;
};

}  // namespace

std::unique_ptr<ProviderSpec> zendesk_spec(SharedOptions&) { return std::make_unique<ZendeskSpec>(); }

}  // namespace rescind::clients
