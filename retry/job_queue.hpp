// The jobs stream, the retry set and the dead-letter queue seen as one queue. Every change
// of a job's place is one Lua script, so a crash between two commands cannot lose or
// double an entry, and every completion is fenced: only the consumer that owns the entry
// now may ack, reschedule or dead-letter it.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "redis/connection.hpp"
#include "redis/script.hpp"
#include "redis/streams.hpp"

namespace rescind::retry {

namespace asio = boost::asio;

struct QueueKeys {
  std::string jobs;   // prefix:jobs
  std::string retry;  // prefix:retry
  std::string dlq;    // prefix:dlq
  std::string group;
  std::string consumer;
};

// What travels with a job between attempts (fields of its stream entry).
struct Envelope {
  static constexpr int max_attempt = 1000;  // the most any retry policy allows

  int attempt = 1;            // 1 for the first delivery
  long long first_at_ms = 0;  // when the job first entered the stream: bounds its age
  std::string origin_id;      // its first stream id: what the DLQ names
  // The fields `of` found unusable and replaced (empty when all were fine), for a log line.
  std::vector<std::string_view> corrected;

  // Anyone who can XADD writes these fields, so each is checked: `origin_id` must be a stream
  // id (digits-digits; a ':' would shift the retry set's attempt:first_at:origin_id:job split
  // and corrupt the job at its next retry), `attempt` 1-1000 (clamped), `first_at` 0 up to
  // this entry's own id time (a job cannot be older than epoch nor first seen after this entry
  // was added). A field that fails is replaced by what a first delivery would have: this entry's
  // id, attempt 1 (1000 when above), this entry's time.
  static Envelope of(const redis::StreamEntry& entry);
};

enum class Finished { done, stale, failed };  // stale: another consumer owns it now

// The start of a run: the job id's lease, and with it the states of the steps done so far.
struct Begun {
  enum class State { leased, busy, failed };
  State state = State::failed;
  std::vector<std::pair<std::string, std::string>> steps;  // role → "done:<ref>" (leased)
  std::chrono::milliseconds busy_for{0};                   // busy: how long the other entry's lease has left
  std::string error;                                       // failed: why Redis did not answer
};

// An entry in flight here, and the lease of its job id once it holds one (else empty).
// Copies, not views: a job that finishes while the heartbeat's script is out frees its own
// strings, and the script is re-sent whole from these when Redis answers NOSCRIPT.
struct Running {
  std::string entry_id;
  std::string lease_key;
};

struct DeadLetter {
  std::vector<std::pair<std::string, std::string>> fields;  // job, attempt, reason, step, …
};

class JobQueue {
 public:
  explicit JobQueue(QueueKeys keys);

  const QueueKeys& keys() const { return keys_; }

  // Takes the lease of a job id for this entry (at most one entry of an id runs at a time,
  // fleet-wide) and reads the job's step states in the same call.
  asio::awaitable<Begun> begin(redis::Connection& redis, const std::string& entry_id, const std::string& lease_key,
                               const std::string& state_key, std::chrono::milliseconds lease_for) const;

  // Each completion also frees `lease_key` when this entry holds it (empty: no lease).
  asio::awaitable<Finished> acknowledge(redis::Connection& redis, const std::string& entry_id,
                                        std::string_view lease_key = {}) const;
  // Removes the entry from the stream's pending list and adds the job to the retry set,
  // due at `due`, with `attempt` + 1 — or the same attempt when it was only rate-limited.
  asio::awaitable<Finished> reschedule(redis::Connection& redis, const std::string& entry_id, const std::string& job,
                                       const Envelope& envelope, std::chrono::system_clock::time_point due,
                                       bool uses_attempt = true, std::string_view lease_key = {}) const;
  asio::awaitable<Finished> dead_letter(redis::Connection& redis, const std::string& entry_id, const DeadLetter& letter,
                                        std::string_view lease_key = {}) const;

  // Moves retries due by `now` back into the stream (at most `limit`); how many moved.
  asio::awaitable<std::optional<long long>> promote_due(redis::Connection& redis,
                                                        std::chrono::system_clock::time_point now,
                                                        long long limit) const;

  // Resets the idle time of the entries this consumer still owns (a heartbeat for jobs
  // still running), so nobody claims them, and extends their leases by `lease_for`;
  // entries it no longer owns are left alone.
  asio::awaitable<void> extend(redis::Connection& redis, const std::vector<Running>& running,
                               std::chrono::milliseconds lease_for) const;

  // Takes over up to `count` entries idle for at least `min_idle` (their worker died or
  // hung). Returns the entries with their delivery counts (after this claim).
  asio::awaitable<std::vector<std::pair<redis::StreamEntry, long long>>> claim_idle(redis::Connection& redis,
                                                                                    std::chrono::milliseconds min_idle,
                                                                                    long long count) const;

 private:
  asio::awaitable<Finished> finish(redis::Connection& redis, std::vector<std::string_view> args,
                                   std::string_view lease_key) const;

  QueueKeys keys_;
  redis::Script finish_;
  redis::Script begin_;
  redis::Script promote_;
  redis::Script extend_;
};

}  // namespace rescind::retry
