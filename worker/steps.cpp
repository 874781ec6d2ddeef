#include "worker/steps.hpp"

#include "jobs/messages.hpp"

namespace rescind::worker {

using clients::Outcome;
using jobs::Role;

namespace {
Outcome unsupported(std::string what) {
  return Outcome{Outcome::Kind::permanent, 0, "unsupported_provider", std::move(what), {}, {}};
}

// Every name perform() dispatches on or provider_for() returns for a configured client. A
// new provider client adds its name here.
constexpr std::string_view clients_by_name[] = {"stripe",  "paypal", "square", "shopify", "sendgrid",
                                                "mailgun", "twilio", "slack",  "zendesk", "webhook"};
}  // namespace

bool Steps::has_client(std::string_view provider) {
  for (auto name : clients_by_name) {
    if (name == provider) return true;
  }
  return false;
}

Steps::Steps(clients::HttpClient& http, const ProviderConfig& providers, boost::asio::any_io_executor executor,
             clients::GoneReceivers* gone)
    : stripe_(http, providers.stripe),
      paypal_(http, providers.paypal, executor),
      square_(http, providers.square),
      shopify_(http, providers.shopify),
      sendgrid_(http, providers.sendgrid),
      mailgun_(http, providers.mailgun),
      twilio_(http, providers.twilio),
      slack_(http, providers.slack),
      zendesk_(http, providers.zendesk),
      webhooks_(http, providers.webhooks, gone),
      email_provider_(providers.email_provider),
      email_provider_by_shop_(providers.email_provider_by_shop),
      twilio_sender_(providers.twilio.from) {
  for (const auto& [shop, key] : providers.stripe.api_key_by_shop) stripe_account_by_shop_[shop] = shop;
}

std::string Steps::idempotency_key(const jobs::Job& job, Role role, unsigned generation) {
  auto key = "rescind:" + job.id + ":" + std::string(jobs::to_string(role));
  return generation == 0 ? key : key + ":" + std::to_string(generation);
}

boost::asio::awaitable<clients::RefundState> Steps::find_refund(const jobs::Job& job) {
  const auto& provider = job.payment.provider;
  if (provider == "stripe") co_return co_await stripe_.find_refund(job);
  if (provider == "paypal") co_return co_await paypal_.find_refund(job);
  if (provider == "square") co_return co_await square_.find_refund(job);
  co_return clients::RefundState{clients::RefundState::Kind::unknown,
                                 {},
                                 "no refund client for " + provider,
                                 unsupported("payment.provider '" + provider + "' has no refund client")};
}

boost::asio::awaitable<clients::RefundState> Steps::refund_status(const jobs::Job& job, std::string_view reference) {
  const auto& provider = job.payment.provider;
  if (provider == "stripe") co_return co_await stripe_.refund_status(job, reference);
  if (provider == "paypal") co_return co_await paypal_.refund_status(job, reference);
  if (provider == "square") co_return co_await square_.refund_status(job, reference);
  co_return clients::RefundState{clients::RefundState::Kind::unknown,
                                 {},
                                 "no refund client for " + provider,
                                 unsupported("payment.provider '" + provider + "' has no refund client")};
}

std::string_view Steps::provider_for(Role role, const jobs::Job& job) const {
  switch (role) {
    case Role::refund:
      return job.payment.provider;
    case Role::cancel:
    case Role::restock:
      return job.shop.platform;
    case Role::email:
      return email_provider(job);
    case Role::sms:
      return "twilio";
    case Role::staff:
      return "slack";
    case Role::ticket:
      return "zendesk";
    case Role::record:
      return "webhook";
  }
  return "none";
}

const std::string& Steps::email_provider(const jobs::Job& job) const {
  auto it = email_provider_by_shop_.find(job.shop.domain);
  return it == email_provider_by_shop_.end() ? email_provider_ : it->second;
}

std::string_view Steps::account_for(Role role, const jobs::Job& job) const {
  switch (role) {
    case Role::refund:  // a shop with its own Stripe key has its own Stripe quota
      return job.payment.provider == "stripe" && stripe_account_by_shop_.contains(job.shop.domain)
                 ? std::string_view(job.shop.domain)
                 : std::string_view("default");
    case Role::sms:
      return twilio_sender_;  // Twilio's throughput is per sender
    case Role::cancel:
    case Role::restock:
      return job.shop.domain;  // Shopify's bucket is per shop
    default:
      return "default";
  }
}

boost::asio::awaitable<Outcome> Steps::perform(Role role, const jobs::Job& job, const jobs::Plan& plan,
                                               jobs::RefundProgress refunded, unsigned key_generation) {
  switch (role) {
    case Role::refund: {
      const auto& provider = job.payment.provider;
      auto key = idempotency_key(job, role, key_generation);
      if (provider == "stripe") co_return co_await stripe_.refund(job, key);
      if (provider == "paypal") co_return co_await paypal_.refund(job, key);
      if (provider == "square") co_return co_await square_.refund(job, key);
      co_return unsupported("payment.provider '" + provider +
                            "' has no refund client (stripe, paypal, square; or the shop's platform)");
    }
    case Role::cancel:
    case Role::restock:
      if (job.shop.platform == "shopify") co_return co_await shopify_.cancel(job, plan);
      co_return unsupported("shop.platform '" + job.shop.platform + "' has no client yet (shopify)");
    case Role::email: {
      auto message = jobs::customer_email(job, plan.situation, refunded);
      if (email_provider(job) == "mailgun") co_return co_await mailgun_.send(job, message);
      co_return co_await sendgrid_.send(job, message);
    }
    case Role::sms: {
      auto text = jobs::customer_sms(job, plan.situation, refunded);
      co_return co_await twilio_.send(job, text);
    }
    case Role::staff: {
      auto text = jobs::staff_alert(job, plan.situation, refunded);
      co_return co_await slack_.send(job, text);
    }
    case Role::ticket: {
      auto ticket = jobs::support_ticket(job, plan.situation);
      auto external_id = "rescind:" + job.id;
      co_return co_await zendesk_.open(job, ticket, external_id, idempotency_key(job, role));
    }
    case Role::record:  // the back office books a pending refund too: the provider has it
      co_return co_await webhooks_.record(job, plan.situation, refunded != jobs::RefundProgress::none);
  }
  co_return unsupported("unknown step");
}

}  // namespace rescind::worker
