#include "retry/housekeeping.hpp"

namespace rescind::retry {
namespace {

// KEYS: jobs. The floor is the smallest of every group's last delivered id and oldest
// pending id; XTRIM MINID keeps the floor and everything after it. Ids are compared as
// (ms, seq) numbers: ms fit a Lua double exactly.
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

// KEYS: jobs. ARGV: group, consumer. The ownership check and the delete are one step.
constexpr const char* remove_consumer_lua = R"lua(
local owned = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2])
if #owned > 0 then return -1 end
return redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
)lua";

}  // namespace

Housekeeping::Housekeeping(std::string jobs_key, std::string dlq_key, std::string group)
    : jobs_key_(std::move(jobs_key)),
      dlq_key_(std::move(dlq_key)),
      group_(std::move(group)),
      trim_(trim_lua),
      remove_consumer_(remove_consumer_lua) {}

asio::awaitable<std::optional<long long>> Housekeeping::trim_jobs(redis::Connection& redis) const {
  std::vector<std::string_view> keys{jobs_key_}, args;
  auto result = co_await trim_.run(redis, keys, args);
  if (!result.first()) co_return std::nullopt;
  co_return result.first()->integer;
}

asio::awaitable<std::optional<long long>> Housekeeping::expire_dead_letters(redis::Connection& redis,
                                                                            std::chrono::milliseconds retention) const {
  auto horizon =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()) -
      retention;
  redis::Request trim;
  trim.push("XTRIM", dlq_key_, "MINID", std::to_string(horizon.count()));
  auto result = co_await redis.exec(std::move(trim));
  if (!result.first()) co_return std::nullopt;
  co_return result.first()->integer;
}

asio::awaitable<std::vector<std::string>> Housekeeping::remove_idle_consumers(redis::Connection& redis,
                                                                              std::chrono::milliseconds idle,
                                                                              const std::string& self) const {
  std::vector<std::string> removed;
  redis::Request list;
  list.push("XINFO", "CONSUMERS", jobs_key_, group_);
  auto result = co_await redis.exec(std::move(list));
  if (!result.first() || !result.first()->is_array()) co_return removed;
  for (const auto& consumer : result.first()->elements) {
    std::string name;
    long long pending = 0, idle_ms = 0;
    for (std::size_t i = 0; i + 1 < consumer.elements.size(); i += 2) {
      const auto& key = consumer.elements[i].text;
      if (key == "name")
        name = consumer.elements[i + 1].text;
      else if (key == "pending")
        pending = consumer.elements[i + 1].integer;
      else if (key == "idle")
        idle_ms = consumer.elements[i + 1].integer;
    }
    if (name.empty() || name == self || pending > 0 || idle_ms < idle.count()) continue;
    std::vector<std::string_view> keys{jobs_key_}, args{group_, name};
    auto deleted = co_await remove_consumer_.run(redis, keys, args);
    if (deleted.first() && deleted.first()->integer == 0) {
      removed.push_back(name);  // DELCONSUMER answers how many pending entries it dropped: none
    }
  }
  co_return removed;
}

}  // namespace rescind::retry
