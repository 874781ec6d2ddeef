// HTTP vocabulary shared by the server, the control endpoints and the fake providers:
// the message types and the few ways a response is built.
#pragma once
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace rescind::sandbox {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

// Requests larger than this are answered 413: no provider call comes near it.
inline constexpr std::size_t max_body_bytes = 1024 * 1024;

Response make_response(http::status status, std::string_view content_type, std::string body);
Response json_response(http::status status, std::string body);
Response text_response(http::status status, std::string body);

// A JSON object of string members in the given order, the error shape several providers
// share: {"error":…,"description":…} (Zendesk), {"message":…} (Mailgun), …
using JsonMember = std::pair<std::string_view, std::string_view>;
Response json_strings_response(http::status status, std::initializer_list<JsonMember> members);

// 405 with the Allow header; the body in the caller's shape.
Response method_not_allowed(std::string_view allow, std::string_view content_type, std::string body);

// A request target split at '?': providers route on the path alone.
std::string_view target_path(std::string_view target);
std::string_view target_query(std::string_view target);

// The value of a request header, empty when absent.
std::string_view header(const Request& request, http::field field);
std::string_view header(const Request& request, std::string_view name);

}  // namespace rescind::sandbox
