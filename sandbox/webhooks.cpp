// A back-office receiver of signed webhooks (POST /hooks/{name}), Standard Webhooks style:
// webhook-id, webhook-timestamp and webhook-signature "v1,<base64 HMAC-SHA256 of
// id.timestamp.body>" under the whsec_ secret; stale timestamps refused, ids deduplicated.
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <charconv>
#include <unordered_set>

#include "common/sandbox_credentials.hpp"
#include "sandbox/auth.hpp"
#include "sandbox/clock.hpp"
#include "sandbox/providers.hpp"

namespace rescind::sandbox {
namespace {

constexpr std::string_view hooks_prefix = "/hooks/";
constexpr long long tolerance_s = 5 * 60;

Reply refuse(http::status status, std::string_view error) {
  std::string body = "{\"error\":\"";
  body += error;  // fixed words, nothing to escape
  body += "\"}";
  return Reply{json_response(status, std::move(body)), std::nullopt, false};
}

std::string secret_key() {
  std::string_view secret = sandbox_credentials::webhook_secret;
  if (secret.starts_with("whsec_")) secret.remove_prefix(6);
  return base64_decode(secret).value_or(std::string{});
}

class Webhooks final : public Provider {
 public:
  Webhooks() : key_(secret_key()) {}

  std::string_view name() const override { return "webhook"; }
  bool owns(std::string_view path) const override { return path.starts_with(hooks_prefix); }

  Reply handle(Call& call) override {
    std::string_view hook = call.path.substr(hooks_prefix.size());
    if (hook.empty() || hook.find('/') != std::string_view::npos) {
      return refuse(http::status::not_found, "no such hook");
    }
    if (auto refused = refuse_unless_post(call.request, "{\"error\":\"method not allowed\"}")) {
      return std::move(*refused);
    }
    std::string_view id = header(call.request, "webhook-id");
    std::string_view timestamp = header(call.request, "webhook-timestamp");
    std::string_view signatures = header(call.request, "webhook-signature");
    long long sent = 0;
    auto [end, ec] = std::from_chars(timestamp.data(), timestamp.data() + timestamp.size(), sent);
    if (id.empty() || signatures.empty() || ec != std::errc{} || end != timestamp.data() + timestamp.size() ||
        !signed_by_us(id, timestamp, call.request.body(), signatures)) {
      return refuse(http::status::unauthorized, "invalid signature");
    }
    long long skew = unix_seconds(call.now) - sent;
    if (skew > tolerance_s || skew < -tolerance_s) return refuse(http::status::unauthorized, "stale timestamp");

    Reply reply{json_response(http::status::ok, "{\"ok\":true}"), std::nullopt, false};
    std::string ref = std::string(hook) + ":" + std::string(id);
    if (!seen_.insert(ref).second) {
      reply.replayed = true;  // a redelivery: acknowledged, not recorded twice
      return reply;
    }
    reply.effect = effect_of(call, name(), Action::record, std::move(ref));
    return reply;
  }

  Response failure(const Failure& failure) const override {
    unsigned code = static_cast<unsigned>(failure.status);
    return refuse(failure.status, code == 429 ? "rate limited" : "unavailable").response;
  }

  void reset() override { seen_.clear(); }

 private:
  // Whether any "v1,<base64>" among the space-separated signatures matches.
  bool signed_by_us(std::string_view id, std::string_view timestamp, std::string_view body,
                    std::string_view signatures) const {
    std::string content;
    content.reserve(id.size() + timestamp.size() + body.size() + 2);
    content.append(id).append(".").append(timestamp).append(".").append(body);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (!HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
              reinterpret_cast<const unsigned char*>(content.data()), content.size(), mac, &length)) {
      return false;
    }
    while (!signatures.empty()) {
      auto space = signatures.find(' ');
      std::string_view one = signatures.substr(0, space);
      signatures = space == std::string_view::npos ? std::string_view{} : signatures.substr(space + 1);
      if (!one.starts_with("v1,")) continue;
      auto given = base64_decode(one.substr(3));
      if (given && given->size() == length && CRYPTO_memcmp(given->data(), mac, length) == 0) return true;
    }
    return false;
  }

  std::string key_;
  std::unordered_set<std::string> seen_;  // "hook:webhook-id"
};

}  // namespace

std::unique_ptr<Provider> make_webhooks() { return std::make_unique<Webhooks>(); }

}  // namespace rescind::sandbox
