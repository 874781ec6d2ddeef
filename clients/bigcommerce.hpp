// BigCommerce (roles: cancel, restock, and refund when BigCommerce holds the payment), REST
// under https://api.bigcommerce.com/stores/{store_hash}, X-Auth-Token per store.
//
// Cancel: PUT /v2/orders/{id} {"status_id":5}; an order already at 5 answers the same, so a
// repeat is done. Restock: BigCommerce has no call for it; the status change returns the
// stock when the store's inventory settings say so, so the role is the same cancel.
// Refund (the cancel step does it when the plan says the platform holds the payment): first
// a quote (POST /v3/orders/{id}/payment_actions/refund_quotes) that says what is refundable
// and through which methods, then the refund (POST …/payment_actions/refunds). BigCommerce
// has no idempotency key, so every attempt first reads the order's refunds
// (GET …/payment_actions/refunds) and recognises this job's by its reason, the job's marker:
// the read is on every attempt because a crash loses what this process knew. BigCommerce
// refuses concurrent refunds on one order, so this process sends one at a time per order.
// Quota: per store and window; X-Rate-Limit-Requests-Left 0 makes the next call to the store
// wait for X-Rate-Limit-Time-Reset-Ms, and tells the limiter (Outcome::slow_down); a 429
// is rate_limited for that long.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "clients/http_client.hpp"
#include "clients/outcome.hpp"
#include "clients/refunds.hpp"
#include "jobs/job.hpp"
#include "jobs/plan.hpp"

namespace rescind::clients {

struct BigCommerceSettings {
  Url api;                                          // https://api.bigcommerce.com
  std::map<std::string, std::string> tokens;        // shop domain → access token
  std::map<std::string, std::string> store_hashes;  // shop domain → store hash
  // Sandbox: every shop is served with this token, its store hash from the domain.
  std::string sandbox_token;
};

// The four quota headers; absent ones stay nullopt.
struct BigCommerceQuota {
  std::optional<long long> left, reset_ms, quota, window_ms;
};

// What the read of an order's refunds says.
struct RefundsRead {
  Outcome outcome;                  // not ok: no verdict
  std::string job_refund;           // the id of the refund carrying the job's marker, if any
  std::int64_t refunded_minor = 0;  // every refund's total_amount together
};

// What the refund quote says.
struct RefundQuote {
  Outcome outcome;
  std::int64_t refundable_minor = 0;  // total_refund_amount
  // The payments of the first refund method that goes back online to what the customer
  // paid with (not store credit, not offline): [{provider_id, amount}].
  std::vector<std::pair<std::string, double>> payments;
};

class BigCommerceOrders {
 public:
  BigCommerceOrders(HttpClient& http, BigCommerceSettings settings) : http_(http), settings_(std::move(settings)) {}

  asio::awaitable<Outcome> cancel(const jobs::Job& job, const jobs::Plan& plan);
  asio::awaitable<Outcome> refund(const jobs::Job& job);
  // Reconcile: the order's refunds read for the job's marker (succeeded or none).
  asio::awaitable<RefundState> find_refund(const jobs::Job& job);

  // Pure: status first, then BigCommerce's v3 error shape {status,title,type,errors}; 429 is
  // rate_limited for X-Rate-Limit-Time-Reset-Ms.
  static Outcome classify(const Exchange& exchange);
  static BigCommerceQuota read_quota(const HttpResponse& response);
  static Outcome interpret_cancel(const Exchange& exchange);
  static RefundsRead interpret_refunds(const Exchange& exchange, std::string_view marker, int exponent);
  static RefundQuote interpret_quote(const Exchange& exchange, int exponent);
  static Outcome interpret_refund(const Exchange& exchange);
  // The reason a refund carries: how a later attempt knows it as this job's.
  static std::string marker(const jobs::Job& job) { return "Rescind job " + job.id; }
  // store-HASH.mybigcommerce.com → HASH; empty for any other domain.
  static std::string hash_of_domain(std::string_view domain);

 private:
  struct Store {
    std::string hash;
    std::string token;
  };
  struct Window {
    long long left = 1;
    std::chrono::steady_clock::time_point reset_at{};
  };

  std::optional<Store> store_for(const jobs::Job& job) const;
  // Waits for the store's window when its last answer left no request; sends; notes the quota.
  asio::awaitable<Exchange> send(const Store& store, HttpRequest request);
  asio::awaitable<Outcome> refund_once(const Store& store, const jobs::Job& job);
  // How long the limiter should leave the store alone: until the reset, once nothing is left.
  std::optional<std::chrono::milliseconds> slow_down(const Store& store) const;

  HttpClient& http_;
  BigCommerceSettings settings_;
  std::map<std::string, Window> windows_;  // store hash → its quota as last answered
  std::set<std::string> refunding_;        // "hash/order": a refund in flight in this process
};

}  // namespace rescind::clients
