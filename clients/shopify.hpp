// Shopify Admin GraphQL (roles: cancel, restock, and refund when Shopify holds the payment):
// orderCancel, pinned to API version 2026-10, with refundMethod (the `refund: Boolean!` of
// older versions is deprecated since 2025-07). Cancellation is asynchronous and can fail
// inside its job, so the step succeeds only once the order is canceled: jobResult says so
// when the answer already has it, otherwise the client follows the job until it is done and
// reads the order's cancelledAt. A refusal ("already canceled" included) is also judged by
// cancelledAt, never by its wording. The steps after it (the refund, the customer's
// message) therefore start only on an order that is canceled. When the cancel was to refund
// (the platform holds the payment) and the order is canceled already, by hand perhaps, it
// counts as done only if Shopify's refunded total (totalRefundedSet) covers the job's refund:
// otherwise it ends permanent (canceled_without_refund), so that no one is told "refunded".
#pragma once
#include <boost/asio/awaitable.hpp>
#include <map>
#include <optional>
#include <string>

#include "clients/http_client.hpp"
#include "clients/outcome.hpp"
#include "jobs/job.hpp"
#include "jobs/plan.hpp"

namespace rescind::clients {

struct ShopifySettings {
  // Where a shop's API lives: "{shop}" is replaced by its domain. Real:
  // "https://{shop}"; sandbox: "http://127.0.0.1:8099/shops/{shop}".
  std::string url_template = "https://{shop}";
  // The newest stable version on 2026-12-01: supported until about 2027-10 (12 months,
  // SH4), the first with OrderCancelPayload.jobResult, and refundMethod instead of `refund`.
  std::string api_version = "2026-10";
  std::string default_token;                  // for any *.myshopify.com shop without its own
  std::map<std::string, std::string> tokens;  // shop domain → shpat_…
  bool any_shop = false;                      // sandbox: every domain is served there
};

// What an orderCancel answer says, before the order's state is consulted.
struct CancelAnswer {
  enum class Job { unknown, running, succeeded, failed };

  Outcome outcome;         // not ok: throttled, a GraphQL or transport error, a refusal
  std::string job_id;      // the cancel job, when one was started
  Job job = Job::unknown;  // jobResult's status where the version has it
  // User errors, or a jobResult that FAILED: the order's state decides (canceled = done).
  bool refused = false;
};

// What order(id:){cancelledAt …} says.
struct OrderState {
  Outcome outcome;  // not ok: the question was not answered
  bool canceled = false;
  // Asked for only when the cancel was to refund: totalRefundedSet in the job's currency, in
  // its minor units (the shop's or the customer's amount, whichever is in that currency);
  // nullopt when neither is. And displayFinancialStatus, which Shopify calls a display
  // summary: it goes into on-call's message, the amount decides.
  std::optional<std::int64_t> refunded_minor;
  std::string financial_status;
};

class ShopifyOrders {
 public:
  ShopifyOrders(HttpClient& http, ShopifySettings settings) : http_(http), settings_(std::move(settings)) {}

  asio::awaitable<Outcome> cancel(const jobs::Job& job, const jobs::Plan& plan);

  // The answers, sorted out without sockets: throttling, transient and other GraphQL errors,
  // user errors by code, jobResult.
  static CancelAnswer interpret_cancel(const Exchange& exchange);
  // With a currency, the answer to the query that also asks for the refunded total.
  static OrderState interpret_order(const Exchange& exchange, std::string_view refund_currency = {});
  // An order canceled before this attempt's orderCancel: done when the platform was not to
  // refund, or its refunded total covers the job's refund; else a permanent outcome.
  static Outcome judge_already_canceled(const jobs::Job& job, const jobs::Plan& plan, const OrderState& state,
                                        const std::string& order_gid);
  // Whether job(id:) says done; `outcome` not ok when the poll itself failed.
  static bool interpret_job(const Exchange& exchange, Outcome& outcome);
  static std::string cancel_reason(const jobs::Job& job);  // CUSTOMER, DECLINED, FRAUD, INVENTORY, …
  // How long to ease off when the answer's cost bucket (extensions.cost.throttleStatus) runs low.
  static std::optional<std::chrono::milliseconds> slow_down(std::string_view body);

 private:
  struct Shop {
    Url api;
    std::string token;
  };

  asio::awaitable<Exchange> post(const Shop& shop, const jobs::Job& job, std::string body);
  asio::awaitable<Outcome> wait_for_job(const Shop& shop, const jobs::Job& job, const std::string& job_gid,
                                        const std::string& order_gid);
  asio::awaitable<OrderState> order_state(const Shop& shop, const jobs::Job& job, const std::string& order_gid,
                                          bool with_refunds = false);
  std::string cancel_body(const jobs::Job& job, const jobs::Plan& plan, const std::string& order_gid) const;
  // Logs the version Shopify answered with whenever it changes, as a warning when it is not
  // the pinned one (Shopify falls forward from a version it no longer serves).
  void note_version(const Exchange& exchange);

  HttpClient& http_;
  ShopifySettings settings_;
  std::string served_version_;  // the X-Shopify-API-Version last seen
};

}  // namespace rescind::clients
