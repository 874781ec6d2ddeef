#include "retry/job_queue.hpp"

#include <algorithm>
#include <charconv>
#include <unordered_map>

namespace rescind::retry {
namespace {

// KEYS: jobs, retry, dlq[, lease]. ARGV: group, consumer, entry id, action, then per
// action: retry: due_ms, envelope; dead: field, value, … The ownership check and the move
// happen together: a consumer whose entry was claimed by another meanwhile changes nothing.
// The job id's lease goes with the entry, if this entry holds it.
constexpr const char* finish_lua = R"lua(
local owner = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if #owner == 0 or owner[1][2] ~= ARGV[2] then return 0 end
if ARGV[4] == 'retry' then
  redis.call('ZADD', KEYS[2], ARGV[5], ARGV[6])
elseif ARGV[4] == 'dead' then
  redis.call('XADD', KEYS[3], '*', unpack(ARGV, 5))
end
redis.call('XACK', KEYS[1], ARGV[1], ARGV[3])
if KEYS[4] and redis.call('GET', KEYS[4]) == ARGV[3] then redis.call('DEL', KEYS[4]) end
return 1
)lua";

// KEYS: lease, step states. ARGV: entry id, lease ms. One run of a job id at a time: the
// lease names the stream entry running it. Taken when free or already this entry's (a
// claim of the same entry from a silent worker), and then the step states come back in the
// same call; held by another entry of the same id, it answers how long it has left.
constexpr const char* begin_lua = R"lua(
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return {0, redis.call('PTTL', KEYS[1])} end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return {1, redis.call('HGETALL', KEYS[2])}
)lua";

// KEYS: retry, jobs, dlq. ARGV: now_ms, limit. Each due envelope becomes a stream entry in
// the same script that removes it from the set: never lost, never promoted twice.
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

// KEYS: jobs, then the leases of the first n ids. ARGV: group, consumer, lease ms, n, ids…
// XCLAIM with JUSTID resets the idle time without counting a delivery; only entries this
// consumer still owns are touched, and a lease only while it still names its entry: the
// lease and the entry expire together when this worker dies.
constexpr const char* extend_lua = R"lua(
local extended, leased = 0, tonumber(ARGV[4])
for i = 5, #ARGV do
  local owner = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if #owner > 0 and owner[1][2] == ARGV[2] then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
    local lease = KEYS[i - 3]
    if i - 4 <= leased and redis.call('GET', lease) == ARGV[i] then redis.call('PEXPIRE', lease, ARGV[3]) end
    extended = extended + 1
  end
end
return extended
)lua";

long long to_number(const std::string* text, long long fallback) {
  if (!text) return fallback;
  long long value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  return ec == std::errc{} && end == text->data() + text->size() ? value : fallback;
}

long long millis(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace

// ^\d+-\d+$, the shape of every id Redis gives a stream entry.
bool is_stream_id(std::string_view id) {
  auto dash = id.find('-');
  auto digits = [](std::string_view part) {
    return !part.empty() && part.size() <= 20 &&
           std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  return dash != std::string_view::npos && digits(id.substr(0, dash)) && digits(id.substr(dash + 1));
}

Envelope Envelope::of(const redis::StreamEntry& entry) {
  Envelope envelope;
  const long long added_ms = redis::entry_id_millis(entry.id).value_or(0);
  constexpr long long absent = -1;  // no valid field is negative
  if (const auto* text = entry.field("attempt")) {
    auto attempt = to_number(text, absent);
    if (attempt < 1)
      envelope.corrected.push_back("attempt");  // stays 1
    else
      envelope.attempt = static_cast<int>(std::min<long long>(attempt, max_attempt));
    if (attempt > max_attempt) envelope.corrected.push_back("attempt");
  }
  envelope.first_at_ms = added_ms;
  if (const auto* text = entry.field("first_at")) {
    auto first_at = to_number(text, absent);
    if (first_at >= 0 && first_at <= added_ms)
      envelope.first_at_ms = first_at;
    else
      envelope.corrected.push_back("first_at");
  }
  envelope.origin_id = entry.id;
  if (const auto* origin = entry.field("origin_id"); origin && !origin->empty()) {
    if (is_stream_id(*origin))
      envelope.origin_id = *origin;
    else
      envelope.corrected.push_back("origin_id");
  }
  return envelope;
}

JobQueue::JobQueue(QueueKeys keys)
    : keys_(std::move(keys)), finish_(finish_lua), begin_(begin_lua), promote_(promote_lua), extend_(extend_lua) {}

namespace {
std::vector<std::pair<std::string, std::string>> step_states(redis::Reply& hash) {
  std::vector<std::pair<std::string, std::string>> states;
  auto& fields = hash.elements;
  for (std::size_t f = 0; f + 1 < fields.size(); f += 2) {
    states.emplace_back(std::move(fields[f].text), std::move(fields[f + 1].text));
  }
  return states;
}

std::string error_of(const redis::Result& result, const redis::Reply* reply) {
  return !result.ok() ? result.error.message() : reply && reply->is_error() ? reply->text : "unexpected reply";
}
}  // namespace

asio::awaitable<Begun> JobQueue::begin(redis::Connection& redis, const std::string& entry_id,
                                       const std::string& lease_key, const std::string& state_key,
                                       std::chrono::milliseconds lease_for) const {
  auto ttl = std::to_string(lease_for.count());
  Begun begun;
  // The common case, a free lease, in one pipelined round trip without Lua: SET NX and the
  // step states. Redis spends about 1 µs more on it than on the HGETALL alone, against 6.5 µs
  // more for the script (bench/lease/run.sh). Only a lease already taken goes to the script,
  // which decides atomically whether it is this entry's own (a claim of the entry from a
  // silent worker) or another entry's.
  redis::Request fast;
  fast.push("SET", lease_key, entry_id, "NX", "PX", ttl);
  fast.push("HGETALL", state_key);
  auto quick = co_await redis.exec(std::move(fast));
  if (!quick.ok() || quick.replies.size() != 2 || !quick.replies[1].is_array() || quick.replies[0].is_error()) {
    begun.error =
        error_of(quick, quick.ok() && !quick.replies.empty() && quick.replies[0].is_error() ? &quick.replies[0]
                        : quick.ok() && quick.replies.size() == 2                           ? &quick.replies[1]
                                                                                            : nullptr);
    co_return begun;
  }
  if (!quick.replies[0].is_nil()) {
    begun.state = Begun::State::leased;
    begun.steps = step_states(quick.replies[1]);
    co_return begun;
  }

  std::vector<std::string_view> keys{lease_key, state_key}, args{entry_id, ttl};
  auto result = co_await begin_.run(redis, keys, args);
  if (!result.ok() || result.replies[0].is_error() || !result.replies[0].is_array() ||
      result.replies[0].elements.size() != 2) {
    begun.error = error_of(result, result.ok() ? &result.replies[0] : nullptr);
    co_return begun;
  }
  auto& reply = result.replies[0].elements;
  if (reply[0].integer == 0) {
    begun.state = Begun::State::busy;
    begun.busy_for = std::chrono::milliseconds(std::max(0LL, reply[1].integer));
    co_return begun;
  }
  begun.state = Begun::State::leased;
  begun.steps = step_states(reply[1]);
  co_return begun;
}

asio::awaitable<Finished> JobQueue::finish(redis::Connection& redis, std::vector<std::string_view> args,
                                           std::string_view lease_key) const {
  std::vector<std::string_view> keys{keys_.jobs, keys_.retry, keys_.dlq};
  if (!lease_key.empty()) keys.push_back(lease_key);
  auto result = co_await finish_.run(redis, keys, args);
  if (!result.ok() || result.replies[0].is_error()) co_return Finished::failed;
  co_return result.replies[0].integer == 1 ? Finished::done : Finished::stale;
}

asio::awaitable<Finished> JobQueue::acknowledge(redis::Connection& redis, const std::string& entry_id,
                                                std::string_view lease_key) const {
  std::vector<std::string_view> args{keys_.group, keys_.consumer, entry_id,
                                     "ack"};  // named: g++ 12 miscompiles a braced list in co_await
  co_return co_await finish(redis, std::move(args), lease_key);
}

asio::awaitable<Finished> JobQueue::reschedule(redis::Connection& redis, const std::string& entry_id,
                                               const std::string& job, const Envelope& envelope,
                                               std::chrono::system_clock::time_point due, bool uses_attempt,
                                               std::string_view lease_key) const {
  auto member = std::to_string(envelope.attempt + (uses_attempt ? 1 : 0)) + ":" + std::to_string(envelope.first_at_ms) +
                ":" + envelope.origin_id + ":" + job;
  auto due_ms = std::to_string(millis(due));
  std::vector<std::string_view> args{keys_.group, keys_.consumer, entry_id, "retry", due_ms, member};
  co_return co_await finish(redis, std::move(args), lease_key);
}

asio::awaitable<Finished> JobQueue::dead_letter(redis::Connection& redis, const std::string& entry_id,
                                                const DeadLetter& letter, std::string_view lease_key) const {
  std::vector<std::string_view> args{keys_.group, keys_.consumer, entry_id, "dead"};
  for (const auto& [field, value] : letter.fields) {
    args.push_back(field);
    args.push_back(value);
  }
  co_return co_await finish(redis, std::move(args), lease_key);
}

asio::awaitable<std::optional<long long>> JobQueue::promote_due(redis::Connection& redis,
                                                                std::chrono::system_clock::time_point now,
                                                                long long limit) const {
  auto now_ms = std::to_string(millis(now)), count = std::to_string(limit);
  std::vector<std::string_view> keys{keys_.retry, keys_.jobs, keys_.dlq};
  std::vector<std::string_view> args{now_ms, count};
  auto result = co_await promote_.run(redis, keys, args);
  if (!result.ok() || result.replies[0].is_error()) co_return std::nullopt;
  co_return result.replies[0].integer;
}

asio::awaitable<void> JobQueue::extend(redis::Connection& redis, const std::vector<Running>& running,
                                       std::chrono::milliseconds lease_for) const {
  if (running.empty()) co_return;
  // Leased entries first, so that KEYS[1 + i] is the lease of the i-th id.
  std::vector<std::string_view> keys{keys_.jobs}, leased_ids, other_ids;
  for (const auto& job : running) {
    if (job.lease_key.empty()) {
      other_ids.push_back(job.entry_id);
    } else {
      keys.push_back(job.lease_key);
      leased_ids.push_back(job.entry_id);
    }
  }
  auto ttl = std::to_string(lease_for.count()), leased = std::to_string(leased_ids.size());
  std::vector<std::string_view> args{keys_.group, keys_.consumer, ttl, leased};
  args.insert(args.end(), leased_ids.begin(), leased_ids.end());
  args.insert(args.end(), other_ids.begin(), other_ids.end());
  co_await extend_.run(redis, keys, args);
}

asio::awaitable<std::vector<std::pair<redis::StreamEntry, long long>>> JobQueue::claim_idle(
    redis::Connection& redis, std::chrono::milliseconds min_idle, long long count) const {
  std::vector<std::pair<redis::StreamEntry, long long>> claimed;
  redis::Request pending;
  pending.push("XPENDING", keys_.jobs, keys_.group, "IDLE", min_idle.count(), "-", "+", count);
  auto listed = co_await redis.exec(std::move(pending));
  if (!listed.ok() || !listed.replies[0].is_array() || listed.replies[0].elements.empty()) co_return claimed;

  std::unordered_map<std::string, long long> deliveries;
  std::vector<std::string> ids;
  for (const auto& item : listed.replies[0].elements) {
    if (item.elements.size() < 4) continue;
    deliveries[item.elements[0].text] = item.elements[3].integer;
    ids.push_back(item.elements[0].text);
  }
  auto idle = std::to_string(min_idle.count());
  std::vector<std::string_view> argv{"XCLAIM", keys_.jobs, keys_.group, keys_.consumer, idle};
  argv.insert(argv.end(), ids.begin(), ids.end());
  redis::Request claim;
  claim.push_argv(argv);  // min-idle again: an entry its owner touched since is not taken
  auto result = co_await redis.exec(std::move(claim));
  if (!result.ok() || result.replies[0].is_error()) co_return claimed;
  for (auto& entry : redis::entries_from(std::move(result.replies[0]))) {
    auto count_before = deliveries[entry.id];
    claimed.emplace_back(std::move(entry), count_before + 1);
  }
  co_return claimed;
}

}  // namespace rescind::retry
