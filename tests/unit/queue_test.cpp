// The queue's vocabulary (queue/): key names, fields, the envelope, the dead letter and the
// XINFO decoders. Names and formats are pinned here letter for letter: what one version of
// the worker writes, a fleet mid-deploy's other version and rescindctl must read.
#include <gtest/gtest.h>

#include <initializer_list>

#include "queue/dead_letter.hpp"
#include "queue/envelope.hpp"
#include "queue/fields.hpp"
#include "queue/info.hpp"
#include "queue/keys.hpp"
#include "queue/scripts.hpp"

namespace rescind::queue {
namespace {

TEST(QueueKeys, EveryNameIsThePrefixAndItsRole) {
  Keys keys;
  EXPECT_EQ(keys.prefix, "rescind") << "the default every deployment started with";
  EXPECT_EQ(keys.jobs(), "rescind:jobs");
  EXPECT_EQ(keys.retry(), "rescind:retry");
  EXPECT_EQ(keys.dlq(), "rescind:dlq");
  EXPECT_EQ(keys.audit(), "rescind:audit");
  EXPECT_EQ(keys.job_state("evt_1"), "rescind:job:evt_1");
  EXPECT_EQ(keys.job_lease("evt_1"), "rescind:run:evt_1");
  EXPECT_EQ(keys.pending_refunds(), "rescind:refunds:pending");
  EXPECT_EQ(keys.pending_refund("evt_1"), "rescind:refund:evt_1");
  EXPECT_EQ(keys.gone_receivers(), "rescind:receivers:gone");
  EXPECT_EQ(keys.rate_limit("stripe", "acct_1"), "rescind:rl:stripe:acct_1");
  EXPECT_EQ(keys.rate_pause("stripe", "acct_1"), "rescind:rl:stripe:acct_1:pause");
}

TEST(QueueKeys, APrefixNamesAnotherQueueWholly) {
  Keys staging{"staging:eu"};
  EXPECT_EQ(staging.jobs(), "staging:eu:jobs");
  EXPECT_EQ(staging.dlq(), "staging:eu:dlq");
  EXPECT_EQ(staging.job_state("a:b"), "staging:eu:job:a:b") << "a job id is taken as it is";
  EXPECT_EQ(staging.rate_pause("paypal", "default"), "staging:eu:rl:paypal:default:pause");
}

redis::StreamEntry entry(std::string id, std::vector<std::pair<std::string, std::string>> fields) {
  return redis::StreamEntry{std::move(id), std::move(fields)};
}

TEST(Envelope, TravelsThroughTheRetrySetAsOneMember) {
  auto envelope = Envelope::of(
      entry("1700000000500-0", {{"job", "{}"}, {"attempt", "3"}, {"first_at", "1700000000000"}, {"origin_id", "1-7"}}));
  ASSERT_TRUE(envelope.corrected.empty());
  EXPECT_EQ(envelope.retry_member(R"({"id":"a:b"})"), R"(3:1700000000000:1-7:{"id":"a:b"})")
      << "attempt:first_at:origin_id:job, the job last and whole";
  auto first = Envelope::of(entry("1700000000500-0", {{"job", "{}"}}));
  EXPECT_EQ(first.retry_member("{}"), "1:1700000000500:1700000000500-0:{}") << "a first delivery names itself";
}

TEST(Envelope, StreamIdsAreDigitsDashDigits) {
  EXPECT_TRUE(is_stream_id("1732291200000-0"));
  EXPECT_TRUE(is_stream_id("0-1"));
  for (const char* bad : {"", "1732291200000", "-0", "1-", "a-1", "1-1-1", "+", "1:2-3", "123456789012345678901-0"})
    EXPECT_FALSE(is_stream_id(bad)) << bad;
}

TEST(DeadLetter, WritesEveryFieldInTheOrderRescindctlReads) {
  DeadLetter letter;
  letter.job = "{}";
  letter.attempt = 4;
  letter.kind = "order.canceled";
  letter.reason = "permanent";
  letter.step = "refund";
  letter.provider = "stripe";
  letter.status = 402;
  letter.code = "card_declined";
  letter.error = "Your card was declined.";
  letter.failed_at = "2026-11-22T16:00:00.000Z";
  letter.origin_id = "1-0";
  letter.worker = "host-1";
  letter.more.emplace_back(field::ref, "re_1");
  std::vector<std::pair<std::string, std::string>> written;
  for (const auto& [name, value] : letter.fields()) written.emplace_back(name, value);
  EXPECT_EQ(written, (std::vector<std::pair<std::string, std::string>>{{"job", "{}"},
                                                                       {"attempt", "4"},
                                                                       {"kind", "order.canceled"},
                                                                       {"reason", "permanent"},
                                                                       {"step", "refund"},
                                                                       {"provider", "stripe"},
                                                                       {"status", "402"},
                                                                       {"code", "card_declined"},
                                                                       {"error", "Your card was declined."},
                                                                       {"failed_at", "2026-11-22T16:00:00.000Z"},
                                                                       {"origin_id", "1-0"},
                                                                       {"worker", "host-1"},
                                                                       {"ref", "re_1"}}));
}

// Lua cannot include fields.hpp: the scripts that write envelopes must still spell its names.
TEST(QueueScripts, SpellTheEnvelopesFieldNames) {
  auto quoted = [](std::string_view name) { return "'" + std::string(name) + "'"; };
  for (auto name : {field::job, field::attempt, field::first_at, field::origin_id}) {
    EXPECT_NE(scripts::promote().find(quoted(name)), std::string::npos) << name;
  }
  for (auto name : {field::job, field::attempt, field::origin_id}) {
    EXPECT_NE(scripts::replay().find(quoted(name)), std::string::npos) << name;
  }
  for (auto name : {field::provider, field::outcome}) {
    EXPECT_NE(scripts::tally_audit().find(quoted(name)), std::string::npos) << name;
  }
  for (const auto* script : {&scripts::finish(), &scripts::acknowledge(), &scripts::heartbeat()}) {
    EXPECT_EQ(script->rfind(scripts::owns(), 0), 0u) << "every fenced move starts with the one ownership check";
  }
}

redis::Reply text(std::string value) {
  redis::Reply reply;
  reply.type = redis::Reply::Type::string;
  reply.text = std::move(value);
  return reply;
}
redis::Reply integer(long long value) {
  redis::Reply reply;
  reply.type = redis::Reply::Type::integer;
  reply.integer = value;
  return reply;
}
redis::Reply nil() { return redis::Reply{}; }
redis::Reply array(std::vector<redis::Reply> elements) {
  redis::Reply reply;
  reply.type = redis::Reply::Type::array;
  reply.elements = std::move(elements);
  return reply;
}

TEST(QueueInfo, GroupsAreReadByNameAndNilIsUnknown) {
  auto groups = array({
      array({text("name"), text("audit"), text("consumers"), integer(0), text("pending"), integer(0),
             text("last-delivered-id"), text("0-0"), text("entries-read"), nil(), text("lag"), nil()}),
      array({text("name"), text("rescind"), text("consumers"), integer(2), text("pending"), integer(3),
             text("last-delivered-id"), text("5-0"), text("entries-read"), integer(9), text("lag"), integer(1)}),
  });
  auto ours = group_named(groups, "rescind");
  ASSERT_TRUE(ours);
  EXPECT_EQ(ours->consumers, 2);
  EXPECT_EQ(ours->pending, 3);
  EXPECT_EQ(ours->last_delivered_id, "5-0");
  EXPECT_EQ(ours->entries_read, 9);
  EXPECT_EQ(ours->lag, 1);
  auto audit = group_named(groups, "audit");
  ASSERT_TRUE(audit);
  EXPECT_FALSE(audit->lag) << "nil: Redis cannot tell, which is not 0";
  EXPECT_FALSE(audit->entries_read);
  EXPECT_FALSE(group_named(groups, "other"));
  redis::Reply refused;
  refused.type = redis::Reply::Type::error;
  refused.text = "ERR no such key";
  EXPECT_TRUE(groups_from(refused).empty());
}

TEST(QueueInfo, ConsumersPendingAndTheStream) {
  auto consumers = consumers_from(array({array({text("name"), text("host-1"), text("pending"), integer(2), text("idle"),
                                                integer(1500), text("inactive"), integer(1500)})}));
  ASSERT_EQ(consumers.size(), 1u);
  EXPECT_EQ(consumers[0].name, "host-1");
  EXPECT_EQ(consumers[0].pending, 2);
  EXPECT_EQ(consumers[0].idle_ms, 1500);

  auto pending = pending_from(array({array({text("1-0"), text("host-1"), integer(31000), integer(2)})}));
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].id, "1-0");
  EXPECT_EQ(pending[0].consumer, "host-1");
  EXPECT_EQ(pending[0].idle_ms, 31000);
  EXPECT_EQ(pending[0].deliveries, 2);

  auto summary = pending_summary_from(array({integer(2), text("1-0"), text("4-0"), array({})}));
  ASSERT_TRUE(summary);
  EXPECT_EQ(summary->count, 2);
  EXPECT_EQ(summary->oldest_id, "1-0");
  EXPECT_FALSE(pending_summary_from(array({integer(0), nil(), nil(), nil()}))) << "nothing pending";

  auto stream = stream_info_from(
      array({text("length"), integer(7), text("last-generated-id"), text("9-0"), text("entries-added"), integer(12)}));
  ASSERT_TRUE(stream);
  EXPECT_EQ(stream->length, 7);
  EXPECT_EQ(stream->last_generated_id, "9-0");
  EXPECT_EQ(stream->entries_added, 12);
}

}  // namespace
}  // namespace rescind::queue
