#include "redis/script.hpp"

#include <openssl/sha.h>

namespace rescind::redis {

Script::Script(std::string text) : text_(std::move(text)) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(text_.data()), text_.size(), digest);
  static constexpr char hex[] = "0123456789abcdef";
  for (auto byte : digest) {
    sha1_.push_back(hex[byte >> 4]);
    sha1_.push_back(hex[byte & 0xf]);
  }
}

Request Script::request(std::string_view command, std::string_view script, const std::vector<std::string_view>& keys,
                        const std::vector<std::string_view>& args) const {
  auto key_count = std::to_string(keys.size());
  std::vector<std::string_view> argv;
  argv.reserve(3 + keys.size() + args.size());
  argv.push_back(command);
  argv.push_back(script);
  argv.push_back(key_count);
  argv.insert(argv.end(), keys.begin(), keys.end());
  argv.insert(argv.end(), args.begin(), args.end());
  Request req;
  req.push_argv(argv);
  return req;
}

asio::awaitable<Result> Script::run(Connection& connection, const std::vector<std::string_view>& keys,
                                    const std::vector<std::string_view>& args) const {
  auto result = co_await connection.exec(request("EVALSHA", sha1_, keys, args));
  if (result.ok() && result.replies[0].error_is("NOSCRIPT")) {
    result = co_await connection.exec(request("EVAL", text_, keys, args));
  }
  co_return result;
}

}  // namespace rescind::redis
