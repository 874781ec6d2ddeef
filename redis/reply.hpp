// One RESP reply as a plain value tree, copied out of hiredis's reader at once.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

struct redisReply;  // hiredis

namespace rescind::redis {

struct Reply {
  enum class Type { string, array, integer, nil, status, error };

  Type type = Type::nil;
  std::string text;  // string, status and error replies
  long long integer = 0;
  std::vector<Reply> elements;

  bool is_error() const { return type == Type::error; }
  bool is_nil() const { return type == Type::nil; }
  bool is_array() const { return type == Type::array; }
  // Error replies start with their code: "BUSYGROUP Consumer Group name already exists".
  bool error_is(std::string_view code) const { return is_error() && text.compare(0, code.size(), code) == 0; }
};

std::string describe(const Reply& reply);  // for logs and error messages

// Copies a reply out of hiredis's reader (the connection, and the RESP fuzzer in fuzz/).
Reply to_reply(const redisReply* raw);

}  // namespace rescind::redis
