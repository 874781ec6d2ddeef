// Stream entries as plain values, decoded from XREADGROUP / XAUTOCLAIM / XRANGE replies.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "redis/reply.hpp"

namespace rescind::redis {

struct StreamEntry {
  std::string id;
  std::vector<std::pair<std::string, std::string>> fields;

  const std::string* field(std::string_view name) const {
    for (const auto& [key, value] : fields) {
      if (key == name) return &value;
    }
    return nullptr;
  }
};

// [[id, [field, value, …]], …] — entries whose fields were deleted come back as nil and are
// returned with no fields, so the caller can still ack them.
std::vector<StreamEntry> entries_from(Reply&& list);

// XREADGROUP's reply: nil on timeout, else [[stream, entries]]; only one stream is read.
std::vector<StreamEntry> entries_from_xreadgroup(Reply&& reply);

// Milliseconds part of an entry id "1700000000000-3": when Redis appended it.
std::optional<long long> entry_id_millis(std::string_view id);

}  // namespace rescind::redis
