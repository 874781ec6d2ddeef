#include "clients/webhooks.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <chrono>

#include "clients/encoding.hpp"
#include "clients/provider_call.hpp"
#include "common/json_text.hpp"
#include "jobs/money.hpp"

namespace rescind::clients {

using common::append_json_string;
using retry::Outcome;

std::string decode_webhook_secret(std::string_view secret) {
  if (!secret.starts_with("whsec_")) return {};
  secret.remove_prefix(6);
  std::string out(secret.size(), '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(secret.data()),
                          static_cast<int>(secret.size()));
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

BackOfficeWebhooks::BackOfficeWebhooks(HttpClient& http, WebhookSettings settings)
    : http_(http), settings_(std::move(settings)), key_(decode_webhook_secret(settings_.secret)) {}

asio::awaitable<Outcome> BackOfficeWebhooks::record(const jobs::Job& job, jobs::Situation situation, bool refunded) {
  if (!configured_for(job.shop.domain)) {
    co_return Outcome{Outcome::Kind::permanent, 0, "not_configured", "no --record-webhook is configured for " + job.shop.domain, {}, {}};
  }
  std::vector<const Url*> receivers;
  for (const auto& url : settings_.receivers) receivers.push_back(&url);
  if (auto own = settings_.by_shop.find(job.shop.domain); own != settings_.by_shop.end()) {
    for (const auto& url : own->second) receivers.push_back(&url);
  }
  std::string body = R"({"type":"rescind.)";
  body += jobs::to_string(situation);
  body += R"(","data":{"job_id":)";
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

  Outcome last = Outcome::success("");
  for (std::size_t i = 0; i < receivers.size(); ++i) {
    const auto& receiver = *receivers[i];
    auto id = "msg_" + job.id + "_" + std::to_string(i);  // stable: a retry is recognised as a repeat
    auto request = make_post(receiver, "", job.id, "application/json");
    request.set("webhook-id", id);
    request.set("webhook-timestamp", timestamp);
    request.set("webhook-signature", sign(key_, id, timestamp, body));
    request.body() = body;
    auto exchange = co_await http_.send(receiver.origin, std::move(request));
    auto outcome = outcome_from(exchange);
    if (!outcome.ok()) co_return outcome;  // the others are re-sent on retry and deduped
    last.reference += (last.reference.empty() ? "" : ",") + id;
  }
  co_return last;
}

}  // namespace rescind::clients
