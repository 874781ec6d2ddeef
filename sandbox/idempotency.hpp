// Remembers what each idempotency key was first used for and what was answered, so a
// retried money-moving call is answered again instead of performed again (Stripe's
// Idempotency-Key; later PayPal-Request-Id and Square's idempotency_key).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

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
};

class IdempotencyStore {
 public:
  enum class Match { unseen, same_request, different_request };
  struct Lookup {
    Match match = Match::unseen;
    const SavedResponse* saved = nullptr;  // set unless unseen
  };

  // Keys are per provider (`scope`): a Stripe key never collides with a PayPal one.
  Lookup find(std::string_view scope, std::string_view key, std::uint64_t fingerprint) const;
  void save(std::string_view scope, std::string_view key, SavedResponse response);
  void clear() { saved_.clear(); }
  std::size_t size() const { return saved_.size(); }

 private:
  static std::string slot(std::string_view scope, std::string_view key);
  std::unordered_map<std::string, SavedResponse> saved_;
};

}  // namespace rescind::sandbox
