// What a payment provider says about a job's refund when the worker asks rather than tells:
// before a money-moving step may use a new idempotency key (reconcile: "does a refund for
// this job exist?"), and while a refund the provider accepted is still pending.
#pragma once
#include <string>

#include "clients/outcome.hpp"

namespace rescind::clients {

struct RefundState {
  // none: the provider has no refund for this job (only said after a complete, successful
  // lookup); unknown: the lookup itself failed, so nothing may be concluded from it.
  enum class Kind { none, pending, succeeded, failed, unknown };
  Kind kind = Kind::unknown;
  std::string reference;  // the provider's refund id, when one was found
  std::string detail;     // failed: the provider's reason; unknown: why we could not tell
  Outcome lookup = {};    // unknown: how the lookup call ended (retryable, rate_limited…)
  // unknown, but the provider itself refuses a second refund for this job under any key
  // (PayPal: invoice_id is the job id, DUPLICATE_INVOICE_ID), so a new key is safe anyway.
  bool guarded = false;
};

}  // namespace rescind::clients
