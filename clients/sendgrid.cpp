#include "clients/sendgrid.hpp"

#include "clients/provider_call.hpp"
#include "common/json_text.hpp"

namespace rescind::clients {

using common::append_json_string;

asio::awaitable<retry::Outcome> SendGridEmail::send(const jobs::Job& job, const jobs::EmailMessage& message) {
  std::string body = R"({"personalizations":[{"to":[{"email":)";
  append_json_string(body, job.customer.email);
  if (!job.customer.name.empty()) {
    body += R"(,"name":)";
    append_json_string(body, job.customer.name);
  }
  body += R"(}]}],"from":{"email":)";
  append_json_string(body, settings_.from_email);
  if (!settings_.from_name.empty()) {
    body += R"(,"name":)";
    append_json_string(body, settings_.from_name);
  }
  body += R"(},"subject":)";
  append_json_string(body, message.subject);
  body += R"(,"content":[{"type":"text/plain","value":)";
  append_json_string(body, message.text);
  body += R"(}],"custom_args":{"rescind_job_id":)";
  append_json_string(body, job.id);
  body += "}}";

  auto request = make_post(settings_.base, "/v3/mail/send", job.id, "application/json");
  request.set(http::field::authorization, "Bearer " + settings_.api_key);
  request.body() = std::move(body);
  co_return interpret(co_await http_.send(settings_.base.origin, std::move(request)));
}

retry::Outcome SendGridEmail::interpret(const Exchange& exchange) {
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
  return outcome;
}

}  // namespace rescind::clients
