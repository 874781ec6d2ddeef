#include "queue/dead_letter.hpp"

#include "queue/fields.hpp"

namespace rescind::queue {

std::vector<std::pair<std::string_view, std::string>> DeadLetter::fields() const {
  std::vector<std::pair<std::string_view, std::string>> all{
      {field::job, job},
      {field::attempt, std::to_string(attempt)},
      {field::kind, kind},
      {field::reason, reason},
      {field::step, step},
      {field::provider, provider},
      {field::status, std::to_string(status)},
      {field::code, code},
      {field::error, error},
      {field::failed_at, failed_at},
      {field::origin_id, origin_id},
      {field::worker, worker},
  };
  all.insert(all.end(), more.begin(), more.end());
  return all;
}

}  // namespace rescind::queue
