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
        Case{"missing_shop", with(valid, R"("shop":{"platform":"shopify","domain":"acme-crafts.myshopify.com"},)", ""),
             "shop"},
        Case{"missing_shop_domain", with(valid, R"(,"domain":"acme-crafts.myshopify.com")", ""), "shop.domain"},
        Case{"missing_order_id", with(valid, R"("id":"450789469",)", ""), "order.id"},
        Case{"missing_currency", with(valid, R"("currency":"USD",)", ""), "order.currency"},
        Case{"missing_total", with(valid, R"("total_minor":14900,)", ""), "order.total_minor"},
        Case{"missing_financial_status", with(valid, R"("financial_status":"paid",)", ""), "order.financial_status"},
        Case{"missing_fulfillment_status", with(valid, R"("fulfillment_status":"unfulfilled",)", ""),
             "order.fulfillment_status"},
        Case{"missing_payment_when_paid",
             with(valid, R"("payment":{"provider":"stripe","reference":"pi_3MtwBwLkdIwHu7ix28a3tqPa"},)", ""),
             "payment"},
        Case{"missing_payment_reference", with(valid, R"(,"reference":"pi_3MtwBwLkdIwHu7ix28a3tqPa")", ""),
             "payment.reference"},
        Case{"dot_dot_payment_reference",
             with(valid, R"("reference":"pi_3MtwBwLkdIwHu7ix28a3tqPa")", R"("reference":"..")"), "payment.reference"},
        Case{"subject_line_break_in_order_name",
             with(valid, R"("name":"#1001")", R"("name":"#1001\r\nBcc: x@evil.example")"), "order.name"},
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
        Case{"refund_negative",
             with(valid, R"("reason":"customer")", R"("reason":"customer","refund":{"amount_minor":-5})"),
             "refund.amount_minor"},
        Case{"refund_above_total",
             with(valid, R"("reason":"customer")", R"("reason":"customer","refund":{"amount_minor":14901})"),
             "refund.amount_minor"},
        Case{"refund_reason_unknown",
             with(valid, R"("reason":"customer")", R"("reason":"customer","refund":{"reason":"because"})"),
             "refund.reason"},
        Case{"quantity_zero", with(valid, R"("quantity":2)", R"("quantity":0)"), "order.line_items[0].quantity"},
        Case{"line_items_not_array",
             with(valid, R"("line_items":[{"sku":"ACR-RED-500","quantity":2,"location_id":"655441491"}])",
                  R"("line_items":{})"),
             "order.line_items"},
        Case{"email_malformed", with(valid, "ana@example.com", "ana-at-example"), "customer.email"},
        Case{"phone_not_e164", with(valid, "+15555550100", "555-0100"), "customer.phone"},
        Case{"order_not_object", with(valid, R"("order":{)", R"("order":[],"x":{)"), "order"},
        Case{"notify_unknown_channel", with(valid, R"(["email","sms","staff"])", R"(["email","pigeon"])"), "notify[1]"},
        Case{"not_json", "{\"v\":1,", "payload"}, Case{"not_an_object", "[1,2,3]", "payload"},
        Case{"oversized",
             with(valid, R"("reason":"customer")",
                  R"("reason":"customer","pad":")" + std::string(70 * 1024, 'x') + "\""),
             "payload"}),
    [](const ::testing::TestParamInfo<Case>& info) { return std::string(info.param.name); });

// A job document is exactly one JSON object, valid throughout: On-Demand checks only what it
// visits, so these are the inputs it let through before (D7, D8 of the reliability probe).
TEST(Parse, AcceptsTrailingWhitespaceAndValidUnknownValuesOfEveryType) {
  JobParser parser;
  auto json =
      with(valid, R"("reason":"customer")",
           R"("reason":"customer","future":{"x":[1,-0,2.5e3,true,false,null,"\u00e9\n\"",[],{}],"y":{"z":{}}})");
  auto result = parser.parse(json + " \n\t ");
  ASSERT_TRUE(std::holds_alternative<Job>(result)) << std::get<InvalidJob>(result).reason();
}

TEST(Parse, AcceptsCalendarEdgesThatExist) {
  JobParser parser;
  for (const char* t : {"2028-02-29T12:00:00Z", "2000-02-29T00:00:00Z", "2026-12-31T23:59:60Z",
                        "2027-01-01T00:59:60+01:00", "2026-12-31T18:59:60-05:00", "2026-04-30T23:59:59.999z"}) {
    auto result = parser.parse(with(valid, "2026-11-22T16:00:00Z", t));
    EXPECT_TRUE(std::holds_alternative<Job>(result)) << t << ": " << std::get<InvalidJob>(result).reason();
  }
}

TEST(Parse, AcceptsNamesInAnyScript) {
  JobParser parser;
  auto result = parser.parse(
      with(valid, R"("name":"Ana")", R"("name":"Zo\u00eb \u00c5ngstr\u00f6m \u5c71\u7530 \u0639\u0644\u064a")"));
  ASSERT_TRUE(std::holds_alternative<Job>(result)) << std::get<InvalidJob>(result).reason();
  EXPECT_EQ(std::get<Job>(result).customer.name, "Zoë Ångström 山田 علي");
}

// The one a producer that forgets the newline writes: the second job must not vanish.
TEST(Parse, RefusesASecondJobInTheSameDocument) {
  auto defect = defect_of(valid + testing::job_json("evt_other"));
  EXPECT_EQ(defect.field, "payload") << defect.reason();
  EXPECT_NE(defect.problem.find("after the job"), std::string::npos) << defect.reason();
}

TEST(Parse, ARepeatedLineItemsArrayIsRefusedNotConcatenated) {
  auto json = with(valid, R"(]},)", R"(],"line_items":[{"sku":"B","quantity":1},{"sku":"C","quantity":1}]},)");
  auto defect = defect_of(json);
  EXPECT_EQ(defect.field, "order.line_items") << defect.reason();
  EXPECT_NE(defect.problem.find("more than once"), std::string::npos) << defect.reason();
}

TEST(Parse, AControlCharacterIsNamedByCodePoint) {
  auto defect = defect_of(with(valid, R"("name":"Ana")", R"("name":"Ana\nX")"));
  EXPECT_EQ(defect.field, "customer.name");
  EXPECT_NE(defect.problem.find("U+000A"), std::string::npos) << defect.reason();
}

// The worker keeps one parser: a job refused half-way must leave nothing behind for the next.
TEST(Parse, OneParserRefusesThenAccepts) {
  JobParser parser;
  for (const auto& bad :
       {valid + valid, with(valid, R"("reason":"customer")", R"("reason":"customer","n":{"a":[{"b":tru}]})"),
        with(valid, R"("v":1,)", R"("v":1,"id":"x",)")}) {
    ASSERT_TRUE(std::holds_alternative<InvalidJob>(parser.parse(bad)));
    auto result = parser.parse(valid);
    ASSERT_TRUE(std::holds_alternative<Job>(result)) << std::get<InvalidJob>(result).reason();
    EXPECT_EQ(std::get<Job>(result).order.line_items.size(), 1u);
  }
}

const std::string note_at_root = R"("reason":"customer")";
std::string with_note(const std::string& value) {
  return with(valid, note_at_root, note_at_root + R"(,"note":)" + value);
}

INSTANTIATE_TEST_SUITE_P(
    Strictness, Defects,
    ::testing::Values(
        // Content after the root object.
        Case{"two_jobs_back_to_back", valid + testing::job_json("evt_other"), "payload"},
        Case{"job_then_empty_object", valid + " {}", "payload"}, Case{"job_then_word", valid + " x", "payload"},
        Case{"job_then_bracket", valid + "]", "payload"}, Case{"job_then_number", valid + "\n1", "payload"},
        // Malformed values the parser does not read.
        Case{"unknown_truncated_true", with_note("tru"), "note"},
        Case{"unknown_truncated_null", with_note("nul"), "note"},
        Case{"unknown_array_hole", with_note("[1,,2]"), "note"}, Case{"unknown_bare_minus", with_note("-"), "note"},
        Case{"unknown_bad_escape", with_note(R"("\q")"), "note"},
        Case{"unknown_lone_surrogate", with_note(R"("\ud800")"), "note"},
        Case{"unknown_number_overflow", with_note("1e999"), "note"},
        Case{"unknown_object_missing_value", with_note(R"({"a":})"), "note"},
        Case{"unknown_nested_deep_error", with_note(R"({"a":[{"b":[tru]}]})"), "note"},
        Case{"unknown_too_deep", with_note(std::string(100, '[') + std::string(100, ']')), "note"},
        Case{"unknown_empty_key", with(valid, R"("v":1,)", R"("":tru,"v":1,)"), R"("")"},
        Case{"unknown_empty_key_in_order", with(valid, R"("name":"#1001")", R"("name":"#1001","":[,])"), R"(order."")"},
        Case{"repeated_empty_key", with(valid, R"("v":1,)", R"("":1,"":2,"v":1,)"), R"("")"},
        Case{"unknown_in_shop", with(valid, R"("platform":"shopify")", R"("platform":"shopify","extra":[1,,2])"),
             "shop.extra"},
        Case{"unknown_in_order", with(valid, R"("name":"#1001")", R"("name":"#1001","tags":"\x")"), "order.tags"},
        Case{"unknown_in_line_item", with(valid, R"("sku":"ACR-RED-500")", R"("sku":"ACR-RED-500","grams":-)"),
             "order.line_items[0].grams"},
        Case{"unknown_in_customer", with(valid, R"("name":"Ana")", R"("name":"Ana","vip":fals)"), "customer.vip"},
        Case{"unknown_in_payment", with(valid, R"("provider":"stripe")", R"("provider":"stripe","meta":{"k":01})"),
             "payment.meta"},
        // Calendar-impossible timestamps.
        Case{"timestamp_february_31", with(valid, "2026-11-22T16:00:00Z", "2026-02-31T00:00:00Z"), "occurred_at"},
        Case{"timestamp_april_31", with(valid, "2026-11-22T16:00:00Z", "2026-04-31T00:00:00Z"), "occurred_at"},
        Case{"timestamp_february_29_non_leap", with(valid, "2026-11-22T16:00:00Z", "2027-02-29T00:00:00Z"),
             "occurred_at"},
        Case{"timestamp_february_29_1900", with(valid, "2026-11-22T16:00:00Z", "1900-02-29T00:00:00Z"), "occurred_at"},
        Case{"timestamp_second_60_not_leap", with(valid, "2026-11-22T16:00:00Z", "2026-11-22T12:00:60Z"),
             "occurred_at"},
        Case{"timestamp_second_60_wrong_offset", with(valid, "2026-11-22T16:00:00Z", "2026-12-31T23:59:60+01:00"),
             "occurred_at"},
        Case{"timestamp_hour_24", with(valid, "2026-11-22T16:00:00Z", "2026-11-22T24:00:00Z"), "occurred_at"},
        Case{"timestamp_day_zero", with(valid, "2026-11-22T16:00:00Z", "2026-11-00T16:00:00Z"), "occurred_at"},
        Case{"created_at_june_31",
             with(valid, R"("name":"#1001")", R"("name":"#1001","created_at":"2026-06-31T10:00:00Z")"),
             "order.created_at"},
        // Repeated keys, at every level the parser reads.
        Case{"repeated_root_id", with(valid, R"("v":1,)", R"("v":1,"id":"evt_a",)"), "id"},
        Case{"repeated_root_escaped_key", with(valid, R"("v":1,)", R"("v":1,"i\u0064":"evt_a",)"), "id"},
        Case{"repeated_root_unknown", with_note(R"(1,"note":2)"), "note"},
        Case{"repeated_root_notify", with(valid, R"("notify":)", R"("notify":["email"],"notify":)"), "notify"},
        Case{"repeated_shop_domain",
             with(valid, R"("platform":"shopify")", R"("platform":"shopify","domain":"a.example")"), "shop.domain"},
        Case{"repeated_order_total", with(valid, R"("total_minor":14900)", R"("total_minor":1,"total_minor":14900)"),
             "order.total_minor"},
        Case{"repeated_order_line_items", with(valid, R"(]},)", R"(],"line_items":[]},)"), "order.line_items"},
        Case{"repeated_line_item_quantity", with(valid, R"("quantity":2)", R"("quantity":2,"quantity":1)"),
             "order.line_items[0].quantity"},
        Case{"repeated_customer_name", with(valid, R"("name":"Ana")", R"("name":"Ana","name":"Bob")"), "customer.name"},
        Case{"repeated_payment_reference",
             with(valid, R"("provider":"stripe")", R"("provider":"stripe","reference":"pi_x")"), "payment.reference"},
        Case{"repeated_refund_amount",
             with(valid, note_at_root, note_at_root + R"(,"refund":{"amount_minor":1,"amount_minor":2})"),
             "refund.amount_minor"},
        Case{"repeated_dispute_reason",
             with(valid, note_at_root, note_at_root + R"(,"dispute":{"reason":"a","reason":"b"})"), "dispute.reason"},
        Case{"repeated_inside_unknown", with_note(R"({"a":1,"a":2})"), "note"},
        // Control characters in text that ends up in SMS, email and Slack.
        Case{"control_customer_name_crlf", with(valid, R"("name":"Ana")", R"("name":"Ana\r\nBcc: x@evil.example")"),
             "customer.name"},
        Case{"control_customer_name_nul", with(valid, R"("name":"Ana")", R"("name":"Ana\u0000")"), "customer.name"},
        Case{"control_customer_name_tab", with(valid, R"("name":"Ana")", R"("name":"A\tna")"), "customer.name"},
        Case{"control_customer_name_del", with(valid, R"("name":"Ana")", R"("name":"Ana\u007f")"), "customer.name"},
        Case{"control_customer_name_c1_nel", with(valid, R"("name":"Ana")", R"("name":"Ana\u0085x")"), "customer.name"},
        Case{"control_customer_name_line_separator", with(valid, R"("name":"Ana")", R"("name":"Ana\u2028x")"),
             "customer.name"},
        Case{"control_order_name", with(valid, R"("name":"#1001")", R"("name":"#1001\n")"), "order.name"},
        Case{"control_reason", with(valid, R"("reason":"customer")", R"("reason":"cust\u001bomer")"), "reason"},
        Case{"control_dispute_reason",
             with(valid, note_at_root, note_at_root + R"(,"dispute":{"reason":"fraud\u2029"})"), "dispute.reason"},
        Case{"control_sku", with(valid, R"("sku":"ACR-RED-500")", R"("sku":"ACR\r500")"), "order.line_items[0].sku"},
        Case{"control_email_c1", with(valid, "ana@example.com", R"(ana\u0085@example.com)"), "customer.email"}),
    [](const ::testing::TestParamInfo<Case>& info) { return std::string(info.param.name); });

TEST(Parse, SafeIds) {
  EXPECT_TRUE(is_safe_id("evt_01JD4W8Z9X"));
  EXPECT_TRUE(is_safe_id("a.b:c-d_e"));
  EXPECT_FALSE(is_safe_id(""));
  EXPECT_FALSE(is_safe_id("a/b"));
  EXPECT_FALSE(is_safe_id("a b"));
  EXPECT_FALSE(is_safe_id(std::string(129, 'a')));
  // Path segments of their own meaning in provider URLs (L3): refused, as is any other leading
  // punctuation.
  EXPECT_FALSE(is_safe_id(".."));
  EXPECT_FALSE(is_safe_id("."));
  EXPECT_FALSE(is_safe_id("..."));
  EXPECT_FALSE(is_safe_id("-x"));
  EXPECT_FALSE(is_safe_id("_x"));
  EXPECT_TRUE(is_safe_id("9.x"));
}

}  // namespace
}  // namespace rescind::jobs
