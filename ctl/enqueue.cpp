#include "ctl/enqueue.hpp"

#include <istream>
#include <ostream>
#include <vector>

#include "jobs/parse.hpp"
#include "queue/fields.hpp"

namespace rescind::ctl {

int enqueue(RedisSession& redis, std::istream& input, const EnqueueOptions& options, std::ostream& out,
            std::ostream& err) {
  // Read and check everything first: a file with one bad line is refused whole, so a
  // fixed file can be re-run without doubling the good half.
  std::vector<std::string> jobs;
  std::string line;
  std::size_t line_number = 0, defects = 0;
  jobs::JobParser parser;
  while (std::getline(input, line)) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    if (options.validate) {
      auto parsed = parser.parse(line);
      if (auto* invalid = std::get_if<jobs::InvalidJob>(&parsed)) {
        if (++defects <= 20) err << "line " << line_number << ": " << invalid->reason() << "\n";
        continue;
      }
    }
    jobs.push_back(std::move(line));
  }
  if (defects > 0) {
    if (defects > 20) err << "… and " << defects - 20 << " more invalid lines\n";
    err << "rescindctl: " << defects << " invalid job(s); nothing was enqueued. Fix them, or pass "
        << "--no-validate to enqueue as is (invalid jobs then go to the dead-letter queue).\n";
    return 2;
  }
  if (jobs.empty()) {
    // Most likely the wrong file, or an export that failed upstream: a pipeline must not
    // read "enqueued 0" as success.
    err << "rescindctl: no job in the input (" << line_number << " line(s), none with a job); nothing was enqueued\n";
    return 2;
  }

  std::size_t sent = 0;
  while (sent < jobs.size()) {
    redis::Request request;
    auto end = std::min(jobs.size(), sent + options.batch);
    for (auto i = sent; i < end; ++i)
      request.push("XADD", options.stream, "*", queue::field::job, jobs[i], queue::field::attempt, "1");
    auto replies = redis.exec(std::move(request));
    for (const auto& reply : replies) {
      if (reply.is_error()) throw OperationalError("XADD to " + options.stream + " failed: " + reply.text);
    }
    sent = end;
    if (jobs.size() >= 50'000) err << "\renqueued " << sent << " / " << jobs.size() << std::flush;
  }
  if (jobs.size() >= 50'000) err << "\n";
  out << "enqueued " << sent << " job(s) to " << options.stream << "\n";
  return 0;
}

}  // namespace rescind::ctl
