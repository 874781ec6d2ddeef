#include "worker/pending_refunds.hpp"

#include <algorithm>
#include <charconv>

#include "common/async.hpp"
#include "common/log.hpp"
#include "queue/fields.hpp"
#include "queue/job_queue.hpp"
#include "redis/script.hpp"
#include "worker/dead_letters.hpp"

namespace rescind::worker {

namespace asio = boost::asio;
namespace log = common::log;
using clients::RefundState;

namespace {

// KEYS: pending set. ARGV: now_ms, claim_until_ms, limit. The due job ids, each moved to
// claim_until in the same script: two workers never check one refund at once (a worker that
// dies mid-check leaves it due again at claim_until).
const redis::Script claim_due(R"lua(
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(due) do redis.call('ZADD', KEYS[1], 'XX', ARGV[2], id) end
return due
)lua");

// KEYS: pending set, refund hash, job state. ARGV: job id. The refund succeeded: forget it.
// 1 if this call removed it, 0 if another had already.
const redis::Script settle_succeeded(R"lua(
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('DEL', KEYS[2])
redis.call('HDEL', KEYS[3], 'refund:pending')
return 1
)lua");

// KEYS: pending set, refund hash, job state, dlq. ARGV: job id, the refund step's new state,
// state TTL ms, then DLQ field/value pairs. The refund failed after all: in one script it
// leaves the pending set, its step is no longer done (a replay reconciles, then refunds
// under a new key) and the job goes to the DLQ. Only the call that removed it writes the
// letter, so a failure is dead-lettered once however many workers saw it.
const redis::Script settle_failed(R"lua(
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[3], 'refund', ARGV[2])
redis.call('HDEL', KEYS[3], 'refund:pending')
redis.call('PEXPIRE', KEYS[3], ARGV[3])
local letter = {}
for i = 4, #ARGV do letter[#letter + 1] = ARGV[i] end
redis.call('XADD', KEYS[4], '*', unpack(letter))
return 1
)lua");

constexpr std::size_t checks_per_round = 50;
constexpr auto longest_wait = std::chrono::hours(6);
constexpr auto claim_for = std::chrono::minutes(2);  // longer than a check's provider calls

long long millis(std::chrono::system_clock::time_point at) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count();
}

unsigned to_unsigned(std::string_view text) {
  unsigned value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

const std::string* field(const redis::Reply& hash, std::string_view name) {
  for (std::size_t i = 0; i + 1 < hash.elements.size(); i += 2) {
    if (hash.elements[i].text == name) return &hash.elements[i + 1].text;
  }
  return nullptr;
}

}  // namespace

RefundKeyState RefundKeyState::parse(std::string_view state) {
  RefundKeyState key;
  if (state.starts_with("refused:")) {
    key.refused = true;
    key.generation = to_unsigned(state.substr(8));
  } else if (state.starts_with("key:")) {
    key.generation = to_unsigned(state.substr(4));
  }
  return key;
}

PendingRefunds::PendingRefunds(const QueueConfig& queue, redis::Connection& redis, clients::Providers& providers,
                               metrics::Metrics& metrics, const common::Clock& clock)
    : queue_(queue), redis_(redis), providers_(providers), metrics_(metrics), clock_(clock) {}

void PendingRefunds::track(redis::Request& record, const Refund& refund,
                           std::chrono::system_clock::time_point now) const {
  auto key = queue_.keys.pending_refund(refund.job_id);
  auto since = std::to_string(millis(now)), generation = std::to_string(refund.generation);
  std::string_view hash[] = {"HSET",       key,
                             "job",        refund.payload,
                             "origin_id",  refund.origin_id,
                             "provider",   refund.provider,
                             "ref",        refund.reference,
                             "generation", generation,
                             "since_ms",   since,
                             "checks",     "0"};
  record.push_argv(hash);
  record.push("ZADD", queue_.keys.pending_refunds(), millis(now + queue_.pending_refund_check), refund.job_id);
}

asio::awaitable<void> PendingRefunds::run() {
  while (!stopping_) {
    // A full round may mean more are due: go again at once, else wait a tenth of the first
    // check's delay (so a refund is checked within 10 % of when it is due).
    auto checked = co_await check_due();
    if (checked == checks_per_round) continue;
    co_await common::sleep_for(clock_, std::clamp(queue_.pending_refund_check / 10, std::chrono::milliseconds(50),
                                                  std::chrono::milliseconds(30000)));
  }
}

asio::awaitable<std::size_t> PendingRefunds::check_due() {
  auto now = clock_.system_now();
  auto set = queue_.keys.pending_refunds();
  auto at = std::to_string(millis(now)), until = std::to_string(millis(now + claim_for)),
       limit = std::to_string(checks_per_round);
  std::vector<std::string_view> keys{set}, args{at, until, limit};  // named: g++ 12 and braced temporaries in co_await
  auto claimed = co_await claim_due.run(redis_, keys, args);
  const auto* due = claimed.first();
  if (!due || !due->is_array()) co_return 0;  // Redis away: next round
  for (const auto& id : due->elements) {
    if (stopping_) break;
    co_await check(id.text, now);
  }
  co_return due->elements.size();
}

asio::awaitable<void> PendingRefunds::check(const std::string& job_id, std::chrono::system_clock::time_point now) {
  auto set = queue_.keys.pending_refunds(), key = queue_.keys.pending_refund(job_id),
       state_key = queue_.keys.job_state(job_id);
  redis::Request read;
  read.push("HGETALL", key);
  auto hash = co_await redis_.exec(std::move(read));
  const auto* fields = hash.first();
  if (!fields) co_return;  // still claimed; due again after claim_for
  const auto *payload = field(*fields, "job"), *reference = field(*fields, "ref");
  const auto* origin_id = field(*fields, "origin_id");  // absent in what a worker before it tracked
  jobs::ParseResult parsed = jobs::InvalidJob{"job", "missing"};
  if (payload) parsed = parser_.parse(*payload);
  auto* job = std::get_if<jobs::Job>(&parsed);
  if (!job || !reference) {
    // Written by track() from a job that parsed: only a hand edit gets here. Nothing to check.
    redis::Request drop;
    drop.push("ZREM", set, job_id);
    co_await redis_.exec(std::move(drop));
    log::error("pending refund record unreadable; dropped from the pending set", {{"job_id", job_id}, {"key", key}});
    co_return;
  }
  auto provider = providers_.label(job->payment.provider);
  auto checks = to_unsigned(field(*fields, "checks") ? *field(*fields, "checks") : "0");
  auto state = co_await providers_.refund_status(*job, *reference);

  if (state.kind == RefundState::Kind::succeeded) {
    std::vector<std::string_view> keys{set, key, state_key}, args{job_id};
    auto settled = co_await settle_succeeded.run(redis_, keys, args);
    if (settled.first() && settled.first()->integer == 1) {
      metrics_.pending_refund(provider, "succeeded");
      log::info("pending refund succeeded",
                {{"job_id", job_id}, {"provider", provider}, {"ref", *reference}, {"checks", checks + 1}});
    }
    co_return;
  }
  if (state.kind == RefundState::Kind::failed) {
    auto generation = to_unsigned(field(*fields, "generation") ? *field(*fields, "generation") : "0");
    auto refused = RefundKeyState{generation, true}.text();
    auto window = std::to_string(queue_.idempotency_window.count());
    // Attempt 0: no attempt of the job failed (refund_failed).
    auto letter = finish_letter(
        refund_failed(*reference, provider, state.detail),
        {payload, parser_.max_payload_bytes(), 0, jobs::to_string(job->kind),
         origin_id ? std::string_view(*origin_id) : std::string_view(), queue_.consumer, clock_.system_now()});
    auto written = letter.fields();
    std::vector<std::string_view> args{job_id, refused, window};
    for (const auto& [name, value] : written) {
      args.push_back(name);
      args.push_back(value);
    }
    auto dlq = queue_.keys.dlq();
    std::vector<std::string_view> keys{set, key, state_key, dlq};
    auto settled = co_await settle_failed.run(redis_, keys, args);
    if (settled.first() && settled.first()->integer == 1) {
      metrics_.pending_refund(provider, "failed");
      log::error("pending refund failed; job dead-lettered for on-call",
                 {{"job_id", job_id}, {"provider", provider}, {"ref", *reference}, {"detail", state.detail}});
    }
    co_return;
  }
  // Still pending (the next check waits twice as long, up to 6 h), or the provider could not
  // tell (checked again after the first delay).
  auto wait = queue_.pending_refund_check;
  if (state.kind == RefundState::Kind::pending) {
    for (unsigned i = 0; i < checks && wait < longest_wait; ++i) wait *= 2;
    wait = std::min<std::chrono::milliseconds>(wait, longest_wait);
  } else {
    log::warn("pending refund could not be checked; trying again later",
              {{"job_id", job_id}, {"provider", provider}, {"ref", *reference}, {"error", state.detail}});
  }
  redis::Request next;
  next.push("ZADD", set, "XX", millis(now + wait), job_id);
  next.push("HINCRBY", key, "checks", 1);
  // The job's step states live as long as its refund is pending: a failure found after the
  // idempotency window must not leave a replay that sends every message again.
  next.push("PEXPIRE", state_key, queue_.idempotency_window.count());
  co_await redis_.exec(std::move(next));
}

}  // namespace rescind::worker
