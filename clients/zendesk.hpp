// Zendesk support tickets (role: ticket): a return to arrange, a dispute to answer. Ticket
// creation carries an Idempotency-Key derived from the job, so a retry after a lost answer, or
// a second worker holding the same job, gets the first ticket back instead of opening another
// (Zendesk keeps keys for a while, 2 hours by third-party accounts). The ticket also carries an
// external_id from the job, for people searching Zendesk.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <string>

#include "clients/http_client.hpp"
#include "clients/outcome.hpp"
#include "jobs/messages.hpp"

namespace rescind::clients {

struct ZendeskSettings {
  Url base;  // https://{subdomain}.zendesk.com
  std::string email;
  std::string api_token;
};

class ZendeskTickets {
 public:
  ZendeskTickets(HttpClient& http, ZendeskSettings settings);

  asio::awaitable<Outcome> open(const jobs::Job& job, const jobs::TicketMessage& ticket, std::string_view external_id,
                                std::string_view idempotency_key);

  static Outcome interpret(const Exchange& exchange);
  bool configured() const { return !settings_.api_token.empty(); }

 private:
  HttpClient& http_;
  ZendeskSettings settings_;
  std::string authorization_;
};

}  // namespace rescind::clients
