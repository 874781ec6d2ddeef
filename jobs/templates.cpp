#include "jobs/templates.hpp"

namespace rescind::jobs {
namespace {

constexpr Templates canceled{
    "Your order {order} has been canceled",
    "Hi {name},\n\nyour order {order} has been canceled.\n",
    "We have refunded {amount} to your original payment method; it usually shows within 5-10 business days.\n",
    "Your order {order} was canceled.",
    " Refund of {amount} issued.",
    "Order {order} ({shop}) canceled, reason: {reason}. Event {event}.",
};
constexpr Templates refund_approved{
    "Your refund for order {order}",
    "Hi {name},\n\nas you asked, we canceled order {order} before it shipped.\n",
    "We have refunded {amount} to your original payment method; it usually shows within 5-10 business days.\n",
    "Order {order} canceled as requested.",
    " Refund of {amount} issued.",
    "Refund request for {order} ({shop}) approved: canceled before shipping. Event {event}.",
};
constexpr Templates return_needed{
    "Returning order {order}",
    "Hi {name},\n\norder {order} has already shipped, so it cannot be canceled any more. We have opened a "
    "return for you: reply to this email with the items you are sending back, and once they arrive we refund "
    "{amount}.\n",
    "",
    "Order {order} has shipped; we emailed you how to return it.",
    "",
    "Refund request for shipped order {order} ({shop}): return ticket opened. Event {event}.",
};
constexpr Templates outside_policy{
    "About your refund request for order {order}",
    "Hi {name},\n\norder {order} is outside our refund window, so we cannot refund it automatically. Reply to "
    "this email if you think this is wrong and a person will look at it.\n",
    "",
    "Order {order} is outside the refund window; we emailed you the details.",
    "",
    "Refund request for {order} ({shop}) refused: outside the policy window. Event {event}.",
};
constexpr Templates disputed{
    "",
    "",
    "",
    "",
    "",
    ":rotating_light: Dispute on order {order} ({shop}), reason {reason}: shipment stopped, evidence due {due}. Event "
    "{event}.",
};
constexpr Templates unfulfillable{
    "We are sorry: order {order} cannot be delivered",
    "Hi {name},\n\nwe are sorry: we cannot fulfil order {order} ({reason}), so we have canceled it.\n",
    "We have refunded {amount} to your original payment method; it usually shows within 5-10 business days.\n",
    "Sorry, order {order} could not be fulfilled and was canceled.",
    " Refund of {amount} issued.",
    "Order {order} ({shop}) canceled as unfulfillable: {reason}. Event {event}.",
};

}  // namespace

const Templates& templates_for(Situation situation) {
  switch (situation) {
    case Situation::canceled:
      return canceled;
    case Situation::refund_approved:
      return refund_approved;
    case Situation::return_needed:
      return return_needed;
    case Situation::outside_policy:
      return outside_policy;
    case Situation::disputed:
      return disputed;
    case Situation::unfulfillable:
      return unfulfillable;
  }
  return canceled;
}

}  // namespace rescind::jobs
