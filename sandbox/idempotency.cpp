// The idempotency store and the request fingerprint it compares.
#include "sandbox/idempotency.hpp"

namespace rescind::sandbox {

void Fingerprint::mix(unsigned char byte) {
  hash_ ^= byte;
  hash_ *= 1099511628211ull;
}

void Fingerprint::add(std::string_view part) {
  // The length first, so ("ab","c") and ("a","bc") differ.
  auto size = static_cast<std::uint64_t>(part.size());
  for (int i = 0; i < 8; ++i) mix(static_cast<unsigned char>(size >> (8 * i)));
  for (char c : part) mix(static_cast<unsigned char>(c));
}

std::string IdempotencyStore::slot(std::string_view scope, std::string_view key) {
  std::string out;
  out.reserve(scope.size() + 1 + key.size());
  out += scope;
  out += '\n';  // providers' names never contain it, so (scope, key) pairs stay distinct
  out += key;
  return out;
}

IdempotencyStore::Lookup IdempotencyStore::find(std::string_view scope, std::string_view key, std::uint64_t fingerprint,
                                                std::chrono::system_clock::time_point now,
                                                std::optional<std::chrono::seconds> retention) {
  auto it = saved_.find(slot(scope, key));
  if (it == saved_.end()) return {};
  if (retention && now - it->second.at >= *retention) {
    saved_.erase(it);  // pruned: the provider no longer knows the key
    return {};
  }
  Match match = it->second.fingerprint == fingerprint ? Match::same_request : Match::different_request;
  return {match, &it->second};
}

void IdempotencyStore::save(std::string_view scope, std::string_view key, SavedResponse response) {
  saved_.insert_or_assign(slot(scope, key), std::move(response));
}

}  // namespace rescind::sandbox
