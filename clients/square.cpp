#include "clients/square.hpp"

#include <openssl/sha.h>

#include "clients/encoding.hpp"
#include "clients/provider_call.hpp"
#include "common/json_text.hpp"

namespace rescind::clients {

using retry::Outcome;

std::string SquareRefunds::idempotency_key(std::string_view source) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(source.data()), source.size(), digest);
  auto key = base64(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
  for (auto& c : key) c = c == '+' ? '-' : c == '/' ? '_' : c;  // base64url
  while (!key.empty() && key.back() == '=') key.pop_back();
  return key;
}

asio::awaitable<Outcome> SquareRefunds::refund(const jobs::Job& job, std::string_view idempotency_source) {
  auto own = settings_.access_token_by_shop.find(job.shop.domain);
  const auto& token = own == settings_.access_token_by_shop.end() ? settings_.access_token : own->second;
  if (token.empty()) {
    co_return Outcome{Outcome::Kind::permanent, 0, "not_configured",
                      "Square is not configured for " + job.shop.domain + " (SQUARE_ACCESS_TOKEN or --square-token-for)", {}, {}};
  }
  std::string body = R"({"idempotency_key":)";
  common::append_json_string(body, idempotency_key(idempotency_source));
  body += R"(,"payment_id":)";
  common::append_json_string(body, job.payment.reference);
  body += R"(,"amount_money":{"amount":)" + std::to_string(job.refund.amount_minor) + R"(,"currency":)";
  common::append_json_string(body, job.order.currency);
  body += R"(},"reason":)";
  common::append_json_string(body, job.refund.reason);
  body += '}';
  auto request = make_post(settings_.base, "/v2/refunds", job.id, "application/json");
  request.set(http::field::authorization, "Bearer " + token);
  request.set("Square-Version", settings_.version);
  request.body() = std::move(body);
  co_return interpret(co_await http_.send(settings_.base.origin, std::move(request)));
}

Outcome SquareRefunds::interpret(const Exchange& exchange) {
  auto outcome = outcome_from(exchange);
  if (exchange.error) return outcome;
  const auto& body = exchange.response.body();
  if (outcome.ok()) {
    outcome.reference = json_string_at(body, "/refund/id").value_or("");
    fail_if_refund_ended(outcome, "Square", json_string_at(body, "/refund/status").value_or(""), {"REJECTED", "FAILED"});
    return outcome;
  }
  outcome.code = json_string_at(body, "/errors/0/code").value_or("");
  if (auto detail = json_string_at(body, "/errors/0/detail")) outcome.message = *detail;
  if (json_string_at(body, "/errors/0/category").value_or("") == "RATE_LIMIT_ERROR") outcome.kind = Outcome::Kind::rate_limited;
  return outcome;
}

}  // namespace rescind::clients
