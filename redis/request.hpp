// A request is a value: one or more commands, encoded once, sent as one pipeline.
//
//   redis::Request req;
//   req.push("XACK", stream, group, id);
//   req.push("HSET", key, "refund", "done:re_1");
//   auto result = co_await conn.exec(std::move(req));
#pragma once
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

namespace rescind::redis {

class Request {
 public:
  template <class... Args>
  void push(std::string_view command, const Args&... args) {
    std::string_view argv[] = {command, as_arg(args)...};
    // numbers are turned into text by as_arg() into scratch_; keep them alive
    push_argv(argv);
    scratch_index_ = 0;
  }
  // For commands with a variable number of arguments (XADD with many fields, XACK of a batch).
  void push_argv(std::span<const std::string_view> argv);

  std::size_t commands() const { return commands_; }
  const std::string& payload() const { return payload_; }
  bool empty() const { return commands_ == 0; }

 private:
  std::string_view as_arg(std::string_view s) { return s; }
  std::string_view as_arg(const std::string& s) { return s; }
  std::string_view as_arg(const char* s) { return s; }
  template <class T>
  requires std::is_integral_v<T> std::string_view as_arg(T n) {
    auto& slot = scratch_[scratch_index_++ % 8];
    slot = std::to_string(n);
    return slot;
  }

  std::string payload_;
  std::size_t commands_ = 0;
  std::string scratch_[8];
  std::size_t scratch_index_ = 0;
};

}  // namespace rescind::redis
