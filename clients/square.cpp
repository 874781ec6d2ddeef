#include "clients/square.hpp"

#include "clients/provider.hpp"
#include "common/log.hpp"
#include "common/sandbox_credentials.hpp"

#include <simdjson.h>

#include "clients/encoding.hpp"
#include "clients/provider_call.hpp"
#include "common/json_text.hpp"

namespace rescind::clients {

std::string SquareRefunds::idempotency_key(std::string_view source) { return sha256_base64url(source); }

namespace {
std::string job_marker(const jobs::Job& job) { return " (rescind job " + job.id + ")"; }

RefundState::Kind square_state(std::string_view status) {
  if (status == "COMPLETED") return RefundState::Kind::succeeded;
  if (status == "PENDING") return RefundState::Kind::pending;
  if (status == "REJECTED" || status == "FAILED") return RefundState::Kind::failed;
  return RefundState::Kind::unknown;
}
}  // namespace

// The job id is 1-128 characters of [A-Za-z0-9._:-] and the reason one of three words, so
// this stays under Square's 192; the ")" ends the id, so "evt_1" never matches "evt_10".
std::string SquareRefunds::reason_for(const jobs::Job& job) { return job.refund.reason + job_marker(job); }

const std::string& SquareRefunds::token_for(const jobs::Job& job) const {
  auto own = settings_.access_token_by_shop.find(job.shop.domain);
  return own == settings_.access_token_by_shop.end() ? settings_.access_token : own->second;
}

asio::awaitable<Exchange> SquareRefunds::get(const jobs::Job& job, std::string target) {
  auto request = make_get(settings_.base, target, job.id);
  request.set(http::field::authorization, "Bearer " + token_for(job));
  request.set("Square-Version", settings_.version);
  co_return co_await http_.send(settings_.base.origin, std::move(request));
}

asio::awaitable<Outcome> SquareRefunds::refund(const jobs::Job& job, std::string_view idempotency_source) {
  const auto& token = token_for(job);
  if (token.empty()) {
    co_return Outcome{
        Outcome::Kind::permanent,
        0,
        "not_configured",
        "Square is not configured for " + job.shop.domain + " (SQUARE_ACCESS_TOKEN or --square-token-for)",
        {},
        {}};
  }
  common::JsonWriter json;
  json.begin_object().field("idempotency_key", idempotency_key(idempotency_source));
  json.field("payment_id", job.payment.reference);
  json.key("amount_money").begin_object().field("amount", job.refund.amount_minor);
  json.field("currency", job.order.currency).end_object();
  auto body = json.field("reason", reason_for(job)).end_object().take();
  auto request = make_post(settings_.base, "/v2/refunds", job.id, "application/json");
  request.set(http::field::authorization, "Bearer " + token);
  request.set("Square-Version", settings_.version);
  request.body() = std::move(body);
  auto outcome = interpret(co_await http_.send(settings_.base.origin, std::move(request)));
  if (outcome.code == "REFUND_AMOUNT_INVALID" || outcome.code == "PAYMENT_NOT_REFUNDABLE" ||
      outcome.code == "REFUND_ALREADY_PENDING") {
    co_return co_await reconcile(job, std::move(outcome));
  }
  co_return outcome;
}

asio::awaitable<Outcome> SquareRefunds::reconcile(const jobs::Job& job, Outcome refused) {
  auto mine = co_await find_refund(job);
  if (mine.kind == RefundState::Kind::succeeded || mine.kind == RefundState::Kind::pending) {
    auto done = Outcome::success(mine.reference);
    done.code = refused.code;  // why it was not refunded again, for the log
    done.pending = mine.kind == RefundState::Kind::pending;
    co_return done;
  }
  if (mine.kind == RefundState::Kind::unknown) {
    // Nothing can be concluded: try again later, under the same key.
    refused.kind = Outcome::Kind::retryable;
    refused.message += " (and reading the payment failed: " + mine.detail + ")";
    co_return refused;
  }
  if (refused.code == "REFUND_ALREADY_PENDING") co_return refused;  // someone else's: wait for it
  auto exchange = co_await get(job, "/v2/payments/" + path_segment(job.payment.reference));
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  std::int64_t total = 0, refunded = 0;
  if (exchange.error || exchange.response.result_int() != 200 || parser.parse(exchange.response.body()).get(root) ||
      root["payment"]["amount_money"]["amount"].get_int64().get(total)) {
    refused.kind = Outcome::Kind::retryable;
    refused.message += " (and reading the payment failed)";
    co_return refused;
  }
  if (root["payment"]["refunded_money"]["amount"].get_int64().get(refunded)) refunded = 0;
  if (refunded >= total && total > 0) {
    // Refunded in full by someone else (by hand, another system): the customer has the money.
    auto done = Outcome::success("");
    done.code = "already_refunded";
    co_return done;
  }
  co_return refused;
}

asio::awaitable<RefundState> SquareRefunds::find_refund(const jobs::Job& job) {
  auto exchange = co_await get(job, "/v2/payments/" + path_segment(job.payment.reference));
  if (exchange.error || exchange.response.result_int() != 200)
    co_return lookup_failed(interpret(exchange), "Square's payment");
  std::vector<std::string> ids;
  {
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    if (parser.parse(exchange.response.body()).get(root)) {
      co_return lookup_failed(Outcome::retryable(200, "unreadable", "not a payment"), "Square's payment");
    }
    simdjson::dom::array refund_ids;
    if (!root["payment"]["refund_ids"].get_array().get(refund_ids)) {
      for (auto id : refund_ids) {
        std::string_view text;
        if (!id.get_string().get(text)) ids.emplace_back(text);
      }
    }
  }
  std::optional<RefundState> found;
  auto rank = [](RefundState::Kind kind) {
    return kind == RefundState::Kind::succeeded ? 3 : kind == RefundState::Kind::pending ? 2 : 1;
  };
  auto marker = job_marker(job);
  for (const auto& id : ids) {
    auto read = co_await get(job, "/v2/refunds/" + path_segment(id));
    if (read.error || read.response.result_int() != 200)
      co_return lookup_failed(interpret(read), "Square's refund " + id);
    auto reason = json_string_at(read.response.body(), "/refund/reason").value_or("");
    if (!reason.ends_with(marker)) continue;
    auto status = json_string_at(read.response.body(), "/refund/status").value_or("");
    RefundState state{square_state(status), id, status, {}};
    if (!found || rank(state.kind) > rank(found->kind)) found = std::move(state);
  }
  co_return found.value_or(RefundState{RefundState::Kind::none, {}, {}, {}});
}

asio::awaitable<RefundState> SquareRefunds::refund_status(const jobs::Job& job, std::string_view reference) {
  auto exchange = co_await get(job, "/v2/refunds/" + path_segment(reference));
  if (exchange.error || exchange.response.result_int() != 200) {
    co_return lookup_failed(interpret(exchange), "Square's refund " + std::string(reference));
  }
  auto status = json_string_at(exchange.response.body(), "/refund/status").value_or("");
  RefundState state{square_state(status), std::string(reference), status, {}};
  if (state.kind == RefundState::Kind::failed)
    state.detail = "Square refund " + std::string(reference) + " ended " + status;
  if (state.kind == RefundState::Kind::unknown) {
    co_return lookup_failed(outcome_from(exchange), "Square's refund status '" + status + "'");
  }
  co_return state;
}

Outcome SquareRefunds::interpret(const Exchange& exchange) {
  auto outcome = outcome_from(exchange);
  if (exchange.error) return outcome;
  const auto& body = exchange.response.body();
  if (outcome.ok()) {
    outcome.reference = json_string_at(body, "/refund/id").value_or("");
    auto status = json_string_at(body, "/refund/status").value_or("");
    fail_if_refund_ended(outcome, "Square", status, {"REJECTED", "FAILED"});
    mark_if_pending(outcome, status, {"PENDING"});
    return outcome;
  }
  outcome.code = json_string_at(body, "/errors/0/code").value_or("");
  if (auto detail = json_string_at(body, "/errors/0/detail")) outcome.message = *detail;
  if (json_string_at(body, "/errors/0/category").value_or("") == "RATE_LIMIT_ERROR")
    outcome.kind = Outcome::Kind::rate_limited;
  // Not yet possible: another refund of the payment is still pending (refund() first checks it is not this job's).
  if (outcome.code == "REFUND_ALREADY_PENDING") outcome.kind = Outcome::Kind::retryable;
  return outcome;
}

// The component: Square performs the refund step for payments it holds, and can be asked
// about a job's refund (PaymentProvider over SquareRefunds); its spec owns its options.
namespace {

class SquareSpec final : public ProviderSpec {
 public:
  std::string_view name() const override { return "square"; }
  std::vector<jobs::Role> roles() const override { return {jobs::Role::refund}; }
  std::string_view group() const override { return "Square (refund when payment.provider is square)"; }
  void add_options(OptionSet& options) override {
    options.setting("--square-url", url_, "Square API base URL", "RESCIND_SQUARE_URL", true);
    options.secret("--square-access-token", settings_.access_token, "Access token", "SQUARE_ACCESS_TOKEN");
    options.secrets("--square-token-for", tokens_for_, "A shop's own seller account, repeatable: DOMAIN=TOKEN",
                    "SQUARE_TOKENS_BY_SHOP");
    options.setting("--square-version", settings_.version, "Square-Version header", "RESCIND_SQUARE_VERSION", true);
  }
  std::vector<std::string> real_credentials() const override {
    if (settings_.access_token.empty()) return {};
    return {"SQUARE_ACCESS_TOKEN"};
  }
  void finish(const Setup& setup) override {
    if (!setup.sandbox.empty()) {
      url_ = setup.sandbox;
      settings_.access_token = sandbox_credentials::square_access_token;
    }
    for (const auto& item : tokens_for_) {
      auto [shop, token] = per_shop_item(item, "--square-token-for");
      settings_.access_token_by_shop[shop] = token;
      common::log::register_secret(token);
    }
    settings_.base = option_url(url_, "--square-url", setup);
    common::log::register_secret(settings_.access_token);
  }
  std::unique_ptr<Provider> make(const Wiring& wiring) const override {
    return std::make_unique<PaymentProvider<SquareRefunds>>("square", wiring.http, settings_);
  }

 private:
  SquareSettings settings_;
  std::string url_ = "https://connect.squareup.com";
  std::vector<std::string> tokens_for_;
};

}  // namespace

std::unique_ptr<ProviderSpec> square_spec(SharedOptions&) { return std::make_unique<SquareSpec>(); }

}  // namespace rescind::clients
