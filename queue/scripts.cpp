#include "queue/scripts.hpp"

namespace rescind::queue::scripts {
namespace {

// XPENDING of the one id: its owner is the second field of the only row. An entry acked, or
// claimed by another consumer meanwhile, is not this consumer's to move.
constexpr const char* owns_lua = R"lua(
local function owns(stream, group, consumer, id)
  local owner = redis.call('XPENDING', stream, group, id, id, 1)
  return #owner > 0 and owner[1][2] == consumer
end
)lua";

// One run of a job id at a time: the lease names the stream entry running it. Taken when free
// or already this entry's (a claim of the same entry from a silent worker), and then the step
// states come back in the same call; held by another entry of the same id, it answers how
// long it has left. (JobQueue::begin tries a plain SET NX first; only a taken lease comes here.)
constexpr const char* begin_lua = R"lua(
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return {0, redis.call('PTTL', KEYS[1])} end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return {1, redis.call('HGETALL', KEYS[2])}
)lua";

// The ownership check and the move happen together: a consumer whose entry was claimed by
// another meanwhile changes nothing. The job id's lease goes with the entry, if this entry
// holds it.
constexpr const char* finish_lua = R"lua(
if not owns(KEYS[1], ARGV[1], ARGV[2], ARGV[3]) then return 0 end
if ARGV[4] == 'retry' then
  redis.call('ZADD', KEYS[2], ARGV[5], ARGV[6])
elseif ARGV[4] == 'dead' then
  redis.call('XADD', KEYS[3], '*', unpack(ARGV, 5))
end
redis.call('XACK', KEYS[1], ARGV[1], ARGV[3])
if KEYS[4] and redis.call('GET', KEYS[4]) == ARGV[3] then redis.call('DEL', KEYS[4]) end
return 1
)lua";

// Acks the ids this consumer still owns (one XACK for the batch), frees each lease that still
// names its entry, and answers 1 or 0 per id, in order.
constexpr const char* ack_many_lua = R"lua(
local owned, answer, leased = {}, {}, tonumber(ARGV[3])
for i = 4, #ARGV do
  if owns(KEYS[1], ARGV[1], ARGV[2], ARGV[i]) then
    owned[#owned + 1] = ARGV[i]
    answer[i - 3] = 1
    if i - 3 <= leased and redis.call('GET', KEYS[i - 2]) == ARGV[i] then redis.call('DEL', KEYS[i - 2]) end
  else
    answer[i - 3] = 0
  end
end
if #owned > 0 then redis.call('XACK', KEYS[1], ARGV[1], unpack(owned)) end
return answer
)lua";

// XCLAIM with JUSTID resets the idle time without counting a delivery; only entries this
// consumer still owns are touched, and a lease only while it still names its entry: the
// lease and the entry expire together when this worker dies.
constexpr const char* heartbeat_lua = R"lua(
local extended, leased = 0, tonumber(ARGV[4])
for i = 5, #ARGV do
  if owns(KEYS[1], ARGV[1], ARGV[2], ARGV[i]) then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
    local lease = KEYS[i - 3]
    if i - 4 <= leased and redis.call('GET', lease) == ARGV[i] then redis.call('PEXPIRE', lease, ARGV[3]) end
    extended = extended + 1
  end
end
return extended
)lua";

// Each due member becomes a stream entry in the same script that removes it from the set:
// never lost, never promoted twice. The member is Envelope::retry_member's; one that is not
// goes to the DLQ whole rather than away.
constexpr const char* promote_lua = R"lua(
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, member in ipairs(due) do
  local attempt, first_at, origin, job = string.match(member, '^(%d+):(%d+):([^:]*):(.*)$')
  if attempt then
    redis.call('XADD', KEYS[2], '*', 'job', job, 'attempt', attempt, 'first_at', first_at, 'origin_id', origin)
  else
    redis.call('XADD', KEYS[3], '*', 'job', member, 'reason', 'malformed_retry_envelope',
               'error', 'a member of the retry set was not attempt:first_at:origin_id:job')
  end
  redis.call('ZREM', KEYS[1], member)
end
return #due
)lua";

// The floor is the smallest of every group's last delivered id and oldest pending id; XTRIM
// MINID keeps the floor and everything after it. Ids are compared as (ms, seq) numbers: ms
// fit a Lua double exactly.
constexpr const char* trim_lua = R"lua(
local function parse(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
local function before(a, b)
  local am, as = parse(a)
  local bm, bs = parse(b)
  return am < bm or (am == bm and as < bs)
end
local groups = redis.call('XINFO', 'GROUPS', KEYS[1])
if #groups == 0 then return 0 end
local floor = nil
for _, group in ipairs(groups) do
  local info = {}
  for i = 1, #group, 2 do info[group[i]] = group[i + 1] end
  local bound = info['last-delivered-id']
  if info['pending'] > 0 then
    local summary = redis.call('XPENDING', KEYS[1], info['name'])
    if before(summary[2], bound) then bound = summary[2] end
  end
  if floor == nil or before(bound, floor) then floor = bound end
end
return redis.call('XTRIM', KEYS[1], 'MINID', floor)
)lua";

// Checks and deletes in one step: a consumer deleted while it owns entries takes them out of
// the pending list for good (no one could claim them again), and one that read something
// since it was listed is busy. The worker's housekeeping and `rescindctl consumers prune`.
constexpr const char* remove_consumer_lua = R"lua(
local consumers = redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])
for _, c in ipairs(consumers) do
  local name, pending, idle
  for i = 1, #c, 2 do
    if c[i] == 'name' then name = c[i + 1]
    elseif c[i] == 'pending' then pending = c[i + 1]
    elseif c[i] == 'idle' then idle = c[i + 1] end
  end
  if name == ARGV[2] then
    if pending > 0 then return 'owns' end
    if idle < tonumber(ARGV[3]) then return 'active' end
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
    return 'deleted'
  end
end
return 'gone'
)lua";

// KEYS: audit. ARGV: start id, page size. Tallies one page of step outcomes by provider and
// outcome inside Redis (`rescindctl stats`): {entries, last id, [provider, outcome, count, …]}.
constexpr const char* tally_audit_lua = R"lua(
local page = redis.call('XRANGE', KEYS[1], ARGV[1], '+', 'COUNT', tonumber(ARGV[2]))
local tally, keys = {}, {}
for _, entry in ipairs(page) do
  local fields, provider, outcome = entry[2], '', ''
  for i = 1, #fields, 2 do
    if fields[i] == 'provider' then provider = fields[i + 1]
    elseif fields[i] == 'outcome' then outcome = fields[i + 1] end
  end
  local key = provider .. '\0' .. outcome
  if not tally[key] then
    tally[key] = 0
    keys[#keys + 1] = {provider, outcome, key}
  end
  tally[key] = tally[key] + 1
end
local flat = {}
for _, k in ipairs(keys) do
  flat[#flat + 1] = k[1]
  flat[#flat + 1] = k[2]
  flat[#flat + 1] = tally[k[3]]
end
local last = ''
if #page > 0 then last = page[#page][1] end
return {#page, last, flat}
)lua";

// Per entry, in one script: the original job goes back to the stream with its attempts reset
// (no first_at: its age restarts now) and the entry leaves the DLQ, so it is never in both
// places and never in neither. An entry already gone (another operator replayed or purged it)
// is left alone: no doubles.
constexpr const char* replay_lua = R"lua(
local results = {}
for i, id in ipairs(ARGV) do
  local found = redis.call('XRANGE', KEYS[1], id, id)
  local result = 0
  if #found == 1 then
    local fields = found[1][2]
    local job, origin
    for f = 1, #fields, 2 do
      if fields[f] == 'job' then job = fields[f + 1]
      elseif fields[f] == 'origin_id' then origin = fields[f + 1] end
    end
    if job then
      if origin and origin ~= '' then
        redis.call('XADD', KEYS[2], '*', 'job', job, 'attempt', '1', 'origin_id', origin)
      else
        redis.call('XADD', KEYS[2], '*', 'job', job, 'attempt', '1')
      end
      redis.call('XDEL', KEYS[1], id)
      result = 1
    else
      result = -1
    end
  end
  results[i] = result
end
return results
)lua";

}  // namespace

const std::string& owns() {
  static const std::string text = owns_lua;
  return text;
}

const std::string& begin() {
  static const std::string text = begin_lua;
  return text;
}

const std::string& finish() {
  static const std::string text = std::string(owns_lua) + finish_lua;
  return text;
}

const std::string& acknowledge() {
  static const std::string text = std::string(owns_lua) + ack_many_lua;
  return text;
}

const std::string& heartbeat() {
  static const std::string text = std::string(owns_lua) + heartbeat_lua;
  return text;
}

const std::string& promote() {
  static const std::string text = promote_lua;
  return text;
}

const std::string& trim() {
  static const std::string text = trim_lua;
  return text;
}

const std::string& remove_consumer() {
  static const std::string text = remove_consumer_lua;
  return text;
}

const std::string& replay() {
  static const std::string text = replay_lua;
  return text;
}

const std::string& tally_audit() {
  static const std::string text = tally_audit_lua;
  return text;
}

}  // namespace rescind::queue::scripts
