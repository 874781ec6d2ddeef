#include "clients/twilio.hpp"

#include "clients/provider.hpp"
#include "common/duration.hpp"
#include "common/log.hpp"
#include "common/sandbox_credentials.hpp"
#include "jobs/messages.hpp"

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

asio::awaitable<Outcome> TwilioSms::send(const jobs::Job& job, std::string_view text) {
  std::string body;
  append_form_field(body, "To", job.customer.phone);
  append_form_field(body, settings_.from.starts_with("MG") ? "MessagingServiceSid" : "From", settings_.from);
  append_form_field(body, "Body", characters_prefix(text, 1600));

  auto request = make_post(settings_.base, path_, job.id, "application/x-www-form-urlencoded");
  request.set(http::field::authorization, authorization_);
  request.body() = std::move(body);
  co_return interpret(co_await http_.send(settings_.base.origin, std::move(request)), settings_.queue_full_wait);
}

Outcome TwilioSms::interpret(const Exchange& exchange, std::chrono::milliseconds queue_full_wait) {
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
    outcome.kind = Outcome::Kind::rate_limited;
  } else if (outcome.code == "21611") {
    // "This 'From' number has exceeded the maximum number of queued messages": congestion of
    // this sender, not a refusal of the message (twilio.com/docs/api/errors/21611). Rate-limited,
    // so the sender's account is paused fleet-wide and no attempt is used: the other SMS of the
    // backlog wait too instead of meeting the full queue one after the other.
    outcome.kind = Outcome::Kind::rate_limited;
    if (!outcome.retry_after) outcome.retry_after = queue_full_wait;
  } else if (retryable_twilio_code(outcome.code)) {
    outcome.kind = Outcome::Kind::retryable;
  }
  return outcome;
}

// The component: Twilio sends the customer's SMS.
namespace {

class TwilioProvider final : public Provider {
 public:
  TwilioProvider(HttpClient& http, const TwilioSettings& settings) : sms_(http, settings), sender_(settings.from) {}
  std::string_view name() const override { return "twilio"; }
  std::string_view account(jobs::Role, const jobs::Job&) const override { return sender_; }  // throughput is per sender
  asio::awaitable<Outcome> perform(const StepCall& step, const jobs::Job& job) override {
    co_return co_await sms_.send(job, jobs::customer_sms(job, step.plan.situation, step.refunded));
  }

 private:
  TwilioSms sms_;
  std::string sender_;
};

class TwilioSpec final : public ProviderSpec {
 public:
  std::string_view name() const override { return "twilio"; }
  std::vector<jobs::Role> roles() const override { return {jobs::Role::sms}; }
  std::string_view group() const override { return "Twilio (sms)"; }
  void add_options(OptionSet& options) override {
    options.setting("--twilio-url", url_, "Twilio API base URL", "RESCIND_TWILIO_URL", true);
    options.setting("--twilio-account-sid", settings_.account_sid, "Account SID AC…", "TWILIO_ACCOUNT_SID");
    options.secret("--twilio-auth-token", settings_.auth_token, "Auth token", "TWILIO_AUTH_TOKEN");
    options.setting("--twilio-from", settings_.from, "Sender: +E.164 number or messaging service MG…", "TWILIO_FROM");
    options.setting("--twilio-queue-full-wait", queue_full_wait_,
                    "After Twilio's 21611 (the sender's queue holds 10 h of messages), SMS from that sender wait this "
                    "long, fleet-wide, without using an attempt",
                    "RESCIND_TWILIO_QUEUE_FULL_WAIT", true);
  }
  std::vector<std::string> real_credentials() const override {
    std::vector<std::string> given;
    if (!settings_.account_sid.empty()) given.emplace_back("TWILIO_ACCOUNT_SID");
    if (!settings_.auth_token.empty()) given.emplace_back("TWILIO_AUTH_TOKEN");
    return given;
  }
  void finish(const Setup& setup) override {
    auto wait = common::parse_duration(queue_full_wait_);
    if (!wait)
      throw OptionError("--twilio-queue-full-wait: '" + queue_full_wait_ + "' is not a duration like 250ms, 30s, 5m");
    if (*wait < std::chrono::milliseconds(100)) throw OptionError("--twilio-queue-full-wait must be at least 100ms");
    settings_.queue_full_wait = *wait;
    if (!setup.sandbox.empty()) {
      url_ = setup.sandbox;
      settings_.account_sid = sandbox_credentials::twilio_account_sid;
      settings_.auth_token = sandbox_credentials::twilio_auth_token;
      settings_.from = sandbox_credentials::twilio_from;
    }
    require(settings_.account_sid, "TWILIO_ACCOUNT_SID (--twilio-account-sid)");
    require(settings_.auth_token, "TWILIO_AUTH_TOKEN (--twilio-auth-token)");
    require(settings_.from, "TWILIO_FROM (--twilio-from)");
    settings_.base = option_url(url_, "--twilio-url", setup);
    common::log::register_secret(settings_.auth_token);
  }
  std::unique_ptr<Provider> make(const Wiring& wiring) const override {
    return std::make_unique<TwilioProvider>(wiring.http, settings_);
  }

 private:
  TwilioSettings settings_;
  std::string url_ = "https://api.twilio.com";
  std::string queue_full_wait_ = "1m";
};

}  // namespace

std::unique_ptr<ProviderSpec> twilio_spec(SharedOptions&) { return std::make_unique<TwilioSpec>(); }

}  // namespace rescind::clients
