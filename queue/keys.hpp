// The name of every Redis key Rescind uses, from one prefix (--prefix, "rescind" by default).
// The worker, rescindctl and the tests all take their names from here: a fleet mid-deploy and
// an operator's rescindctl must agree on them byte for byte.
#pragma once
#include <string>
#include <string_view>

namespace rescind::queue {

struct Keys {
  std::string prefix = "rescind";

  std::string jobs() const { return prefix + ":jobs"; }    // STREAM  the jobs, read by the consumer group
  std::string retry() const { return prefix + ":retry"; }  // ZSET    attempt:first_at:origin_id:job by due ms
  std::string dlq() const { return prefix + ":dlq"; }      // STREAM  dead letters (queue/dead_letter.hpp)
  std::string audit() const { return prefix + ":audit"; }  // STREAM  one entry per provider call, capped
  // HASH  role → "done:<ref>" (and the refund's key state): what a later run of the job skips.
  std::string job_state(std::string_view job_id) const { return with(":job:", job_id); }
  // STRING  the stream entry running the job id: two entries of one id never run at once.
  std::string job_lease(std::string_view job_id) const { return with(":run:", job_id); }
  // ZSET  job id → when its pending refund is next checked; HASH  what that check needs.
  std::string pending_refunds() const { return prefix + ":refunds:pending"; }
  std::string pending_refund(std::string_view job_id) const { return with(":refund:", job_id); }
  // HASH  back-office receivers that answered 410 Gone → when, from where, for which job.
  std::string gone_receivers() const { return prefix + ":receivers:gone"; }
  // STRING  a fleet-wide GCRA bucket (its theoretical arrival time), and the pause a 429 set on it.
  std::string rate_limit(std::string_view provider, std::string_view account) const {
    return with(":rl:", provider) + ":" + std::string(account);
  }
  std::string rate_pause(std::string_view provider, std::string_view account) const {
    return rate_limit(provider, account) + ":pause";
  }

 private:
  std::string with(std::string_view infix, std::string_view name) const {
    std::string key;
    key.reserve(prefix.size() + infix.size() + name.size());
    return key.append(prefix).append(infix).append(name);
  }
};

}  // namespace rescind::queue
