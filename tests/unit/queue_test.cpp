// The queue's vocabulary (queue/): the key names every worker, rescindctl and test shares.
// They are pinned here letter for letter: a renamed key strands a fleet mid-deploy.
#include <gtest/gtest.h>

#include "queue/keys.hpp"

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

}  // namespace
}  // namespace rescind::queue
