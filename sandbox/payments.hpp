// The payments a fake payment provider (Stripe, PayPal, Square) refunds against: what was
// captured, in which currency, and every refund made on it, so over-refunds, refunds made
// by hand, pending refunds and funding refusals answer as the providers do. One book per
// provider; the provider turns its state into its own words and error shapes.
//
// Control endpoints, the same for the three providers (POST /__<provider>/<action>, JSON):
//   payment  {"id":"pi_1","captured_minor":10000,"currency":"usd","refunded_minor":2500,
//             "pending_capture":false,"refundable":true}
//            sets one payment's state (every field but id optional); refunded_minor is a
//            refund made by hand (outside the API), filed as a refund without a job.
//   refunds  {"next_pending":N}: the next N refunds are answered pending;
//            {"settle":"succeeded"|"failed"}: every pending refund ends so (the ledger's
//            status follows). Both may be given; settle runs first.
//   funds    {"insufficient":true|false}: refunds are refused for lack of balance/funds
//            (Stripe balance_insufficient, PayPal REFUND_FAILED_INSUFFICIENT_FUNDS).
// An id never set is created on first use: captured for `default_captured` minor units (so
// many jobs can refund one test payment without exhausting it), in the currency of the first
// refund that names one (PayPal, Square) or the book's default (Stripe, which has none).
#pragma once
#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sandbox/http.hpp"
#include "sandbox/ledger.hpp"

namespace rescind::sandbox {

enum class RefundStatus { pending, succeeded, failed };
std::string_view status_word(RefundStatus status);  // "pending", "succeeded", "failed" (the ledger's)

struct RefundRecord {
  std::string id;
  std::string payment;
  std::int64_t amount = 0;  // the provider's minor units
  std::string currency;     // lower-case ISO 4217
  RefundStatus status = RefundStatus::succeeded;
  std::string job_id;                                         // empty: made by hand
  std::string invoice_id;                                     // PayPal
  std::string reason;                                         // Stripe's reason word, Square's free text
  std::vector<std::pair<std::string, std::string>> metadata;  // Stripe
  std::chrono::system_clock::time_point created;
};

struct PaymentState {
  std::string id;
  std::int64_t captured = 0;
  std::string currency;  // lower-case; empty until known
  bool pending_capture = false;
  bool refundable = true;
  std::vector<std::size_t> refunds;  // into PaymentBook's records, oldest first
  std::chrono::system_clock::time_point created;
};

class PaymentBook {
 public:
  static constexpr std::int64_t default_captured = 1'000'000'000'000;  // 10^12 minor units

  explicit PaymentBook(std::string provider, std::string default_currency = {})
      : provider_(std::move(provider)), default_currency_(std::move(default_currency)) {}

  // The payment `id`, created on first use (see above); `currency` adopted if it has none.
  PaymentState& payment(std::string_view id, std::string_view currency, std::chrono::system_clock::time_point now);
  const PaymentState* find_payment(std::string_view id) const;

  // Pending and succeeded refunds count: pending money is spoken for.
  std::int64_t refunded(const PaymentState& payment) const;
  std::int64_t completed(const PaymentState& payment) const;  // succeeded only
  std::int64_t remaining(const PaymentState& payment) const { return payment.captured - refunded(payment); }
  bool has_pending(const PaymentState& payment) const;
  bool fully_refunded(const PaymentState& payment) const { return remaining(payment) <= 0; }

  // Files a refund; pending when a `next_pending` is left (and consumes it), else succeeded.
  const RefundRecord& add_refund(PaymentState& payment, RefundRecord refund);
  const RefundRecord* find_refund(std::string_view id) const;
  const RefundRecord& record(std::size_t index) const { return records_[index]; }
  // Every refund for which `match` holds, oldest first.
  template <class Match>
  std::vector<const RefundRecord*> refunds_where(Match&& match) const {
    std::vector<const RefundRecord*> out;
    for (const auto& refund : records_) {
      if (match(refund)) out.push_back(&refund);
    }
    return out;
  }

  bool insufficient_funds() const { return insufficient_funds_; }

  // POST /__<provider>/<action>: nullopt when the action is not one of the book's.
  std::optional<Response> control(std::string_view action, Request& request, Ledger& ledger,
                                  std::chrono::system_clock::time_point now);
  void clear();

 private:
  std::string provider_;
  std::string default_currency_;
  std::deque<RefundRecord> records_;  // a deque: references stay valid as it grows
  std::unordered_map<std::string, std::size_t> refund_index_;
  std::unordered_map<std::string, PaymentState> payments_;
  std::uint64_t next_pending_ = 0;
  bool insufficient_funds_ = false;
  std::uint64_t next_manual_ = 1;
};

}  // namespace rescind::sandbox
