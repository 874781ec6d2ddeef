// Reading JSON request bodies with simdjson On Demand, which needs SIMDJSON_PADDING readable
// bytes past the end of the text: the body's capacity grows in place instead of being copied.
#pragma once
#include <simdjson.h>

#include <string>

namespace rescind::sandbox {

// Parsers are reused (their buffers are the expensive part) but not shared between threads.
simdjson::ondemand::parser& json_parser();

simdjson::padded_string_view padded(std::string& text);

// Malformed JSON, as opposed to valid JSON of an unexpected shape (INCORRECT_TYPE,
// NO_SUCH_FIELD): only the former makes the whole body unreadable.
inline bool is_malformed(simdjson::error_code error) {
  return error != simdjson::SUCCESS && error != simdjson::INCORRECT_TYPE &&
         error != simdjson::NO_SUCH_FIELD && error != simdjson::NUMBER_OUT_OF_RANGE &&
         error != simdjson::NUMBER_ERROR;
}

// True once the whole document has been read: catches trailing text after the root value.
inline bool at_document_end(simdjson::ondemand::document& doc) {
  return doc.current_location().error() == simdjson::OUT_OF_BOUNDS;
}

}  // namespace rescind::sandbox
