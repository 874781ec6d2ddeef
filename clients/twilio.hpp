// Twilio SMS to the customer (role: sms). POST …/Accounts/{sid}/Messages.json, form, basic
// auth. Twilio has no idempotency for messages: the step is recorded the moment it succeeds.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <string>

#include "clients/http_client.hpp"
#include "clients/outcome.hpp"
#include "jobs/job.hpp"

namespace rescind::clients {

struct TwilioSettings {
  Url base;  // https://api.twilio.com
  std::string account_sid;
  std::string auth_token;
  std::string from;  // +E.164 sender, or a messaging service (MG…)
  // 21611: the sender's queue holds 10 hours of messages. It drains at the sender's rate (a US
  // long code sends one segment a second), so the sender waits this long before the next try.
  std::chrono::milliseconds queue_full_wait{std::chrono::minutes(1)};
};

class TwilioSms {
 public:
  TwilioSms(HttpClient& http, TwilioSettings settings);

  asio::awaitable<Outcome> send(const jobs::Job& job, std::string_view text);

  // `queue_full_wait`: the pause a 21611 answer gets when it carries no Retry-After.
  static Outcome interpret(const Exchange& exchange,
                           std::chrono::milliseconds queue_full_wait = std::chrono::minutes(1));

 private:
  HttpClient& http_;
  TwilioSettings settings_;
  std::string authorization_;  // computed once
  std::string path_;
};

}  // namespace rescind::clients
