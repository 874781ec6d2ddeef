// The small shared pieces: money formatting, durations, URLs, encodings, log redaction.
#include <gtest/gtest.h>

#include "clients/encoding.hpp"
#include "clients/url.hpp"
#include "common/duration.hpp"
#include "common/json_text.hpp"
#include "common/log.hpp"
#include "jobs/money.hpp"
#include "redis/connection.hpp"
#include "redis/endpoint.hpp"

namespace rescind {
namespace {

TEST(Money, FormatsByCurrencyExponent) {
  EXPECT_EQ(jobs::format_minor(14900, "USD"), "149.00");
  EXPECT_EQ(jobs::format_minor(5, "EUR"), "0.05");
  EXPECT_EQ(jobs::format_minor(1490, "JPY"), "1490");
  EXPECT_EQ(jobs::format_minor(1234, "KWD"), "1.234");
  EXPECT_EQ(jobs::format_minor(-250, "USD"), "-2.50");
  EXPECT_EQ(jobs::currency_exponent("CLF"), 4);
  EXPECT_FALSE(jobs::currency_exponent("XYZ"));
}

TEST(Money, ProvidersOwnExponentsAreExactOrRefused) {
  EXPECT_EQ(jobs::stripe_exponent("MGA"), 0) << "zero-decimal at Stripe, 2 in ISO 4217";
  EXPECT_EQ(jobs::stripe_exponent("ISK"), 2) << "two-decimal in Stripe's API, 0 in ISO 4217";
  EXPECT_EQ(jobs::stripe_exponent("HUF"), 2) << "zero-decimal for Stripe payouts only";
  EXPECT_EQ(jobs::stripe_exponent("UGX"), 0);
  EXPECT_EQ(jobs::stripe_exponent("USD"), 2);
  EXPECT_EQ(jobs::paypal_exponent("HUF"), 0);
  EXPECT_EQ(jobs::rescale_minor(150000, 2, 0), 1500);
  EXPECT_FALSE(jobs::rescale_minor(150050, 2, 0)) << "half an ariary has no Stripe amount: refused, not rounded";
  EXPECT_EQ(jobs::rescale_minor(-150000, 2, 0), -1500);
  EXPECT_EQ(jobs::rescale_minor(1490, 0, 2), 149000);
  EXPECT_FALSE(jobs::rescale_minor(INT64_MAX / 10 + 1, 0, 1)) << "past int64: refused, never wrapped";
  EXPECT_EQ(jobs::rescale_minor(INT64_MAX, 2, 2), INT64_MAX);
  EXPECT_EQ(jobs::format_minor(1500, 0), "1500");
}

TEST(Duration, ParsesOperatorUnits) {
  using namespace std::chrono;
  EXPECT_EQ(common::parse_duration("250ms"), milliseconds(250));
  EXPECT_EQ(common::parse_duration("30s"), seconds(30));
  EXPECT_EQ(common::parse_duration("5m"), minutes(5));
  EXPECT_EQ(common::parse_duration("168h"), hours(168));
  EXPECT_FALSE(common::parse_duration("30"));
  EXPECT_FALSE(common::parse_duration("-1s"));
  EXPECT_FALSE(common::parse_duration("1.5s"));
  EXPECT_FALSE(common::parse_duration("s"));
  EXPECT_EQ(common::format_duration(milliseconds(30000)), "30s");
}

TEST(Url, SplitsOriginAndPath) {
  std::string error;
  auto url = clients::parse_url("https://hooks.slack.com/services/T1/B2/x/", error);
  ASSERT_TRUE(url) << error;
  EXPECT_TRUE(url->origin.tls);
  EXPECT_EQ(url->origin.host, "hooks.slack.com");
  EXPECT_EQ(url->origin.port, "443");
  EXPECT_EQ(url->origin.host_header(), "hooks.slack.com");
  EXPECT_EQ(url->path, "/services/T1/B2/x");
  auto local = clients::parse_url("http://127.0.0.1:8099", error);
  ASSERT_TRUE(local);
  EXPECT_FALSE(local->origin.tls);
  EXPECT_EQ(local->origin.host_header(), "127.0.0.1:8099");
  EXPECT_FALSE(clients::parse_url("ftp://x", error));
  EXPECT_FALSE(clients::parse_url("https://user:pw@x", error));
  EXPECT_FALSE(clients::parse_url("http://x:99999", error));
}

TEST(Url, LoopbackIsLocalhost127And1) {
  std::string error;
  auto loopback = [&](const char* text) {
    return clients::is_loopback(clients::parse_url(text, error).value().origin);
  };
  EXPECT_TRUE(loopback("http://127.0.0.1:8099"));
  EXPECT_TRUE(loopback("http://127.9.9.9"));
  EXPECT_TRUE(loopback("http://localhost:8099/x"));
  EXPECT_TRUE(loopback("http://[::1]"));
  EXPECT_FALSE(loopback("http://10.0.0.5:8099"));
  EXPECT_FALSE(loopback("http://api.stripe.com"));
  EXPECT_FALSE(loopback("http://localhost.attacker.example"));
  EXPECT_FALSE(loopback("http://128.0.0.1"));
}

TEST(RedisEndpoint, ParsesUrls) {
  std::string error;
  auto ep = redis::parse_endpoint("redis://:s3cret@10.0.0.5:6380/2", error);
  ASSERT_TRUE(ep) << error;
  EXPECT_EQ(ep->host, "10.0.0.5");
  EXPECT_EQ(ep->port, "6380");
  EXPECT_EQ(ep->password, "s3cret");
  EXPECT_EQ(ep->db, 2);
  EXPECT_EQ(ep->display().find("s3cret"), std::string::npos);
  EXPECT_FALSE(redis::parse_endpoint("http://x", error));
  EXPECT_FALSE(redis::parse_endpoint("redis://x:0", error));
}

TEST(RedisEndpoint, TlsAndAclUsersWithPercentEncodedUserInfo) {
  std::string error;
  auto ep = redis::parse_endpoint("rediss://rescind%2Dworker:p%40ss%3Aw%2Fd%25@redis.internal:6380/1", error);
  ASSERT_TRUE(ep) << error;
  EXPECT_TRUE(ep->tls);
  EXPECT_EQ(ep->user, "rescind-worker");
  EXPECT_EQ(ep->password, "p@ss:w/d%");
  EXPECT_EQ(ep->host, "redis.internal");
  EXPECT_EQ(ep->display(), "rediss://redis.internal:6380/1");  // no user info at all
  auto plain = redis::parse_endpoint("redis://:only-password@h", error);
  ASSERT_TRUE(plain) << error;
  EXPECT_FALSE(plain->tls);
  EXPECT_EQ(plain->user, "");
  EXPECT_EQ(plain->password, "only-password");
  EXPECT_EQ(plain->display(), "redis://h:6379/0");
  // An '@' left unencoded in the password: the host starts after the last one.
  auto raw = redis::parse_endpoint("redis://u:a@b@h:1", error);
  ASSERT_TRUE(raw) << error;
  EXPECT_EQ(raw->password, "a@b");
  EXPECT_EQ(raw->host, "h");
}

TEST(RedisEndpoint, BracketedIpv6Hosts) {
  std::string error;
  auto ep = redis::parse_endpoint("rediss://rescind-worker:pw@[fd00::2]:6380/1", error);
  ASSERT_TRUE(ep) << error;
  EXPECT_EQ(ep->host, "fd00::2");
  EXPECT_EQ(ep->port, "6380");
  EXPECT_EQ(ep->db, 1);
  EXPECT_EQ(ep->display(), "rediss://[fd00::2]:6380/1");
  auto no_port = redis::parse_endpoint("redis://[::1]", error);
  ASSERT_TRUE(no_port) << error;
  EXPECT_EQ(no_port->host, "::1");
  EXPECT_EQ(no_port->port, "6379");
  EXPECT_EQ(no_port->display(), "redis://[::1]:6379/0");
  for (const char* url : {"redis://[::1", "redis://[]:6379", "redis://[::1]6379", "redis://[::1]:0"}) {
    EXPECT_FALSE(redis::parse_endpoint(url, error)) << url;
  }
}

TEST(RedisEndpoint, ErrorsNeverQuoteTheUserInfo) {
  for (const char* url : {"rediss://u:S3cret%zz@h:1", "rediss://u:S3cret%4@h", "https://u:S3cret@h", "u:S3cret@h:1"}) {
    std::string error;
    EXPECT_FALSE(redis::parse_endpoint(url, error)) << url;
    EXPECT_FALSE(error.empty()) << url;
    EXPECT_EQ(error.find("S3cret"), std::string::npos) << error;
  }
}

TEST(Encoding, FormAndBase64) {
  std::string body;
  clients::append_form_field(body, "metadata[order_id]", "a b&c=d");
  clients::append_form_field(body, "amount", "100");
  EXPECT_EQ(body, "metadata%5Border_id%5D=a%20b%26c%3Dd&amount=100");
  EXPECT_EQ(clients::base64("AC1:tok"), "QUMxOnRvaw==");
  EXPECT_EQ(clients::base64("ab"), "YWI=");
  EXPECT_EQ(clients::base64("abc"), "YWJj");
  EXPECT_EQ(clients::basic_auth("api", "key"), "Basic YXBpOmtleQ==");
}

TEST(JsonText, EscapesControlCharacters) {
  EXPECT_EQ(common::json_string("a\"b\\c\n\x01"), R"("a\"b\\c\n\u0001")");
  // DEL and C1 escaped too; other non-ASCII text (é is C3 A9, U+00A0 is C2 A0) kept as it is.
  EXPECT_EQ(common::json_string("\x7f\xc2\x9b"
                                "31m\xc2\x80\xc3\xa9\xc2\xa0"),
            "\"\\u007f\\u009b31m\\u0080\xc3\xa9\xc2\xa0\"");
}

TEST(Log, RedactsSecretsAndKeyShapedTokens) {
  common::log::register_secret("hooks-secret-path");
  auto line = common::log::redact("key sk_live_51Habc123 and Bearer SG.abc.def at /x/hooks-secret-path ok");
  EXPECT_EQ(line.find("51Habc123"), std::string::npos) << line;
  EXPECT_EQ(line.find("SG.abc.def"), std::string::npos) << line;
  EXPECT_EQ(line.find("hooks-secret-path"), std::string::npos) << line;
  EXPECT_NE(line.find(" ok"), std::string::npos);
}

TEST(Log, MasksCardNumbersButNotIdsOrTimestamps) {
  auto line = common::log::redact(
      "card 4242 4242 4242 4242 and 4000-0566-5566-5556 and 378282246310005 and 3782 822463 10005 ok");
  EXPECT_EQ(line, "card [card redacted] and [card redacted] and [card redacted] and [card redacted] ok");
  auto ids =
      "stream 1795607032854-0 at 1795607032854 order 450789469 pi 4242424242424241 id 1795609986489-17";  // the last:
                                                                                                          // 15 digits
                                                                                                          // passing
                                                                                                          // Luhn
  EXPECT_EQ(common::log::redact(ids), ids) << "13-digit ids and Luhn-invalid numbers stay";
}

// first(): "did it work, and what did it say" in one question; failure(): why not.
TEST(RedisResult, FirstIsTheReplyOnlyWhenTheRoundTripWorkedAndRedisAgreed) {
  redis::Reply integer;
  integer.type = redis::Reply::Type::integer;
  integer.integer = 7;
  redis::Reply refused;
  refused.type = redis::Reply::Type::error;
  refused.text = "NOGROUP No such key or consumer group";

  redis::Result worked{{}, {integer, refused}};
  ASSERT_NE(worked.first(), nullptr);
  EXPECT_EQ(worked.first()->integer, 7);
  EXPECT_EQ(worked.failure(), "") << "nothing failed: a later command's error is the caller's to read";

  redis::Result error_reply{{}, {refused}};
  EXPECT_EQ(error_reply.first(), nullptr);
  EXPECT_EQ(error_reply.failure(), refused.text);

  redis::Result broken{make_error_code(boost::system::errc::connection_reset), {}};
  EXPECT_EQ(broken.first(), nullptr);
  EXPECT_EQ(broken.failure(), broken.error.message());

  redis::Result empty{{}, {}};
  EXPECT_EQ(empty.first(), nullptr);
  EXPECT_EQ(empty.failure(), "no reply");
}

}  // namespace
}  // namespace rescind
