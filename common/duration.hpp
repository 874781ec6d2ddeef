// Durations as operators write them on the command line: 250ms, 30s, 5m, 1h, 30d.
#pragma once
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace rescind::common {

// nullopt when the text is not a whole number followed by ms, s, m, h or d.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

std::string format_duration(std::chrono::milliseconds d);

}  // namespace rescind::common
