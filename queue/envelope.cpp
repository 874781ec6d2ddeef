#include "queue/envelope.hpp"

#include <algorithm>
#include <charconv>

#include "queue/fields.hpp"

namespace rescind::queue {
namespace {

long long to_number(const std::string* text, long long fallback) {
  if (!text) return fallback;
  long long value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  return ec == std::errc{} && end == text->data() + text->size() ? value : fallback;
}

}  // namespace

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
  if (const auto* text = entry.field(field::attempt)) {
    auto attempt = to_number(text, absent);
    if (attempt < 1)
      envelope.corrected.push_back(field::attempt);  // stays 1
    else
      envelope.attempt = static_cast<int>(std::min<long long>(attempt, max_attempt));
    if (attempt > max_attempt) envelope.corrected.push_back(field::attempt);
  }
  envelope.first_at_ms = added_ms;
  if (const auto* text = entry.field(field::first_at)) {
    auto first_at = to_number(text, absent);
    if (first_at >= 0 && first_at <= added_ms)
      envelope.first_at_ms = first_at;
    else
      envelope.corrected.push_back(field::first_at);
  }
  envelope.origin_id = entry.id;
  if (const auto* origin = entry.field(field::origin_id); origin && !origin->empty()) {
    if (is_stream_id(*origin))
      envelope.origin_id = *origin;
    else
      envelope.corrected.push_back(field::origin_id);
  }
  return envelope;
}

std::string Envelope::retry_member(std::string_view job) const {
  return std::to_string(attempt) + ":" + std::to_string(first_at_ms) + ":" + origin_id + ":" + std::string(job);
}

}  // namespace rescind::queue
