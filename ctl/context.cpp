#include "ctl/context.hpp"

namespace rescind::ctl {

redis::Reply Context::command(redis::Request request, std::string_view what) {
  auto replies = redis.exec(std::move(request));
  auto& reply = replies.front();
  if (reply.is_error()) throw OperationalError(std::string(what) + ": " + reply.text);
  return std::move(reply);
}

long long redis_clock_ms(Context& ctx) {
  redis::Request request;
  request.push("TIME");
  auto reply = ctx.command(std::move(request), "reading Redis's clock");
  if (reply.elements.size() < 2) throw OperationalError("TIME answered " + redis::describe(reply));
  return std::stoll(reply.elements[0].text) * 1000 + std::stoll(reply.elements[1].text) / 1000;
}

}  // namespace rescind::ctl
