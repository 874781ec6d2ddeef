// The strings operators type at start-up: --limit (ratelimit/limits), --retry (retry/policy),
// every duration (common/duration) and the Redis URL (redis/endpoint). The first byte picks
// the parser, the rest is the text. Refused text must say why; accepted text must give values
// the worker can compute with: what a parser lets through is then used the way the worker
// uses it (a GCRA built from a limit, backoff delays from a policy), so a value that would
// overflow there is found here.
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <string_view>

#include "common/duration.hpp"
#include "ratelimit/gcra.hpp"
#include "ratelimit/limits.hpp"
#include "redis/endpoint.hpp"
#include "retry/policy.hpp"

namespace {

[[noreturn]] void violated(const char* promise, std::string_view detail) {
  std::fprintf(stderr, "\nINVARIANT VIOLATED: %s\n  '%.*s'\n", promise, static_cast<int>(detail.size()), detail.data());
  std::abort();
}

void limit(std::string_view text) {
  rescind::ratelimit::Limits limits;
  std::string error;
  if (!rescind::ratelimit::parse_limit(text, limits, error)) {
    if (error.empty()) violated("a refused --limit says why", text);
    return;
  }
  if (limits.per_provider.size() + limits.per_account.size() != 1) violated("one --limit adds one limit", text);
  for (const auto* table : {&limits.per_provider, &limits.per_account}) {
    for (const auto& [who, l] : *table) {
      if (who.empty()) violated("a limit names its provider", text);
      if (!std::isfinite(l.per_second) || l.per_second <= 0) violated("a rate is a finite positive number", text);
      if (!std::isfinite(l.burst) || l.burst < 1) violated("a burst is a finite number >= 1", text);
      // What the limiter does with it (ratelimit/limiter.cpp): one bucket, one turn.
      auto gcra = rescind::ratelimit::Gcra::of(l.per_second, l.burst);
      if (gcra.interval.count() < 0 || gcra.tolerance.count() < 0)
        violated("a bucket's interval and tolerance are not negative", text);
      auto tat = std::chrono::microseconds(0);
      (void)gcra.reserve(tat, std::chrono::microseconds(1'000'000), std::chrono::microseconds(2'000'000));
      auto slash = who.find('/');
      (void)limits.find(who.substr(0, slash), slash == std::string::npos ? "" : who.substr(slash + 1));
    }
  }
}

void policy(std::string_view text) {
  rescind::retry::Policy p;
  std::string error;
  if (!rescind::retry::parse_policy(text, p, error)) {
    if (error.empty()) violated("a refused --retry says why", text);
    return;
  }
  if (p.base.count() <= 0 || p.cap < p.base || p.max_attempts < 1 || p.max_age.count() < 0) {
    violated("an accepted policy has base > 0, cap >= base, attempts >= 1, max_age >= 0", text);
  }
  std::mt19937_64 random(42);
  for (int attempt = 1; attempt <= std::min(p.max_attempts, 80); ++attempt) {
    auto delay = rescind::retry::backoff(p, attempt, std::nullopt, random);
    if (delay.count() < 0 || delay > p.cap) violated("a backoff delay is within 0..cap", text);
    auto after = rescind::retry::backoff(p, attempt, std::chrono::milliseconds(3'600'000), random);
    if (after < std::chrono::milliseconds(3'600'000))
      violated("a backoff delay is never sooner than Retry-After", text);
    (void)rescind::retry::next_step(p, attempt, delay);
  }
}

void duration(std::string_view text) {
  auto d = rescind::common::parse_duration(text);
  if (!d) return;
  if (d->count() < 0) violated("a duration is not negative", text);
  auto written = rescind::common::format_duration(*d);
  auto again = rescind::common::parse_duration(written);
  if (!again || *again != *d) violated("a duration written back reads back the same", written);
}

void endpoint(std::string_view text) {
  std::string error;
  auto ep = rescind::redis::parse_endpoint(text, error);
  if (!ep) {
    if (error.empty()) violated("a refused Redis URL says why", text);
    return;
  }
  int port = 0;
  for (char c : ep->port) {
    if (c < '0' || c > '9') violated("a port is digits", text);
    port = port * 10 + (c - '0');
    if (port > 65535) break;
  }
  if (ep->port.empty() || port < 1 || port > 65535) violated("a port is 1-65535", text);
  if (ep->db < 0) violated("a database number is not negative", text);
  if (ep->host.empty()) violated("a host is never empty (127.0.0.1 by default)", text);
  (void)ep->display();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 4) {
    case 0:
      limit(text);
      break;
    case 1:
      policy(text);
      break;
    case 2:
      duration(text);
      break;
    case 3:
      endpoint(text);
      break;
  }
  return 0;
}
