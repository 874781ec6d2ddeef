// What Redis says about the queue's stream and its consumer group (XINFO STREAM / GROUPS /
// CONSUMERS, XPENDING), decoded once into named fields: the worker's sampler and
// housekeeping, rescindctl's stats and consumers, and the tests all read these.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "redis/reply.hpp"

namespace rescind::queue {

// XINFO STREAM. Absent counters (before Redis 7) stay empty.
struct StreamInfo {
  long long length = 0;
  std::string last_generated_id;
  std::optional<long long> entries_added;  // every XADD ever: trimming does not lower it
};
std::optional<StreamInfo> stream_info_from(const redis::Reply& reply);  // nullopt: not an XINFO STREAM reply

// One row of XINFO GROUPS.
struct GroupInfo {
  std::string name;
  long long consumers = 0;
  long long pending = 0;  // read by a consumer, not yet acknowledged
  std::string last_delivered_id;
  std::optional<long long> entries_read;  // nil: Redis cannot tell
  std::optional<long long> lag;           // nil: Redis cannot tell (after deletions, some trims)
};
std::vector<GroupInfo> groups_from(const redis::Reply& reply);
std::optional<GroupInfo> group_named(const redis::Reply& reply, std::string_view name);

// One row of XINFO CONSUMERS.
struct ConsumerInfo {
  std::string name;
  long long pending = 0;
  long long idle_ms = 0;  // since it last read (before Redis 7.2: since it last received entries)
};
std::vector<ConsumerInfo> consumers_from(const redis::Reply& reply);

// One row of XPENDING's extended form (XPENDING key group [IDLE ms] start end count [consumer]).
struct PendingEntry {
  std::string id, consumer;
  long long idle_ms = 0;     // since it was last delivered or heartbeated
  long long deliveries = 0;  // how often it was delivered
};
std::vector<PendingEntry> pending_from(const redis::Reply& reply);

// XPENDING's summary form (XPENDING key group): nullopt when nothing is pending.
struct PendingSummary {
  long long count = 0;
  std::string oldest_id, newest_id;
};
std::optional<PendingSummary> pending_summary_from(const redis::Reply& reply);

}  // namespace rescind::queue
