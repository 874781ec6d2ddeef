// What the customer, the staff and the support desk are told, rendered from the templates
// in jobs/templates.cpp with the order name, the amount in its currency and the reason.
#pragma once
#include <string>

#include "jobs/job.hpp"
#include "jobs/plan.hpp"

namespace rescind::jobs {

struct EmailMessage {
  std::string subject;
  std::string text;
};

struct TicketMessage {
  std::string subject;
  std::string body;
  std::string priority;  // urgent, high, normal, low
  std::string tag;       // return, dispute
};

EmailMessage customer_email(const Job& job, Situation situation, bool refunded);
std::string customer_sms(const Job& job, Situation situation, bool refunded);
std::string staff_alert(const Job& job, Situation situation, bool refunded);
TicketMessage support_ticket(const Job& job, Situation situation);

// Replaces {order}, {name}, {amount}, {reason}, {shop}, {due}, {event} in `text`.
std::string render(std::string_view text, const Job& job);

}  // namespace rescind::jobs
