// PayPal refunds of a capture (role: refund). OAuth2 client-credentials token, cached and
// refreshed before it expires — one refresh shared by every concurrent call — and
// refreshed once more if PayPal answers 401 to a token it has dropped. PayPal-Request-Id is
// the idempotency key.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <string>

#include "clients/http_client.hpp"
#include "jobs/job.hpp"
#include "retry/outcome.hpp"

namespace rescind::clients {

struct PayPalSettings {
  Url base;  // https://api-m.paypal.com
  std::string client_id;
  std::string secret;
};

class PayPalRefunds {
 public:
  PayPalRefunds(HttpClient& http, PayPalSettings settings, asio::any_io_executor executor);

  asio::awaitable<retry::Outcome> refund(const jobs::Job& job, std::string_view request_id);

  static retry::Outcome interpret(const Exchange& exchange);
  bool configured() const { return !settings_.client_id.empty(); }

 private:
  // A valid token, fetching one if needed; nullopt with `failure` set if PayPal refused.
  asio::awaitable<std::optional<std::string>> token(bool renew, retry::Outcome& failure);

  HttpClient& http_;
  PayPalSettings settings_;
  std::string token_;
  std::chrono::steady_clock::time_point expires_at_{};
  bool fetching_ = false;
  asio::steady_timer fetched_;  // never expires: cancel() wakes every caller waiting for a fetch
};

}  // namespace rescind::clients
