// What every provider client shares: building a request that carries the job's
// correlation id, and turning an exchange into an Outcome before provider-specific rules.
#pragma once
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "clients/http_client.hpp"
#include "clients/outcome.hpp"
#include "clients/refunds.hpp"

namespace rescind::clients {

// POST base.path + path, with User-Agent and X-Rescind-Job (real providers ignore it;
// the sandbox files the effect under it).
HttpRequest make_post(const Url& base, std::string_view path, std::string_view job_id, std::string_view content_type);

// GET base.path + target (path and query, already encoded), for the reads that reconcile.
HttpRequest make_get(const Url& base, std::string_view target, std::string_view job_id);

// Transport failure → retryable; else the status-based kind, Retry-After, and `message`
// from the body (trimmed). Provider clients refine code/message/kind afterwards.
Outcome outcome_from(const Exchange& exchange);

// A refund the provider accepted (2xx) whose own status says it did not happen (Stripe
// "failed", PayPal "FAILED", Square "REJECTED"…) is permanent, not ok.
void fail_if_refund_ended(Outcome& outcome, std::string_view provider, std::string_view status,
                          std::initializer_list<std::string_view> ended);

// A refund the provider accepted whose status says the money has not arrived yet (Stripe
// "pending"/"requires_action", PayPal "PENDING", Square "PENDING"): ok, pending, to be polled.
void mark_if_pending(Outcome& outcome, std::string_view status, std::initializer_list<std::string_view> pending);

// A reconcile read that did not answer 2xx: nothing can be concluded ("unknown"), `lookup` says how it ended.
RefundState lookup_failed(Outcome lookup, std::string_view what);

// A string at a JSON pointer ("/error/code") in a response body, if there is one.
std::optional<std::string> json_string_at(std::string_view body, std::string_view pointer);

}  // namespace rescind::clients
