// Every provider's answer interpreter: the function that turns an HTTP status, headers and
// body into a clients::Outcome (ok, retryable, permanent, rate_limited). The first byte picks
// the interpreter; the rest is the raw HTTP/1.1 response as it comes off the wire, read with
// the same Beast parser the HTTP client uses (a response that does not parse is handed on as
// the transport error the client would report). Checked: nothing crashes, whatever a
// provider, a proxy or an attacker in between answers, and the classification keeps its promises.
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "clients/mailgun.hpp"
#include "clients/outcome.hpp"
#include "clients/paypal.hpp"
#include "clients/provider_call.hpp"
#include "clients/sendgrid.hpp"
#include "clients/shopify.hpp"
#include "clients/slack.hpp"
#include "clients/square.hpp"
#include "clients/stripe.hpp"
#include "clients/twilio.hpp"
#include "clients/zendesk.hpp"

namespace {

namespace clients = rescind::clients;
namespace http = boost::beast::http;
using rescind::clients::Outcome;

[[noreturn]] void violated(const char* promise, const std::string& detail) {
  std::fprintf(stderr, "\nINVARIANT VIOLATED: %s\n  %s\n", promise, detail.c_str());
  std::abort();
}

constexpr auto an_hour = std::chrono::milliseconds(std::chrono::hours(1));

clients::Exchange exchange_from(std::string_view wire) {
  clients::Exchange exchange;
  http::response_parser<http::string_body> parser;
  parser.eager(true);
  parser.body_limit(1 << 20);  // HttpOptions::max_response_bytes
  boost::beast::error_code ec;
  std::size_t used = 0;
  while (!ec && !parser.is_done() && used < wire.size()) {
    auto n = parser.put(boost::asio::buffer(wire.data() + used, wire.size() - used), ec);
    if (ec == http::error::need_more) ec = {};
    if (n == 0) break;
    used += n;
  }
  if (!ec && !parser.is_done()) parser.put_eof(ec);  // the connection closed: the body ends here
  if (ec || !parser.is_done()) {
    exchange.error = ec ? ec : http::error::partial_message;
    return exchange;
  }
  exchange.response = parser.release();
  return exchange;
}

void check(const clients::Exchange& exchange, const Outcome& outcome, std::string_view provider) {
  std::string where = std::string(provider) + " " + std::to_string(outcome.status) + " " +
                      std::string(to_string(outcome.kind)) + " code=" + outcome.code;
  switch (outcome.kind) {
    case Outcome::Kind::ok:
    case Outcome::Kind::retryable:
    case Outcome::Kind::permanent:
    case Outcome::Kind::rate_limited:
      break;
    default:
      violated("the outcome is one of ok, retryable, permanent, rate_limited", where);
  }
  if (exchange.error) {
    if (outcome.ok() || outcome.status != 0) violated("no answer is never ok and has no status", where);
    return;
  }
  auto status = static_cast<int>(exchange.response.result_int());
  if (outcome.status != status) violated("the outcome keeps the answer's status", where);
  if (outcome.retry_after && (*outcome.retry_after < std::chrono::milliseconds(0) || *outcome.retry_after > an_hour)) {
    violated("a Retry-After is read as 0 s to 1 h",
             where + " retry_after=" + std::to_string(outcome.retry_after->count()));
  }
  if (outcome.slow_down && (*outcome.slow_down < std::chrono::milliseconds(0) || *outcome.slow_down > an_hour)) {
    violated("a slow-down pause is 0 s to 1 h", where + " slow_down=" + std::to_string(outcome.slow_down->count()));
  }
  // Only a 2xx is ok, apart from the answers that say the money is back already.
  bool success_status = status >= 200 && status < 300;
  bool already_refunded = (provider == "stripe" && outcome.code == "charge_already_refunded") ||
                          (provider == "paypal" && outcome.code == "CAPTURE_FULLY_REFUNDED");
  if (outcome.ok() && !success_status && !already_refunded) violated("a non-2xx answer is not ok", where);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  std::string_view wire(reinterpret_cast<const char*>(data + 1), size - 1);
  auto exchange = exchange_from(wire);
  switch (data[0] % 12) {
    case 0:
      check(exchange, clients::StripeRefunds::interpret(exchange), "stripe");
      break;
    case 1:
      check(exchange, clients::PayPalRefunds::interpret(exchange), "paypal");
      break;
    case 2:
      check(exchange, clients::SquareRefunds::interpret(exchange), "square");
      break;
    case 3:
      check(exchange, clients::ShopifyOrders::interpret_cancel(exchange).outcome, "shopify");
      break;
    case 4:
      check(exchange, clients::SendGridEmail::interpret(exchange), "sendgrid");
      break;
    case 5:
      check(exchange, clients::MailgunEmail::interpret(exchange), "mailgun");
      break;
    case 6:
      check(exchange, clients::TwilioSms::interpret(exchange), "twilio");
      break;
    case 7:
      check(exchange, clients::SlackStaffAlert::interpret(exchange), "slack");
      break;
    case 8:
      check(exchange, clients::ZendeskTickets::interpret(exchange), "zendesk");
      break;
    case 9:
      check(exchange, clients::outcome_from(exchange), "webhooks");
      break;    // back-office records use it as is
    case 10: {  // Shopify's cost bucket, read from every GraphQL answer, ok or not
      if (auto pause = clients::ShopifyOrders::slow_down(wire);
          pause && (*pause < std::chrono::milliseconds(0) || *pause > an_hour)) {
        violated("a slow-down pause is 0 s to 1 h", std::to_string(pause->count()));
      }
      break;
    }
    case 11: {  // Retry-After as any provider may send it, at a fixed "now"
      auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1'790'000'000));
      auto after = rescind::clients::parse_retry_after(wire, now);
      if (after && (*after < std::chrono::milliseconds(0) || *after > an_hour)) {
        violated("a Retry-After is read as 0 s to 1 h", std::to_string(after->count()));
      }
      (void)rescind::clients::classify_status(static_cast<int>(wire.size()) - 1);
      break;
    }
  }
  return 0;
}
