#include "clients/twilio.hpp"

#include "clients/encoding.hpp"
#include "clients/provider_call.hpp"

namespace rescind::clients {
namespace {

// Twilio error codes that mean "later", whatever the HTTP status says: too many requests
// (20429) and its own service errors (20500, 20503).
bool retryable_twilio_code(std::string_view code) { return code == "20429" || code == "20500" || code == "20503"; }

// The longest prefix of `text` (valid UTF-8) of at most `limit` characters, cut between
// characters. Twilio's limit is 1600 characters, not bytes: counting bytes cut a text in a
// three-byte script to a third of what Twilio takes. A character outside the BMP (an emoji)
// counts twice, as it does in UTF-16 (how Twilio counts those is not documented: this way
// errs on the short side).
std::string_view characters_prefix(std::string_view text, std::size_t limit) {
  std::size_t units = 0, i = 0;
  while (i < text.size()) {
    auto lead = static_cast<unsigned char>(text[i]);
    std::size_t length = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
    std::size_t weight = length == 4 ? 2 : 1;
    if (units + weight > limit || i + length > text.size()) break;
    units += weight;
    i += length;
  }
  return text.substr(0, i);
}

}  // namespace

TwilioSms::TwilioSms(HttpClient& http, TwilioSettings settings) : http_(http), settings_(std::move(settings)) {
  authorization_ = basic_auth(settings_.account_sid, settings_.auth_token);
  path_ = "/2010-04-01/Accounts/" + path_segment(settings_.account_sid) + "/Messages.json";
}

asio::awaitable<clients::Outcome> TwilioSms::send(const jobs::Job& job, std::string_view text) {
  std::string body;
  append_form_field(body, "To", job.customer.phone);
  append_form_field(body, settings_.from.starts_with("MG") ? "MessagingServiceSid" : "From", settings_.from);
  append_form_field(body, "Body", characters_prefix(text, 1600));

  auto request = make_post(settings_.base, path_, job.id, "application/x-www-form-urlencoded");
  request.set(http::field::authorization, authorization_);
  request.body() = std::move(body);
  co_return interpret(co_await http_.send(settings_.base.origin, std::move(request)), settings_.queue_full_wait);
}

clients::Outcome TwilioSms::interpret(const Exchange& exchange, std::chrono::milliseconds queue_full_wait) {
  auto outcome = outcome_from(exchange);
  if (exchange.error) return outcome;
  const auto& body = exchange.response.body();
  if (outcome.ok()) {
    outcome.reference = json_string_at(body, "/sid").value_or("");
    return outcome;
  }
  // Twilio's error "code" is a number in the JSON body.
  auto code_at = body.find("\"code\":");
  if (code_at != std::string::npos) {
    auto start = code_at + 7;
    while (start < body.size() && body[start] == ' ') ++start;
    auto end = start;
    while (end < body.size() && body[end] >= '0' && body[end] <= '9') ++end;
    outcome.code = body.substr(start, end - start);
  }
  if (auto message = json_string_at(body, "/message")) outcome.message = *message;
  if (outcome.code == "20429") {
    outcome.kind = clients::Outcome::Kind::rate_limited;
  } else if (outcome.code == "21611") {
    // "This 'From' number has exceeded the maximum number of queued messages": congestion of
    // this sender, not a refusal of the message (twilio.com/docs/api/errors/21611). Rate-limited,
    // so the sender's account is paused fleet-wide and no attempt is used: the other SMS of the
    // backlog wait too instead of meeting the full queue one after the other.
    outcome.kind = clients::Outcome::Kind::rate_limited;
    if (!outcome.retry_after) outcome.retry_after = queue_full_wait;
  } else if (retryable_twilio_code(outcome.code)) {
    outcome.kind = clients::Outcome::Kind::retryable;
  }
  return outcome;
}

}  // namespace rescind::clients
