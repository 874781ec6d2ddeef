// Mandrill's answers as the client classifies them: a recipient's status in a 200 array, and
// the {"status":"error",…} shape by HTTP status and error name, never by message text.
#include <gtest/gtest.h>

#include "clients/mandrill.hpp"

namespace rescind::clients {
namespace {

using Kind = Outcome::Kind;

Exchange answer(int status, std::string body, std::vector<std::pair<std::string, std::string>> headers = {}) {
  Exchange exchange;
  exchange.response.result(status);
  exchange.response.body() = std::move(body);
  for (auto& [name, value] : headers) exchange.response.set(name, value);
  return exchange;
}

std::string recipient(const std::string& status, const std::string& reason = "null") {
  return R"([{"email":"ana@example.com","status":")" + status + R"(","reject_reason":)" + reason +
         R"(,"queued_reason":null,"_id":"abc123"}])";
}

std::string error(const std::string& name, const std::string& message = "whatever it says") {
  return R"({"status":"error","code":-1,"name":")" + name + R"(","message":")" + message + R"("})";
}

TEST(Mandrill, SentQueuedAndScheduledAreOkWithTheMessageId) {
  for (const char* status : {"sent", "queued", "scheduled"}) {
    auto outcome = MandrillEmail::interpret(answer(200, recipient(status)));
    EXPECT_EQ(outcome.kind, Kind::ok) << status;
    EXPECT_EQ(outcome.reference, "abc123") << status;
  }
}

TEST(Mandrill, ARejectedOrInvalidRecipientIsPermanentWithTheReason) {
  auto rejected = MandrillEmail::interpret(answer(200, recipient("rejected", R"("hard-bounce")")));
  EXPECT_EQ(rejected.kind, Kind::permanent);
  EXPECT_EQ(rejected.code, "hard-bounce");
  auto invalid = MandrillEmail::interpret(answer(200, recipient("invalid")));
  EXPECT_EQ(invalid.kind, Kind::permanent);
  EXPECT_EQ(invalid.code, "invalid") << "no reject_reason: the status is the code";
}

TEST(Mandrill, AnInvalidKeyIsPermanentWhateverTheStatus) {
  auto outcome = MandrillEmail::interpret(answer(401, error("Invalid_Key", "Invalid API key")));
  EXPECT_EQ(outcome.kind, Kind::permanent);
  EXPECT_EQ(outcome.code, "Invalid_Key");
  EXPECT_EQ(outcome.message, "Invalid API key");
  // The older API answered every error with HTTP 500: the name still says it will never work.
  EXPECT_EQ(MandrillEmail::interpret(answer(500, error("Invalid_Key"))).kind, Kind::permanent);
  EXPECT_EQ(MandrillEmail::interpret(answer(500, error("ValidationError"))).kind, Kind::permanent);
}

TEST(Mandrill, TooManyRequestsIsRateLimitedWithRetryAfter) {
  auto outcome =
      MandrillEmail::interpret(answer(429, error("RequestLimitExceeded", "Too many requests"), {{"Retry-After", "7"}}));
  EXPECT_EQ(outcome.kind, Kind::rate_limited);
  EXPECT_EQ(outcome.retry_after, std::chrono::seconds(7));
  EXPECT_EQ(MandrillEmail::interpret(answer(429, "")).kind, Kind::rate_limited) << "by status alone";
}

TEST(Mandrill, ServerErrorsAreRetryable) {
  auto outcome = MandrillEmail::interpret(answer(500, error("GeneralError", "Something went wrong")));
  EXPECT_EQ(outcome.kind, Kind::retryable);
  EXPECT_EQ(outcome.code, "GeneralError");
  EXPECT_EQ(MandrillEmail::interpret(answer(503, "<html>busy</html>")).kind, Kind::retryable);
}

TEST(Mandrill, AMessageTextNeverDecidesTheKind) {
  // A name the client does not know is classified by status, whatever its text claims.
  EXPECT_EQ(MandrillEmail::interpret(answer(500, error("Unknown_Thing", "Invalid_Key, do not retry"))).kind,
            Kind::retryable);
  EXPECT_EQ(MandrillEmail::interpret(answer(400, error("Unknown_Thing", "temporary, retry"))).kind, Kind::permanent);
}

TEST(Mandrill, AnUnreadableAcceptanceIsRetriedAsALostAnswer) {
  for (const char* body : {"[]", "{}", "not json", R"([{"status":"exploded","_id":"x"}])"}) {
    auto outcome = MandrillEmail::interpret(answer(200, body));
    EXPECT_EQ(outcome.kind, Kind::retryable) << body;
    EXPECT_EQ(outcome.code, "unreadable_answer") << body;
  }
}

TEST(Mandrill, TransportFailureIsRetryable) {
  Exchange exchange;
  exchange.error = boost::asio::error::connection_reset;
  auto outcome = MandrillEmail::interpret(exchange);
  EXPECT_EQ(outcome.kind, Kind::retryable);
  EXPECT_EQ(outcome.code, "transport");
}

TEST(Mandrill, ASearchFindsTheEarlierMessageOrNothing) {
  EXPECT_FALSE(MandrillEmail::interpret_search(answer(200, "[]")));
  EXPECT_FALSE(MandrillEmail::interpret_search(answer(200, " [ ] ")));
  auto found = MandrillEmail::interpret_search(answer(
      200, R"([{"ts":1,"_id":"abc123","email":"ana@example.com","state":"sent","metadata":{"rescind_job_id":"e"}}])"));
  ASSERT_TRUE(found);
  EXPECT_EQ(found->kind, Kind::ok);
  EXPECT_EQ(found->reference, "abc123");
  auto rejected = MandrillEmail::interpret_search(answer(200, R"([{"_id":"abc123","state":"rejected"}])"));
  ASSERT_TRUE(rejected);
  EXPECT_EQ(rejected->kind, Kind::permanent);
  auto failed = MandrillEmail::interpret_search(answer(500, error("GeneralError")));
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->kind, Kind::retryable);
}

}  // namespace
}  // namespace rescind::clients
