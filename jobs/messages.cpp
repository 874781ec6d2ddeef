#include "jobs/messages.hpp"

#include "jobs/money.hpp"
#include "jobs/templates.hpp"

namespace rescind::jobs {

std::string render(std::string_view text, const Job& job) {
  std::string out;
  out.reserve(text.size() + 64);
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '{') {
      out.push_back(text[i]);
      continue;
    }
    auto close = text.find('}', i);
    if (close == std::string_view::npos) {
      out.append(text.substr(i));
      break;
    }
    auto name = text.substr(i + 1, close - i - 1);
    if (name == "order")
      out += job.order.name.empty() ? job.order.id : job.order.name;
    else if (name == "name")
      out += job.customer.name.empty() ? "there" : job.customer.name;
    else if (name == "amount")
      out += format_minor(job.refund.amount_minor, job.order.currency) + " " + job.order.currency;
    else if (name == "reason")
      out += !job.dispute.reason.empty() && job.kind == Kind::dispute_opened ? job.dispute.reason
             : job.reason.empty()                                            ? std::string("not given")
                                                                             : job.reason;
    else if (name == "shop")
      out += job.shop.domain;
    else if (name == "due")
      out += job.dispute.evidence_due_by.empty() ? std::string("unknown") : job.dispute.evidence_due_by;
    else if (name == "event")
      out += job.id;
    else
      out.append(text.substr(i, close - i + 1));  // not a placeholder: keep as written
    i = close;
  }
  return out;
}

EmailMessage customer_email(const Job& job, Situation situation, RefundProgress refund) {
  const auto& t = templates_for(situation);
  EmailMessage message{render(t.email_subject, job), render(t.email_body, job)};
  if (refund == RefundProgress::refunded) message.text += render(t.email_refund_line, job);
  if (refund == RefundProgress::pending && !t.email_refund_line.empty())
    message.text += render(email_refund_pending_line, job);
  message.text += "\nIf you did not ask for this, just reply to this email.\n";
  return message;
}

std::string customer_sms(const Job& job, Situation situation, RefundProgress refund) {
  const auto& t = templates_for(situation);
  auto text = render(t.sms, job);
  if (refund == RefundProgress::refunded) text += render(t.sms_refund_line, job);
  if (refund == RefundProgress::pending && !t.sms_refund_line.empty()) text += render(sms_refund_pending_line, job);
  return text;
}

std::string staff_alert(const Job& job, Situation situation, RefundProgress refund) {
  auto text = render(templates_for(situation).staff, job);
  if (situation == Situation::canceled || situation == Situation::unfulfillable) {
    text += refund == RefundProgress::refunded
                ? " Refunded " + render("{amount}", job) + " via " + job.payment.provider + "."
            : refund == RefundProgress::pending ? " Refund of " + render("{amount}", job) + " via " +
                                                      job.payment.provider + " is pending at the provider."
                                                : std::string(" No refund.");
  }
  return text;
}

TicketMessage support_ticket(const Job& job, Situation situation) {
  if (situation == Situation::disputed) {
    return {render("Dispute: order {order}, evidence due {due}", job),
            render("The payment for order {order} ({shop}) is disputed ({reason}). Shipment was stopped if it had not "
                   "left. Submit evidence before {due}. Payment {event}.",
                   job) +
                " Reference " + job.payment.reference + ".",
            "urgent", "dispute"};
  }
  return {render("Return for order {order}", job),
          render("{name} asked for a refund of shipped order {order} ({shop}). Arrange the return; refund {amount} "
                 "once the items are back. Event {event}.",
                 job),
          "normal", "return"};
}

}  // namespace rescind::jobs
