#include "clients/webhooks.hpp"

#include "clients/provider.hpp"
#include "common/log.hpp"
#include "common/sandbox_credentials.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <chrono>

#include "clients/encoding.hpp"
#include "clients/provider_call.hpp"
#include "common/json_text.hpp"
#include "jobs/money.hpp"

namespace rescind::clients {

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
    co_return Outcome::permanent(0, "not_configured", "no --record-webhook is configured for " + job.shop.domain);
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
  // The spec's payload: type, timestamp (when the event occurred, not when it was sent: the
  // same on every retry, so the signed body is too) and data.
  common::JsonWriter json;
  json.begin_object().field("type", "rescind." + std::string(jobs::to_string(situation)));
  json.field("timestamp", job.occurred_at).key("data").begin_object();
  json.field("job_id", job.id).field("kind", jobs::to_string(job.kind)).field("shop", job.shop.domain);
  json.field("order_id", job.order.id).field("order_name", job.order.name).field("currency", job.order.currency);
  json.field("refunded_minor", refunded ? job.refund.amount_minor : std::int64_t{0});
  json.field("payment_provider", job.payment.provider).field("occurred_at", job.occurred_at);
  auto body = json.end_object().end_object().take();
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

// The component: signed webhooks record the job in the back office.
namespace {

class WebhooksProvider final : public Provider {
 public:
  WebhooksProvider(HttpClient& http, const WebhookSettings& settings, GoneReceivers* gone)
      : webhooks_(http, settings, gone) {}
  std::string_view name() const override { return "webhook"; }
  bool serves(jobs::Role, const jobs::Job& job) const override { return webhooks_.configured_for(job.shop.domain); }
  // The back office books a pending refund too: the provider has it.
  asio::awaitable<Outcome> perform(const StepCall& step, const jobs::Job& job) override {
    co_return co_await webhooks_.record(job, step.plan.situation, step.refunded != jobs::RefundProgress::none);
  }

 private:
  BackOfficeWebhooks webhooks_;
};

// How a usage error names a receiver: its scheme and host, never the path that may hold its token.
std::string host_of(const Url& url) { return (url.origin.tls ? "https://" : "http://") + url.origin.host; }

class WebhooksSpec final : public ProviderSpec {
 public:
  std::string_view name() const override { return "webhook"; }
  std::vector<jobs::Role> roles() const override { return {jobs::Role::record}; }
  std::string_view group() const override { return "Back-office records (signed webhooks)"; }
  void add_options(OptionSet& options) override {
    options.secrets("--record-webhook", receivers_,
                    "Receiver URL, repeatable: every finished refund/cancellation is posted there",
                    "RESCIND_RECORD_WEBHOOKS");
    options.secrets("--record-webhook-for", receivers_for_,
                    "A shop's own receiver, repeatable: DOMAIN=URL (in addition to --record-webhook)",
                    "RESCIND_RECORD_WEBHOOKS_BY_SHOP");
    options.secret("--webhook-secret", settings_.secret,
                   "Signing secret whsec_… (Standard Webhooks) of every receiver without its own",
                   "RESCIND_WEBHOOK_SECRET");
    options.secrets("--webhook-secret-for", secrets_for_,
                    "A receiver's own signing secret, repeatable: URL=whsec_… (the URL as given to --record-webhook "
                    "or --record-webhook-for)",
                    "RESCIND_WEBHOOK_SECRETS_BY_RECEIVER");
  }
  // Receivers are the shop's own systems, not credentials of a provider the sandbox fakes.
  std::vector<std::string> real_credentials() const override { return {}; }
  void finish(const Setup& setup) override {
    if (!setup.sandbox.empty() && settings_.secret.empty()) settings_.secret = sandbox_credentials::webhook_secret;
    // A receiver's URL often carries its token, in the path as Slack's do.
    auto receiver = [&](const std::string& text, const char* flag) {
      auto parsed = option_url(text, flag, setup);
      common::log::register_secret(text);
      common::log::register_secret(parsed.path);
      return parsed;
    };
    for (const auto& item : receivers_) settings_.receivers.push_back(receiver(item, "--record-webhook"));
    for (const auto& item : receivers_for_) {
      auto [shop, address] = per_shop_item(item, "--record-webhook-for");
      settings_.by_shop[shop].push_back(receiver(address, "--record-webhook-for"));
    }
    // URL=whsec_…: the secret starts at the last "=whsec_" (a URL's query may hold '=').
    for (const auto& item : secrets_for_) {
      auto at = item.rfind("=whsec_");
      if (at == std::string::npos || at == 0) {
        throw OptionError("--webhook-secret-for: an item is not URL=whsec_… (the item is not shown: it is a secret)");
      }
      common::log::register_secret(item.substr(0, at));
      auto parsed = option_url(item.substr(0, at), "--webhook-secret-for", setup);
      auto secret = item.substr(at + 1);
      common::log::register_secret(secret);
      // Standard Webhooks: "at least 24 bytes (192 bits, 512 maximum)" of random key.
      auto key = decode_webhook_secret(secret);
      if (key.size() < 24 || key.size() > 64) {
        throw OptionError("--webhook-secret-for " + host_of(parsed) +
                          ": the secret must be whsec_ and base64 of 24 to 64 random bytes");
      }
      auto id = receiver_id(parsed);
      bool known = false;
      for (const auto& r : settings_.receivers) known = known || receiver_id(r) == id;
      for (const auto& [shop, list] : settings_.by_shop) {
        for (const auto& r : list) known = known || receiver_id(r) == id;
      }
      if (!known)
        throw OptionError("--webhook-secret-for " + host_of(parsed) +
                          ": the URL is none of the --record-webhook(-for) receivers");
      settings_.secret_by_receiver[id] = secret;
    }
    if ((!settings_.receivers.empty() || !settings_.by_shop.empty()) && decode_webhook_secret(settings_.secret).empty())
      throw OptionError("--webhook-secret must be a whsec_… secret when --record-webhook is set");
    common::log::register_secret(settings_.secret);
  }
  std::unique_ptr<Provider> make(const Wiring& wiring) const override {
    return std::make_unique<WebhooksProvider>(wiring.http, settings_, wiring.gone);
  }

 private:
  WebhookSettings settings_;
  std::vector<std::string> receivers_, receivers_for_, secrets_for_;
};

}  // namespace

std::unique_ptr<ProviderSpec> webhooks_spec(SharedOptions&) { return std::make_unique<WebhooksSpec>(); }

}  // namespace rescind::clients
