// Acknowledges finished jobs in batches: every ack asked for while the event loop is busy
// goes out in one fenced script call (each entry still checked to belong to this consumer),
// instead of one script call per job — the difference between Redis doing the work of the
// queue and Redis doing the work of the Lua interpreter.
#pragma once
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <string>
#include <vector>

#include "redis/connection.hpp"
#include "redis/script.hpp"
#include "retry/job_queue.hpp"

namespace rescind::retry {

class Acknowledger {
 public:
  Acknowledger(const QueueKeys& keys, redis::Connection& redis, asio::any_io_executor executor);

  // Also frees the job id's lease `lease_key` (empty: none) if this entry still holds it.
  asio::awaitable<Finished> acknowledge(std::string entry_id, std::string lease_key = {});

 private:
  using Handler = asio::any_completion_handler<void(Finished)>;
  struct Waiting {
    std::string entry_id;
    std::string lease_key;
    Handler done;
  };
  void enqueue(std::string entry_id, std::string lease_key, Handler done);
  asio::awaitable<void> flush();

  const QueueKeys& keys_;
  redis::Connection& redis_;
  asio::any_io_executor executor_;
  redis::Script script_;
  std::vector<Waiting> waiting_;
  bool flush_scheduled_ = false;
};

}  // namespace rescind::retry
