// Parsing, applying and reporting the injected fault set.
#include "sandbox/faults.hpp"

#include <cmath>
#include <cstdio>

#include "common/json_text.hpp"
#include "sandbox/json_body.hpp"

namespace rescind::sandbox {
namespace {

namespace od = simdjson::ondemand;

constexpr std::string_view known_fields =
    "status, count, retry_after_s, delay_ms, quota_rps, burst, lose_response, throttled, echo_request";

std::string integer_error(std::string_view where, long long min, long long max) {
  return std::string(where) + ": must be an integer from " + std::to_string(min) + " to " + std::to_string(max);
}

// Reads one integer field; an empty string means it was fine.
std::string read_integer(od::value value, std::string_view where, long long min, long long max, long long& out) {
  std::int64_t number = 0;
  if (value.get_int64().get(number) || number < min || number > max) {
    return integer_error(where, min, max);
  }
  out = number;
  return {};
}

std::string parse_provider(od::object spec, std::string_view provider, ProviderFaults& faults,
                           TokenBucket::Clock::time_point now) {
  std::optional<double> quota_rps;
  std::optional<long long> burst;
  for (auto entry : spec) {
    std::string_view key;
    if (entry.unescaped_key().get(key)) return "body: not valid JSON";
    std::string where = std::string(provider) + "." + std::string(key);
    od::value value;
    if (entry.value().get(value)) return "body: not valid JSON";
    long long number = 0;
    std::string error;
    if (key == "status") {
      error = read_integer(value, where, 400, 599, number);
      faults.status = static_cast<unsigned>(number);
    } else if (key == "count") {
      error = read_integer(value, where, 1, 1'000'000'000, number);
      faults.count = static_cast<std::uint64_t>(number);
    } else if (key == "retry_after_s") {
      error = read_integer(value, where, 0, 86'400, number);
      faults.retry_after_s = static_cast<unsigned>(number);
    } else if (key == "delay_ms") {
      error = read_integer(value, where, 0, 600'000, number);
      faults.delay = std::chrono::milliseconds(number);
    } else if (key == "quota_rps") {
      double rate = 0;
      if (value.get_double().get(rate) || !(rate > 0) || rate > 1e9) {
        error = where + ": must be a number greater than 0";
      }
      quota_rps = rate;
    } else if (key == "burst") {
      error = read_integer(value, where, 1, 1'000'000'000, number);
      burst = number;
    } else if (key == "lose_response") {
      error = read_integer(value, where, 0, 1'000'000'000, number);
      faults.lose_response = static_cast<std::uint64_t>(number);
    } else if (key == "throttled") {
      error = read_integer(value, where, 0, 1'000'000'000, number);
      faults.throttled = static_cast<std::uint64_t>(number);
    } else if (key == "echo_request") {
      if (value.get_bool().get(faults.echo_request)) error = where + ": must be true or false";
    } else {
      error = where + ": unknown field (known: " + std::string(known_fields) + ")";
    }
    if (!error.empty()) return error;
  }
  std::string name(provider);
  if (faults.count && !faults.status) return name + ".count: needs status";
  if (faults.retry_after_s && !faults.status) return name + ".retry_after_s: needs status";
  if (faults.echo_request && !faults.status) return name + ".echo_request: needs status";
  if (burst && !quota_rps) return name + ".burst: needs quota_rps";
  if (quota_rps) {
    // Without a burst, allow one second's worth: the usual shape of a provider's quota.
    double size = burst ? static_cast<double>(*burst) : std::max(1.0, std::floor(*quota_rps));
    faults.quota.emplace(*quota_rps, size, now);
  }
  return {};
}

std::string known_providers(std::span<const std::string_view> providers) {
  std::string out;
  for (auto name : providers) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

}  // namespace

FaultSet::ParseResult FaultSet::parse(std::string& body, std::span<const std::string_view> providers,
                                      TokenBucket::Clock::time_point now) {
  auto fail = [](std::string error) { return ParseResult{std::nullopt, std::move(error)}; };
  od::document doc;
  if (json_parser().iterate(padded(body)).get(doc)) return fail("body: not valid JSON");
  od::object root;
  if (auto error = doc.get_object().get(root)) {
    return fail(error == simdjson::INCORRECT_TYPE ? "body: must be a JSON object keyed by provider"
                                                  : "body: not valid JSON");
  }

  FaultSet set(providers.size());
  std::vector<bool> seen(providers.size(), false);
  for (auto entry : root) {
    std::string_view name;
    if (entry.unescaped_key().get(name)) return fail("body: not valid JSON");
    std::size_t index = 0;
    while (index < providers.size() && providers[index] != name) ++index;
    if (index == providers.size()) {
      return fail("unknown provider " + common::json_string(name) + " (known: " + known_providers(providers) + ")");
    }
    if (seen[index]) return fail(std::string(name) + ": given twice");
    seen[index] = true;
    od::object spec;
    auto error = entry.value().get_object().get(spec);
    if (is_malformed(error)) return fail("body: not valid JSON");
    if (error) return fail(std::string(name) + ": must be an object");
    std::string problem = parse_provider(spec, name, set.faults_[index], now);
    if (!problem.empty()) return fail(std::move(problem));
  }
  if (!at_document_end(doc)) return fail("body: not valid JSON");
  return ParseResult{std::move(set), {}};
}

std::chrono::milliseconds FaultSet::delay(std::size_t provider) const {
  return provider < faults_.size() ? faults_[provider].delay : std::chrono::milliseconds(0);
}

FaultVerdict FaultSet::admit(std::size_t provider, TokenBucket::Clock::time_point now) {
  if (provider >= faults_.size()) return {};
  ProviderFaults& faults = faults_[provider];
  if (faults.quota) {
    auto wait = faults.quota->take(now);
    if (wait.count() > 0) {
      // Retry-After is whole seconds: round up so a client that honours it is admitted.
      auto seconds = static_cast<unsigned>(std::max(1.0, std::ceil(wait.count())));
      return {FaultVerdict::Kind::throttle, 429, seconds};
    }
  }
  if (faults.throttled > 0) {
    --faults.throttled;
    return {FaultVerdict::Kind::provider_throttle, 429, std::nullopt};
  }
  if (faults.status && (!faults.count || *faults.count > 0)) {
    if (faults.count) --*faults.count;
    return {FaultVerdict::Kind::fail, *faults.status, faults.retry_after_s, faults.echo_request};
  }
  return {};
}

bool FaultSet::take_lost_response(std::size_t provider) {
  if (provider >= faults_.size() || faults_[provider].lose_response == 0) return false;
  --faults_[provider].lose_response;
  return true;
}

std::string FaultSet::to_json(std::span<const std::string_view> providers) const {
  common::JsonWriter json;
  json.begin_object();
  for (std::size_t i = 0; i < faults_.size() && i < providers.size(); ++i) {
    const ProviderFaults& f = faults_[i];
    if (f.empty()) continue;
    json.key(providers[i]).begin_object();
    if (f.status) json.field("status", *f.status);
    if (f.count) json.field("count", *f.count);
    if (f.retry_after_s) json.field("retry_after_s", *f.retry_after_s);
    if (f.delay.count() > 0) json.field("delay_ms", f.delay.count());
    if (f.quota) {
      // The one number here that is not an integer: 2.5 and 0.001 as they were given.
      char rate[32];
      std::snprintf(rate, sizeof rate, "%.15g", f.quota->rate());
      json.key("quota_rps").raw(rate);
      json.field("burst", static_cast<long long>(f.quota->burst()));
    }
    if (f.lose_response > 0) json.field("lose_response", f.lose_response);
    if (f.throttled > 0) json.field("throttled", f.throttled);
    if (f.echo_request) json.field("echo_request", true);
    json.end_object();
  }
  return json.end_object().take();
}

}  // namespace rescind::sandbox
