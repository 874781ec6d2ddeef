// PayPal refunds of a capture (role: refund). OAuth2 client-credentials token, cached and
// refreshed before it expires — one refresh shared by every concurrent call — and
// refreshed once more if PayPal answers 401 to a token it has dropped. PayPal-Request-Id is
// the idempotency key.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "clients/http_client.hpp"
#include "clients/refunds.hpp"
#include "jobs/job.hpp"
#include "retry/outcome.hpp"

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

  asio::awaitable<retry::Outcome> refund(const jobs::Job& job, std::string_view request_id);

  static retry::Outcome interpret(const Exchange& exchange);

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
        : client_id(std::move(id)), secret(std::move(key)), fetched(ex, asio::steady_timer::time_point::max()) {}
    std::string client_id, secret, token;
    std::chrono::steady_clock::time_point expires_at{};
    bool fetching = false;
    asio::steady_timer fetched;  // never expires: cancel() wakes every caller waiting for a fetch
  };
  Account* account_for(const jobs::Job& job);
  // A valid token, fetching one if needed; nullopt with `failure` set if PayPal refused.
  asio::awaitable<std::optional<std::string>> token(Account& account, bool renew, retry::Outcome& failure);

  HttpClient& http_;
  PayPalSettings settings_;
  std::unique_ptr<Account> default_account_;  // null when no default app is configured
  std::map<std::string, std::unique_ptr<Account>> shop_accounts_;
};

}  // namespace rescind::clients
