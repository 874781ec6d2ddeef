#include "clients/webhooks.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <chrono>

#include "clients/encoding.hpp"
#include "clients/provider_call.hpp"
#include "common/json_text.hpp"
#include "jobs/money.hpp"

namespace rescind::clients {

using clients::Outcome;
using common::append_json_string;

namespace {
std::string sha256_hex(std::string_view data, std::size_t digits) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char byte : digest) {
    if (out.size() >= digits) break;
    out += hex[byte >> 4];
    out += hex[byte & 15];
  }
  return out;
}
}  // namespace

std::string receiver_id(const Url& url) { return "rcv_" + sha256_hex(url.origin.key() + url.path, 16); }

std::string BackOfficeWebhooks::message_id(std::string_view job_id, std::string_view receiver) {
  std::string both(job_id);
  both += '\n';  // never in a job id or a receiver id: the pair is unambiguous
  both += receiver;
  return "msg_" + sha256_hex(both, 32);
}

std::string decode_webhook_secret(std::string_view secret) {
  if (!secret.starts_with("whsec_")) return {};
  secret.remove_prefix(6);
  std::string out(secret.size(), '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(secret.data()), static_cast<int>(secret.size()));
  if (n < 0) return {};
  auto padding = secret.size() - secret.find_last_not_of('=') - 1;
  out.resize(static_cast<std::size_t>(n) - padding);
  return out;
}

std::string BackOfficeWebhooks::sign(std::string_view key, std::string_view id, std::string_view timestamp,
                                     std::string_view body) {
  std::string content;
  content.reserve(id.size() + timestamp.size() + body.size() + 2);
  content.append(id).append(".").append(timestamp).append(".").append(body);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(content.data()),
       content.size(), mac, &length);
  return "v1," + base64(std::string_view(reinterpret_cast<const char*>(mac), length));
}

BackOfficeWebhooks::BackOfficeWebhooks(HttpClient& http, WebhookSettings settings, GoneReceivers* gone)
    : http_(http), settings_(std::move(settings)), gone_(gone), key_(decode_webhook_secret(settings_.secret)) {
  for (const auto& [receiver, secret] : settings_.secret_by_receiver)
    own_keys_[receiver] = decode_webhook_secret(secret);
}

asio::awaitable<Outcome> BackOfficeWebhooks::record(const jobs::Job& job, jobs::Situation situation, bool refunded) {
  if (!configured_for(job.shop.domain)) {
    co_return Outcome{Outcome::Kind::permanent,
                      0,
                      "not_configured",
                      "no --record-webhook is configured for " + job.shop.domain,
                      {},
                      {}};
  }
  std::vector<Receiver> receivers;
  auto add = [&](const Url& url) {
    auto id = receiver_id(url);
    auto own = own_keys_.find(id);
    receivers.push_back({&url, std::move(id), own == own_keys_.end() ? &key_ : &own->second});
  };
  for (const auto& url : settings_.receivers) add(url);
  if (auto own = settings_.by_shop.find(job.shop.domain); own != settings_.by_shop.end()) {
    for (const auto& url : own->second) add(url);
  }
  std::string body = R"({"type":"rescind.)";
  body += jobs::to_string(situation);
  // The spec's payload: type, timestamp (when the event occurred, not when it was sent: the
  // same on every retry, so the signed body is too) and data.
  body += R"(","timestamp":)";
  append_json_string(body, job.occurred_at);
  body += R"(,"data":{"job_id":)";
  append_json_string(body, job.id);
  body += R"(,"kind":)";
  append_json_string(body, jobs::to_string(job.kind));
  body += R"(,"shop":)";
  append_json_string(body, job.shop.domain);
  body += R"(,"order_id":)";
  append_json_string(body, job.order.id);
  body += R"(,"order_name":)";
  append_json_string(body, job.order.name);
  body += R"(,"currency":)";
  append_json_string(body, job.order.currency);
  body += R"(,"refunded_minor":)" + std::to_string(refunded ? job.refund.amount_minor : 0);
  body += R"(,"payment_provider":)";
  append_json_string(body, job.payment.provider);
  body += R"(,"occurred_at":)";
  append_json_string(body, job.occurred_at);
  body += "}}";
  auto timestamp = std::to_string(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());

  std::set<std::string> gone;
  if (gone_) gone = co_await gone_->load();
  Outcome last = Outcome::success("");
  for (const auto& receiver : receivers) {
    if (gone.contains(receiver.id)) continue;   // it said 410: on-call re-enables it, not a job
    auto id = message_id(job.id, receiver.id);  // stable: a retry is recognised as a repeat
    auto request = make_post(*receiver.url, "", job.id, "application/json");
    request.set("webhook-id", id);
    request.set("webhook-timestamp", timestamp);
    request.set("webhook-signature", sign(*receiver.key, id, timestamp, body));
    request.body() = body;
    auto exchange = co_await http_.send(receiver.url->origin, std::move(request));
    auto outcome = outcome_from(exchange);
    if (outcome.status == 410) {
      // "No longer interested in receiving webhooks from this source. Sender should disable
      // the webhook endpoint" (Standard Webhooks, delivery success and failure).
      if (gone_) co_await gone_->add(receiver.id, receiver.url->origin.host, job.id);
      gone.insert(receiver.id);
      continue;
    }
    if (!outcome.ok()) co_return outcome;  // the others are re-sent on retry and deduped
    last.reference += (last.reference.empty() ? "" : ",") + id;
  }
  co_return last;
}

}  // namespace rescind::clients
