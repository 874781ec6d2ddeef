#include "redis/request.hpp"

#include <charconv>

namespace rescind::redis {

// RESP encoding written out here rather than through redisFormatCommandArgv: it appends
// into one buffer for the whole pipeline instead of allocating a string per command.
void Request::push_argv(std::span<const std::string_view> argv) {
  auto append_len = [this](char tag, std::size_t n) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
    payload_.push_back(tag);
    payload_.append(buf, end);
    payload_ += "\r\n";
  };
  append_len('*', argv.size());
  for (auto arg : argv) {
    append_len('$', arg.size());
    payload_.append(arg);
    payload_ += "\r\n";
  }
  ++commands_;
}

}  // namespace rescind::redis
