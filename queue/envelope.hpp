// What travels with a job between attempts: the fields of its stream entry besides the job,
// and the same carried through the retry set as one member, attempt:first_at:origin_id:job.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "redis/streams.hpp"

namespace rescind::queue {

// ^\d+-\d+$ with at most 20 digits a part: the shape of every id Redis gives a stream entry.
bool is_stream_id(std::string_view id);

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

  // The retry set's member carrying `job` with this envelope. The promote script
  // (queue/scripts.cpp) splits it at its first three colons, so the job may hold any.
  std::string retry_member(std::string_view job) const;
};

}  // namespace rescind::queue
