// TEMPORARY (lead): stand-ins until the payment clients' lookups land from i12-payments.
#include "clients/paypal.hpp"
#include "clients/square.hpp"
#include "clients/stripe.hpp"

namespace rescind::clients {
namespace {
RefundState not_yet() {
  return RefundState{RefundState::Kind::unknown, {}, "lookup not implemented",
                     retry::Outcome::transport_failure("lookup not implemented")};
}
}  // namespace
asio::awaitable<RefundState> StripeRefunds::find_refund(const jobs::Job&) { co_return not_yet(); }
asio::awaitable<RefundState> StripeRefunds::refund_status(const jobs::Job&, std::string_view) { co_return not_yet(); }
asio::awaitable<RefundState> PayPalRefunds::find_refund(const jobs::Job&) { co_return not_yet(); }
asio::awaitable<RefundState> PayPalRefunds::refund_status(const jobs::Job&, std::string_view) { co_return not_yet(); }
asio::awaitable<RefundState> SquareRefunds::find_refund(const jobs::Job&) { co_return not_yet(); }
asio::awaitable<RefundState> SquareRefunds::refund_status(const jobs::Job&, std::string_view) { co_return not_yet(); }
}  // namespace rescind::clients
