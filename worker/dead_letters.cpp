#include "worker/dead_letters.hpp"

#include <openssl/sha.h>

#include "common/log.hpp"
#include "common/time.hpp"
#include "queue/fields.hpp"

namespace rescind::worker {

namespace log = common::log;

namespace {

// What the DLQ keeps of a payload over the parser's limit: its first bytes (enough to see
// what it is and who sent it), its size and its SHA-256 (to match it against the producer's
// copy). Redis accepts 512 MB per entry; a letter holding the whole payload again would let
// a few oversize entries fill the DLQ, and copy each one whole through this worker.
constexpr std::size_t oversize_prefix_bytes = 4096;

std::string sha256_hex(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char byte : digest) {
    out += hex[byte >> 4];
    out += hex[byte & 15];
  }
  return out;
}

}  // namespace

queue::DeadLetter step_failed(const clients::Outcome& outcome, jobs::Role role, std::string_view provider) {
  queue::DeadLetter why;
  why.reason = "permanent";
  why.step = jobs::to_string(role);
  why.provider = provider;
  why.status = outcome.status;
  why.code = outcome.code;
  why.error = outcome.message;
  return why;
}

queue::DeadLetter refund_failed(std::string_view reference, std::string_view provider, std::string_view detail) {
  // The detail is the provider's own words, not a code: the code says what happened, the
  // error why and what on-call does next.
  auto why = step_failed(
      clients::Outcome::permanent(
          0, "refund_failed",
          "refund " + std::string(reference) + " was accepted as pending, then failed at " + std::string(provider) +
              (detail.empty() ? std::string() : ": " + std::string(detail)) +
              ". The customer was told it is on its way. Fix the cause, then replay: the worker checks that no "
              "refund exists for the job before it refunds under a new key"),
      jobs::Role::refund, provider);
  why.reason = "refund_failed";
  why.more.emplace_back(queue::field::ref, reference);
  return why;
}

queue::DeadLetter finish_letter(queue::DeadLetter why, const LetterSource& source) {
  const std::string* payload = source.payload;
  bool oversize = payload && payload->size() > source.max_payload_bytes;
  why.job = !payload ? std::string() : oversize ? payload->substr(0, oversize_prefix_bytes) : *payload;
  why.attempt = source.attempt;
  why.kind = source.kind;
  why.code = log::redact(why.code);  // provider texts may echo a credential
  why.error = log::redact(why.error);
  why.failed_at = common::format_rfc3339_ms(source.now);
  why.origin_id = source.origin_id;
  why.worker = source.worker;
  if (oversize) {
    why.error += "; the DLQ keeps its first " + std::to_string(oversize_prefix_bytes) +
                 " bytes (job), its size (job_bytes) and its SHA-256 (job_sha256)";
    why.more.emplace_back(queue::field::job_bytes, std::to_string(payload->size()));
    why.more.emplace_back(queue::field::job_sha256, sha256_hex(*payload));
  }
  return why;
}

}  // namespace rescind::worker
