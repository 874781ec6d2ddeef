// Where the fleet remembers back-office receivers that answered 410 Gone: an interface the
// worker implements over Redis, in a header of its own so that implementing it needs no HTTP.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <set>
#include <string>

namespace rescind::clients {

// The receivers that answered 410 Gone, remembered where every worker sees them (the worker
// keeps them in Redis). Clients know nothing of Redis, hence the interface.
class GoneReceivers {
 public:
  virtual ~GoneReceivers() = default;
  // The ids of the receivers not to call; empty when they cannot be read (a gone receiver
  // called once more answers 410 again, no harm done).
  virtual boost::asio::awaitable<std::set<std::string>> load() = 0;
  // `receiver` answered 410 to the record of `job_id`: never call it again (until on-call
  // re-enables it). `host` names it in the log without its secret path.
  virtual boost::asio::awaitable<void> add(std::string receiver, std::string host, std::string job_id) = 0;
};

}  // namespace rescind::clients
