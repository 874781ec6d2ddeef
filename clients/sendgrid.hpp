// SendGrid customer email (role: email). POST /v3/mail/send, JSON, 202 Accepted.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <string>

#include "clients/http_client.hpp"
#include "jobs/messages.hpp"
#include "retry/outcome.hpp"

namespace rescind::clients {

struct SendGridSettings {
  Url base;  // https://api.sendgrid.com
  std::string api_key;
  std::string from_email;
  std::string from_name;
};

class SendGridEmail {
 public:
  SendGridEmail(HttpClient& http, SendGridSettings settings) : http_(http), settings_(std::move(settings)) {}

  asio::awaitable<retry::Outcome> send(const jobs::Job& job, const jobs::EmailMessage& message);

  static retry::Outcome interpret(const Exchange& exchange);

 private:
  HttpClient& http_;
  SendGridSettings settings_;
};

}  // namespace rescind::clients
