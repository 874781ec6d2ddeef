// The jobs stream, the retry set and the dead-letter queue seen as one queue.
// Every change of a job's place is one Lua script (queue/scripts.hpp), so a
// crash between two commands cannot lose or double an entry, and every
// completion is fenced: only the consumer that owns the entry now may
// reschedule or dead-letter it — or ack it, which goes through
// queue/acknowledger.hpp so that acks asked for together cost one script call.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "queue/dead_letter.hpp"
#include "queue/envelope.hpp"
#include "queue/keys.hpp"
#include "redis/connection.hpp"
#include "redis/script.hpp"
#include "redis/streams.hpp"

namespace rescind::queue {

namespace asio = boost::asio;

// How a fenced move of an entry ended.
enum class Moved {
  moved,      // it is where it was asked to go
  not_owner,  // another consumer owns the entry now (it claimed it): nothing
              // changed
  failed,     // Redis did not answer: nothing is known to have changed
};

// The start of a run: the job id's lease, and with it the states of the steps
// done so far.
struct Begun {
  enum class State { leased, busy, failed };
  State state = State::failed;
  std::vector<std::pair<std::string, std::string>> steps;  // role → "done:<ref>" (leased)
  std::chrono::milliseconds busy_for{0};                   // busy: how long the other entry's lease has left
  std::string error;                                       // failed: why Redis did not answer
};

// An entry in flight here, and the lease of its job id once it holds one (else
// empty). Copies, not views: a job that finishes while the heartbeat's script
// is out frees its own strings, and the script is re-sent whole from these when
// Redis answers NOSCRIPT.
struct Running {
  std::string entry_id;
  std::string lease_key;
};

class JobQueue {
 public:
  // `consumer` of `group` on the queue named by `keys`: whose entries the
  // fences admit.
  JobQueue(const Keys& keys, std::string group, std::string consumer);

  const std::string& jobs_key() const { return jobs_; }
  const std::string& group() const { return group_; }
  const std::string& consumer() const { return consumer_; }

  // Takes the lease of a job id for this entry (at most one entry of an id runs
  // at a time, fleet-wide) and reads the job's step states in the same call.
  asio::awaitable<Begun> begin(redis::Connection& redis, const std::string& entry_id, const std::string& lease_key,
                               const std::string& state_key, std::chrono::milliseconds lease_for) const;

  // Each move also frees `lease_key` when this entry holds it (empty: no
  // lease). Removes the entry from the stream's pending list and adds the job
  // to the retry set, due at `due`, with `attempt` + 1 — or the same attempt
  // when it was only rate-limited.
  asio::awaitable<Moved> reschedule(redis::Connection& redis, const std::string& entry_id, const std::string& job,
                                    const Envelope& envelope, std::chrono::system_clock::time_point due,
                                    bool uses_attempt = true, std::string_view lease_key = {}) const;
  asio::awaitable<Moved> dead_letter(redis::Connection& redis, const std::string& entry_id, const DeadLetter& letter,
                                     std::string_view lease_key = {}) const;

  // Moves retries due by `now` back into the stream (at most `limit`); how many
  // moved.
  asio::awaitable<std::optional<long long>> promote_due(redis::Connection& redis,
                                                        std::chrono::system_clock::time_point now,
                                                        long long limit) const;

  // Resets the idle time of the entries this consumer still owns (a heartbeat
  // for jobs still running), so nobody claims them, and extends their leases by
  // `lease_for`; entries it no longer owns are left alone.
  asio::awaitable<void> heartbeat(redis::Connection& redis, const std::vector<Running>& running,
                                  std::chrono::milliseconds lease_for) const;

  // Takes over up to `count` entries idle for at least `min_idle` (their worker
  // died or hung). Returns the entries with their delivery counts (after this
  // claim).
  asio::awaitable<std::vector<std::pair<redis::StreamEntry, long long>>> claim_idle(redis::Connection& redis,
                                                                                    std::chrono::milliseconds min_idle,
                                                                                    long long count) const;

 private:
  asio::awaitable<Moved> finish(redis::Connection& redis, std::vector<std::string_view> args,
                                std::string_view lease_key) const;

  std::string jobs_, retry_, dlq_;
  std::string group_, consumer_;
  redis::Script finish_;
  redis::Script begin_;
  redis::Script promote_;
  redis::Script heartbeat_;
};

}  // namespace rescind::queue
