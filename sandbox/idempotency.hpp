// Remembers what each idempotency key was first used for and what was answered — errors
// included where the provider saves them — so a retried money-moving call is answered again
// instead of performed again (Stripe's Idempotency-Key, PayPal-Request-Id, Square's
// idempotency_key), for as long as the provider keeps keys (Stripe 24 h, PayPal 45 days).
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace rescind::sandbox {

// FNV-1a over length-prefixed parts: a compact stand-in for "the same parameters".
class Fingerprint {
 public:
  void add(std::string_view part);
  std::uint64_t value() const { return hash_; }

 private:
  void mix(unsigned char byte);
  std::uint64_t hash_ = 14695981039346656037ull;
};

struct SavedResponse {
  std::uint64_t fingerprint = 0;
  unsigned status = 200;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers = {};  // replayed too (Stripe-Should-Retry)
  std::chrono::system_clock::time_point at = {};                  // when it was saved
};

class IdempotencyStore {
 public:
  enum class Match { unseen, same_request, different_request };
  struct Lookup {
    Match match = Match::unseen;
    const SavedResponse* saved = nullptr;  // set unless unseen
  };

  // Keys are per provider (`scope`): a Stripe key never collides with a PayPal one. A key
  // saved longer than `retention` ago is forgotten (nullopt: kept for ever) and unseen.
  Lookup find(std::string_view scope, std::string_view key, std::uint64_t fingerprint,
              std::chrono::system_clock::time_point now, std::optional<std::chrono::seconds> retention = std::nullopt);
  void save(std::string_view scope, std::string_view key, SavedResponse response);
  void clear() { saved_.clear(); }
  std::size_t size() const { return saved_.size(); }

 private:
  static std::string slot(std::string_view scope, std::string_view key);
  std::unordered_map<std::string, SavedResponse> saved_;
};

}  // namespace rescind::sandbox
