#include "clients/mandrill.hpp"

#include <simdjson.h>

#include <array>
#include <string_view>

#include "clients/provider.hpp"
#include "clients/provider_call.hpp"
#include "common/json_text.hpp"
#include "common/log.hpp"
#include "common/mandrill_credentials.hpp"
#include "common/text.hpp"

namespace rescind::clients {

namespace {

constexpr std::string_view send_path = "/api/1.3/messages/send";
constexpr std::string_view search_path = "/api/1.3/messages/search.json";

// Jobs remembered as unanswered at most; past it the memory starts again (what is forgotten
// costs at most a second email for a job whose answer was lost).
constexpr std::size_t most_unanswered = 10'000;

// Error names Mandrill documents for its {"status":"error",…} answers. The older API answered
// every error with HTTP 500, so a name that says "this call will never work" wins over the
// status; the rest are classified by status.
constexpr std::array<std::string_view, 5> permanent_names = {"Invalid_Key", "ValidationError", "PaymentRequired",
                                                             "Unknown_Subaccount", "Unknown_Template"};

bool permanent_name(std::string_view name) {
  for (auto known : permanent_names) {
    if (name == known) return true;
  }
  return false;
}

// Mandrill's error shape: its name is the code; its message replaces the body as the text.
void read_error(Outcome& outcome, std::string_view body) {
  if (auto message = json_string_at(body, "/message")) {
    outcome.message = common::utf8_prefix(common::log::redact(*message), 300);
  }
  auto name = json_string_at(body, "/name");
  if (!name) return;
  outcome.code = *name;
  if (permanent_name(*name)) {
    outcome.kind = Outcome::Kind::permanent;
  } else if (*name == "RequestLimitExceeded") {
    outcome.kind = Outcome::Kind::rate_limited;
  } else if (*name == "GeneralError" || *name == "ServiceUnavailable") {
    outcome.kind = Outcome::Kind::retryable;
  }
}

// A 2xx whose content cannot be read: the email may have gone, so it is retried as an answer
// that was lost (and searched for first).
Outcome unreadable(Outcome outcome, std::string message) {
  outcome.kind = Outcome::Kind::retryable;
  outcome.code = "unreadable_answer";
  outcome.message = std::move(message);
  return outcome;
}

bool answer_lost(const Outcome& outcome) { return outcome.code == "transport" || outcome.code == "unreadable_answer"; }

// Whether `body` is a JSON array without elements (a search that found nothing).
bool empty_array(std::string_view body) {
  simdjson::padded_string padded(body);
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  simdjson::ondemand::array array;
  std::size_t count = 0;
  if (parser.iterate(padded).get(doc) || doc.get_array().get(array) || array.count_elements().get(count)) {
    return false;
  }
  return count == 0;
}

}  // namespace

MandrillEmail::MandrillEmail(HttpClient& http, MandrillSettings settings)
    : http_(http), settings_(std::move(settings)) {}

asio::awaitable<Outcome> MandrillEmail::send(const jobs::Job& job, const jobs::EmailMessage& message) {
  if (settings_.api_key.empty())
    co_return Outcome{
        Outcome::Kind::permanent, 0, "not_configured", "Mandrill is not configured (MANDRILL_API_KEY)", {}, {}};
  if (unanswered_.contains(job.id)) {
    auto earlier = co_await find_earlier(job);
    // A search that failed for now is made again on the next try.
    if (earlier && (earlier->kind == Outcome::Kind::retryable || earlier->kind == Outcome::Kind::rate_limited))
      co_return *earlier;
    unanswered_.erase(job.id);
    if (earlier) co_return *earlier;
  }

  common::JsonWriter json;
  json.begin_object().field("key", settings_.api_key).key("message").begin_object();
  json.field("text", message.text).field("subject", message.subject).field("from_email", settings_.from_email);
  if (!settings_.from_name.empty()) json.field("from_name", settings_.from_name);
  json.key("to").begin_array().begin_object().field("email", job.customer.email);
  if (!job.customer.name.empty()) json.field("name", job.customer.name);
  json.field("type", "to").end_object().end_array();
  json.key("metadata").begin_object().field("rescind_job_id", job.id).end_object().end_object();
  // async false: the answer says what became of the recipient, not only that it was queued.
  auto body = json.field("async", false).end_object().take();

  auto request = make_post(settings_.base, send_path, job.id, "application/json");
  request.body() = std::move(body);
  auto outcome = interpret(co_await http_.send(settings_.base.origin, std::move(request)));
  if (answer_lost(outcome)) {
    if (unanswered_.size() >= most_unanswered) unanswered_.clear();
    unanswered_.insert(job.id);
  }
  co_return outcome;
}

asio::awaitable<std::optional<Outcome>> MandrillEmail::find_earlier(const jobs::Job& job) {
  // Quoted: a job id may hold ':' and '-', which the search syntax reads otherwise.
  auto body = common::JsonWriter()
                  .begin_object()
                  .field("key", settings_.api_key)
                  .field("query", "u_rescind_job_id:\"" + job.id + "\"")
                  .field("limit", 1)
                  .end_object()
                  .take();
  auto request = make_post(settings_.base, search_path, job.id, "application/json");
  request.body() = std::move(body);
  auto found = interpret_search(co_await http_.send(settings_.base.origin, std::move(request)));
  // A search Mandrill refuses for good (a key allowed to send but not to search) cannot tell:
  // the email is sent, at the risk of a second one, rather than never.
  if (found && found->kind == Outcome::Kind::permanent && found->status >= 400) co_return std::nullopt;
  co_return found;
}

Outcome MandrillEmail::interpret(const Exchange& exchange) {
  auto outcome = outcome_from(exchange);
  if (exchange.error) return outcome;
  const auto& body = exchange.response.body();
  if (!outcome.ok()) {
    read_error(outcome, body);
    return outcome;
  }
  // One recipient per message: the first entry is the customer's.
  auto status = json_string_at(body, "/0/status");
  if (!status) return unreadable(std::move(outcome), "Mandrill accepted the message without a recipient status");
  outcome.reference = json_string_at(body, "/0/_id").value_or("");
  if (*status == "sent" || *status == "queued" || *status == "scheduled") return outcome;
  if (*status == "rejected" || *status == "invalid") {
    // The address (or Mandrill's reject list) refuses this recipient: another try changes nothing.
    auto reason = json_string_at(body, "/0/reject_reason").value_or("");
    outcome.kind = Outcome::Kind::permanent;
    outcome.code = reason.empty() ? *status : reason;
    outcome.message = "Mandrill " + *status + " the recipient" + (reason.empty() ? "" : " (" + reason + ")");
    return outcome;
  }
  return unreadable(std::move(outcome), "Mandrill answered an unknown recipient status '" +
                                            std::string(common::utf8_prefix(common::log::redact(*status), 40)) + "'");
}

std::optional<Outcome> MandrillEmail::interpret_search(const Exchange& exchange) {
  auto outcome = outcome_from(exchange);
  if (exchange.error) return outcome;
  const auto& body = exchange.response.body();
  if (!outcome.ok()) {
    read_error(outcome, body);
    return outcome;
  }
  if (empty_array(body)) return std::nullopt;
  auto id = json_string_at(body, "/0/_id");
  if (!id) return unreadable(std::move(outcome), "Mandrill's search answered a message without an _id");
  outcome.reference = *id;
  if (json_string_at(body, "/0/state") == "rejected") {
    outcome.kind = Outcome::Kind::permanent;
    outcome.code = "rejected";
    outcome.message = "Mandrill rejected the job's earlier message";
  }
  return outcome;
}

// The component: Mandrill sends the customer's email where it is chosen (--email-provider,
// --email-provider-for).
namespace {

class MandrillProvider final : public Provider {
 public:
  MandrillProvider(HttpClient& http, const MandrillSettings& settings) : email_(http, settings) {}
  std::string_view name() const override { return "mandrill"; }
  asio::awaitable<Outcome> perform(const StepCall& step, const jobs::Job& job) override {
    co_return co_await email_.send(job, jobs::customer_email(job, step.plan.situation, step.refunded));
  }

 private:
  MandrillEmail email_;
};

class MandrillSpec final : public ProviderSpec {
 public:
  explicit MandrillSpec(const SharedOptions& shared) : shared_(shared) {}
  std::string_view name() const override { return "mandrill"; }
  std::vector<jobs::Role> roles() const override { return {jobs::Role::email}; }
  std::string_view group() const override { return "Mandrill (email)"; }
  void add_options(OptionSet& options) override {
    options.setting("--mandrill-url", url_, "Mailchimp Transactional (Mandrill) API base URL", "RESCIND_MANDRILL_URL",
                    true);
    options.secret("--mandrill-api-key", settings_.api_key, "Mailchimp Transactional (Mandrill) API key",
                   "MANDRILL_API_KEY");
  }
  std::vector<std::string> real_credentials() const override {
    if (settings_.api_key.empty()) return {};
    return {"MANDRILL_API_KEY"};
  }
  void finish(const Setup& setup) override {
    if (!setup.sandbox.empty()) {
      url_ = setup.sandbox;
      settings_.api_key = sandbox_credentials::mandrill_api_key;
    }
    if (setup.routed_by_default) {
      require(settings_.api_key, "MANDRILL_API_KEY (--mandrill-api-key)");
      require(shared_.email_from, "RESCIND_EMAIL_FROM (--email-from)");
    }
    settings_.base = option_url(url_, "--mandrill-url", setup);
    // The customer's emails come from one sender whichever provider sends them.
    settings_.from_email = shared_.email_from;
    settings_.from_name = shared_.email_from_name;
    // It travels inside the request body, where no header redaction would find it.
    common::log::register_secret(settings_.api_key);
  }
  std::unique_ptr<Provider> make(const Wiring& wiring) const override {
    return std::make_unique<MandrillProvider>(wiring.http, settings_);
  }

 private:
  const SharedOptions& shared_;
  MandrillSettings settings_;
  std::string url_ = "https://mandrillapp.com";
};

}  // namespace

std::unique_ptr<ProviderSpec> mandrill_spec(SharedOptions& shared) { return std::make_unique<MandrillSpec>(shared); }

}  // namespace rescind::clients
