#include "clients/slack.hpp"

#include "clients/provider_call.hpp"
#include "common/json_text.hpp"

namespace rescind::clients {

asio::awaitable<retry::Outcome> SlackStaffAlert::send(const jobs::Job& job, std::string_view text) {
  std::string body = R"({"text":)";
  common::append_json_string(body, text);
  body += '}';
  auto request = make_post(settings_.webhook, "", job.id, "application/json");
  request.body() = std::move(body);
  co_return interpret(co_await http_.send(settings_.webhook.origin, std::move(request)));
}

retry::Outcome SlackStaffAlert::interpret(const Exchange& exchange) {
  auto outcome = outcome_from(exchange);
  if (exchange.error || outcome.ok()) return outcome;
  // Slack answers errors as plain text: invalid_payload, channel_not_found, rollup_error…
  outcome.code = exchange.response.body().substr(0, 64);
  return outcome;
}

}  // namespace rescind::clients
