// A back-office receiver of signed webhooks (POST /hooks/{name}), Standard Webhooks style:
// webhook-id, webhook-timestamp and webhook-signature "v1,<base64 HMAC-SHA256 of
// id.timestamp.body>" under the hook's whsec_ secret; stale timestamps refused, ids
// deduplicated. Signing keys are "unique per endpoint" in the spec: POST /__webhook/receiver
// {"hook":"erp","secret":"whsec_…"} gives a hook its own (the others keep the sandbox's), and
// {"hook":"erp","gone":true} makes it answer 410 Gone, a receiver no longer interested. The
// answer says how often the hook was called ({"hook":"erp","calls":N}).
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <charconv>
#include <unordered_map>
#include <unordered_set>

#include "common/json_text.hpp"
#include "common/sandbox_credentials.hpp"
#include "sandbox/auth.hpp"
#include "sandbox/clock.hpp"
#include "sandbox/json_body.hpp"
#include "sandbox/providers.hpp"

namespace rescind::sandbox {
namespace {

constexpr std::string_view hooks_prefix = "/hooks/";
constexpr long long tolerance_s = 5 * 60;

Reply refuse(http::status status, std::string_view error) {
  return Reply{json_strings_response(status, {{"error", error}}), std::nullopt, false};
}

// The HMAC key of a whsec_ secret; empty when it is not one.
std::string secret_key(std::string_view secret = sandbox_credentials::webhook_secret) {
  if (!secret.starts_with("whsec_")) return {};
  secret.remove_prefix(6);
  return base64_decode(secret).value_or(std::string{});
}

// What one hook has been told through /__webhook/receiver, and how often it was called.
struct Hook {
  std::string key;  // its own HMAC key; empty: the sandbox's
  bool gone = false;
  std::uint64_t calls = 0;
};

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
    Hook& state = hooks_[std::string(hook)];
    ++state.calls;
    if (state.gone) return refuse(http::status::gone, "gone");
    std::string_view id = header(call.request, "webhook-id");
    std::string_view timestamp = header(call.request, "webhook-timestamp");
    std::string_view signatures = header(call.request, "webhook-signature");
    long long sent = 0;
    auto [end, ec] = std::from_chars(timestamp.data(), timestamp.data() + timestamp.size(), sent);
    if (id.empty() || signatures.empty() || ec != std::errc{} || end != timestamp.data() + timestamp.size() ||
        !signed_by(state.key.empty() ? key_ : state.key, id, timestamp, call.request.body(), signatures)) {
      return refuse(http::status::unauthorized, "invalid signature");
    }
    // The spec: the id must not be user controlled, "or at the very least not be allowed to
    // include any `.`" (it is the separator of the signed content). This receiver is strict.
    if (id.find('.') != std::string_view::npos) return refuse(http::status::bad_request, "invalid webhook-id");
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

  void reset() override {
    seen_.clear();
    hooks_.clear();
  }

  std::optional<Response> control(std::string_view action, Request& request, std::chrono::system_clock::time_point,
                                  Ledger&) override {
    if (action != "receiver") return std::nullopt;
    if (request.method() != http::verb::post) {
      return method_not_allowed("POST", "application/json", "{\"error\":\"method not allowed\"}");
    }
    std::string hook, key;
    std::optional<bool> gone;
    bool keyed = false;
    auto read = each_body_member(request.body(), [&](std::string_view name, simdjson::ondemand::value value) {
      std::string_view text;
      bool flag = false;
      if (name == "hook" && !value.get_string().get(text)) {
        hook = text;
      } else if (name == "secret" && !value.get_string().get(text)) {
        key = secret_key(text);
        keyed = true;
        return !key.empty();
      } else if (name == "gone" && !value.get_bool().get(flag)) {
        gone = flag;
      } else {
        return false;
      }
      return true;
    });
    if (read != BodyRead::ok || hook.empty() || hook.find('/') != std::string::npos) {
      return refuse(http::status::bad_request, R"(body: {"hook":NAME[,"secret":"whsec_..."][,"gone":BOOL]})").response;
    }
    Hook& state = hooks_[hook];
    if (keyed) state.key = key;
    if (gone) state.gone = *gone;
    common::JsonWriter json;
    json.begin_object().field("hook", hook).field("calls", state.calls);
    return json_response(http::status::ok, json.end_object().take());
  }

 private:
  // Whether any "v1,<base64>" among the space-separated signatures matches under `key`.
  static bool signed_by(const std::string& key, std::string_view id, std::string_view timestamp, std::string_view body,
                        std::string_view signatures) {
    std::string content;
    content.reserve(id.size() + timestamp.size() + body.size() + 2);
    content.append(id).append(".").append(timestamp).append(".").append(body);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
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

  std::string key_;                       // the sandbox's own: every hook without one of its own
  std::unordered_set<std::string> seen_;  // "hook:webhook-id"
  std::unordered_map<std::string, Hook> hooks_;
};

}  // namespace

std::unique_ptr<Provider> make_webhooks(const ProviderOptions&) { return std::make_unique<Webhooks>(); }

}  // namespace rescind::sandbox
