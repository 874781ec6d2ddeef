// Magento Open Source / Adobe Commerce REST (roles: cancel, restock, and refund as a credit
// memo, for a job whose payment.provider is "magento"). Paths relative to a shop's base URL
// (https://{shop}/rest, or its own --magento-url-for; a store code may follow /rest):
//   GET  /V1/orders/{id}             the order: state, totals, items (job.order.id is its entity id)
//   POST /V1/orders/{id}/cancel      answers HTTP 200 with `true` or `false`, never an error for
//                                    "cannot be canceled": `false` is judged by the order's state
//                                    (canceled or closed: done; anything else: permanent)
//   POST /V1/invoice/{id}/refund     online credit memo, through the gateway (default), or
//   POST /V1/order/{id}/refund       offline credit memo (--magento-refund offline)
//   GET  /V1/invoices, /V1/creditmemos?searchCriteria… by order_id; /V1/creditmemo/{id}/comments
// Auth: OAuth 1.0a HMAC-SHA256 with the integration's four credentials (Magento 2.4.4+ refuses
// an integration token as a bearer by default), or the token as a bearer where a shop
// configured only that (oauth/consumer/enable_integration_as_bearer).
//
// Magento has no idempotency key. A credit memo carries the job id in its comment
// ("… rescind_job_id: <id>"), and every refund attempt first lists the order's credit memos
// and reads their comments: one with the job's marker is the refund, made by an earlier
// attempt whose answer was lost or whose worker crashed before recording it. The look-up
// reads Magento, never this process's memory. After any failed refund call the look-up runs
// again before the failure counts (an over-refund 400 may be the job's own memo, made on a
// request whose answer was lost). The refund request is never resent by HttpClient itself.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "clients/http_client.hpp"
#include "clients/outcome.hpp"
#include "clients/refunds.hpp"
#include "jobs/job.hpp"
#include "jobs/plan.hpp"

namespace rescind::clients {

// OAuth 1.0a (RFC 5849) with HMAC-SHA256, as Magento signs integration requests.
namespace oauth1 {

struct Credentials {
  std::string consumer_key, consumer_secret, access_token, access_token_secret;
};

using Params = std::vector<std::pair<std::string, std::string>>;  // decoded names and values

// RFC 3986 §2.3: everything but ALPHA, DIGIT, '-', '.', '_', '~' as %XX (upper-case hex).
std::string percent(std::string_view text);
// §3.4.1.2: lower-case scheme and host, the port only when not the scheme's default, no query.
std::string base_uri(bool tls, std::string_view host, std::string_view port, std::string_view path);
// §3.4.1: METHOD&uri&params, the parameters encoded, sorted by name then value, joined.
std::string base_string(std::string_view method, std::string_view uri, const Params& params);
// §3.4.2 with SHA-256: base64 of HMAC(consumer_secret&token_secret, base string).
std::string signature(std::string_view base, std::string_view consumer_secret, std::string_view token_secret);
// The Authorization header value for a request whose query parameters are `query`.
std::string authorization(const Credentials& credentials, std::string_view method, std::string_view uri,
                          const Params& query, std::string_view nonce, std::string_view timestamp);

}  // namespace oauth1

struct MagentoShop {
  Url api;                                   // https://shop.example/rest
  std::optional<oauth1::Credentials> oauth;  // preferred when given
  std::string bearer;                        // the integration's access token, as a bearer
};

struct MagentoSettings {
  std::map<std::string, MagentoShop> shops;  // shop domain → where and how
  // Sandbox: every shop is served at {sandbox}/magento/{shop}/rest with these credentials.
  std::string sandbox;
  oauth1::Credentials sandbox_oauth;
  bool online_refund = true;  // through the invoice and the payment gateway; false: offline memo
};

// The part of GET /V1/orders/{id} the client reads.
struct MagentoOrder {
  struct Item {
    std::int64_t item_id = 0;
    std::string sku;
    std::int64_t qty_invoiced = 0, qty_refunded = 0;
  };
  Outcome outcome;    // not ok: the order could not be read
  std::string state;  // new, pending_payment, processing, complete, closed, canceled, holded, …
  std::string currency;
  std::int64_t grand_total_minor = 0, refunded_minor = 0, invoiced_minor = 0;
  std::vector<Item> items;  // top-level items only (a configurable's child has parent_item_id)

  bool canceled_or_closed() const { return state == "canceled" || state == "closed"; }
};

class MagentoOrders {
 public:
  MagentoOrders(HttpClient& http, MagentoSettings settings) : http_(http), settings_(std::move(settings)) {}

  // Cancel (and so restock what was not invoiced); when `plan` says the platform holds the
  // payment, first the job's credit memo (restocking what it refunds).
  asio::awaitable<Outcome> cancel(const jobs::Job& job, const jobs::Plan& plan);
  // The credit memo for the job's refund, made once.
  asio::awaitable<Outcome> refund(const jobs::Job& job);
  asio::awaitable<RefundState> find_refund(const jobs::Job& job);
  asio::awaitable<RefundState> refund_status(const jobs::Job& job, std::string_view reference);

  // The answers, sorted out without sockets. Magento's errors are {"message":…,"parameters":…}
  // with no machine-readable code: classified by HTTP status alone, the message (its %1 /
  // %name placeholders filled) only for people.
  static Outcome interpret(const Exchange& exchange);
  // POST …/cancel: ok with `canceled` true or false; not ok when the call failed.
  static std::pair<Outcome, bool> interpret_cancel(const Exchange& exchange);
  static MagentoOrder interpret_order(const Exchange& exchange);
  // The answer to a refund: ok with the credit memo id as reference.
  static Outcome interpret_refund(const Exchange& exchange);
  // A search result's items[].entity_id (invoices, credit memos), with each one's `state`
  // (credit memos: 1 open, 2 refunded, 3 canceled; 0 where absent).
  static std::optional<std::vector<std::pair<std::string, int>>> interpret_list(const Exchange& exchange,
                                                                                Outcome& outcome);
  // Whether a credit memo's comments hold the job's marker.
  static bool has_marker(const Exchange& exchange, std::string_view job_id, Outcome& outcome);
  static std::string marker(std::string_view job_id);
  // After `false`: canceled or closed is done, anything else cannot be canceled (permanent).
  static Outcome judge_not_canceled(const MagentoOrder& order, std::string_view order_id);
  // The refund's body: every remaining invoiced item back to stock when the job refunds all
  // that is left, else an adjustment of the job's amount with no item (nothing restocked).
  // Empty with `problem` set when the job's refund cannot be expressed against this order.
  static std::string refund_body(const jobs::Job& job, const MagentoOrder& order, bool online, std::string& problem);

 private:
  const MagentoShop* shop_for(const jobs::Job& job);
  asio::awaitable<Exchange> call(const MagentoShop& shop, const jobs::Job& job, http::verb method,
                                 std::string_view path, const oauth1::Params& query, std::string body,
                                 Resend resend = Resend::if_stale);
  asio::awaitable<MagentoOrder> read_order(const MagentoShop& shop, const jobs::Job& job);
  asio::awaitable<RefundState> find_memo(const MagentoShop& shop, const jobs::Job& job);
  asio::awaitable<Outcome> refund_with(const MagentoShop& shop, const jobs::Job& job, const MagentoOrder& order);

  HttpClient& http_;
  MagentoSettings settings_;
  std::map<std::string, MagentoShop> sandbox_shops_;  // made on first use under --sandbox
};

}  // namespace rescind::clients
