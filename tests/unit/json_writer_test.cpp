// The one JSON writer: separators and nesting, escaping of keys and values, raw JSON kept.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <limits>

#include "common/json_text.hpp"

namespace rescind::common {
namespace {

TEST(JsonWriter, NestsObjectsAndArraysWithCommasOnlyBetweenMembers) {
  JsonWriter json;
  json.begin_object().field("a", "x").key("b").begin_array().value(1).value(true).null().begin_object();
  json.end_object().end_array().key("c").begin_object().field("d", std::int64_t{-5}).end_object();
  json.field("e", false).key("f").raw(R"({"g":[]})");
  EXPECT_EQ(json.end_object().take(), R"({"a":"x","b":[1,true,null,{}],"c":{"d":-5},"e":false,"f":{"g":[]}})");
}

TEST(JsonWriter, EscapesKeysAndValuesSoThatJobTextCannotChangeTheDocument) {
  std::string hostile = "\",\"admin\":true,\"x\":\"\n\x1b[2J\xc2\x9b";
  JsonWriter json;
  auto text = json.begin_object().field(hostile, hostile).end_object().take();
  simdjson::dom::parser parser;
  auto doc = parser.parse(text);
  ASSERT_FALSE(doc.error()) << text;
  auto object = doc.get_object().value();
  EXPECT_EQ(object.size(), 1u);  // one member: no injected "admin"
  std::string_view value = object.at_key(hostile).get_string().value();
  EXPECT_EQ(value, hostile);
  EXPECT_EQ(text.find('\x1b'), std::string::npos);  // control characters travel escaped
  EXPECT_EQ(text.find("\xc2\x9b"), std::string::npos);
}

TEST(JsonWriter, AnArrayOfStringsAtTheTop) {
  JsonWriter json;
  EXPECT_EQ(json.begin_array().value("a").value(std::string("b")).end_array().take(), R"(["a","b"])");
}

TEST(JsonWriter, EveryIntegerTypeIsANumberAtItsFullRange) {
  JsonWriter json;
  json.begin_array().value(-1).value(7u).value(-9'000'000'000LL).value(std::size_t{3});
  json.value(std::numeric_limits<std::uint64_t>::max()).value(std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(json.end_array().take(), "[-1,7,-9000000000,3,18446744073709551615,-9223372036854775808]");
}

}  // namespace
}  // namespace rescind::common
