// PayPal refunds of a capture (role: refund). OAuth2 client-credentials token, cached and
// refreshed before it expires — one refresh shared by every concurrent call — and
// refreshed once more if PayPal answers 401 to a token it has dropped. PayPal-Request-Id is
// the idempotency key; invoice_id is the job's id (hashed past PayPal's 127 characters), so
// PayPal itself refuses a second refund for a job (DUPLICATE_INVOICE_ID, read as done).
// Reconcile reads the capture (GET /v2/payments/captures/{id}): PayPal's capture shows how
// much was refunded but not by whom, so only "nothing refunded" is a definite none.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "clients/http_client.hpp"
#include "clients/outcome.hpp"
#include "clients/refunds.hpp"
#include "common/async.hpp"
#include "jobs/job.hpp"

namespace rescind::clients {

struct PayPalSettings {
  Url base;  // https://api-m.paypal.com
  std::string client_id;
  std::string secret;
  std::map<std::string, std::pair<std::string, std::string>> by_shop;  // domain → its own client id, secret
};

class PayPalRefunds {
 public:
  PayPalRefunds(HttpClient& http, PayPalSettings settings, asio::any_io_executor executor);

  asio::awaitable<Outcome> refund(const jobs::Job& job, std::string_view request_id);
  static Outcome interpret(const Exchange& exchange);
  // The invoice_id a job's refund carries: the job id, or "rescind-" + its SHA-256 past 127 characters.
  static std::string invoice_id(const jobs::Job& job);

  // Reconcile: the refund this job made at the provider under ANY idempotency key, if one exists.
  // `none` only after a complete successful lookup; any failure of the lookup is `unknown` with
  // `lookup` set to how the call ended.
  asio::awaitable<RefundState> find_refund(const jobs::Job& job);
  // The current state of refund `reference` (polled while it is pending).
  asio::awaitable<RefundState> refund_status(const jobs::Job& job, std::string_view reference);

 private:
  // One PayPal REST app (the default, or a shop's own) and its cached token.
  struct Account {
    Account(std::string id, std::string key, asio::any_io_executor ex)
        : client_id(std::move(id)), secret(std::move(key)), fetched(ex) {}
    std::string client_id, secret, token;
    std::chrono::steady_clock::time_point expires_at{};
    bool fetching = false;
    common::Signal fetched;  // wakes every caller waiting for the fetch under way
  };
  Account* account_for(const jobs::Job& job);
  // Sends make(token) with a valid token, once more with a fresh one on a 401; nullopt with
  // `failure` set when no token could be had (or the account is not configured).
  asio::awaitable<std::optional<Exchange>> send(const jobs::Job& job,
                                                const std::function<HttpRequest(const std::string&)>& make,
                                                Outcome& failure);
  // A valid token, fetching one if needed; nullopt with `failure` set if PayPal refused.
  asio::awaitable<std::optional<std::string>> token(Account& account, bool renew, Outcome& failure);

  HttpClient& http_;
  PayPalSettings settings_;
  std::unique_ptr<Account> default_account_;  // null when no default app is configured
  std::map<std::string, std::unique_ptr<Account>> shop_accounts_;
};

}  // namespace rescind::clients
