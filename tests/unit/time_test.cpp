// RFC 3339 as the house writes and reads it (common/time.hpp): what the logs, the DLQ, the
// sandbox and rescindctl print, and what jobs and operators may send.
#include <gtest/gtest.h>

#include <chrono>

#include "common/time.hpp"

namespace rescind::common {
namespace {

using std::chrono::milliseconds;
using std::chrono::system_clock;

constexpr long long nov_22_2026_16h = 1795363200000LL;  // 2026-11-22T16:00:00Z

system_clock::time_point at_ms(long long ms) { return system_clock::time_point(milliseconds(ms)); }

TEST(Rfc3339, WrittenInUtcWithMilliseconds) {
  EXPECT_EQ(format_rfc3339_ms(nov_22_2026_16h), "2026-11-22T16:00:00.000Z");
  EXPECT_EQ(format_rfc3339_ms(nov_22_2026_16h + 123), "2026-11-22T16:00:00.123Z");
  EXPECT_EQ(format_rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_rfc3339_ms(at_ms(nov_22_2026_16h + 999)), "2026-11-22T16:00:00.999Z");
  std::string line = "at=";
  append_rfc3339_ms(line, at_ms(nov_22_2026_16h));
  EXPECT_EQ(line, "at=2026-11-22T16:00:00.000Z") << "appends, keeps what was there";
}

TEST(Rfc3339, SubMillisecondsAreCutNotRounded) {
  auto almost = at_ms(nov_22_2026_16h) + std::chrono::microseconds(999'999);
  EXPECT_EQ(format_rfc3339_ms(almost), "2026-11-22T16:00:00.999Z") << "never a second that has not begun";
}

TEST(Rfc3339, InstantsBefore1970KeepSecondsAndMillisecondsConsistent) {
  // to_time_t and % would give 1969-12-31T23:59:59 with "-001" milliseconds, or the wrong second.
  EXPECT_EQ(format_rfc3339_ms(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(format_rfc3339_ms(at_ms(-1500)), "1969-12-31T23:59:58.500Z");
}

TEST(Rfc3339, LeapYearsInBothDirections) {
  auto feb_29_2028 = parse_rfc3339_ms("2028-02-29T12:00:00Z");
  ASSERT_TRUE(feb_29_2028);
  EXPECT_EQ(format_rfc3339_ms(*feb_29_2028), "2028-02-29T12:00:00.000Z");
  EXPECT_EQ(format_rfc3339_ms(*feb_29_2028 + 86'400'000), "2028-03-01T12:00:00.000Z");
  EXPECT_TRUE(parse_rfc3339_ms("2000-02-29T00:00:00Z")) << "divisible by 400: a leap year";
  EXPECT_FALSE(parse_rfc3339_ms("1900-02-29T00:00:00Z")) << "divisible by 100 only: not one";
  EXPECT_FALSE(parse_rfc3339_ms("2027-02-29T00:00:00Z"));
  EXPECT_EQ(*parse_rfc3339_ms("2028-03-01T00:00:00Z") - *parse_rfc3339_ms("2028-02-28T00:00:00Z"), 2 * 86'400'000LL);
  EXPECT_EQ(*parse_rfc3339_ms("2027-03-01T00:00:00Z") - *parse_rfc3339_ms("2027-02-28T00:00:00Z"), 86'400'000LL);
}

TEST(Rfc3339, ReadsWhatItWrites) {
  for (long long ms : {0LL, 1LL, 951'782'400'000LL, nov_22_2026_16h + 7, 4'102'444'799'999LL}) {
    EXPECT_EQ(parse_rfc3339_ms(format_rfc3339_ms(ms)), ms) << format_rfc3339_ms(ms);
  }
}

TEST(Rfc3339, FractionsOfAnyLengthAreCutToMilliseconds) {
  EXPECT_EQ(parse_rfc3339_ms("2026-11-22T16:00:00.1Z"), nov_22_2026_16h + 100);
  EXPECT_EQ(parse_rfc3339_ms("2026-11-22T16:00:00.25Z"), nov_22_2026_16h + 250);
  EXPECT_EQ(parse_rfc3339_ms("2026-11-22T16:00:00.123Z"), nov_22_2026_16h + 123);
  EXPECT_EQ(parse_rfc3339_ms("2026-11-22T16:00:00.123999999Z"), nov_22_2026_16h + 123) << "cut, not rounded";
  EXPECT_FALSE(parse_rfc3339_ms("2026-11-22T16:00:00.Z")) << "a point needs a digit after it";
  EXPECT_FALSE(parse_rfc3339_ms("2026-11-22T16:00:00,5Z")) << "ISO 8601's comma is not RFC 3339's";
}

TEST(Rfc3339, OffsetsAreTakenOff) {
  EXPECT_EQ(parse_rfc3339_ms("2026-11-22T17:30:00.250+01:30"), nov_22_2026_16h + 250);
  EXPECT_EQ(parse_rfc3339_ms("2026-11-22T11:00:00-05:00"), nov_22_2026_16h);
  EXPECT_EQ(parse_rfc3339_ms("2026-11-23T01:45:00+09:45"), nov_22_2026_16h) << "across midnight";
  EXPECT_EQ(parse_rfc3339_ms("2026-11-22T16:00:00+00:00"), nov_22_2026_16h);
  EXPECT_EQ(parse_rfc3339_ms("2026-11-22T16:00:00-00:00"), nov_22_2026_16h) << "unknown local offset, same instant";
  EXPECT_EQ(parse_rfc3339_ms("2026-11-22t16:00:00z"), nov_22_2026_16h) << "lower case t and z are allowed";
  for (const char* bad : {"2026-11-22T16:00:00+24:00", "2026-11-22T16:00:00+01:60", "2026-11-22T16:00:00+0100",
                          "2026-11-22T16:00:00+01", "2026-11-22T16:00:00+01:00Z", "2026-11-22T16:00:00 +01:00"}) {
    EXPECT_FALSE(parse_rfc3339_ms(bad)) << bad;
  }
}

TEST(Rfc3339, ASecond60OnlyAsALeapSecond) {
  auto leap = parse_rfc3339_ms("2026-12-31T23:59:60Z");
  ASSERT_TRUE(leap);
  EXPECT_EQ(*leap, *parse_rfc3339_ms("2027-01-01T00:00:00Z")) << "the epoch has no room for it: the next second";
  EXPECT_EQ(parse_rfc3339_ms("2027-01-01T00:59:60+01:00"), leap) << "23:59:60 UTC, written in local time";
  EXPECT_TRUE(parse_rfc3339_ms("2026-12-31T18:59:60-05:00"));
  EXPECT_FALSE(parse_rfc3339_ms("2026-11-22T12:00:60Z"));
  EXPECT_FALSE(parse_rfc3339_ms("2026-12-31T23:59:60+01:00")) << "22:59:60 UTC";
  EXPECT_FALSE(parse_rfc3339_ms("2026-12-31T23:59:61Z"));
}

TEST(Rfc3339, RefusesDatesAndTimesThatDoNotExist) {
  for (const char* bad :
       {"2026-02-31T00:00:00Z", "2026-04-31T00:00:00Z", "2026-06-31T10:00:00Z", "2026-13-22T16:00:00Z",
        "2026-00-22T16:00:00Z", "2026-11-00T16:00:00Z", "2026-11-22T24:00:00Z", "2026-11-22T16:60:00Z"}) {
    EXPECT_FALSE(parse_rfc3339_ms(bad)) << bad;
  }
}

TEST(Rfc3339, RefusesWhatIsNotOne) {
  for (const char* bad :
       {"", "2", "yesterday", "2026-11-22", "2026-11-22T16:00:00", "2026-11-22T16:00Z", "22/11/2026 16:00",
        "2026-11-22T16:00:00ZZ", "2026-11-22T16:00:00Z ", " 2026-11-22T16:00:00Z", "2026-11-22X16:00:00Z",
        "2026-1-22T16:00:00Z", "+026-11-22T16:00:00Z", "2026-11-22T16:00:0aZ", "2026-11-22T16:00:00.5"}) {
    EXPECT_FALSE(parse_rfc3339_ms(bad)) << '"' << bad << '"';
  }
}

TEST(Rfc3339, ASpaceForTheTOnlyWhereAllowed) {
  EXPECT_FALSE(parse_rfc3339_ms("2026-11-22 16:00:00Z")) << "a job's producer must send the T";
  EXPECT_EQ(parse_rfc3339_ms("2026-11-22 16:00:00.1Z", DateTimeSeparator::t_or_space), nov_22_2026_16h + 100)
      << "an operator may type a space";
  EXPECT_EQ(parse_rfc3339_ms("2026-11-22T16:00:00Z", DateTimeSeparator::t_or_space), nov_22_2026_16h);
}

}  // namespace
}  // namespace rescind::common
