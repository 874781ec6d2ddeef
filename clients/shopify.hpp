// Shopify Admin GraphQL (roles: cancel, restock, and refund when Shopify holds the payment):
// orderCancel, pinned to API version 2024-10 where the mutation still takes `refund:
// Boolean!` (later versions replace it with refundMethod). Cancellation is asynchronous:
// the client follows the returned job until it is done, so the steps after it (the refund,
// the customer's message) start only on a canceled order.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <map>
#include <string>

#include "clients/http_client.hpp"
#include "jobs/job.hpp"
#include "jobs/plan.hpp"
#include "retry/outcome.hpp"

namespace rescind::clients {

struct ShopifySettings {
  // Where a shop's API lives: "{shop}" is replaced by its domain. Real:
  // "https://{shop}"; sandbox: "http://127.0.0.1:8099/shops/{shop}".
  std::string url_template = "https://{shop}";
  std::string api_version = "2024-10";
  std::string default_token;                  // for any *.myshopify.com shop without its own
  std::map<std::string, std::string> tokens;  // shop domain → shpat_…
  bool any_shop = false;                      // sandbox: every domain is served there
};

class ShopifyOrders {
 public:
  ShopifyOrders(HttpClient& http, ShopifySettings settings) : http_(http), settings_(std::move(settings)) {}

  asio::awaitable<retry::Outcome> cancel(const jobs::Job& job, const jobs::Plan& plan);

  // The answer to orderCancel: user errors, throttling and "already canceled" sorted out.
  static retry::Outcome interpret_cancel(const Exchange& exchange);
  static std::string cancel_reason(const jobs::Job& job);  // CUSTOMER, DECLINED, FRAUD, INVENTORY, …
  // How long to ease off when the answer's cost bucket (extensions.cost.throttleStatus) runs low.
  static std::optional<std::chrono::milliseconds> slow_down(std::string_view body);

 private:
  asio::awaitable<retry::Outcome> wait_for_job(const Url& api, const std::string& token, const jobs::Job& job,
                                               const std::string& job_gid);
  HttpClient& http_;
  ShopifySettings settings_;
};

}  // namespace rescind::clients
