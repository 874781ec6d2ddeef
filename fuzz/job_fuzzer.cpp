// A job payload's whole way through the worker before any network: JobParser::parse, then for
// an accepted job plan_for and every message any plan could send. design.md's promises are
// checked on every input and a broken one aborts (libFuzzer keeps the input):
// a bad job is refused with its field named, never accepted half-checked; an accepted job is
// exactly one valid JSON document with one value per field, sane money, real dates, and names
// that cannot break the lines of an SMS, an email header or a Slack post.
#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "jobs/messages.hpp"
#include "jobs/money.hpp"
#include "jobs/parse.hpp"
#include "jobs/plan.hpp"
#include "jobs/templates.hpp"

namespace {

using namespace rescind::jobs;

[[noreturn]] void violated(const char* promise, std::string_view detail) {
  std::fprintf(stderr, "\nINVARIANT VIOLATED: %s\n  %.*s\n", promise, static_cast<int>(detail.size()), detail.data());
  std::abort();
}
#define REQUIRE(condition, detail)                  \
  do {                                              \
    if (!(condition)) violated(#condition, detail); \
  } while (0)

// simdjson's DOM parser validates the whole document (On-Demand only what it visits): the
// independent judge of "one valid JSON object".
bool one_valid_json_object(std::string_view text, simdjson::dom::element& root) {
  static simdjson::dom::parser parser;
  return !parser.parse(text.data(), text.size()).get(root) && root.is_object();
}

// No object anywhere in the document has the same key twice.
bool keys_unique(simdjson::dom::element element) {
  if (auto object = element.get_object(); !object.error()) {
    std::vector<std::string_view> keys;
    for (auto field : object.value_unsafe()) {
      keys.push_back(field.key);
      if (!keys_unique(field.value)) return false;
    }
    std::sort(keys.begin(), keys.end());
    return std::adjacent_find(keys.begin(), keys.end()) == keys.end();
  }
  if (auto array = element.get_array(); !array.error()) {
    for (auto item : array.value_unsafe()) {
      if (!keys_unique(item)) return false;
    }
  }
  return true;
}

// C0 and C1 controls, DEL, U+2028/U+2029; `allowed` lists the ones a template itself writes.
bool free_of_controls(std::string_view text, std::string_view allowed = {}) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if ((c < 0x20 || c == 0x7f) && allowed.find(static_cast<char>(c)) == std::string_view::npos) return false;
    if (c == 0xc2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
        static_cast<unsigned char>(text[i + 1]) <= 0x9f) {
      return false;
    }
    if (c == 0xe2 && i + 2 < text.size() && static_cast<unsigned char>(text[i + 1]) == 0x80 &&
        (static_cast<unsigned char>(text[i + 2]) == 0xa8 || static_cast<unsigned char>(text[i + 2]) == 0xa9)) {
      return false;
    }
  }
  return true;
}

// An independent calendar (C++20 <chrono>), not the parser's own table.
bool real_timestamp(std::string_view t) {
  if (t.size() < 20) return false;
  auto number = [&](std::size_t from, std::size_t n) {
    int v = 0;
    for (std::size_t i = from; i < from + n; ++i) v = v * 10 + (t[i] - '0');
    return v;
  };
  using namespace std::chrono;
  year_month_day date{year{number(0, 4)}, month{static_cast<unsigned>(number(5, 2))},
                      day{static_cast<unsigned>(number(8, 2))}};
  if (!date.ok()) return false;
  int hour = number(11, 2), minute = number(14, 2), second = number(17, 2);
  if (hour > 23 || minute > 59 || second > 60) return false;
  if (second == 60) {  // a leap second: 23:59:60 UTC, whatever the offset says locally
    int offset = 0;
    if (auto sign = t.find_first_of("+-", 19); sign != std::string_view::npos) {
      offset = (t[sign] == '+' ? 1 : -1) * (number(sign + 1, 2) * 60 + number(sign + 4, 2));
    }
    if (((hour * 60 + minute - offset) % 1440 + 1440) % 1440 != 23 * 60 + 59) return false;
  }
  return true;
}

// format_minor's text read back: the same number of minor units, the currency's decimals.
void check_amount_text(std::int64_t minor, const std::string& currency) {
  auto text = format_minor(minor, currency);
  int exponent = currency_exponent(currency).value_or(2);
  auto dot = text.find('.');
  REQUIRE((exponent == 0) == (dot == std::string::npos), text);
  if (dot != std::string::npos) REQUIRE(text.size() - dot - 1 == static_cast<std::size_t>(exponent), text);
  std::string digits;
  for (char c : text) {
    if (c != '.') digits += c;
  }
  REQUIRE(std::to_string(minor) == std::to_string(std::stoll(digits)), text);
}

void check_plan(const Job& job, const Plan& plan) {
  REQUIRE(plan.steps.size() <= 32, "a plan has at most 32 steps (the dependency bit mask)");
  std::uint32_t roles_seen = 0;
  for (std::size_t i = 0; i < plan.steps.size(); ++i) {
    const auto& step = plan.steps[i];
    REQUIRE((step.after >> i) == 0, "a step waits only for earlier steps: " + std::string(to_string(step.role)));
    auto bit = 1u << static_cast<unsigned>(step.role);
    REQUIRE((roles_seen & bit) == 0, "a role appears once in a plan: " + std::string(to_string(step.role)));
    roles_seen |= bit;
    if (step.role == Role::refund) {
      REQUIRE(job.order.paid() && job.refund.amount_minor > 0,
              "money moves only for a paid order with something to refund");
      REQUIRE(plan.situation != Situation::outside_policy && plan.situation != Situation::disputed &&
                  plan.situation != Situation::return_needed,
              "no refund outside the policy window, in a dispute or before a return");
      REQUIRE(!job.payment.provider.empty() && is_safe_id(job.payment.reference, 255),
              "a refund has a payment to refund");
    }
  }
}

void check_messages(const Job& job) {
  for (auto situation : {Situation::canceled, Situation::refund_approved, Situation::return_needed,
                         Situation::outside_policy, Situation::disputed, Situation::unfulfillable}) {
    for (auto refunded : {RefundProgress::none, RefundProgress::pending, RefundProgress::refunded}) {
      auto email = customer_email(job, situation, refunded);
      REQUIRE(free_of_controls(email.subject),
              "an email subject (a header) has no control character: " + email.subject);
      REQUIRE(free_of_controls(email.text, "\n"), "an email body has only the template's line breaks");
      auto sms = customer_sms(job, situation, refunded);
      REQUIRE(free_of_controls(sms), "an SMS has no control character: " + sms);
      auto alert = staff_alert(job, situation, refunded);
      REQUIRE(free_of_controls(alert), "a staff alert has no control character: " + alert);
    }
    auto ticket = support_ticket(job, situation);
    REQUIRE(free_of_controls(ticket.subject), "a ticket subject has no control character: " + ticket.subject);
    REQUIRE(free_of_controls(ticket.body), "a ticket body has no control character");
  }
}

void check_accepted(std::string_view payload, const Job& job) {
  simdjson::dom::element root;
  REQUIRE(one_valid_json_object(payload, root), "an accepted job is one valid JSON object");
  REQUIRE(keys_unique(root), "an accepted job has one value per field, at every level");

  REQUIRE(is_safe_id(job.id), job.id);
  REQUIRE(is_safe_id(job.order.id), job.order.id);
  REQUIRE(currency_exponent(job.order.currency).has_value(), job.order.currency);
  REQUIRE(job.order.total_minor >= 0, "the order total is not negative");
  REQUIRE(job.refund.amount_minor >= 0, "the refund is not negative");
  REQUIRE(job.refund.amount_minor <= job.order.total_minor, "the refund is at most the order total");
  REQUIRE(real_timestamp(job.occurred_at), job.occurred_at);
  REQUIRE(job.order.created_at.empty() || real_timestamp(job.order.created_at), job.order.created_at);
  REQUIRE(job.dispute.evidence_due_by.empty() || real_timestamp(job.dispute.evidence_due_by),
          job.dispute.evidence_due_by);
  REQUIRE(!job.notify.email || !job.customer.email.empty(), "email needs an address");
  REQUIRE(!job.notify.sms || !job.customer.phone.empty(), "sms needs a number");
  REQUIRE(!job.order.paid() || !job.payment.provider.empty(), "a paid order has a payment");
  for (const auto& line : job.order.line_items) {
    REQUIRE(line.quantity > 0, "a line item has a positive quantity");
    REQUIRE(free_of_controls(line.sku), line.sku);
  }
  for (const auto* text :
       {&job.customer.name, &job.customer.email, &job.order.name, &job.reason, &job.dispute.reason}) {
    REQUIRE(free_of_controls(*text), "names and reasons have no control character: " + *text);
  }
  (void)timestamp_ms(job.occurred_at);
  if (!job.order.created_at.empty()) (void)timestamp_ms(job.order.created_at);

  check_amount_text(job.refund.amount_minor, job.order.currency);
  check_amount_text(job.order.total_minor, job.order.currency);
  for (bool record : {false, true}) {
    PlanContext context;
    context.record_configured = record;
    check_plan(job, plan_for(job, context));
  }
  check_messages(job);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static JobParser parser;  // one for every input, as the worker keeps one: buffers are reused
  std::string_view payload(reinterpret_cast<const char*>(data), size);
  auto result = parser.parse(payload);
  if (auto* invalid = std::get_if<InvalidJob>(&result)) {
    REQUIRE(!invalid->field.empty() && !invalid->problem.empty(), "a refusal names the field and the problem");
    return 0;
  }
  check_accepted(payload, std::get<Job>(result));
  return 0;
}
