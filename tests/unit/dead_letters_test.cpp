// The one shape of a DLQ entry: a step that failed in a run and a pending refund that failed
// later go through the same why (step_failed) and the same finish (finish_letter), so both
// carry status, origin_id, a failed_at from the injected clock and the same redaction.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "clients/outcome.hpp"
#include "common/log.hpp"
#include "queue/fields.hpp"
#include "tests/support/manual_clock.hpp"
#include "worker/dead_letters.hpp"

namespace rescind::worker {
namespace {

std::map<std::string, std::string, std::less<>> by_name(const queue::DeadLetter& letter) {
  std::map<std::string, std::string, std::less<>> all;
  for (const auto& [name, value] : letter.fields()) all.emplace(name, value);
  return all;
}

LetterSource source_at(const common::Clock& clock, const std::string& payload) {
  return {&payload, 1024, 3, "cancel_order", "1795363100000-0", "worker-a", clock.system_now()};
}

TEST(DeadLetters, AStepFailureCarriesTheProvidersAnswer) {
  auto why = step_failed(clients::Outcome::permanent(402, "insufficient_funds", "balance too low"), jobs::Role::refund,
                         "stripe");
  EXPECT_EQ(why.reason, "permanent");
  EXPECT_EQ(why.step, "refund");
  EXPECT_EQ(why.provider, "stripe");
  EXPECT_EQ(why.status, 402);
  EXPECT_EQ(why.code, "insufficient_funds");
  EXPECT_EQ(why.error, "balance too low");
}

TEST(DeadLetters, FinishingFillsWhoWhereAndWhenFromTheClock) {
  testing::ManualClock clock;
  std::string payload = R"({"id":"evt_1"})";
  auto letter = finish_letter(
      step_failed(clients::Outcome::permanent(404, "not_found", "no such order"), jobs::Role::cancel, "shopify"),
      source_at(clock, payload));
  auto fields = by_name(letter);
  EXPECT_EQ(fields["job"], payload);
  EXPECT_EQ(fields["attempt"], "3");
  EXPECT_EQ(fields["kind"], "cancel_order");
  EXPECT_EQ(fields["status"], "404");
  EXPECT_EQ(fields["failed_at"], "2026-11-22T16:00:00.000Z") << "the injected clock, not the machine's";
  EXPECT_EQ(fields["origin_id"], "1795363100000-0");
  EXPECT_EQ(fields["worker"], "worker-a");

  clock.advance(std::chrono::minutes(90));
  EXPECT_EQ(finish_letter({}, source_at(clock, payload)).failed_at, "2026-11-22T17:30:00.000Z");
}

TEST(DeadLetters, FinishingRedactsWhatAProviderEchoed) {
  common::log::register_secret("sk_test_dead_letter_secret");
  testing::ManualClock clock;
  std::string payload = "{}";
  auto letter = finish_letter(step_failed(clients::Outcome::permanent(401, "bad key sk_test_dead_letter_secret",
                                                                      "key sk_test_dead_letter_secret refused"),
                                          jobs::Role::refund, "stripe"),
                              source_at(clock, payload));
  EXPECT_EQ(letter.code.find("sk_test_dead_letter_secret"), std::string::npos) << letter.code;
  EXPECT_EQ(letter.error.find("sk_test_dead_letter_secret"), std::string::npos) << letter.error;
}

TEST(DeadLetters, AnOversizePayloadKeepsItsFirstBytesSizeAndDigest) {
  testing::ManualClock clock;
  std::string payload(5000, 'x');
  auto letter = finish_letter({}, source_at(clock, payload));
  EXPECT_EQ(letter.job.size(), 4096u);
  auto fields = by_name(letter);
  EXPECT_EQ(fields[std::string(queue::field::job_bytes)], "5000");
  EXPECT_EQ(fields[std::string(queue::field::job_sha256)].size(), 64u);
}

// A refund accepted as pending that failed later: the same shape as a step's failure, with
// the reason and code saying so, and the provider's refund id to look it up by.
TEST(DeadLetters, APendingRefundThatFailedHasTheSameShape) {
  testing::ManualClock clock;
  std::string payload = R"({"id":"evt_pending"})";
  auto source = source_at(clock, payload);
  source.attempt = 0;
  auto letter = finish_letter(
      refund_failed("re_123", "stripe", "Stripe refund re_123 ended failed: lost_or_stolen_card"), source);
  auto fields = by_name(letter);
  EXPECT_EQ(fields["reason"], "refund_failed");
  EXPECT_EQ(fields["step"], "refund");
  EXPECT_EQ(fields["provider"], "stripe");
  EXPECT_EQ(fields["code"], "refund_failed") << "the provider's prose goes in error, not code";
  EXPECT_NE(fields["error"].find("lost_or_stolen_card"), std::string::npos) << fields["error"];
  EXPECT_EQ(fields["attempt"], "0");
  EXPECT_EQ(fields["failed_at"], "2026-11-22T16:00:00.000Z");
  EXPECT_EQ(fields["origin_id"], "1795363100000-0");
  EXPECT_EQ(fields[std::string(queue::field::ref)], "re_123");

  // One order of fields for every letter: the why and the finish, then what only it has.
  auto step =
      finish_letter(step_failed(clients::Outcome::permanent(402, "x", "y"), jobs::Role::refund, "stripe"), source);
  auto names = [](const queue::DeadLetter& l) {
    std::vector<std::string> out;
    for (const auto& [name, value] : l.fields()) out.emplace_back(name);
    return out;
  };
  auto refund_names = names(letter);
  refund_names.pop_back();  // ref
  EXPECT_EQ(refund_names, names(step));
}

}  // namespace
}  // namespace rescind::worker
