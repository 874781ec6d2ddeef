// One simdjson parser per thread, and padding for bodies parsed in place.
#include "sandbox/json_body.hpp"

namespace rescind::sandbox {

simdjson::ondemand::parser& json_parser() {
  thread_local simdjson::ondemand::parser parser;
  return parser;
}

simdjson::padded_string_view padded(std::string& text) {
  text.reserve(text.size() + simdjson::SIMDJSON_PADDING);
  return simdjson::padded_string_view(text.data(), text.size(), text.capacity());
}

}  // namespace rescind::sandbox
