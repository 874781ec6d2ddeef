// RFC 3339 timestamps, written and read in one place: the logs, the DLQ's failed_at, the
// sandbox's answers and ledger, rescindctl's times, and the timestamps a job carries.
#pragma once
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace rescind::common {

// 2026-11-22T16:00:00.123Z: UTC, always with milliseconds (rounded down, before 1970 too).
void append_rfc3339_ms(std::string& out, std::chrono::system_clock::time_point at);
std::string format_rfc3339_ms(std::chrono::system_clock::time_point at);
// The same for milliseconds since the Unix epoch (a stream id's time, a ledger's at_ms).
std::string format_rfc3339_ms(long long unix_ms);

// RFC 3339 (section 5.6, note) lets a space stand for the 'T' "for the sake of readability":
// operators type it; producers of jobs must send the 'T'.
enum class DateTimeSeparator { t, t_or_space };

// Milliseconds since the Unix epoch of 2026-11-22T16:00:00Z or 2026-11-22T16:00:00.250+02:00:
// 'T' or 't' between date and time, a fraction of any length (cut to milliseconds), then 'Z',
// 'z' or ±hh:mm. nullopt for anything else, for a date that does not exist (February 31st)
// and for a second 60 that is not a leap second (one is inserted at 23:59:60 UTC only).
std::optional<long long> parse_rfc3339_ms(std::string_view text, DateTimeSeparator separator = DateTimeSeparator::t);

}  // namespace rescind::common
