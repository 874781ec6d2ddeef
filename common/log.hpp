// Structured logs: one JSON object per line on stderr, with secrets redacted.
//
//   log::info("job done", {{"job_id", job.id}, {"attempt", 2}});
//
// Redaction is belt and braces: code never passes credentials or headers, and every
// line is still scrubbed of registered secrets and of API-key-shaped tokens.
#pragma once
#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>

namespace rescind::common::log {

enum class Level { debug = 0, info = 1, warn = 2, error = 3 };

// "debug", "info", "warn", "error"; false for anything else.
bool parse_level(std::string_view text, Level& level);
void set_level(Level level);
bool enabled(Level level);

// A value registered here never appears in a log line (credentials from config and what is
// derived from them: Basic pairs, webhook paths, access tokens). Registering twice keeps one.
void register_secret(std::string_view secret);

// Replaces registered secrets, API-key-shaped tokens (sk_live_…, SG.…, Bearer …, Basic …) and
// card numbers (15-19 digits that pass the Luhn check).
std::string redact(std::string_view text);

struct Field {
  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const char* v) : key(k), value(std::string_view(v)) {}
  Field(std::string_view k, const std::string& v) : key(k), value(std::string_view(v)) {}
  Field(std::string_view k, long long v) : key(k), value(v) {}
  Field(std::string_view k, int v) : key(k), value(static_cast<long long>(v)) {}
  Field(std::string_view k, unsigned v) : key(k), value(static_cast<long long>(v)) {}
  Field(std::string_view k, long v) : key(k), value(static_cast<long long>(v)) {}
  Field(std::string_view k, unsigned long v) : key(k), value(static_cast<long long>(v)) {}
  Field(std::string_view k, double v) : key(k), value(v) {}
  Field(std::string_view k, bool v) : key(k), value(v) {}
  std::string_view key;
  std::variant<std::string_view, long long, double, bool> value;
};

void write(Level level, std::string_view message, std::initializer_list<Field> fields);

inline void debug(std::string_view m, std::initializer_list<Field> f = {}) {
  if (enabled(Level::debug)) write(Level::debug, m, f);
}
inline void info(std::string_view m, std::initializer_list<Field> f = {}) {
  if (enabled(Level::info)) write(Level::info, m, f);
}
inline void warn(std::string_view m, std::initializer_list<Field> f = {}) {
  if (enabled(Level::warn)) write(Level::warn, m, f);
}
inline void error(std::string_view m, std::initializer_list<Field> f = {}) {
  if (enabled(Level::error)) write(Level::error, m, f);
}

}  // namespace rescind::common::log
