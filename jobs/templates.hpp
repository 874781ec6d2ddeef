// The message templates, one per situation and channel. Wording changes go here only.
#pragma once
#include <string_view>

#include "jobs/plan.hpp"

namespace rescind::jobs {

struct Templates {
  std::string_view email_subject;
  std::string_view email_body;
  std::string_view email_refund_line;  // appended when a refund happened
  std::string_view sms;
  std::string_view sms_refund_line;
  std::string_view staff;
};

const Templates& templates_for(Situation situation);

// Said instead of a situation's refund line while the provider reports the refund pending
// (an eCheck, a bank transfer, a refund that needs the customer's action): on its way, not
// arrived. The same words for every situation that refunds.
inline constexpr std::string_view email_refund_pending_line =
    "We have asked your payment provider to refund {amount} to your original payment method. The refund is on "
    "its way but not complete yet; we will write again if there is a problem.\n";
inline constexpr std::string_view sms_refund_pending_line = " Refund of {amount} is on its way.";

}  // namespace rescind::jobs
