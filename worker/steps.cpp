#include "worker/steps.hpp"

#include "jobs/messages.hpp"

namespace rescind::worker {

using jobs::Role;
using retry::Outcome;

Steps::Steps(clients::HttpClient& http, const ProviderConfig& providers)
    : stripe_(http, providers.stripe),
      sendgrid_(http, providers.sendgrid),
      twilio_(http, providers.twilio),
      slack_(http, providers.slack),
      twilio_sender_(providers.twilio.from) {}

std::string_view Steps::account_for(Role role, const jobs::Job&) const {
  // Twilio's throughput is per sender; the others are one account per configured key.
  return role == Role::sms ? std::string_view(twilio_sender_) : std::string_view("default");
}

std::string Steps::idempotency_key(const jobs::Job& job, Role role) {
  return "rescind:" + job.id + ":" + std::string(jobs::to_string(role));
}

std::string_view Steps::provider_for(Role role, const jobs::Job& job) const {
  switch (role) {
    case Role::refund: return job.payment.provider;
    case Role::email: return "sendgrid";
    case Role::sms: return "twilio";
    case Role::staff: return "slack";
    default: return "none";
  }
}

boost::asio::awaitable<Outcome> Steps::perform(Role role, const jobs::Job& job, bool refunded) {
  switch (role) {
    case Role::refund:
      if (job.payment.provider != "stripe") {
        co_return Outcome{Outcome::Kind::permanent, 0, "unsupported_provider",
                          "payment.provider '" + job.payment.provider + "' has no refund client in this version", {}, {}};
      }
      co_return co_await stripe_.refund(job, idempotency_key(job, role));
    case Role::email: {
      auto message = jobs::customer_email(job, refunded);
      co_return co_await sendgrid_.send(job, message);
    }
    case Role::sms: {
      auto text = jobs::customer_sms(job, refunded);
      co_return co_await twilio_.send(job, text);
    }
    case Role::staff: {
      auto text = jobs::staff_alert(job, refunded);
      co_return co_await slack_.send(job, text);
    }
    default:
      co_return Outcome{Outcome::Kind::permanent, 0, "unsupported_role",
                        "step '" + std::string(jobs::to_string(role)) + "' has no provider in this version", {}, {}};
  }
}

}  // namespace rescind::worker
