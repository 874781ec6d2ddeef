// The payment book: payments, their refunds, and the control endpoints that set them.
#include "sandbox/payments.hpp"

#include "common/json_text.hpp"
#include "sandbox/json_body.hpp"

namespace rescind::sandbox {
namespace {

namespace od = simdjson::ondemand;

Response control_error(std::string_view message) {
  return json_strings_response(http::status::bad_request, {{"error", message}});
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

std::string_view status_word(RefundStatus status) {
  switch (status) {
    case RefundStatus::pending:
      return "pending";
    case RefundStatus::succeeded:
      return "succeeded";
    case RefundStatus::failed:
      return "failed";
  }
  return "failed";
}

PaymentState& PaymentBook::payment(std::string_view id, std::string_view currency,
                                   std::chrono::system_clock::time_point now) {
  auto [it, created] = payments_.try_emplace(std::string(id));
  PaymentState& state = it->second;
  if (created) {
    state.id = std::string(id);
    state.captured = default_captured;
    state.currency = default_currency_;
    state.created = now;
  }
  if (state.currency.empty() && !currency.empty()) state.currency = lower(currency);
  return state;
}

const PaymentState* PaymentBook::find_payment(std::string_view id) const {
  auto it = payments_.find(std::string(id));
  return it == payments_.end() ? nullptr : &it->second;
}

std::int64_t PaymentBook::refunded(const PaymentState& payment) const {
  std::int64_t sum = 0;
  for (auto index : payment.refunds) {
    if (records_[index].status != RefundStatus::failed) sum += records_[index].amount;
  }
  return sum;
}

std::int64_t PaymentBook::completed(const PaymentState& payment) const {
  std::int64_t sum = 0;
  for (auto index : payment.refunds) {
    if (records_[index].status == RefundStatus::succeeded) sum += records_[index].amount;
  }
  return sum;
}

bool PaymentBook::has_pending(const PaymentState& payment) const {
  for (auto index : payment.refunds) {
    if (records_[index].status == RefundStatus::pending) return true;
  }
  return false;
}

const RefundRecord& PaymentBook::add_refund(PaymentState& payment, RefundRecord refund) {
  refund.payment = payment.id;
  if (refund.currency.empty()) refund.currency = payment.currency;
  if (next_pending_ > 0) {
    --next_pending_;
    refund.status = RefundStatus::pending;
  }
  std::size_t index = records_.size();
  refund_index_.insert_or_assign(refund.id, index);
  records_.push_back(std::move(refund));
  payment.refunds.push_back(index);
  return records_.back();
}

const RefundRecord* PaymentBook::find_refund(std::string_view id) const {
  auto it = refund_index_.find(std::string(id));
  return it == refund_index_.end() ? nullptr : &records_[it->second];
}

void PaymentBook::clear() {
  records_.clear();
  refund_index_.clear();
  payments_.clear();
  next_pending_ = 0;
  insufficient_funds_ = false;
}

std::optional<Response> PaymentBook::control(std::string_view action, Request& request, Ledger& ledger,
                                             std::chrono::system_clock::time_point now) {
  if (action != "payment" && action != "refunds" && action != "funds") return std::nullopt;
  if (request.method() != http::verb::post) {
    return method_not_allowed("POST", "application/json", "{\"error\":\"method not allowed\"}");
  }
  std::string problem;
  std::optional<std::string> id;
  std::optional<std::int64_t> captured, refunded_by_hand, next_pending;
  std::optional<std::string> currency, settle;
  std::optional<bool> pending_capture, refundable, insufficient;
  auto read = each_body_member(request.body(), [&](std::string_view key, od::value value) {
    std::string_view text;
    std::int64_t number = 0;
    bool flag = false;
    auto where = std::string(action) + "." + std::string(key);
    if (key == "id" || key == "currency" || key == "settle") {
      if (value.get_string().get(text)) {
        problem = where + ": must be a string";
        return false;
      }
      (key == "id" ? id : key == "currency" ? currency : settle) = std::string(text);
    } else if (key == "captured_minor" || key == "refunded_minor" || key == "next_pending") {
      if (value.get_int64().get(number) || number < 0) {
        problem = where + ": must be a non-negative integer";
        return false;
      }
      (key == "captured_minor" ? captured : key == "refunded_minor" ? refunded_by_hand : next_pending) = number;
    } else if (key == "pending_capture" || key == "refundable" || key == "insufficient") {
      if (value.get_bool().get(flag)) {
        problem = where + ": must be true or false";
        return false;
      }
      (key == "pending_capture" ? pending_capture : key == "refundable" ? refundable : insufficient) = flag;
    } else {
      problem = where + ": unknown field";
      return false;
    }
    return true;
  });
  if (read == BodyRead::malformed || read == BodyRead::not_object) return control_error("body: must be a JSON object");
  if (!problem.empty()) return control_error(problem);

  if (action == "funds") {
    if (!insufficient) return control_error("funds.insufficient: is required");
    insufficient_funds_ = *insufficient;
    return json_response(
        http::status::ok,
        common::JsonWriter().begin_object().field("insufficient", insufficient_funds_).end_object().take());
  }
  if (action == "refunds") {
    std::size_t settled = 0;
    if (settle) {
      if (*settle != "succeeded" && *settle != "failed") return control_error("refunds.settle: succeeded or failed");
      RefundStatus to = *settle == "succeeded" ? RefundStatus::succeeded : RefundStatus::failed;
      for (auto& refund : records_) {
        if (refund.status != RefundStatus::pending) continue;
        refund.status = to;
        ledger.set_status(provider_, refund.id, status_word(to));
        ++settled;
      }
    }
    if (next_pending) next_pending_ = static_cast<std::uint64_t>(*next_pending);
    common::JsonWriter json;
    json.begin_object().field("settled", settled).field("next_pending", next_pending_);
    return json_response(http::status::ok, json.end_object().take());
  }
  // payment
  if (!id || id->empty()) return control_error("payment.id: is required");
  PaymentState& state = payment(*id, currency.value_or(""), now);
  if (currency) state.currency = lower(*currency);
  if (captured) state.captured = *captured;
  if (pending_capture) state.pending_capture = *pending_capture;
  if (refundable) state.refundable = *refundable;
  if (refunded_by_hand && *refunded_by_hand > 0) {
    RefundRecord manual;
    manual.id = *id + "_manual_" + std::to_string(next_manual_++);
    manual.amount = *refunded_by_hand;
    manual.created = now;
    std::uint64_t keep = next_pending_;
    next_pending_ = 0;  // a refund made by hand is done
    add_refund(state, std::move(manual));
    next_pending_ = keep;
  }
  common::JsonWriter json;
  json.begin_object().field("id", state.id).field("captured_minor", state.captured);
  json.field("refunded_minor", refunded(state)).field("currency", state.currency);
  return json_response(http::status::ok, json.end_object().take());
}

}  // namespace rescind::sandbox
