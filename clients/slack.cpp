#include "clients/slack.hpp"

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

asio::awaitable<clients::Outcome> SlackStaffAlert::send(const jobs::Job& job, std::string_view text) {
  std::string body = R"({"text":)";
  // The alert is plain text made of job fields: nothing in it may become a mention or a link.
  common::append_json_string(body, slack_escape(text));
  body += '}';
  auto request = make_post(settings_.webhook, "", job.id, "application/json");
  request.body() = std::move(body);
  co_return interpret(co_await http_.send(settings_.webhook.origin, std::move(request)));
}

clients::Outcome SlackStaffAlert::interpret(const Exchange& exchange) {
  auto outcome = outcome_from(exchange);
  if (exchange.error || outcome.ok()) return outcome;
  // Slack answers errors as plain text: invalid_payload, channel_not_found, rollup_error…
  outcome.code = common::utf8_prefix(common::log::redact(exchange.response.body()), 64);
  return outcome;
}

}  // namespace rescind::clients
