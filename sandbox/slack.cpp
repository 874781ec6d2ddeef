// Slack incoming webhooks (POST /services/T…/B…/secret): the URL is the credential, the
// body is JSON with text or blocks, and every answer is a short plain-text word.
#include "common/sandbox_credentials.hpp"
#include "sandbox/json_body.hpp"
#include "sandbox/providers.hpp"

namespace rescind::sandbox {
namespace {

namespace od = simdjson::ondemand;

constexpr std::string_view services_prefix = "/services/";

Reply refuse(http::status status, std::string_view word) {
  return Reply{text_response(status, std::string(word)), std::nullopt, false};
}

enum class Payload { ok, invalid, no_text };

// `text` receives the message text as posted: what Slack would render (mentions, links).
Payload check_payload(std::string& body, std::string& text_out) {
  od::document doc;
  if (json_parser().iterate(padded(body)).get(doc)) return Payload::invalid;
  od::object root;
  if (doc.get_object().get(root)) return Payload::invalid;
  bool has_text = false;
  bool empty_text = false;
  bool has_blocks = false;
  for (auto member : root) {
    std::string_view key;
    if (member.unescaped_key().get(key)) return Payload::invalid;
    if (key == "text") {
      std::string_view text;
      auto error = member.value().get_string().get(text);
      if (is_malformed(error)) return Payload::invalid;
      has_text = !error;
      empty_text = has_text && text.empty();
      if (has_text) text_out = std::string(text);
    } else if (key == "blocks") {
      od::array blocks;
      auto error = member.value().get_array().get(blocks);
      if (is_malformed(error)) return Payload::invalid;
      if (!error) {
        std::size_t count = 0;
        if (blocks.count_elements().get(count)) return Payload::invalid;
        has_blocks = count > 0;
      }
    }
  }
  if (!at_document_end(doc)) return Payload::invalid;
  if (has_blocks) return Payload::ok;  // Slack takes blocks alone; text is then the fallback
  if (!has_text) return Payload::invalid;
  return empty_text ? Payload::no_text : Payload::ok;
}

class Slack final : public Provider {
 public:
  std::string_view name() const override { return "slack"; }
  bool owns(std::string_view path) const override { return path.starts_with(services_prefix); }

  Reply handle(Call& call) override {
    if (call.path != sandbox_credentials::slack_webhook_path) {
      return refuse(http::status::not_found, "no_service");
    }
    if (auto refused = refuse_unless_post(call.request, "invalid_method", "text/plain; charset=utf-8")) {
      return std::move(*refused);
    }
    std::string text;
    switch (check_payload(call.request.body(), text)) {
      case Payload::invalid:
        return refuse(http::status::bad_request, "invalid_payload");
      case Payload::no_text:
        return refuse(http::status::bad_request, "no_text");
      case Payload::ok:
        break;
    }
    Reply reply{text_response(http::status::ok, "ok"), std::nullopt, false};
    // Slack answers no id; the sandbox makes one so ledger entries can be told apart.
    reply.effect = effect_of(call, name(), Action::staff, "slack_" + std::to_string(next_post_++));
    reply.effect->text = std::move(text);
    return reply;
  }

  Response failure(const Failure& failure) const override {
    switch (static_cast<unsigned>(failure.status)) {
      case 400:
        return text_response(failure.status, "invalid_payload");
      case 403:
        return text_response(failure.status, "action_prohibited");
      case 404:
        return text_response(failure.status, "channel_not_found");
      case 410:
        return text_response(failure.status, "channel_is_archived");
      case 429:
        return text_response(failure.status, "rate_limited");
      case 500:
        return text_response(failure.status, "rollup_error");
      default:
        return text_response(failure.status, "service_unavailable");
    }
  }

 private:
  std::uint64_t next_post_ = 1;
};

}  // namespace

std::unique_ptr<Provider> make_slack(const ProviderOptions&) { return std::make_unique<Slack>(); }

}  // namespace rescind::sandbox
