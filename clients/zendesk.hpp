// Zendesk support tickets (role: ticket): a return to arrange, a dispute to answer.
// Ticket creation has no idempotency key, so the ticket carries an external_id derived from
// the job and, before creating, the client looks for a ticket with that id (a retry after a
// lost answer finds the first one instead of opening a second).
#pragma once
#include <boost/asio/awaitable.hpp>
#include <string>

#include "clients/http_client.hpp"
#include "jobs/messages.hpp"
#include "retry/outcome.hpp"

namespace rescind::clients {

struct ZendeskSettings {
  Url base;  // https://{subdomain}.zendesk.com
  std::string email;
  std::string api_token;
};

class ZendeskTickets {
 public:
  ZendeskTickets(HttpClient& http, ZendeskSettings settings);

  asio::awaitable<retry::Outcome> open(const jobs::Job& job, const jobs::TicketMessage& ticket, std::string_view external_id);

  static retry::Outcome interpret(const Exchange& exchange);
  bool configured() const { return !settings_.api_token.empty(); }

 private:
  HttpClient& http_;
  ZendeskSettings settings_;
  std::string authorization_;
};

}  // namespace rescind::clients
