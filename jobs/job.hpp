// A cancellation job, schema v1 (design.md, "The job"), as a typed value.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rescind::jobs {

enum class Kind { order_canceled, refund_requested, dispute_opened, order_unfulfillable };

std::string_view to_string(Kind kind);
std::optional<Kind> kind_from(std::string_view text);

struct LineItem {
  std::string sku;
  std::int64_t quantity = 0;
  std::string location_id;
};

struct Shop {
  std::string platform;  // shopify, woocommerce, bigcommerce, …
  std::string domain;
};

struct Order {
  std::string id;
  std::string name;      // what the customer sees: "#1001"
  std::string currency;  // ISO 4217
  std::int64_t total_minor = 0;
  std::string created_at;          // optional RFC 3339: when the order was placed (refund policy)
  std::string financial_status;    // paid, partially_paid, pending, refunded, voided, …
  std::string fulfillment_status;  // unfulfilled, partial, fulfilled
  std::vector<LineItem> line_items;

  bool paid() const { return financial_status == "paid" || financial_status == "partially_paid"; }
};

struct Customer {
  std::string email;
  std::string phone;  // E.164
  std::string name;
};

struct Payment {
  std::string provider;   // stripe, paypal, square, or the platform itself
  std::string reference;  // pi_…, a capture id, a payment id
};

struct Refund {
  std::int64_t amount_minor = 0;                 // defaults to the order total
  std::string reason = "requested_by_customer";  // requested_by_customer | duplicate | fraudulent
};

// dispute.opened only: what the payment provider reported.
struct Dispute {
  std::string reason;           // fraudulent, product_not_received, …
  std::string evidence_due_by;  // RFC 3339
};

struct Notify {
  bool email = false;
  bool sms = false;
  bool staff = false;
};

struct Job {
  std::string id;  // the event id: root of every idempotency key
  Kind kind = Kind::order_canceled;
  std::string occurred_at;
  Shop shop;
  Order order;
  Customer customer;
  Payment payment;
  Refund refund;
  std::string reason;  // why the order was canceled: customer, inventory, fraud, …
  Notify notify;
  Dispute dispute;
};

// Milliseconds since the epoch of an RFC 3339 timestamp already validated by the parser (0 if not one).
long long timestamp_ms(std::string_view rfc3339);

}  // namespace rescind::jobs
