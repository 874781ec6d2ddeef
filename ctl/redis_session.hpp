// rescindctl runs one command at a time: a Redis connection driven synchronously
// (a private io_context run until each request completes) is all it needs.
#pragma once
#include <boost/asio/io_context.hpp>
#include <stdexcept>

#include "redis/connection.hpp"

namespace rescind::ctl {

// Thrown when Redis cannot be reached or a transport error occurs: exit code 1.
struct OperationalError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class RedisSession {
 public:
  explicit RedisSession(redis::Endpoint endpoint);

  // Sends the request and returns its replies; throws OperationalError on transport failure.
  std::vector<redis::Reply> exec(redis::Request request);

 private:
  boost::asio::io_context io_;
  redis::Connection connection_;
};

}  // namespace rescind::ctl
