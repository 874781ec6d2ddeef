// A Lua script sent by its SHA1 (EVALSHA) and re-sent whole only when Redis does not know it
// (first use, or after a restart): atomic multi-key operations without resending the text.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "redis/connection.hpp"

namespace rescind::redis {

class Script {
 public:
  explicit Script(std::string text);

  // Runs the script; a transport failure or an error reply comes back in the Result.
  asio::awaitable<Result> run(Connection& connection, const std::vector<std::string_view>& keys,
                              const std::vector<std::string_view>& args) const;

  const std::string& sha1() const { return sha1_; }

 private:
  Request request(std::string_view command, std::string_view script, const std::vector<std::string_view>& keys,
                  const std::vector<std::string_view>& args) const;

  std::string text_;
  std::string sha1_;
};

}  // namespace rescind::redis
