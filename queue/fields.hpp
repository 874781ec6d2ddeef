// The field names of the queue's stream entries, as the worker writes them and rescindctl
// reads them. The Lua scripts in queue/scripts.cpp spell the same names (Lua cannot include
// this); queue_test.cpp checks that they still do.
#pragma once
#include <string_view>

namespace rescind::queue::field {

// A jobs-stream entry: the job, and the envelope that travels with it between attempts
// (queue/envelope.hpp). A producer writes job and attempt 1; the worker adds the rest when it
// moves the job on.
inline constexpr std::string_view job = "job";
inline constexpr std::string_view attempt = "attempt";
inline constexpr std::string_view first_at = "first_at";    // ms since the epoch: bounds the job's age
inline constexpr std::string_view origin_id = "origin_id";  // its first stream id: what the DLQ names

// A dead letter adds why the job stopped (queue/dead_letter.hpp).
inline constexpr std::string_view kind = "kind";
inline constexpr std::string_view reason = "reason";
inline constexpr std::string_view step = "step";
inline constexpr std::string_view provider = "provider";
inline constexpr std::string_view status = "status";
inline constexpr std::string_view code = "code";
inline constexpr std::string_view error = "error";
inline constexpr std::string_view failed_at = "failed_at";
inline constexpr std::string_view worker = "worker";
inline constexpr std::string_view job_bytes = "job_bytes";    // an oversize job: its size …
inline constexpr std::string_view job_sha256 = "job_sha256";  // … and its digest (job then holds its first bytes)
inline constexpr std::string_view ref = "ref";                // a failed pending refund: the provider's id

// An audit entry, one per finished step (worker/job_runner.cpp writes them, `rescindctl stats`
// tallies them): job_id, kind, step, provider, status, ref and attempt as above, plus these.
inline constexpr std::string_view job_id = "job_id";
inline constexpr std::string_view outcome = "outcome";            // clients::to_string(OutcomeKind)
inline constexpr std::string_view amount_minor = "amount_minor";  // what the step moved: 0 unless money
inline constexpr std::string_view currency = "currency";

}  // namespace rescind::queue::field
