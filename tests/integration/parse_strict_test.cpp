// rescindctl enqueue validates with the worker's own parser: what the parser refuses never
// reaches the stream. Two jobs written back to back on one line (a producer that forgot the
// newline) used to be enqueued as one entry whose second job the worker never read.
#include <gtest/gtest.h>

#include "tests/support/stack.hpp"

namespace rescind::testing {
namespace {

long long stream_length(RedisServer& redis) { return redis.integer({"XLEN", "rescind:jobs"}); }

TEST(ParseStrict, EnqueueRefusesTwoJobsOnOneLine) {
  RedisServer redis;
  auto ran = enqueue(redis, job_json("evt_first") + job_json("evt_second") + "\n");
  EXPECT_EQ(ran.exit_code, 2) << ran.out << ran.err;
  EXPECT_NE(ran.err.find("line 1: payload"), std::string::npos) << ran.err;
  EXPECT_EQ(stream_length(redis), 0) << "nothing is enqueued from a file with an invalid line";
}

TEST(ParseStrict, EnqueueRefusesAJobWithAMalformedUnknownField) {
  RedisServer redis;
  auto job = job_json("evt_note");
  job.insert(job.size() - 1, R"(,"note":tru)");
  auto ran = enqueue(redis, job_json("evt_fine") + "\n" + job + "\n");
  EXPECT_EQ(ran.exit_code, 2) << ran.out << ran.err;
  EXPECT_NE(ran.err.find("line 2: note"), std::string::npos) << ran.err;
  EXPECT_EQ(stream_length(redis), 0) << "the good line is not enqueued either: the file is refused whole";
}

// The same jobs one per line are what an upstream should send: both are enqueued.
TEST(ParseStrict, EnqueueTakesTheSameJobsOnePerLine) {
  RedisServer redis;
  auto ran = enqueue(redis, job_json("evt_first") + "\n" + job_json("evt_second") + "\n");
  EXPECT_EQ(ran.exit_code, 0) << ran.out << ran.err;
  EXPECT_EQ(stream_length(redis), 2);
}

}  // namespace
}  // namespace rescind::testing
