// Stripe refunds (role: refund). POST /v1/refunds, form-encoded, with an Idempotency-Key:
// the same key and parameters return the same refund, so a retry never refunds twice.
// Reconcile: GET /v1/refunds?payment_intent=|charge= (every page), the refund whose
// metadata[rescind_job_id] is the job's; GET /v1/refunds/{id} polls a pending one.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <map>
#include <string>

#include "clients/http_client.hpp"
#include "clients/outcome.hpp"
#include "clients/refunds.hpp"
#include "jobs/job.hpp"

namespace rescind::clients {

struct StripeSettings {
  Url base;                                            // https://api.stripe.com
  std::string api_key;                                 // sk_live_… / sk_test_…
  std::map<std::string, std::string> api_key_by_shop;  // shop domain → its own Stripe account's key
  std::string api_version;                             // Stripe-Version header; empty: the account's default
};

class StripeRefunds {
 public:
  StripeRefunds(HttpClient& http, StripeSettings settings) : http_(http), settings_(std::move(settings)) {}

  asio::awaitable<Outcome> refund(const jobs::Job& job, std::string_view idempotency_key);
  // The answer's meaning, apart from the transport: ok, retryable or permanent.
  static Outcome interpret(const Exchange& exchange);
  // A refund object's status in RefundState's words (pending and requires_action are pending).
  static RefundState::Kind state_of(std::string_view status);

  // Reconcile: the refund this job made at the provider under ANY idempotency key, if one exists.
  // `none` only after a complete successful lookup; any failure of the lookup is `unknown` with
  // `lookup` set to how the call ended.
  asio::awaitable<RefundState> find_refund(const jobs::Job& job);
  // The current state of refund `reference` (polled while it is pending).
  asio::awaitable<RefundState> refund_status(const jobs::Job& job, std::string_view reference);

 private:
  const std::string& key_for(const jobs::Job& job) const;
  HttpRequest get(const jobs::Job& job, std::string_view target) const;

  HttpClient& http_;
  StripeSettings settings_;
};

}  // namespace rescind::clients
