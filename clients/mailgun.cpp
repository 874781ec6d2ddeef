#include "clients/mailgun.hpp"

#include "clients/encoding.hpp"
#include "clients/provider_call.hpp"

namespace rescind::clients {

using clients::Outcome;

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

}  // namespace rescind::clients
