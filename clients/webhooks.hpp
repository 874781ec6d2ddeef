// Back-office records (role: record) as signed webhooks, the Standard Webhooks convention:
// webhook-id, webhook-timestamp and webhook-signature = v1,base64(HMAC-SHA256(key,
// "{id}.{timestamp}.{body}")), the generic way to reach Sheets, Notion, HubSpot or an
// accounting system. The webhook-id is stable per job and receiver, so receivers dedupe
// the repeats that retries bring.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <map>
#include <string>
#include <vector>

#include "clients/http_client.hpp"
#include "jobs/job.hpp"
#include "jobs/plan.hpp"
#include "retry/outcome.hpp"

namespace rescind::clients {

struct WebhookSettings {
  std::vector<Url> receivers;                          // every shop's records go here
  std::map<std::string, std::vector<Url>> by_shop;     // and a shop's own systems, here too
  std::string secret;  // whsec_<base64 key>
};

class BackOfficeWebhooks {
 public:
  BackOfficeWebhooks(HttpClient& http, WebhookSettings settings);

  // Delivers the event to every receiver; ok only when all accepted it.
  asio::awaitable<retry::Outcome> record(const jobs::Job& job, jobs::Situation situation, bool refunded);

  // Whether a job of this shop has anywhere to be recorded.
  bool configured_for(const std::string& shop) const {
    return !settings_.receivers.empty() || settings_.by_shop.contains(shop);
  }
  // v1,<signature> for tests and receivers written against this code.
  static std::string sign(std::string_view key, std::string_view id, std::string_view timestamp, std::string_view body);

 private:
  HttpClient& http_;
  WebhookSettings settings_;
  std::string key_;  // decoded secret
};

// "whsec_…" → the raw key bytes; empty if it is not of that shape.
std::string decode_webhook_secret(std::string_view secret);

}  // namespace rescind::clients
