// The fake providers behind one HTTP front: routes each request to a provider or to a
// control endpoint (/__ledger, /__faults, /__reset, /__clock, /__<provider>/…), applies the
// injected faults and files every side effect in the ledger. Knows nothing of sockets.
// POST /__clock {"advance_s":N} moves the providers' clock N seconds on (idempotency keys
// expire, tokens lapse) without waiting; /__reset sets it back.
#pragma once
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

#include "sandbox/clock.hpp"
#include "sandbox/faults.hpp"
#include "sandbox/http.hpp"
#include "sandbox/idempotency.hpp"
#include "sandbox/ledger.hpp"
#include "sandbox/provider.hpp"
#include "sandbox/providers.hpp"

namespace rescind::sandbox {

struct Outcome {
  Response response;
  // lose_response: the effect is done and recorded, the answer never leaves; the
  // connection is closed instead.
  bool drop_connection = false;
};

class Sandbox {
 public:
  explicit Sandbox(LedgerMode mode, const ProviderOptions& options = {});

  // Latency injected for this request. The server waits it out on a timer before calling
  // handle(), so a slow provider never holds up other connections.
  std::chrono::milliseconds delay_for(const Request& request);

  // Safe to call from several threads: state changes happen under one lock.
  Outcome handle(Request& request, Instant now);

 private:
  std::optional<std::size_t> provider_for(std::string_view path) const;
  Outcome call_provider(std::size_t index, Request& request, std::string_view path, Instant now);
  Response control(Request& request, std::string_view path, Instant now);  // control.cpp
  // /__<provider>/<action>, or nullopt when no provider has that control endpoint.
  std::optional<Response> provider_control(Request& request, std::string_view path, Instant now);

  std::vector<std::unique_ptr<Provider>> providers_;  // fixed after construction
  std::vector<std::string_view> provider_names_;      // same order, for the fault set
  std::atomic<long long> clock_offset_s_{0};          // POST /__clock: added to every Instant

  std::mutex mutex_;  // guards everything below
  Ledger ledger_;
  FaultSet faults_;
  IdempotencyStore idempotency_;
};

}  // namespace rescind::sandbox
