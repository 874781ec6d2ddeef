// Writing JSON by hand where a document is small and its shape fixed (requests to
// providers, log lines, the ledger): escaping is the only part that must be exact.
#pragma once
#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace rescind::common {

// Appends `text` as a quoted JSON string; every control character (C0, DEL, C1) as \u00XX.
void append_json_string(std::string& out, std::string_view text);

std::string json_string(std::string_view text);

// The one JSON writer: commas, colons and nesting are its business, escaping is
// append_json_string's. Keys and strings are escaped; raw() takes text that is JSON already.
//   JsonWriter json;
//   json.begin_object().field("subject", subject).key("to").begin_array().value(email).end_array().end_object();
class JsonWriter {
 public:
  JsonWriter& begin_object() { return open('{'); }
  JsonWriter& end_object() { return close('}'); }
  JsonWriter& begin_array() { return open('['); }
  JsonWriter& end_array() { return close(']'); }
  JsonWriter& key(std::string_view name);
  JsonWriter& value(std::string_view text);
  JsonWriter& value(const char* text) { return value(std::string_view(text)); }
  JsonWriter& value(const std::string& text) { return value(std::string_view(text)); }
  JsonWriter& value(std::int64_t number);
  JsonWriter& value(std::uint64_t number);
  // Every other integer type (int, unsigned, long long, a count's std::size_t) without a cast at
  // each call; char and bool are not numbers here.
  template <std::integral Number>
  requires(!std::same_as<Number, bool> && !std::same_as<Number, char>) JsonWriter& value(Number number) {
    if constexpr (std::is_signed_v<Number>) {
      return value(static_cast<std::int64_t>(number));
    } else {
      return value(static_cast<std::uint64_t>(number));
    }
  }
  JsonWriter& value(bool flag);
  JsonWriter& null();
  JsonWriter& raw(std::string_view json);
  template <typename T>
  JsonWriter& field(std::string_view name, const T& v) {
    return key(name).value(v);
  }

  const std::string& text() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  JsonWriter& open(char bracket);
  JsonWriter& close(char bracket);
  void separate();  // a comma before every member but the first, none after a key
  std::string out_;
  std::vector<bool> first_ = {true};
  bool after_key_ = false;
};

}  // namespace rescind::common
