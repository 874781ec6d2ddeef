// Performs one step of a plan: maps the step's role to the provider configuration chose for
// this job (refund → the payment's provider, cancel → the shop's platform, email → the
// configured email provider, …) and calls it.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <map>
#include <string_view>

#include "clients/http_client.hpp"
#include "clients/mailgun.hpp"
#include "clients/outcome.hpp"
#include "clients/paypal.hpp"
#include "clients/refunds.hpp"
#include "clients/sendgrid.hpp"
#include "clients/shopify.hpp"
#include "clients/slack.hpp"
#include "clients/square.hpp"
#include "clients/stripe.hpp"
#include "clients/twilio.hpp"
#include "clients/webhooks.hpp"
#include "clients/zendesk.hpp"
#include "jobs/messages.hpp"
#include "jobs/plan.hpp"
#include "worker/config.hpp"

namespace rescind::worker {

class Steps {
 public:
  // `gone`: where receivers that answered 410 are remembered for the fleet (may be null).
  Steps(clients::HttpClient& http, const ProviderConfig& providers, boost::asio::any_io_executor executor,
        clients::GoneReceivers* gone = nullptr);

  // `refund`: how far this job's refund has got, for the wording of messages.
  // `key_generation`: which idempotency key a refund uses (see idempotency_key()).
  boost::asio::awaitable<clients::Outcome> perform(jobs::Role role, const jobs::Job& job, const jobs::Plan& plan,
                                                   jobs::RefundProgress refund, unsigned key_generation = 0);

  // Asks the job's payment provider instead of telling it: the refund this job made under any
  // key (reconcile), or the state of one refund (a pending one). `unknown` for a provider
  // without a refund client.
  boost::asio::awaitable<clients::RefundState> find_refund(const jobs::Job& job);
  boost::asio::awaitable<clients::RefundState> refund_status(const jobs::Job& job, std::string_view reference);

  // The provider that performs `role` for this job (a log, audit and DLQ field). For a
  // refund or a cancel it is the job's own word (payment.provider, shop.platform), which may
  // name a provider this worker has no client for.
  std::string_view provider_for(jobs::Role role, const jobs::Job& job) const;

  // Whether a client exists for `provider`: only then does a step reach a quota account,
  // and only then is the name a metric label (anything else is counted as "other", so jobs
  // naming invented providers cannot add series).
  static bool has_client(std::string_view provider);
  static std::string_view provider_label(std::string_view provider) {
    return has_client(provider) ? provider : "other";
  }

  // The provider account a call is made on: what its quota is counted against (a Twilio
  // sender, a Shopify shop; one configured key for the others).
  std::string_view account_for(jobs::Role role, const jobs::Job& job) const;

  // The key a provider uses to recognise a repeated call: stable per job and step, and per
  // generation for a refund. Generation 0 is every job's first key; the worker moves a refund
  // to the next one only after the provider definitely refused it AND a reconcile found no
  // refund for the job (worker/job_runner.cpp): a provider replays a key's saved refusal for
  // 24 h (Stripe) or 45 days (PayPal), so a replay after the cause is fixed needs a new key.
  static std::string idempotency_key(const jobs::Job& job, jobs::Role role, unsigned generation = 0);

  bool records(const jobs::Job& job) const { return webhooks_.configured_for(job.shop.domain); }

 private:
  clients::StripeRefunds stripe_;
  clients::PayPalRefunds paypal_;
  clients::SquareRefunds square_;
  clients::ShopifyOrders shopify_;
  clients::SendGridEmail sendgrid_;
  clients::MailgunEmail mailgun_;
  clients::TwilioSms twilio_;
  clients::SlackStaffAlert slack_;
  clients::ZendeskTickets zendesk_;
  clients::BackOfficeWebhooks webhooks_;
  std::string email_provider_;
  std::map<std::string, std::string> email_provider_by_shop_;
  std::map<std::string, std::string> stripe_account_by_shop_;  // quota accounts: shops with their own key
  const std::string& email_provider(const jobs::Job& job) const;
  std::string twilio_sender_;
};

}  // namespace rescind::worker
