// Reading JSON request bodies with simdjson On Demand, which needs SIMDJSON_PADDING readable
// bytes past the end of the text: the body's capacity grows in place instead of being copied.
#pragma once
#include <simdjson.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace rescind::sandbox {

// Parsers are reused (their buffers are the expensive part) but not shared between threads.
simdjson::ondemand::parser& json_parser();

simdjson::padded_string_view padded(std::string& text);

// Malformed JSON, as opposed to valid JSON of an unexpected shape (INCORRECT_TYPE,
// NO_SUCH_FIELD): only the former makes the whole body unreadable.
inline bool is_malformed(simdjson::error_code error) {
  return error != simdjson::SUCCESS && error != simdjson::INCORRECT_TYPE && error != simdjson::NO_SUCH_FIELD &&
         error != simdjson::NUMBER_OUT_OF_RANGE && error != simdjson::NUMBER_ERROR;
}

// True once the whole document has been read: catches trailing text after the root value.
inline bool at_document_end(simdjson::ondemand::document& doc) {
  return doc.current_location().error() == simdjson::OUT_OF_BOUNDS;
}

// Calls visit(key, value) for each member of an object, in the order they come (none when
// `value` is valid JSON of another type); false when the JSON is malformed or visit says so.
template <class Visit>
bool each_member(simdjson::ondemand::value value, Visit&& visit) {
  simdjson::ondemand::object object;
  auto error = value.get_object().get(object);
  if (error) return !is_malformed(error);
  for (auto member : object) {
    std::string_view key;
    simdjson::ondemand::value field;
    if (member.unescaped_key().get(key) || member.value().get(field)) return false;
    if (!visit(key, field)) return false;
  }
  return true;
}

// How reading a body's root object ended. Providers answer malformed and not_object
// differently (Square) or alike; stopped is the provider's own refusal, which it kept.
enum class BodyRead { ok, malformed, not_object, stopped };

// Parses `text` in place and calls visit(key, value) for each member of its root object, in
// the order they come, until visit returns false. Trailing text after the object is malformed.
template <class Visit>
BodyRead each_body_member(std::string& text, Visit&& visit) {
  simdjson::ondemand::document doc;
  if (json_parser().iterate(padded(text)).get(doc)) return BodyRead::malformed;
  simdjson::ondemand::object root;
  if (auto error = doc.get_object().get(root)) {
    return is_malformed(error) ? BodyRead::malformed : BodyRead::not_object;
  }
  for (auto member : root) {
    std::string_view key;
    simdjson::ondemand::value value;
    if (member.unescaped_key().get(key) || member.value().get(value)) return BodyRead::malformed;
    if (!visit(key, value)) return BodyRead::stopped;
  }
  return at_document_end(doc) ? BodyRead::ok : BodyRead::malformed;
}

// The integer members of a control endpoint's body ({"count":3,"reset_in_s":30}), each
// within [0, max]; nullopt when the body is not such an object. Absent members keep `out`'s.
template <class Fields>
bool control_integers(std::string& text, Fields& out, long long max = 1'000'000'000) {
  auto read = each_body_member(text, [&](std::string_view key, simdjson::ondemand::value value) {
    auto it = out.find(std::string(key));
    std::int64_t number = 0;
    if (it == out.end() || value.get_int64().get(number) || number < 0 || number > max) return false;
    it->second = number;
    return true;
  });
  return read == BodyRead::ok;
}

}  // namespace rescind::sandbox
