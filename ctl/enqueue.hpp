// rescindctl enqueue: NDJSON jobs from a file or stdin into the jobs stream, pipelined.
#pragma once
#include <iosfwd>
#include <string>

#include "ctl/redis_session.hpp"

namespace rescind::ctl {

struct EnqueueOptions {
  std::string stream;    // prefix:jobs
  bool validate = true;  // refuse the whole input if any line is not a valid job
  std::size_t batch = 1000;
};

// Returns the exit code (0 ok, 2 invalid input: nothing enqueued). Reports on `out`/`err`.
int enqueue(RedisSession& redis, std::istream& input, const EnqueueOptions& options, std::ostream& out,
            std::ostream& err);

}  // namespace rescind::ctl
