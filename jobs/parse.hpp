// Parsing and validating a job payload: JSON text in, a typed Job or the reason it is
// invalid out. The reason names the field ("order.currency: 'XYZ' is not an ISO 4217
// code") because an engineer reads it in the dead-letter queue.
#pragma once
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

#include "jobs/job.hpp"

namespace rescind::jobs {

struct InvalidJob {
  std::string field;    // dotted path: "order.line_items[1].quantity", or "payload"
  std::string problem;  // what is wrong with it

  std::string reason() const { return field + ": " + problem; }
};

using ParseResult = std::variant<Job, InvalidJob>;

struct ParseLimits {
  std::size_t max_payload_bytes = 64 * 1024;
};

// Reuses its buffers between jobs: one per thread (the worker has one).
class JobParser {
 public:
  explicit JobParser(ParseLimits limits = {});
  ~JobParser();
  JobParser(const JobParser&) = delete;
  JobParser& operator=(const JobParser&) = delete;

  ParseResult parse(std::string_view payload);
  std::size_t max_payload_bytes() const;  // longer payloads are refused unread

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// True when `text` is 1–`max` characters of [A-Za-z0-9._:-], the first a letter or digit:
// safe inside URLs (never "." or "..") and headers.
bool is_safe_id(std::string_view text, std::size_t max = 128);

}  // namespace rescind::jobs
