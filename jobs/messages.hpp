// What the customer and the staff are told, written from the job. The wording lives here,
// in one place, so every provider sends the same text.
#pragma once
#include <string>

#include "jobs/job.hpp"

namespace rescind::jobs {

struct EmailMessage {
  std::string subject;
  std::string text;
};

EmailMessage customer_email(const Job& job, bool refunded);
std::string customer_sms(const Job& job, bool refunded);
std::string staff_alert(const Job& job, bool refunded);

}  // namespace rescind::jobs
