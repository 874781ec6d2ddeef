// Square refunds (role: refund). POST /v2/refunds with an idempotency_key: Square caps the
// key's length (45 characters, the commonly quoted figure), so it is a hash of job and step
// (base64url SHA-256, 43 characters), never a truncation that could collide. A Square refund
// has no metadata: the job is named at the end of `reason` ("… (rescind job <id>)", within
// Square's 192 characters), which is how reconcile (GET /v2/payments/{id} → refund_ids → GET
// /v2/refunds/{id}) tells the job's refund from others. "Already refunded" is decided from the
// payment's state, never from an error's text.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <map>
#include <string>

#include "clients/http_client.hpp"
#include "clients/outcome.hpp"
#include "clients/refunds.hpp"
#include "jobs/job.hpp"

namespace rescind::clients {

struct SquareSettings {
  Url base;  // https://connect.squareup.com
  std::string access_token;
  std::string version = "2024-10-17";                       // Square-Version header
  std::map<std::string, std::string> access_token_by_shop;  // domain → its own seller account's token
};

class SquareRefunds {
 public:
  SquareRefunds(HttpClient& http, SquareSettings settings) : http_(http), settings_(std::move(settings)) {}

  asio::awaitable<Outcome> refund(const jobs::Job& job, std::string_view idempotency_source);

  static Outcome interpret(const Exchange& exchange);

  // Reconcile: the refund this job made at the provider under ANY idempotency key, if one exists.
  // `none` only after a complete successful lookup; any failure of the lookup is `unknown` with
  // `lookup` set to how the call ended.
  asio::awaitable<RefundState> find_refund(const jobs::Job& job);
  // The current state of refund `reference` (polled while it is pending).
  asio::awaitable<RefundState> refund_status(const jobs::Job& job, std::string_view reference);
  static std::string idempotency_key(std::string_view source);  // 43 characters
  static std::string reason_for(const jobs::Job& job);          // the refund's reason, naming the job

 private:
  const std::string& token_for(const jobs::Job& job) const;
  asio::awaitable<Exchange> get(const jobs::Job& job, std::string target);
  // After REFUND_AMOUNT_INVALID, PAYMENT_NOT_REFUNDABLE or REFUND_ALREADY_PENDING: what the
  // payment says. The job's own refund → ok (pending if it is); the whole payment refunded →
  // ok; else `refused` as it was.
  asio::awaitable<Outcome> reconcile(const jobs::Job& job, Outcome refused);

  HttpClient& http_;
  SquareSettings settings_;
};

}  // namespace rescind::clients
