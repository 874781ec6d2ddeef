// How rescindctl prints: aligned tables and key/value blocks for people, one JSON object
// (or one per line, NDJSON) for scripts, and the time formats both use.
#pragma once
#include <iosfwd>
#include <string>
#include <string_view>
#include <utility>
#include <vector>
#include "common/json_text.hpp"

namespace rescind::ctl {

// Columns padded to their widest cell (counted in characters, not bytes).
class Table {
 public:
  explicit Table(std::vector<std::string> headers);
  void add(std::vector<std::string> row);
  bool empty() const { return rows_.empty(); }
  std::size_t size() const { return rows_.size(); }
  void print(std::ostream& out, std::string_view indent = "") const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

// "label   value" lines, labels padded to the widest one.
class Fields {
 public:
  void add(std::string label, std::string value);
  void print(std::ostream& out, std::string_view indent = "  ") const;

 private:
  std::vector<std::pair<std::string, std::string>> rows_;
};

// A JSON object written field by field, in order.
class JsonObject {
 public:
  JsonObject& add(std::string_view key, std::string_view text);
  JsonObject& add(std::string_view key, const char* text) { return add(key, std::string_view(text)); }
  JsonObject& add(std::string_view key, const std::string& text) { return add(key, std::string_view(text)); }
  JsonObject& add(std::string_view key, long long number);
  JsonObject& add(std::string_view key, bool flag);
  JsonObject& add_null(std::string_view key);
  JsonObject& add_raw(std::string_view key, std::string_view json);  // already JSON
  std::string str() const { return json_.text() + "}"; }

 private:
  common::JsonWriter json_ = open();
  static common::JsonWriter open() {
    common::JsonWriter json;
    json.begin_object();
    return json;
  }
};

// A JSON string for any bytes: valid UTF-8 is kept, every other byte becomes U+FFFD.
std::string json_text(std::string_view bytes);
bool is_utf8(std::string_view bytes);

// "1 entry", "3 entries"; "1 group", "2 groups": counts read as sentences.
std::string entries(long long n);
std::string counted(long long n, std::string_view one, std::string_view many);

// "45s", "12m", "3h05m", "2d04h": ages and waits at a glance.
std::string format_age(long long ms);
// "5m ago" / "in 3s"; "-" for an unknown time.
std::string ago(long long at_ms, long long now_ms);

// At most `max` characters (UTF-8 aware), with "…" when cut; newlines flattened.
std::string clip(std::string_view text, std::size_t max);

// Re-indents valid JSON text, keeping every string and number byte for byte.
std::string pretty_json(std::string_view json);

}  // namespace rescind::ctl
