// The pieces of issue 11's items 3 and 4 that are pure functions: UTF-8-safe cuts, control
// character escapes, URLs shown without their secrets, redaction, RFC 5322 mailboxes,
// Slack's entities, path segments, and the stream envelope's checks.
#include <gtest/gtest.h>

#include "clients/encoding.hpp"
#include "clients/slack.hpp"
#include "clients/url.hpp"
#include "common/log.hpp"
#include "common/secret_options.hpp"
#include "common/text.hpp"
#include "queue/envelope.hpp"
#include "redis/endpoint.hpp"

namespace rescind {
namespace {

TEST(Utf8Prefix, CutsBeforeASequenceNeverInsideIt) {
  std::string text =
      "ab\xc3\xa9"
      "\xe2\x82\xac"
      "\xf0\x9f\x98\x80";  // a b é € 😀
  EXPECT_EQ(common::utf8_prefix(text, 100), text);
  EXPECT_EQ(common::utf8_prefix(text, 3), "ab");
  EXPECT_EQ(common::utf8_prefix(text, 4), "ab\xc3\xa9");
  EXPECT_EQ(common::utf8_prefix(text, 5), "ab\xc3\xa9");
  EXPECT_EQ(common::utf8_prefix(text, 6), "ab\xc3\xa9");
  EXPECT_EQ(common::utf8_prefix(text, 7), "ab\xc3\xa9\xe2\x82\xac");
  EXPECT_EQ(common::utf8_prefix(text, 10), "ab\xc3\xa9\xe2\x82\xac");
  EXPECT_EQ(common::utf8_prefix(std::string(1599, 'x') + "\xc3\xa9", 1600), std::string(1599, 'x'));
}

TEST(SecretArguments, AreStarredInArgvAfterParsingAndOnlyThey) {
  CLI::App app;
  common::SecretOptions secrets(app);
  std::string key, redis_url, plain;
  std::vector<std::string> keys_for;
  secrets.add("--api-key", key, "", "T_API_KEY", "g");
  secrets.add("--key-for", keys_for, "", "T_KEYS", "g");
  secrets.add("--redis", redis_url, "", "T_REDIS", "g", false);
  app.add_option("--plain", plain);
  std::vector<std::string> given{
      "worker", "--api-key", "sk_1", "--key-for", "a=sk_2", "b=sk_3", "--plain", "sk_4", "--redis=redis://u:pw@h:1/2"};
  std::vector<char*> argv;
  for (auto& arg : given) argv.push_back(arg.data());
  app.parse(static_cast<int>(argv.size()), argv.data());
  auto flags = secrets.hide_from_process_list(static_cast<int>(argv.size()), argv.data());

  EXPECT_EQ(flags, (std::vector<std::string>{"--api-key", "--key-for", "--redis"}));
  EXPECT_EQ(given[2], "****");
  EXPECT_EQ(given[4], "******");
  EXPECT_EQ(given[5], "******") << "every item of a list";
  EXPECT_EQ(given[7], "sk_4") << "not a secret option";
  EXPECT_EQ(given[8], "--redis=redis://****@h:1/2") << "a URL keeps its host";
  EXPECT_EQ(key, "sk_1") << "the parsed values are the parser's own copies";
  EXPECT_EQ(keys_for, (std::vector<std::string>{"a=sk_2", "b=sk_3"}));
  EXPECT_EQ(redis_url, "redis://u:pw@h:1/2");

  std::string bare = "redis://h:1";  // no user info: nothing to hide, nothing to warn about
  std::vector<char*> no_secret{given[0].data(), bare.data()};
  std::string flag = "--redis";
  no_secret.insert(no_secret.begin() + 1, flag.data());
  EXPECT_TRUE(secrets.hide_from_process_list(3, no_secret.data()).empty());
  EXPECT_EQ(bare, "redis://h:1");
}

TEST(EscapeControls, WritesC0DelAndC1AsHexAndKeepsText) {
  EXPECT_EQ(common::escape_controls("plain é € text"), "plain é € text");
  EXPECT_EQ(common::escape_controls("\x1b]0;pwned\x07"), "\\x1b]0;pwned\\x07");
  EXPECT_EQ(common::escape_controls("a\x7f"
                                    "b"),
            "a\\x7fb");
  EXPECT_EQ(common::escape_controls("\xc2\x9b"
                                    "2J"),
            "\\x9b2J")
      << "C1 CSI as UTF-8";
  EXPECT_EQ(common::escape_controls("\x9b"
                                    "2J"),
            "\\x9b2J")
      << "C1 CSI as a lone byte";
  EXPECT_EQ(common::escape_controls("\xc3"), "\\xc3") << "a truncated sequence";
  EXPECT_EQ(common::escape_controls("\xc2\xa0"), "\xc2\xa0") << "U+00A0 is not a control";
  EXPECT_EQ(common::escape_controls("a\nb\rc"), "a\\x0ab\\x0dc") << "a raw dump cannot forge a line";
  EXPECT_EQ(common::escape_controls("a\nb\rc", true), "a\nb\\x0dc") << "our own layout keeps its lines";
}

TEST(UrlForDisplay, ShowsSchemeAndHostOnly) {
  EXPECT_EQ(common::url_for_display("rediss://default:S3cret@redis.internal:6380/0"), "rediss://redis.internal");
  EXPECT_EQ(common::url_for_display("https://hooks.slack.com/services/T/B/secret"), "https://hooks.slack.com");
  EXPECT_EQ(common::url_for_display("redis://:p@ss:w@rd@host"), "redis://host");
  EXPECT_EQ(common::url_for_display("http://[::1]:8099/x"), "http://[::1]");
  EXPECT_EQ(common::url_for_display("hooks.slack.com/services/T/B/secret"), "(not a URL)");
}

TEST(StartUpErrors, UrlAndRedisEndpointErrorsNeverQuoteTheSecretPart) {
  std::string error;
  for (const char* url : {"https://hooks.slack.com:0/services/T/B/hook_secret", "ftp://hooks.slack.com/hook_secret",
                          "hooks.slack.com/services/hook_secret", "https:///hook_secret"}) {
    error.clear();
    EXPECT_FALSE(clients::parse_url(url, error)) << url;
    EXPECT_FALSE(error.empty()) << url;
    EXPECT_EQ(error.find("hook_secret"), std::string::npos) << error;
  }
  for (const char* url :
       {"rediss://default:pw_secret@redis.internal:port_secret", "redis://:pw_secret@host:port_secret",
        "http://default:pw_secret@redis.internal:6380/0", "redis://:pw_secret@host/db_secret"}) {
    error.clear();
    EXPECT_FALSE(redis::parse_endpoint(url, error)) << url;
    EXPECT_EQ(error.find("_secret"), std::string::npos) << error;
  }
}

TEST(Redaction, BasicCredentialsAndRegisteredValuesAreMasked) {
  auto authorization = clients::basic_auth("AC_unit_sid", "unit_auth_token");  // registers its base64
  auto encoded = authorization.substr(6);
  auto redacted = common::log::redact("echo: Authorization: " + authorization + " and again " + encoded);
  EXPECT_EQ(redacted.find(encoded), std::string::npos) << redacted;
  EXPECT_NE(redacted.find("Basic [redacted]"), std::string::npos) << redacted;
  // Not registered, but shaped like one: "Basic " and its token.
  EXPECT_EQ(common::log::redact("Authorization: Basic dXNlcjpwYXNz"), "Authorization: Basic [redacted]");
  common::log::register_secret("quote\"and\\backslash");
  EXPECT_EQ(common::log::redact("x quote\"and\\backslash y"), "x [redacted] y");
}

TEST(Mailbox, QuotesTheDisplayNameSoItCannotAddRecipients) {
  EXPECT_EQ(clients::mailbox("", "ana@example.com"), "ana@example.com");
  EXPECT_EQ(clients::mailbox("Ana", "ana@example.com"), "\"Ana\" <ana@example.com>");
  EXPECT_EQ(clients::mailbox("Ana <attacker@evil.example>, Bob", "ana@example.com"),
            "\"Ana <attacker@evil.example>, Bob\" <ana@example.com>");
  EXPECT_EQ(clients::mailbox("a\"b\\c", "x@y"), "\"a\\\"b\\\\c\" <x@y>");
  EXPECT_EQ(clients::mailbox("An\r\na\x7f\xc2\x85 Li", "x@y"), "\"Ana Li\" <x@y>") << "CR LF, DEL, NEL dropped";
  EXPECT_EQ(clients::mailbox("Zoë", "x@y"), "\"Zoë\" <x@y>");
}

TEST(SlackEscape, AmpersandAndAngleBracketsBecomeEntities) {
  EXPECT_EQ(clients::slack_escape("<!channel> <https://evil.example|Approve> & co"),
            "&lt;!channel&gt; &lt;https://evil.example|Approve&gt; &amp; co");
  EXPECT_EQ(clients::slack_escape("*bold* #1001"), "*bold* #1001");
}

TEST(PathSegment, EncodesSlashesAndDotSegments) {
  EXPECT_EQ(clients::path_segment("2GG279541U471931P"), "2GG279541U471931P");
  EXPECT_EQ(clients::path_segment(".."), "%2E%2E");
  EXPECT_EQ(clients::path_segment("."), "%2E");
  EXPECT_EQ(clients::path_segment("a/../b?c"), "a%2F..%2Fb%3Fc");
}

redis::StreamEntry entry(std::vector<std::pair<std::string, std::string>> fields) {
  fields.insert(fields.begin(), {"job", "{}"});
  return redis::StreamEntry{"1700000000000-5", std::move(fields)};
}

TEST(Envelope, ValidFieldsAreKept) {
  auto envelope =
      queue::Envelope::of(entry({{"attempt", "7"}, {"first_at", "1699999999000"}, {"origin_id", "1699999999000-0"}}));
  EXPECT_EQ(envelope.attempt, 7);
  EXPECT_EQ(envelope.first_at_ms, 1699999999000);
  EXPECT_EQ(envelope.origin_id, "1699999999000-0");
  EXPECT_TRUE(envelope.corrected.empty());
  auto first = queue::Envelope::of(entry({}));
  EXPECT_EQ(first.attempt, 1);
  EXPECT_EQ(first.first_at_ms, 1700000000000);
  EXPECT_EQ(first.origin_id, "1700000000000-5");
  EXPECT_TRUE(first.corrected.empty()) << "absent is a first delivery, not a defect";
}

TEST(Envelope, UnusableFieldsAreReplacedAndNamed) {
  for (const char* origin : {"a:b", "1-0:x", "", "1-", "-1", "1-2-3", "1700000000000-5\r\n"}) {
    auto envelope = queue::Envelope::of(entry({{"origin_id", origin}}));
    EXPECT_EQ(envelope.origin_id, "1700000000000-5") << origin;
  }
  auto huge = queue::Envelope::of(entry({{"attempt", "4294967295"}, {"first_at", "-9223372036854775808"}}));
  EXPECT_EQ(huge.attempt, 1000);
  EXPECT_EQ(huge.first_at_ms, 1700000000000);
  EXPECT_EQ(huge.corrected, (std::vector<std::string_view>{"attempt", "first_at"}));
  auto later = queue::Envelope::of(entry({{"attempt", "0"}, {"first_at", "1700000000001"}, {"origin_id", "x"}}));
  EXPECT_EQ(later.attempt, 1);
  EXPECT_EQ(later.first_at_ms, 1700000000000) << "a job cannot have been first seen after this entry was added";
  EXPECT_EQ(later.corrected, (std::vector<std::string_view>{"attempt", "first_at", "origin_id"}));
  EXPECT_EQ(queue::Envelope::of(entry({{"attempt", "abc"}})).attempt, 1);
}

}  // namespace
}  // namespace rescind
