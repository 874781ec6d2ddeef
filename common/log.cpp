#include "common/log.hpp"

#include <array>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <vector>

#include "common/json_text.hpp"
#include "common/time.hpp"

namespace rescind::common::log {
namespace {

Level g_level = Level::info;
std::vector<std::string> g_secrets;  // written at start-up only, before any logging thread

constexpr std::array<std::string_view, 4> level_names{"debug", "info", "warn", "error"};

// Prefixes of credentials whose shape is public: the token that follows is masked.
// "Basic " is followed by base64(user:password): Twilio, Mailgun, Zendesk, PayPal's client.
constexpr std::array<std::string_view, 9> secret_prefixes{"sk_live_", "sk_test_", "rk_live_", "rk_test_", "SG.",
                                                          "shpat_",   "whsec_",   "Bearer ",  "Basic "};

bool token_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         c == '.' || c == '+' || c == '/' || c == '=';
}

bool luhn_valid(const std::string& digits) {
  int sum = 0;
  bool twice = false;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    int d = *it - '0';
    if (twice && (d *= 2) > 9) d -= 9;
    sum += d;
    twice = !twice;
  }
  return sum % 10 == 0;
}

// How cards are written: all digits together, or in groups of four (the last may be
// shorter), or Amex's 4-6-5. A stream id "1795609986489-16" is none of these.
bool card_grouping(std::string_view run) {
  std::vector<std::size_t> groups{0};
  for (char c : run) {
    if (c == ' ' || c == '-')
      groups.push_back(0);
    else
      ++groups.back();
  }
  if (groups.size() == 1) return true;
  if (groups == std::vector<std::size_t>{4, 6, 5}) return true;
  for (std::size_t i = 0; i + 1 < groups.size(); ++i) {
    if (groups[i] != 4) return false;
  }
  return groups.back() >= 1 && groups.back() <= 4;
}

// Card numbers (15-19 digits passing the Luhn check, written as cards are) are masked.
// Shorter runs are left alone: stream ids and epoch milliseconds have 13 digits.
void mask_card_numbers(std::string& text) {
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] < '0' || text[i] > '9' || (i > 0 && text[i - 1] >= '0' && text[i - 1] <= '9')) {
      ++i;
      continue;
    }
    std::string digits;
    std::size_t end = i, last_digit = i;
    while (end < text.size()) {
      char c = text[end];
      if (c >= '0' && c <= '9') {
        digits.push_back(c);
        last_digit = end;
      } else if (!((c == ' ' || c == '-') && end + 1 < text.size() && text[end + 1] >= '0' && text[end + 1] <= '9' &&
                   end > i && text[end - 1] >= '0' && text[end - 1] <= '9')) {
        break;
      }
      ++end;
    }
    if (digits.size() >= 15 && digits.size() <= 19 && card_grouping(text.substr(i, last_digit + 1 - i)) &&
        luhn_valid(digits)) {
      text.replace(i, last_digit + 1 - i, "[card redacted]");
      i += 15;
    } else {
      i = last_digit + 1;
    }
  }
}

}  // namespace

bool parse_level(std::string_view text, Level& level) {
  for (std::size_t i = 0; i < level_names.size(); ++i) {
    if (text == level_names[i]) {
      level = static_cast<Level>(i);
      return true;
    }
  }
  return false;
}

void set_level(Level level) { g_level = level; }
bool enabled(Level level) { return level >= g_level; }

void register_secret(std::string_view secret) {
  if (secret.size() < 4) return;
  // Some are registered again at run time (a renewed PayPal token): keep one copy each.
  for (const auto& known : g_secrets) {
    if (known == secret) return;
  }
  g_secrets.emplace_back(secret);
}

std::string redact(std::string_view text) {
  std::string out(text);
  for (const auto& secret : g_secrets) {
    for (auto pos = out.find(secret); pos != std::string::npos; pos = out.find(secret, pos)) {
      out.replace(pos, secret.size(), "[redacted]");
    }
  }
  for (auto prefix : secret_prefixes) {
    for (auto pos = out.find(prefix); pos != std::string::npos; pos = out.find(prefix, pos + 1)) {
      auto end = pos + prefix.size();
      while (end < out.size() && token_char(out[end])) ++end;
      if (end == pos + prefix.size()) continue;  // the prefix alone, no token after it
      out.replace(pos + prefix.size(), end - pos - prefix.size(), "[redacted]");
    }
  }
  mask_card_numbers(out);
  return out;
}

void write(Level level, std::string_view message, std::initializer_list<Field> fields) {
  std::string line;
  line.reserve(256);
  line += "{\"ts\":\"";
  append_rfc3339_ms(line, std::chrono::system_clock::now());
  line += "\",\"level\":\"";
  line += level_names[static_cast<std::size_t>(level)];
  // Each text is redacted before it is escaped: escaping turns a quote or backslash inside a secret
  // into two characters, and the escaped secret would no longer match.
  line += "\",\"msg\":";
  append_json_string(line, redact(message));
  for (const auto& field : fields) {
    line += ',';
    append_json_string(line, field.key);
    line += ':';
    if (auto s = std::get_if<std::string_view>(&field.value)) {
      append_json_string(line, redact(*s));
    } else if (auto i = std::get_if<long long>(&field.value)) {
      line += redact(std::to_string(*i));  // a card number passed as a number
    } else if (auto d = std::get_if<double>(&field.value)) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.6g", *d);
      line += buf;
    } else {
      line += std::get<bool>(field.value) ? "true" : "false";
    }
  }
  line += "}\n";
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace rescind::common::log
