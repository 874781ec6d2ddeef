// Back-office records (role: record) as signed webhooks, the Standard Webhooks convention:
// webhook-id, webhook-timestamp and webhook-signature = v1,base64(HMAC-SHA256(key,
// "{id}.{timestamp}.{body}")), the generic way to reach Sheets, Notion, HubSpot or an
// accounting system. The webhook-id is a hash of the job id and the receiver: stable across
// retries and reorderings of the receiver list (receivers dedupe the repeats), and free of
// anything a job could write into it (the spec forbids a `.` there). Each receiver may have
// its own signing key; one that answers 410 Gone is not called again by the fleet.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "clients/gone_receivers.hpp"
#include "clients/http_client.hpp"
#include "clients/outcome.hpp"
#include "jobs/job.hpp"
#include "jobs/plan.hpp"

namespace rescind::clients {

struct WebhookSettings {
  std::vector<Url> receivers;                       // every shop's records go here
  std::map<std::string, std::vector<Url>> by_shop;  // and a shop's own systems, here too
  std::string secret;                               // whsec_<base64 key>: every receiver without its own
  // A receiver's own secret, by its receiver_id() ("signing keys should be unique per endpoint").
  std::map<std::string, std::string> secret_by_receiver;
};

class BackOfficeWebhooks {
 public:
  // `gone` may be null: then a 410 only skips the receiver for this job.
  BackOfficeWebhooks(HttpClient& http, WebhookSettings settings, GoneReceivers* gone = nullptr);

  // Delivers the event to every receiver not gone; ok only when all of them accepted it (a
  // receiver answering 410 is disabled, and does not fail the job).
  asio::awaitable<Outcome> record(const jobs::Job& job, jobs::Situation situation, bool refunded);

  // Whether a job of this shop has anywhere to be recorded.
  bool configured_for(const std::string& shop) const {
    return !settings_.receivers.empty() || settings_.by_shop.contains(shop);
  }
  // v1,<signature> for tests and receivers written against this code.
  static std::string sign(std::string_view key, std::string_view id, std::string_view timestamp, std::string_view body);
  // "msg_" + 32 hex digits of SHA-256(job id, receiver id): the same for every retry of the
  // job at that receiver, wherever the receiver stands in the configuration.
  static std::string message_id(std::string_view job_id, std::string_view receiver);

 private:
  struct Receiver {
    const Url* url;
    std::string id;
    const std::string* key;  // decoded signing key
  };
  HttpClient& http_;
  WebhookSettings settings_;
  GoneReceivers* gone_;
  std::string key_;                              // decoded shared secret
  std::map<std::string, std::string> own_keys_;  // receiver id → its decoded own key
};

// "whsec_…" → the raw key bytes; empty if it is not of that shape.
std::string decode_webhook_secret(std::string_view secret);

// "rcv_" + 16 hex digits of SHA-256 of the receiver's URL: how Redis, the log and on-call name a
// receiver without its URL, which is a secret (it often carries a token).
std::string receiver_id(const Url& url);

}  // namespace rescind::clients
