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

// What the messages may say about the money: nothing (no refund, or not yet), that it is on
// its way (the provider accepted the refund but reports it pending), or that it is refunded.
// The customer is never told a refund arrived that the provider has not completed.
enum class RefundProgress { none, pending, refunded };

EmailMessage customer_email(const Job& job, Situation situation, RefundProgress refund);
std::string customer_sms(const Job& job, Situation situation, RefundProgress refund);
std::string staff_alert(const Job& job, Situation situation, RefundProgress refund);
TicketMessage support_ticket(const Job& job, Situation situation);

// Replaces {order}, {name}, {amount}, {reason}, {shop}, {due}, {event} in `text`.
std::string render(std::string_view text, const Job& job);

}  // namespace rescind::jobs
