// Response builders and request accessors used by every endpoint.
#include "sandbox/http.hpp"

#include "common/json_text.hpp"

namespace rescind::sandbox {

Response make_response(http::status status, std::string_view content_type, std::string body) {
  Response response{status, 11};
  if (!content_type.empty()) response.set(http::field::content_type, content_type);
  response.body() = std::move(body);
  return response;
}

Response json_response(http::status status, std::string body) {
  return make_response(status, "application/json", std::move(body));
}

Response text_response(http::status status, std::string body) {
  return make_response(status, "text/plain; charset=utf-8", std::move(body));
}

Response json_strings_response(http::status status, std::initializer_list<JsonMember> members) {
  common::JsonWriter json;
  json.begin_object();
  for (const auto& [name, value] : members) json.field(name, value);
  return json_response(status, json.end_object().take());
}

Response method_not_allowed(std::string_view allow, std::string_view content_type, std::string body) {
  Response response = make_response(http::status::method_not_allowed, content_type, std::move(body));
  response.set(http::field::allow, allow);
  return response;
}

std::string_view target_path(std::string_view target) { return target.substr(0, target.find('?')); }

std::string_view target_query(std::string_view target) {
  auto mark = target.find('?');
  return mark == std::string_view::npos ? std::string_view{} : target.substr(mark + 1);
}

std::string_view header(const Request& request, http::field field) {
  auto it = request.find(field);
  return it == request.end() ? std::string_view{} : std::string_view(it->value());
}

std::string_view header(const Request& request, std::string_view name) {
  auto it = request.find(name);
  return it == request.end() ? std::string_view{} : std::string_view(it->value());
}

}  // namespace rescind::sandbox
