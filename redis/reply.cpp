#include "redis/reply.hpp"

#include <hiredis/hiredis.h>
#include <hiredis/read.h>

namespace rescind::redis {

Reply to_reply(const redisReply* raw) {
  Reply reply;
  switch (raw->type) {
    case REDIS_REPLY_STRING:
      reply.type = Reply::Type::string;
      break;
    case REDIS_REPLY_STATUS:
      reply.type = Reply::Type::status;
      break;
    case REDIS_REPLY_ERROR:
      reply.type = Reply::Type::error;
      break;
    case REDIS_REPLY_INTEGER:
      reply.type = Reply::Type::integer;
      break;
    case REDIS_REPLY_ARRAY:
      reply.type = Reply::Type::array;
      break;
    default:
      reply.type = Reply::Type::nil;
      break;
  }
  if (raw->type == REDIS_REPLY_INTEGER) {
    reply.integer = raw->integer;
  } else if (raw->type == REDIS_REPLY_ARRAY) {
    reply.elements.reserve(raw->elements);
    for (std::size_t i = 0; i < raw->elements; ++i) reply.elements.push_back(to_reply(raw->element[i]));
  } else if (raw->str) {
    reply.text.assign(raw->str, raw->len);
  }
  return reply;
}

std::string describe(const Reply& reply) {
  switch (reply.type) {
    case Reply::Type::string:
      return '"' + reply.text + '"';
    case Reply::Type::status:
      return reply.text;
    case Reply::Type::error:
      return "ERR " + reply.text;
    case Reply::Type::integer:
      return std::to_string(reply.integer);
    case Reply::Type::nil:
      return "(nil)";
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
