// Job schema v1: what is accepted, and that every defect is named by its field.
#include <gtest/gtest.h>

#include "jobs/parse.hpp"
#include "tests/support/stack.hpp"

namespace rescind::jobs {
namespace {

const std::string valid = testing::job_json("evt_01JD4W8Z9X");

std::string with(std::string json, const std::string& from, const std::string& to) {
  auto at = json.find(from);
  if (at == std::string::npos) throw std::logic_error("sample has no '" + from + "'");
  return json.replace(at, from.size(), to);
}

InvalidJob defect_of(const std::string& json) {
  JobParser parser;
  auto result = parser.parse(json);
  if (auto* invalid = std::get_if<InvalidJob>(&result)) return *invalid;
  return {"(none)", "parsed"};
}

TEST(Parse, AcceptsTheDesignSample) {
  JobParser parser;
  auto result = parser.parse(valid);
  ASSERT_TRUE(std::holds_alternative<Job>(result)) << std::get<InvalidJob>(result).reason();
  const auto& job = std::get<Job>(result);
  EXPECT_EQ(job.id, "evt_01JD4W8Z9X");
  EXPECT_EQ(job.kind, Kind::order_canceled);
  EXPECT_EQ(job.order.total_minor, 14900);
  EXPECT_EQ(job.order.currency, "USD");
  EXPECT_EQ(job.refund.amount_minor, 14900) << "refund defaults to the order total";
  EXPECT_EQ(job.payment.reference, "pi_3MtwBwLkdIwHu7ix28a3tqPa");
  ASSERT_EQ(job.order.line_items.size(), 1u);
  EXPECT_EQ(job.order.line_items[0].quantity, 2);
  EXPECT_TRUE(job.notify.email && job.notify.sms && job.notify.staff);
}

TEST(Parse, IgnoresUnknownFieldsAndAcceptsAPartialRefund) {
  JobParser parser;
  auto json = with(valid, R"("reason":"customer")",
                   R"("reason":"customer","future":{"x":[1,2]},"refund":{"amount_minor":5000,"reason":"duplicate"})");
  auto result = parser.parse(json);
  ASSERT_TRUE(std::holds_alternative<Job>(result)) << std::get<InvalidJob>(result).reason();
  EXPECT_EQ(std::get<Job>(result).refund.amount_minor, 5000);
  EXPECT_EQ(std::get<Job>(result).refund.reason, "duplicate");
}

TEST(Parse, OneParserParsesManyJobs) {
  JobParser parser;
  for (int i = 0; i < 3; ++i) {
    auto result = parser.parse(testing::job_json("evt_" + std::to_string(i), 100 + i));
    ASSERT_TRUE(std::holds_alternative<Job>(result));
    EXPECT_EQ(std::get<Job>(result).order.total_minor, 100 + i);
  }
}

struct Case {
  const char* name;
  std::string json;
  std::string field;
};

class Defects : public ::testing::TestWithParam<Case> {};

TEST_P(Defects, NameTheField) {
  auto defect = defect_of(GetParam().json);
  EXPECT_EQ(defect.field, GetParam().field) << defect.reason();
  EXPECT_FALSE(defect.problem.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Schema, Defects,
    ::testing::Values(
        Case{"missing_v", with(valid, R"("v":1,)", ""), "v"},
        Case{"missing_id", with(valid, R"("id":"evt_01JD4W8Z9X",)", ""), "id"},
        Case{"missing_kind", with(valid, R"("kind":"order.canceled",)", ""), "kind"},
        Case{"missing_occurred_at", with(valid, R"("occurred_at":"2026-11-22T16:00:00Z",)", ""), "occurred_at"},
        Case{"missing_shop", with(valid, R"("shop":{"platform":"shopify","domain":"acme-crafts.myshopify.com"},)", ""), "shop"},
        Case{"missing_shop_domain", with(valid, R"(,"domain":"acme-crafts.myshopify.com")", ""), "shop.domain"},
        Case{"missing_order_id", with(valid, R"("id":"450789469",)", ""), "order.id"},
        Case{"missing_currency", with(valid, R"("currency":"USD",)", ""), "order.currency"},
        Case{"missing_total", with(valid, R"("total_minor":14900,)", ""), "order.total_minor"},
        Case{"missing_financial_status", with(valid, R"("financial_status":"paid",)", ""), "order.financial_status"},
        Case{"missing_fulfillment_status", with(valid, R"("fulfillment_status":"unfulfilled",)", ""), "order.fulfillment_status"},
        Case{"missing_payment_when_paid", with(valid, R"("payment":{"provider":"stripe","reference":"pi_3MtwBwLkdIwHu7ix28a3tqPa"},)", ""), "payment"},
        Case{"missing_payment_reference", with(valid, R"(,"reference":"pi_3MtwBwLkdIwHu7ix28a3tqPa")", ""), "payment.reference"},
        Case{"missing_email_to_notify", with(valid, R"("email":"ana@example.com",)", ""), "customer.email"},
        Case{"missing_phone_to_notify", with(valid, R"("phone":"+15555550100",)", ""), "customer.phone"},
        Case{"v_wrong_type", with(valid, R"("v":1)", R"("v":"1")"), "v"},
        Case{"v_unsupported", with(valid, R"("v":1)", R"("v":2)"), "v"},
        Case{"id_wrong_type", with(valid, R"("id":"evt_01JD4W8Z9X")", R"("id":42)"), "id"},
        Case{"id_injection", with(valid, R"("id":"evt_01JD4W8Z9X")", R"("id":"evt/../x\r\nX-Evil: 1")"), "id"},
        Case{"id_too_long", with(valid, R"("id":"evt_01JD4W8Z9X")", R"("id":")" + std::string(129, 'a') + "\""), "id"},
        Case{"kind_unknown", with(valid, R"("kind":"order.canceled")", R"("kind":"order.exploded")"), "kind"},
        Case{"timestamp_malformed", with(valid, "2026-11-22T16:00:00Z", "22/11/2026 16:00"), "occurred_at"},
        Case{"timestamp_month_13", with(valid, "2026-11-22T16:00:00Z", "2026-13-22T16:00:00Z"), "occurred_at"},
        Case{"currency_unknown", with(valid, R"("currency":"USD")", R"("currency":"XYZ")"), "order.currency"},
        Case{"currency_lowercase", with(valid, R"("currency":"USD")", R"("currency":"usd")"), "order.currency"},
        Case{"total_float", with(valid, R"("total_minor":14900)", R"("total_minor":149.00)"), "order.total_minor"},
        Case{"total_string", with(valid, R"("total_minor":14900)", R"("total_minor":"14900")"), "order.total_minor"},
        Case{"total_negative", with(valid, R"("total_minor":14900)", R"("total_minor":-1)"), "order.total_minor"},
        Case{"refund_negative", with(valid, R"("reason":"customer")", R"("reason":"customer","refund":{"amount_minor":-5})"), "refund.amount_minor"},
        Case{"refund_above_total", with(valid, R"("reason":"customer")", R"("reason":"customer","refund":{"amount_minor":14901})"), "refund.amount_minor"},
        Case{"refund_reason_unknown", with(valid, R"("reason":"customer")", R"("reason":"customer","refund":{"reason":"because"})"), "refund.reason"},
        Case{"quantity_zero", with(valid, R"("quantity":2)", R"("quantity":0)"), "order.line_items[0].quantity"},
        Case{"line_items_not_array", with(valid, R"("line_items":[{"sku":"ACR-RED-500","quantity":2,"location_id":"655441491"}])", R"("line_items":{})"), "order.line_items"},
        Case{"email_malformed", with(valid, "ana@example.com", "ana-at-example"), "customer.email"},
        Case{"phone_not_e164", with(valid, "+15555550100", "555-0100"), "customer.phone"},
        Case{"order_not_object", with(valid, R"("order":{)", R"("order":[],"x":{)"), "order"},
        Case{"notify_unknown_channel", with(valid, R"(["email","sms","staff"])", R"(["email","pigeon"])"), "notify[1]"},
        Case{"not_json", "{\"v\":1,", "payload"},
        Case{"not_an_object", "[1,2,3]", "payload"},
        Case{"oversized", with(valid, R"("reason":"customer")", R"("reason":"customer","pad":")" + std::string(70 * 1024, 'x') + "\""), "payload"}),
    [](const ::testing::TestParamInfo<Case>& info) { return std::string(info.param.name); });

TEST(Parse, SafeIds) {
  EXPECT_TRUE(is_safe_id("evt_01JD4W8Z9X"));
  EXPECT_TRUE(is_safe_id("a.b:c-d_e"));
  EXPECT_FALSE(is_safe_id(""));
  EXPECT_FALSE(is_safe_id("a/b"));
  EXPECT_FALSE(is_safe_id("a b"));
  EXPECT_FALSE(is_safe_id(std::string(129, 'a')));
}

}  // namespace
}  // namespace rescind::jobs
