// What every fake provider implements. Adding a provider is one file with a Provider and one
// line in providers.cpp.
#pragma once
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sandbox/http.hpp"
#include "sandbox/idempotency.hpp"
#include "sandbox/ledger.hpp"

namespace rescind::sandbox {

// One request arriving at a provider.
struct Call {
  Request& request;  // mutable so JSON bodies can be padded in place
  std::string_view path;
  std::string_view job_id;  // X-Rescind-Job; may be empty
  std::chrono::system_clock::time_point now;
  IdempotencyStore& idempotency;
};

// The provider's answer and the side effect it performed, if any.
struct Reply {
  Response response;
  std::optional<Effect> effect;
  bool replayed = false;                  // answered from the idempotency store
  std::vector<Effect> more_effects = {};  // a call that does several things (Shopify cancel + restock)
};

// An injected failure or a quota overrun, to be answered in the provider's own error shape.
struct Failure {
  http::status status;
  std::optional<unsigned> retry_after_s;  // the sandbox adds the Retry-After header itself
  std::chrono::system_clock::time_point now;
};

class Provider {
 public:
  virtual ~Provider() = default;
  // The name faults and ledger entries use: "stripe", "sendgrid", …
  virtual std::string_view name() const = 0;
  // Whether `path` belongs to this provider's API: its answers there, errors included,
  // are the provider's.
  virtual bool owns(std::string_view path) const = 0;
  virtual Reply handle(Call& call) = 0;
  virtual Response failure(const Failure& failure) const = 0;

  // The provider's own "slow down" answer, for the `throttled` fault: its 429 unless it has
  // another way of saying it (Shopify GraphQL: HTTP 200 with a THROTTLED error).
  virtual Response throttled(const Failure& failure) const { return this->failure(failure); }
  // Whether injected faults (failures, latency, quotas, lost answers) apply at `path`. PayPal's
  // token endpoint opts out, so that a fault count is spent on the calls that act.
  virtual bool takes_faults(std::string_view /*path*/) const { return true; }
  // POST /__reset: forget per-provider state (canceled orders, webhook ids seen, …).
  virtual void reset() {}
  // POST /__<name>/<action>: the provider's own control endpoints; nullopt answers 404.
  // `ledger` is there for controls that change what an effect became (a pending refund settled).
  virtual std::optional<Response> control(std::string_view /*action*/, Request& /*request*/,
                                          std::chrono::system_clock::time_point /*now*/, Ledger& /*ledger*/) {
    return std::nullopt;
  }
  // An injected failure about to be answered at `call`: a provider whose idempotency layer
  // saves such an answer (Stripe saves a 500 under its Idempotency-Key once the endpoint began
  // executing) answers it itself, replaying or saving; nullopt: answered with failure() as is.
  virtual std::optional<Reply> on_fault(Call& /*call*/, const Failure& /*failure*/) { return std::nullopt; }
};

// The job id the wire format carries, for providers that have a place for it.
inline std::string_view job_id_or(std::string_view header_value, std::string_view from_body) {
  return header_value.empty() ? from_body : header_value;
}

// An answer that performed nothing: every refusal, and the answers that change nothing.
// Providers with an error shape of their own add a refuse(…) taking its parts.
inline Reply refuse(Response response) { return Reply{std::move(response), std::nullopt, false}; }

// The provider APIs the sandbox fakes act only on POST: anything else is answered 405 with
// Allow: POST and `body`, the provider's own words for it. nullopt for a POST.
inline std::optional<Reply> refuse_unless_post(const Request& request, std::string_view body,
                                               std::string_view content_type = "application/json") {
  if (request.method() == http::verb::post) return std::nullopt;
  return refuse(method_not_allowed("POST", content_type, std::string(body)));
}

// The effect `call` performed, known by the provider's `ref` for it. `body_job_id` is the job
// id the wire format carries, used when the call had no X-Rescind-Job; money effects add
// amount and currency themselves.
inline Effect effect_of(const Call& call, std::string_view provider, Action action, std::string ref,
                        std::string_view body_job_id = {}) {
  Effect effect;
  effect.provider = provider;
  effect.action = action;
  effect.job_id = job_id_or(call.job_id, body_job_id);
  effect.ref = std::move(ref);
  effect.at = call.now;
  return effect;
}

}  // namespace rescind::sandbox
