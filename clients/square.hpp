// Square refunds (role: refund). POST /v2/refunds with an idempotency_key: Square caps the
// key's length (45 characters, the commonly quoted figure), so it is a hash of job and step
// (base64url SHA-256, 43 characters), never a truncation that could collide.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <map>
#include <string>

#include "clients/http_client.hpp"
#include "clients/refunds.hpp"
#include "jobs/job.hpp"
#include "retry/outcome.hpp"

namespace rescind::clients {

struct SquareSettings {
  Url base;  // https://connect.squareup.com
  std::string access_token;
  std::string version = "2024-10-17";  // Square-Version header
  std::map<std::string, std::string> access_token_by_shop;  // domain → its own seller account's token
};

class SquareRefunds {
 public:
  SquareRefunds(HttpClient& http, SquareSettings settings) : http_(http), settings_(std::move(settings)) {}

  asio::awaitable<retry::Outcome> refund(const jobs::Job& job, std::string_view idempotency_source);

  static retry::Outcome interpret(const Exchange& exchange);

  // Reconcile: the refund this job made at the provider under ANY idempotency key, if one exists.
  // `none` only after a complete successful lookup; any failure of the lookup is `unknown` with
  // `lookup` set to how the call ended.
  asio::awaitable<RefundState> find_refund(const jobs::Job& job);
  // The current state of refund `reference` (polled while it is pending).
  asio::awaitable<RefundState> refund_status(const jobs::Job& job, std::string_view reference);
  static std::string idempotency_key(std::string_view source);  // 43 characters


 private:
  HttpClient& http_;
  SquareSettings settings_;
};

}  // namespace rescind::clients
