// Writing JSON by hand where a document is small and its shape fixed (requests to
// providers, log lines, the ledger): escaping is the only part that must be exact.
#pragma once
#include <string>
#include <string_view>

namespace rescind::common {

// Appends `text` as a quoted JSON string; every control character (C0, DEL, C1) as \u00XX.
void append_json_string(std::string& out, std::string_view text);

std::string json_string(std::string_view text);

}  // namespace rescind::common
