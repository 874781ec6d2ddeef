// Every Lua script that moves a job or changes the consumer group, one definition each, with
// what it is given (KEYS, ARGV) and why it is one script. The worker sends them by SHA1
// (redis::Script, from queue/job_queue.cpp, acknowledger.cpp, housekeeping.cpp); rescindctl by
// EVAL. A fleet mid-deploy runs two versions of some of them side by side: what one writes the
// other must read, so keys, fields and member formats never change here without both sides.
#pragma once
#include <string>

namespace rescind::queue::scripts {

// The fence of every completion, a Lua function the scripts below that need it start with:
// owns(stream, group, consumer, id) is true while entry `id` is pending for `consumer`.
const std::string& owns();

// KEYS: lease, step states. ARGV: entry id, lease ms. Takes a job id's lease for an entry and
// reads its step states; answers {1, states} or {0, the lease's ms left}.
const std::string& begin();
// KEYS: jobs, retry, dlq[, lease]. ARGV: group, consumer, entry id, retry|dead, then due ms and
// the retry member, or the DLQ's field/value pairs. 1 moved, 0 not the owner's.
const std::string& finish();
// KEYS: jobs, then the leases of the first n ids. ARGV: group, consumer, n, ids… 1 or 0 per id.
const std::string& acknowledge();
// KEYS: jobs, then the leases of the first n ids. ARGV: group, consumer, lease ms, n, ids…
const std::string& heartbeat();
// KEYS: retry, jobs, dlq. ARGV: now ms, limit. How many it moved.
const std::string& promote();
// KEYS: jobs. How many entries XTRIM removed.
const std::string& trim();
// KEYS: jobs. ARGV: group, consumer, min idle ms. 'deleted', 'owns', 'active' or 'gone'.
const std::string& remove_consumer();
// KEYS: dlq, jobs. ARGV: DLQ entry ids. Per id: 1 replayed, 0 no longer there, -1 has no job.
const std::string& replay();
// KEYS: audit. ARGV: start id, page size. Tallies one page of step outcomes by provider and
// outcome inside Redis (rescindctl stats): {entries, last id, [provider, outcome, count, …]}.
const std::string& tally_audit();

}  // namespace rescind::queue::scripts
