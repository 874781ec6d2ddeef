// Mailgun customer email (role: email, when --email-provider mailgun). POST
// /v3/{domain}/messages, form, basic auth api:<key>.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <string>

#include "clients/http_client.hpp"
#include "clients/outcome.hpp"
#include "jobs/messages.hpp"

namespace rescind::clients {

struct MailgunSettings {
  Url base;  // https://api.mailgun.net (EU: https://api.eu.mailgun.net)
  std::string api_key;
  std::string domain;
  std::string from;  // "Shop <orders@domain>"
};

class MailgunEmail {
 public:
  MailgunEmail(HttpClient& http, MailgunSettings settings);

  asio::awaitable<Outcome> send(const jobs::Job& job, const jobs::EmailMessage& message);

  static Outcome interpret(const Exchange& exchange);
  bool configured() const { return !settings_.api_key.empty(); }

 private:
  HttpClient& http_;
  MailgunSettings settings_;
  std::string authorization_;
};

}  // namespace rescind::clients
