// Slack staff alert (role: staff) through an incoming webhook: the URL is the secret.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <string>

#include "clients/http_client.hpp"
#include "clients/outcome.hpp"
#include "jobs/job.hpp"

namespace rescind::clients {

struct SlackSettings {
  Url webhook;  // https://hooks.slack.com/services/T…/B…/…
};

// Slack's three control characters as entities (&amp; &lt; &gt;, per Slack's "Formatting text"):
// "<!channel>" or "<https://…|label>" from a job field then shows as written, not as a mention
// or a disguised link.
std::string slack_escape(std::string_view text);

class SlackStaffAlert {
 public:
  SlackStaffAlert(HttpClient& http, SlackSettings settings) : http_(http), settings_(std::move(settings)) {}

  asio::awaitable<Outcome> send(const jobs::Job& job, std::string_view text);

  static Outcome interpret(const Exchange& exchange);

 private:
  HttpClient& http_;
  SlackSettings settings_;
};

}  // namespace rescind::clients
