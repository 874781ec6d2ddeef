// A dead-letter queue entry: the job as it came and why it stopped, in the fields and the
// order every worker writes and `rescindctl dlq` reads.
#pragma once
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rescind::queue {

struct DeadLetter {
  std::string job;     // the payload (its first bytes when it was over the parser's limit)
  int attempt = 0;     // the attempt that failed; 0 when no attempt ran it (a pending refund failed later)
  std::string kind;    // "unknown" when the payload did not parse
  std::string reason;  // permanent, exhausted, expired, invalid_payload, unsupported_kind, poison, refund_failed, …
  std::string step, provider;  // empty when it failed before any step ran
  int status = 0;              // the provider's HTTP status; 0: no answer, or none asked
  std::string code, error;     // the provider's code and message, redacted
  std::string failed_at;       // RFC 3339, the worker's clock
  std::string origin_id;       // the job's first stream id (empty when unknown)
  std::string worker;          // the consumer that wrote it
  std::vector<std::pair<std::string_view, std::string>> more;  // job_bytes and job_sha256, ref: after the rest

  // Every field with its value, in the order above (a dead letter is rare: copies are fine).
  std::vector<std::pair<std::string_view, std::string>> fields() const;
};

}  // namespace rescind::queue
