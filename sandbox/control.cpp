// The control endpoints tests and scripts use: read the ledger, reset, set or read faults,
// move the clock on.
#include "common/json_text.hpp"
#include "sandbox/form.hpp"
#include "sandbox/json_body.hpp"
#include "sandbox/sandbox.hpp"

namespace rescind::sandbox {
namespace {

Response control_error(http::status status, std::string_view message) {
  return json_strings_response(status, {{"error", message}});
}

Response wrong_method(std::string_view allow) {
  return method_not_allowed(allow, "application/json", "{\"error\":\"method not allowed\"}");
}

LedgerFilter filter_from(std::string_view query) {
  LedgerFilter filter;
  auto form = Form::parse(query);
  if (!form) return filter;
  if (const std::string* job = form->find("job_id")) filter.job_id = *job;
  if (const std::string* provider = form->find("provider")) filter.provider = *provider;
  return filter;
}

}  // namespace

Response Sandbox::control(Request& request, std::string_view path, Instant now) {
  http::verb method = request.method();
  if (path == "/__ledger") {
    if (method != http::verb::get) return wrong_method("GET");
    LedgerFilter filter = filter_from(target_query(request.target()));
    std::lock_guard lock(mutex_);
    return json_response(http::status::ok, ledger_.effects_json(filter));
  }
  if (path == "/__ledger/summary") {
    if (method != http::verb::get) return wrong_method("GET");
    std::lock_guard lock(mutex_);
    return json_response(http::status::ok, ledger_.summary_json());
  }
  if (path == "/__reset") {
    if (method != http::verb::post) return wrong_method("POST");
    std::lock_guard lock(mutex_);
    ledger_.clear();
    idempotency_.clear();
    for (auto& provider : providers_) provider->reset();
    // Faults too: a count left over from one test must not fail the next one.
    faults_ = FaultSet(providers_.size());
    clock_offset_s_ = 0;
    return json_response(http::status::ok, "{}");
  }
  if (path == "/__clock") {
    if (method != http::verb::post) return wrong_method("POST");
    long long advance = 0;
    bool read = false;
    auto body = each_body_member(request.body(), [&](std::string_view key, simdjson::ondemand::value value) {
      std::int64_t seconds = 0;
      if (key != "advance_s" || value.get_int64().get(seconds) || seconds < 0 || seconds > 400LL * 86400) return false;
      advance = seconds;
      read = true;
      return true;
    });
    if (body != BodyRead::ok || !read) {
      return control_error(http::status::bad_request, "body: {\"advance_s\": seconds from 0 to 34560000}");
    }
    long long offset = clock_offset_s_ += advance;
    return json_response(http::status::ok,
                         common::JsonWriter().begin_object().field("offset_s", offset).end_object().take());
  }
  if (path == "/__faults") {
    if (method == http::verb::get) {
      std::lock_guard lock(mutex_);
      return json_response(http::status::ok, faults_.to_json(provider_names_));
    }
    if (method != http::verb::post) return wrong_method("GET, POST");
    // Parse outside the lock; only the swap needs it.
    auto parsed = FaultSet::parse(request.body(), provider_names_, now.steady);
    if (!parsed.faults) return control_error(http::status::bad_request, parsed.error);
    std::lock_guard lock(mutex_);
    faults_ = std::move(*parsed.faults);
    return json_response(http::status::ok, faults_.to_json(provider_names_));
  }
  if (auto answer = provider_control(request, path, now)) return std::move(*answer);
  return control_error(http::status::not_found, "no control endpoint " + std::string(path));
}

std::optional<Response> Sandbox::provider_control(Request& request, std::string_view path, Instant now) {
  std::string_view rest = path.substr(3);  // after "/__"
  auto slash = rest.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  std::string_view name = rest.substr(0, slash);
  for (auto& provider : providers_) {
    if (provider->name() != name) continue;
    std::lock_guard lock(mutex_);
    return provider->control(rest.substr(slash + 1), request, now.wall, ledger_);
  }
  return std::nullopt;
}

}  // namespace rescind::sandbox
