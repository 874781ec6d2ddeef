#include "common/text.hpp"

namespace rescind::common {
namespace {

bool continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// Length of the valid UTF-8 sequence at text[i], or 0 (overlong forms, surrogates and
// code points past U+10FFFF are invalid too).
std::size_t sequence_length(std::string_view text, std::size_t i) {
  auto c = static_cast<unsigned char>(text[i]);
  if (c < 0x80) return 1;
  std::size_t n = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
  if (n == 0 || i + n > text.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if (!continuation(static_cast<unsigned char>(text[i + k]))) return 0;
  }
  auto second = static_cast<unsigned char>(text[i + 1]);
  if ((c == 0xE0 && second < 0xA0) || (c == 0xED && second > 0x9F) || (c == 0xF0 && second < 0x90) ||
      (c == 0xF4 && second > 0x8F)) {
    return 0;
  }
  return n;
}

void append_hex(std::string& out, unsigned value) {
  static constexpr char hex[] = "0123456789abcdef";
  out += "\\x";
  out.push_back(hex[(value >> 4) & 0xf]);
  out.push_back(hex[value & 0xf]);
}

}  // namespace

std::string_view utf8_prefix(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  std::size_t end = max_bytes;
  // Back off to the start of the sequence the cut falls in; it is dropped whole.
  while (end > 0 && continuation(static_cast<unsigned char>(text[end]))) --end;
  return text.substr(0, end);
}

std::string escape_controls(std::string_view text, bool keep_line_breaks) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    auto c = static_cast<unsigned char>(text[i]);
    auto n = sequence_length(text, i);
    if (keep_line_breaks && c == '\n') {
      out.push_back('\n');
      ++i;
    } else if (n == 0 || c < 0x20 || c == 0x7f) {
      append_hex(out, c);
      ++i;
    } else if (c == 0xC2 && static_cast<unsigned char>(text[i + 1]) <= 0x9f) {
      append_hex(out, static_cast<unsigned char>(text[i + 1]));  // U+0080–U+009F: C1, e.g. CSI U+009B
      i += 2;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::string url_for_display(std::string_view text) {
  auto scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) return "(not a URL)";
  auto scheme = text.substr(0, scheme_end);
  auto rest = text.substr(scheme_end + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (auto at = rest.rfind('@'); at != std::string_view::npos) rest.remove_prefix(at + 1);  // user:password@
  if (rest.starts_with('[')) {
    rest = rest.substr(0, rest.find(']') + 1);  // [::1]:6379
  } else {
    rest = rest.substr(0, rest.find(':'));
  }
  return escape_controls(scheme) + "://" + escape_controls(rest);
}

}  // namespace rescind::common
