// The one shape of a DLQ entry, whoever writes it: a job whose step failed in a run
// (JobRunner) or a refund the provider accepted as pending and later failed (PendingRefunds).
// Its why comes from the provider's answer (step_failed); what every entry carries besides
// (the job, its attempt, when, where the job began, which worker) is added by finish_letter,
// which also redacts what a provider's text may echo.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

#include "clients/outcome.hpp"
#include "common/clock.hpp"
#include "jobs/plan.hpp"
#include "queue/dead_letter.hpp"

namespace rescind::worker {

// A step's outcome becomes the letter's why (reason, step, provider, status, code, error).
// "permanent" until the retry policy says it was exhausted or expired, or the caller knows
// better (refund_failed).
queue::DeadLetter step_failed(const clients::Outcome& outcome, jobs::Role role, std::string_view provider);

// A refund the provider accepted as pending and later failed: no attempt failed, the
// provider's own processing did. `detail` is the provider's prose; the code is ours.
queue::DeadLetter refund_failed(std::string_view reference, std::string_view provider, std::string_view detail);

// Where a letter is written from.
struct LetterSource {
  const std::string* payload = nullptr;  // the job as it came; null when the entry had none
  std::size_t max_payload_bytes = 0;     // the parser's limit: over it only the first bytes are kept
  int attempt = 0;
  std::string_view kind;       // "unknown" when the payload did not parse
  std::string_view origin_id;  // the job's first stream id; empty when unknown
  std::string_view worker;     // the consumer writing it
  common::Clock::SystemTime now;
};

// `why` with the rest of the entry filled in: the job (its first bytes, size and SHA-256 when
// over the limit), attempt, kind, failed_at, origin_id and worker; code and error redacted.
queue::DeadLetter finish_letter(queue::DeadLetter why, const LetterSource& source);

}  // namespace rescind::worker
