// WooCommerce REST API v3 (roles: cancel, restock, and refund when payment.provider is
// "woocommerce"): each shop is its own self-hosted WordPress site, with its own site URL and
// consumer key/secret (HTTP Basic; plain http only to loopback).
//
// Cancel: GET /wp-json/wc/v3/orders/{id} first; an order already cancelled (or refunded) is
// done, else PUT /orders/{id} {"status":"cancelled"}. Cancelling is WooCommerce's restock:
// its woocommerce_order_status_cancelled hook (wc_maybe_increase_stock_levels) puts back the
// stock the order had reduced, so restock is the same call.
//
// Refund: POST /orders/{id}/refunds with the amount as a decimal string, api_refund (through
// the order's payment gateway, or record-only per shop) and api_restock false (the cancel
// restocked). WooCommerce has no idempotency key, so EVERY attempt first reads the order's
// refunds (GET /orders/{id}/refunds) for this job's marker, the refund's meta_data
// rescind_job_id (and the reason's "(rescind job <id>)" suffix): found, the step is done.
// Nothing is remembered in process, so a lost answer, a restart or a crash between the refund
// and the step's record all end in that lookup. The POST is never resent by the HTTP client
// itself (Resend::never). An over-refund answers 500 woocommerce_rest_cannot_create_order_refund
// (as does a gateway's refusal): judged by the order's state, never retried blindly: the job's
// refund found → done; the order fully refunded → done; else permanent.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <map>
#include <optional>
#include <string>

#include "clients/http_client.hpp"
#include "clients/outcome.hpp"
#include "clients/refunds.hpp"
#include "jobs/job.hpp"
#include "jobs/plan.hpp"

namespace rescind::clients {

struct WooShop {
  Url site;                     // https://shop.example (or https://example.com/shop): /wp-json/… goes after it
  std::string consumer_key;     // ck_…
  std::string consumer_secret;  // cs_…
  bool record_only = false;     // api_refund false: the refund is recorded, the gateway not asked
};

struct WooCommerceSettings {
  std::map<std::string, WooShop> shops;  // shop domain → its site and keys
  // Sandbox: every domain is served at sandbox_site + "/sites/" + domain with these keys.
  std::optional<WooShop> any_shop;
};

// What GET /orders/{id} says.
struct WooOrder {
  Outcome outcome;  // not ok: the question was not answered
  std::string status;
  std::string currency;
  std::optional<std::int64_t> total_minor;  // in the order's currency's minor units
  std::int64_t refunded_minor = 0;          // the sum of its refunds
};

// What GET /orders/{id}/refunds says about the job's refund.
struct WooRefunds {
  Outcome outcome;      // not ok: the list was not read (nothing may be concluded)
  std::string found;    // the id of the refund carrying the job's marker, if any
  int total_pages = 1;  // X-WP-TotalPages
};

class WooCommerceOrders {
 public:
  WooCommerceOrders(HttpClient& http, WooCommerceSettings settings) : http_(http), settings_(std::move(settings)) {}

  // Cancels (which restocks); the refund, if any, is the plan's next step.
  asio::awaitable<Outcome> cancel(const jobs::Job& job);
  asio::awaitable<Outcome> refund(const jobs::Job& job);
  // The refund this job made, under any attempt: by its marker.
  asio::awaitable<RefundState> find_refund(const jobs::Job& job);
  asio::awaitable<RefundState> refund_status(const jobs::Job& job, std::string_view reference);
  // The POST alone, without the lookup before it: refund() is the step; this is for the test
  // that loses its answer.
  asio::awaitable<Outcome> create_refund(const jobs::Job& job);

  // The answers, sorted out without sockets. Any call: WP REST's {"code","message","data":
  // {"status"}} by status and code; 429 (a host's or proxy's limiter: WooCommerce has none)
  // rate limited; 5xx retryable except the refund refusal, which is permanent until the
  // order's state says otherwise.
  static Outcome interpret(const Exchange& exchange);
  static WooOrder interpret_order(const Exchange& exchange);
  static WooRefunds interpret_refunds(const Exchange& exchange, std::string_view job_id);
  // 201 with the refund: ok, its id as the reference.
  static Outcome interpret_refund_created(const Exchange& exchange);
  // After the refund refusal: what the order's state makes of it.
  static Outcome judge_refused_refund(const jobs::Job& job, const WooOrder& order, Outcome refused);
  static std::string refund_body(const jobs::Job& job, bool record_only);
  static std::string reason_for(const jobs::Job& job);  // the job's reason, naming the job
  // A decimal string ("149.00", "-10.00") in minor units of `exponent`; nullopt if it is not one.
  static std::optional<std::int64_t> minor_of(std::string_view decimal, int exponent);

 private:
  struct Target {
    WooShop shop;
    std::string orders;  // "/wp-json/wc/v3/orders/{id}"
  };
  // The shop's site and the order's path, or a permanent outcome (no keys, an id that is not
  // WooCommerce's).
  std::optional<Target> target(const jobs::Job& job, Outcome& refused) const;
  asio::awaitable<Exchange> call(const Target& to, const jobs::Job& job, http::verb verb, std::string path,
                                 std::string body = {}, Resend resend = Resend::if_stale);
  asio::awaitable<WooOrder> order(const Target& to, const jobs::Job& job);
  asio::awaitable<WooRefunds> job_refund(const Target& to, const jobs::Job& job);
  asio::awaitable<Outcome> refund_at(const Target& to, const jobs::Job& job);

  HttpClient& http_;
  WooCommerceSettings settings_;
};

}  // namespace rescind::clients
