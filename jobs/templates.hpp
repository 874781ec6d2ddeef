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

}  // namespace rescind::jobs
