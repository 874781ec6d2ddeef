// Decoding of form-urlencoded bodies and query strings.
#include "sandbox/form.hpp"

#include <algorithm>

namespace rescind::sandbox {
namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool form_decode(std::string_view text, std::string& out) {
  out.reserve(out.size() + text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%') {
      if (i + 2 >= text.size()) return false;
      int high = hex_digit(text[i + 1]);
      int low = hex_digit(text[i + 2]);
      if (high < 0 || low < 0) return false;
      out.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return true;
}

std::optional<Form> Form::parse(std::string_view text) {
  Form form;
  while (!text.empty()) {
    auto amp = text.find('&');
    std::string_view pair = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view{} : text.substr(amp + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    FormField field;
    if (!form_decode(pair.substr(0, eq), field.name)) return std::nullopt;
    if (eq != std::string_view::npos && !form_decode(pair.substr(eq + 1), field.value)) {
      return std::nullopt;
    }
    form.fields_.push_back(std::move(field));
  }
  return form;
}

const std::string* Form::find(std::string_view name) const {
  for (const auto& field : fields_) {
    if (field.name == name) return &field.value;
  }
  return nullptr;
}

std::vector<const FormField*> Form::sorted() const {
  std::vector<const FormField*> out;
  out.reserve(fields_.size());
  for (const auto& field : fields_) out.push_back(&field);
  std::sort(out.begin(), out.end(), [](const FormField* a, const FormField* b) {
    return a->name != b->name ? a->name < b->name : a->value < b->value;
  });
  return out;
}

}  // namespace rescind::sandbox
