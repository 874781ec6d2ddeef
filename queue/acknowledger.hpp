// The queue's one ack path. Acknowledges finished jobs in batches: every ack
// asked for while the event loop is busy goes out in one fenced script call
// (each entry still checked to belong to this consumer), instead of one script
// call per job — the difference between Redis doing the work of the queue and
// Redis doing the work of the Lua interpreter.
#pragma once
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <string>
#include <vector>

#include "queue/job_queue.hpp"
#include "redis/connection.hpp"
#include "redis/script.hpp"

namespace rescind::queue {

class Acknowledger {
 public:
  // Acks as `queue`'s consumer, over `redis`; `queue` must outlive it.
  Acknowledger(const JobQueue& queue, redis::Connection& redis, asio::any_io_executor executor);

  // Also frees the job id's lease `lease_key` (empty: none) if this entry still
  // holds it.
  asio::awaitable<Moved> acknowledge(std::string entry_id, std::string lease_key = {});

 private:
  using Handler = asio::any_completion_handler<void(Moved)>;
  struct Waiting {
    std::string entry_id;
    std::string lease_key;
    Handler done;
  };
  void enqueue(std::string entry_id, std::string lease_key, Handler done);
  asio::awaitable<void> flush();

  const JobQueue& queue_;
  redis::Connection& redis_;
  asio::any_io_executor executor_;
  redis::Script script_;
  std::vector<Waiting> waiting_;
  bool flush_scheduled_ = false;
};

}  // namespace rescind::queue
