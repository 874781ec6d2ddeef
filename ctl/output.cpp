#include "ctl/output.hpp"

#include <simdjson.h>

#include <algorithm>
#include <ostream>

#include "common/json_text.hpp"
#include "common/text.hpp"

namespace rescind::ctl {
namespace {

// Characters, not bytes: UTF-8 continuation bytes do not advance the cursor.
std::size_t display_width(std::string_view text) {
  return static_cast<std::size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

void pad(std::ostream& out, std::string_view text, std::size_t width) {
  out << text;
  for (auto w = display_width(text); w < width; ++w) out << ' ';
}

std::string two_digits(long long n) { return (n < 10 ? "0" : "") + std::to_string(n); }

}  // namespace

Table::Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}

// Cells hold what jobs and workers wrote (ids, kinds, errors): control characters are shown
// as \x1b, never sent to the terminal, where they could retitle, recolour or erase lines.
void Table::add(std::vector<std::string> row) {
  row.resize(headers_.size());
  for (auto& cell : row) cell = common::escape_controls(cell);
  rows_.push_back(std::move(row));
}

void Table::print(std::ostream& out, std::string_view indent) const {
  std::vector<std::size_t> widths(headers_.size());
  for (std::size_t c = 0; c < headers_.size(); ++c) {
    widths[c] = display_width(headers_[c]);
    for (const auto& row : rows_) widths[c] = std::max(widths[c], display_width(row[c]));
  }
  auto line = [&](const std::vector<std::string>& cells) {
    out << indent;
    for (std::size_t c = 0; c < cells.size(); ++c) {
      if (c + 1 == cells.size()) {
        out << cells[c];  // no trailing blanks
      } else {
        pad(out, cells[c], widths[c]);
        out << "  ";
      }
    }
    out << "\n";
  };
  line(headers_);
  for (const auto& row : rows_) line(row);
}

void Fields::add(std::string label, std::string value) {
  rows_.emplace_back(common::escape_controls(label), common::escape_controls(value));  // as Table::add
}

void Fields::print(std::ostream& out, std::string_view indent) const {
  std::size_t width = 0;
  for (const auto& [label, value] : rows_) width = std::max(width, display_width(label));
  for (const auto& [label, value] : rows_) {
    out << indent;
    pad(out, label, width + 2);
    out << value << "\n";
  }
}

// Strings through json_text(): what rescindctl prints may be any bytes a job carried.
JsonObject& JsonObject::add(std::string_view key, std::string_view text) {
  json_.key(key).raw(json_text(text));
  return *this;
}

JsonObject& JsonObject::add(std::string_view key, long long number) {
  json_.field(key, static_cast<std::int64_t>(number));
  return *this;
}

JsonObject& JsonObject::add(std::string_view key, bool flag) {
  json_.field(key, flag);
  return *this;
}

JsonObject& JsonObject::add_null(std::string_view key) {
  json_.key(key).null();
  return *this;
}

JsonObject& JsonObject::add_raw(std::string_view key, std::string_view json) {
  json_.key(key).raw(json);
  return *this;
}

bool is_utf8(std::string_view bytes) { return simdjson::validate_utf8(bytes.data(), bytes.size()); }

std::string json_text(std::string_view bytes) {
  if (is_utf8(bytes)) return common::json_string(bytes);
  // JSON cannot carry arbitrary bytes: keep every valid sequence, mark each bad byte.
  std::string clean;
  clean.reserve(bytes.size());
  for (std::size_t i = 0; i < bytes.size();) {
    auto lead = static_cast<unsigned char>(bytes[i]);
    std::size_t length = lead < 0x80           ? 1
                         : (lead >> 5) == 0x6  ? 2
                         : (lead >> 4) == 0xE  ? 3
                         : (lead >> 3) == 0x1E ? 4
                                               : 0;
    if (length > 0 && i + length <= bytes.size() && is_utf8(bytes.substr(i, length))) {
      clean.append(bytes.substr(i, length));
      i += length;
    } else {
      clean += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return common::json_string(clean);
}

std::string counted(long long n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

std::string entries(long long n) { return counted(n, "entry", "entries"); }

std::string format_age(long long ms) {
  if (ms < 0) ms = -ms;
  if (ms < 1000) return std::to_string(ms) + "ms";
  auto s = ms / 1000;
  if (s < 60) return std::to_string(s) + "s";
  if (s < 3600) return std::to_string(s / 60) + "m" + two_digits(s % 60) + "s";
  if (s < 48 * 3600) return std::to_string(s / 3600) + "h" + two_digits(s % 3600 / 60) + "m";
  return std::to_string(s / 86400) + "d" + two_digits(s % 86400 / 3600) + "h";
}

std::string ago(long long at_ms, long long now_ms) {
  if (at_ms <= 0) return "-";
  return now_ms >= at_ms ? format_age(now_ms - at_ms) + " ago" : "in " + format_age(at_ms - now_ms);
}

std::string clip(std::string_view text, std::size_t max) {
  std::string out;
  std::size_t chars = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    bool starts_char = (c & 0xC0) != 0x80;
    if (starts_char && ++chars > max) {
      // Replace the last character kept with the ellipsis so the width stays `max`.
      while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80) out.pop_back();
      if (!out.empty()) out.pop_back();
      out += "…";
      return out;
    }
    out.push_back(c == '\n' || c == '\r' || c == '\t' ? ' ' : static_cast<char>(c));
  }
  return out;
}

std::string pretty_json(std::string_view json) {
  std::string out;
  int depth = 0;
  bool in_string = false, escaped = false;
  auto newline = [&] {
    out += '\n';
    out.append(static_cast<std::size_t>(std::max(depth, 0)) * 2, ' ');
  };
  auto next_significant = [&](std::size_t i) {
    while (i < json.size() && (json[i] == ' ' || json[i] == '\n' || json[i] == '\r' || json[i] == '\t')) ++i;
    return i < json.size() ? json[i] : '\0';
  };
  for (std::size_t i = 0; i < json.size(); ++i) {
    char c = json[i];
    if (in_string) {
      out += c;
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    switch (c) {
      case ' ':
      case '\n':
      case '\r':
      case '\t':
        break;
      case '"':
        in_string = true;
        out += c;
        break;
      case '{':
      case '[': {
        char close = c == '{' ? '}' : ']';
        out += c;
        if (next_significant(i + 1) == close) {  // {} and [] stay on one line
          out += close;
          i = json.find(close, i + 1);
        } else {
          ++depth;
          newline();
        }
        break;
      }
      case '}':
      case ']':
        --depth;
        newline();
        out += c;
        break;
      case ',':
        out += c;
        newline();
        break;
      case ':':
        out += ": ";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace rescind::ctl
