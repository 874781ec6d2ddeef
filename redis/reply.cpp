#include "redis/reply.hpp"

namespace rescind::redis {

std::string describe(const Reply& reply) {
  switch (reply.type) {
    case Reply::Type::string: return '"' + reply.text + '"';
    case Reply::Type::status: return reply.text;
    case Reply::Type::error: return "ERR " + reply.text;
    case Reply::Type::integer: return std::to_string(reply.integer);
    case Reply::Type::nil: return "(nil)";
    case Reply::Type::array: {
      std::string out = "[";
      for (std::size_t i = 0; i < reply.elements.size(); ++i) {
        if (i) out += ", ";
        out += describe(reply.elements[i]);
      }
      return out + "]";
    }
  }
  return {};
}

}  // namespace rescind::redis
