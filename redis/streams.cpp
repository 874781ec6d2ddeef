#include "redis/streams.hpp"

#include <charconv>

namespace rescind::redis {

std::vector<StreamEntry> entries_from(Reply&& list) {
  std::vector<StreamEntry> entries;
  if (!list.is_array()) return entries;
  entries.reserve(list.elements.size());
  for (auto& item : list.elements) {
    if (!item.is_array() || item.elements.empty()) continue;
    StreamEntry entry;
    entry.id = std::move(item.elements[0].text);
    if (item.elements.size() > 1 && item.elements[1].is_array()) {
      auto& kv = item.elements[1].elements;
      entry.fields.reserve(kv.size() / 2);
      for (std::size_t i = 0; i + 1 < kv.size(); i += 2) {
        entry.fields.emplace_back(std::move(kv[i].text), std::move(kv[i + 1].text));
      }
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

std::vector<StreamEntry> entries_from_xreadgroup(Reply&& reply) {
  if (!reply.is_array() || reply.elements.empty()) return {};
  auto& stream = reply.elements[0];
  if (!stream.is_array() || stream.elements.size() < 2) return {};
  return entries_from(std::move(stream.elements[1]));
}

std::optional<long long> entry_id_millis(std::string_view id) {
  long long ms = 0;
  auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), ms);
  if (ec != std::errc{}) return std::nullopt;
  return ms;
}

}  // namespace rescind::redis
