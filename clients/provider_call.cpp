#include "clients/provider_call.hpp"

#include <simdjson.h>

#include "common/log.hpp"
#include "common/text.hpp"

namespace rescind::clients {

HttpRequest make_post(const Url& base, std::string_view path, std::string_view job_id, std::string_view content_type) {
  HttpRequest request{http::verb::post, base.path + std::string(path), 11};
  request.set(http::field::user_agent, "rescind/0.1");
  request.set(http::field::content_type, content_type);
  request.set("X-Rescind-Job", job_id);
  request.keep_alive(true);
  return request;
}

HttpRequest make_get(const Url& base, std::string_view target, std::string_view job_id) {
  HttpRequest request{http::verb::get, base.path + std::string(target), 11};
  request.set(http::field::user_agent, "rescind/0.1");
  request.set("X-Rescind-Job", job_id);
  request.keep_alive(true);
  return request;
}

Outcome outcome_from(const Exchange& exchange) {
  if (exchange.error == not_sent) return Outcome::not_sent();
  if (exchange.error) return Outcome::transport_failure(exchange.error.message());
  Outcome outcome;
  outcome.status = static_cast<int>(exchange.response.result_int());
  outcome.kind = clients::classify_status(outcome.status);
  if (auto it = exchange.response.find(http::field::retry_after); it != exchange.response.end()) {
    outcome.retry_after = clients::parse_retry_after(it->value(), std::chrono::system_clock::now());
  }
  // Redacted whole, then cut: a secret the cut went through would leave a prefix that
  // matches nothing. Cut between characters, so the DLQ and the log stay valid UTF-8.
  if (!outcome.ok()) outcome.message = common::utf8_prefix(common::log::redact(exchange.response.body()), 300);
  return outcome;
}

void fail_if_refund_ended(Outcome& outcome, std::string_view provider, std::string_view status,
                          std::initializer_list<std::string_view> ended) {
  for (auto state : ended) {
    if (status != state) continue;
    outcome.kind = Outcome::Kind::permanent;
    outcome.code = "refund_" + std::string(status);
    outcome.message =
        std::string(provider) + " accepted refund " + outcome.reference + " but it ended " + std::string(status);
    return;
  }
}

void mark_if_pending(Outcome& outcome, std::string_view status, std::initializer_list<std::string_view> pending) {
  if (!outcome.ok()) return;
  for (auto state : pending) outcome.pending = outcome.pending || status == state;
}

RefundState lookup_failed(Outcome lookup, std::string_view what) {
  RefundState state;
  state.kind = RefundState::Kind::unknown;
  state.detail = std::string(what) + " failed: " + (lookup.code.empty() ? "" : lookup.code + ": ") + lookup.message;
  if (lookup.ok()) lookup.kind = Outcome::Kind::retryable;  // a 2xx we could not read
  state.lookup = std::move(lookup);
  return state;
}

std::optional<std::string> json_string_at(std::string_view body, std::string_view pointer) {
  simdjson::padded_string padded(body);
  thread_local simdjson::ondemand::parser parser;  // keeps its buffers between calls
  simdjson::ondemand::document doc;
  if (parser.iterate(padded).get(doc)) return std::nullopt;
  std::string_view value;
  if (doc.at_pointer(pointer).get_string().get(value)) return std::nullopt;
  return std::string(value);
}

}  // namespace rescind::clients
