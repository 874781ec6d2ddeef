// The worker's Prometheus metrics (design.md, "Metrics"). Label values come from closed
// sets (kind, outcome, provider, step, status code) so cardinality stays bounded.
#pragma once
#include <memory>
#include <string>
#include <string_view>

namespace prometheus {
class Registry;
class Exposer;
class Gauge;
}  // namespace prometheus

namespace rescind::metrics {

class Metrics {
 public:
  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // Serves /metrics on host:port (port 0: any free port). Throws if it cannot bind.
  void serve(const std::string& listen);
  // The port actually bound, once serving.
  unsigned short port() const;

  void job_finished(std::string_view kind, std::string_view outcome, double seconds);
  void provider_request(std::string_view provider, std::string_view step, std::string_view code, double seconds);
  void jobs_in_flight(long long count);
  void stale_completion();                  // a result dropped: another consumer owned the entry
  void redelivered(long long entries);      // entries claimed from silent consumers
  void retries_promoted(long long entries);
  // what: jobs_entries (acknowledged history trimmed), dlq_entries (retention), consumers
  void housekeeping_removed(std::string_view what, long long count);

  prometheus::Registry& registry();

 private:
  struct Families;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<Families> families_;
  std::unique_ptr<prometheus::Exposer> exposer_;
};

}  // namespace rescind::metrics
