// SendGrid customer email (role: email). POST /v3/mail/send, JSON, 202 Accepted.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <string>

#include "clients/http_client.hpp"
#include "clients/outcome.hpp"
#include "jobs/messages.hpp"

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

  asio::awaitable<Outcome> send(const jobs::Job& job, const jobs::EmailMessage& message);

  // `now`: against it X-RateLimit-Reset (an epoch second) becomes a wait.
  static Outcome interpret(const Exchange& exchange,
                           std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

  // How long the account rests after a temporary block (SendGrid does not say how long one lasts).
  static constexpr std::chrono::milliseconds temporary_block_wait = std::chrono::minutes(1);

 private:
  HttpClient& http_;
  SendGridSettings settings_;
};

}  // namespace rescind::clients
