// Performs one step of a plan: maps the step's role to the configured provider client.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <string_view>

#include "clients/http_client.hpp"
#include "clients/sendgrid.hpp"
#include "clients/slack.hpp"
#include "clients/stripe.hpp"
#include "clients/twilio.hpp"
#include "jobs/plan.hpp"
#include "retry/outcome.hpp"
#include "worker/config.hpp"

namespace rescind::worker {

class Steps {
 public:
  Steps(clients::HttpClient& http, const ProviderConfig& providers);

  // `refunded`: whether this job's refund has happened, for the wording of messages.
  boost::asio::awaitable<retry::Outcome> perform(jobs::Role role, const jobs::Job& job, bool refunded);

  // The provider that performs `role` for this job (a metric and log label).
  std::string_view provider_for(jobs::Role role, const jobs::Job& job) const;

  // The provider account a call is made on: what its quota is counted against (a Stripe
  // key, a Twilio sender, a Shopify shop). One configured account per provider today.
  std::string_view account_for(jobs::Role role, const jobs::Job& job) const;

  // The key a provider uses to recognise a repeated call: stable per job and step.
  static std::string idempotency_key(const jobs::Job& job, jobs::Role role);

 private:
  clients::StripeRefunds stripe_;
  clients::SendGridEmail sendgrid_;
  clients::TwilioSms twilio_;
  clients::SlackStaffAlert slack_;
  std::string twilio_sender_;
};

}  // namespace rescind::worker
