// Routing a request, applying faults around a provider call, filing its effect.
#include "sandbox/sandbox.hpp"

#include "sandbox/providers.hpp"

namespace rescind::sandbox {
namespace {

Response not_found(std::string_view path) {
  return json_strings_response(http::status::not_found, {{"error", "not_found"}, {"path", path}});
}

}  // namespace

Sandbox::Sandbox(LedgerMode mode, const ProviderOptions& options) : providers_(make_providers(options)), ledger_(mode) {
  for (const auto& provider : providers_) provider_names_.push_back(provider->name());
  faults_ = FaultSet(providers_.size());
}

std::optional<std::size_t> Sandbox::provider_for(std::string_view path) const {
  for (std::size_t i = 0; i < providers_.size(); ++i) {
    if (providers_[i]->owns(path)) return i;
  }
  return std::nullopt;
}

std::chrono::milliseconds Sandbox::delay_for(const Request& request) {
  std::string_view path = target_path(request.target());
  auto index = provider_for(path);
  if (!index || !providers_[*index]->takes_faults(path)) return std::chrono::milliseconds(0);
  std::lock_guard lock(mutex_);
  return faults_.delay(*index);
}

Outcome Sandbox::handle(Request& request, Instant now) {
  std::chrono::seconds offset(clock_offset_s_.load());
  now.steady += offset;
  now.wall += offset;
  std::string_view path = target_path(request.target());
  Outcome outcome;
  if (path.starts_with("/__")) {
    outcome.response = control(request, path, now);
  } else if (auto index = provider_for(path)) {
    outcome = call_provider(*index, request, path, now);
  } else {
    outcome.response = not_found(path);
  }
  outcome.response.version(request.version());
  outcome.response.keep_alive(request.keep_alive());
  outcome.response.prepare_payload();
  return outcome;
}

Outcome Sandbox::call_provider(std::size_t index, Request& request, std::string_view path, Instant now) {
  Provider& provider = *providers_[index];
  std::lock_guard lock(mutex_);
  ledger_.count_request();

  bool faultable = provider.takes_faults(path);
  FaultVerdict verdict = faultable ? faults_.admit(index, now.steady) : FaultVerdict{};
  Call call{request, path, header(request, "X-Rescind-Job"), now.wall, idempotency_};
  if (verdict.kind != FaultVerdict::Kind::pass) {
    ledger_.count_fault();
    Failure failure{static_cast<http::status>(verdict.status), verdict.retry_after_s, now.wall};
    if (verdict.kind == FaultVerdict::Kind::fail && !verdict.echo_request) {
      if (auto answered = provider.on_fault(call, failure)) {
        if (answered->replayed) ledger_.count_replay();
        return Outcome{std::move(answered->response), false};
      }
    }
    Response response =
        verdict.kind == FaultVerdict::Kind::provider_throttle ? provider.throttled(failure) : provider.failure(failure);
    if (verdict.retry_after_s) {
      response.set(http::field::retry_after, std::to_string(*verdict.retry_after_s));
    }
    if (verdict.echo_request) {
      response.set(http::field::content_type, "text/plain");
      response.body() = std::string(request.method_string()) + " " + std::string(request.target()) +
                        " refused; Authorization: " + std::string(header(request, http::field::authorization));
    }
    return Outcome{std::move(response), false};
  }

  Reply reply = provider.handle(call);
  if (reply.replayed) ledger_.count_replay();
  if (reply.effect) ledger_.record(std::move(*reply.effect));
  for (auto& effect : reply.more_effects) ledger_.record(std::move(effect));
  bool lose = faultable && faults_.take_lost_response(index);
  if (lose) ledger_.count_fault();
  return Outcome{std::move(reply.response), lose};
}

}  // namespace rescind::sandbox
