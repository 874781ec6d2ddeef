#include "jobs/messages.hpp"

#include "jobs/money.hpp"

namespace rescind::jobs {
namespace {

std::string order_label(const Job& job) { return job.order.name.empty() ? job.order.id : job.order.name; }

std::string refund_amount(const Job& job) {
  return format_minor(job.refund.amount_minor, job.order.currency) + " " + job.order.currency;
}

}  // namespace

EmailMessage customer_email(const Job& job, bool refunded) {
  EmailMessage message;
  message.subject = "Your order " + order_label(job) + " has been canceled";
  std::string greeting = job.customer.name.empty() ? "Hello" : "Hi " + job.customer.name;
  message.text = greeting + ",\n\nyour order " + order_label(job) + " has been canceled.\n";
  if (refunded) {
    message.text += "We have refunded " + refund_amount(job) +
                    " to your original payment method; it usually shows within 5-10 business days.\n";
  }
  message.text += "\nIf you did not ask for this, just reply to this email.\n";
  return message;
}

std::string customer_sms(const Job& job, bool refunded) {
  std::string text = "Your order " + order_label(job) + " was canceled.";
  if (refunded) text += " Refund of " + refund_amount(job) + " issued.";
  return text;
}

std::string staff_alert(const Job& job, bool refunded) {
  std::string text = "Order " + order_label(job) + " (" + job.shop.domain + ") canceled";
  if (!job.reason.empty()) text += ", reason: " + job.reason;
  text += refunded ? "; refunded " + refund_amount(job) + " via " + job.payment.provider : "; no refund";
  return text + ". Event " + job.id + ".";
}

}  // namespace rescind::jobs
