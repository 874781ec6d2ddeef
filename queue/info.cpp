#include "queue/info.hpp"

namespace rescind::queue {
namespace {

// XINFO replies are flat [name, value, name, value, …] arrays.
const redis::Reply* value_of(const redis::Reply& info, std::string_view name) {
  for (std::size_t i = 0; i + 1 < info.elements.size(); i += 2) {
    if (info.elements[i].text == name) return &info.elements[i + 1];
  }
  return nullptr;
}

long long integer_of(const redis::Reply& info, std::string_view name) {
  const auto* value = value_of(info, name);
  return value ? value->integer : 0;
}

std::optional<long long> counter_of(const redis::Reply& info, std::string_view name) {
  const auto* value = value_of(info, name);
  if (!value || value->is_nil()) return std::nullopt;
  return value->integer;
}

std::string text_of(const redis::Reply& info, std::string_view name) {
  const auto* value = value_of(info, name);
  return value ? value->text : std::string();
}

}  // namespace

std::optional<StreamInfo> stream_info_from(const redis::Reply& reply) {
  if (!reply.is_array() || !value_of(reply, "length")) return std::nullopt;
  return StreamInfo{integer_of(reply, "length"), text_of(reply, "last-generated-id"),
                    counter_of(reply, "entries-added")};
}

std::vector<GroupInfo> groups_from(const redis::Reply& reply) {
  std::vector<GroupInfo> groups;
  if (!reply.is_array()) return groups;
  for (const auto& row : reply.elements) {
    groups.push_back(GroupInfo{text_of(row, "name"), integer_of(row, "consumers"), integer_of(row, "pending"),
                               text_of(row, "last-delivered-id"), counter_of(row, "entries-read"),
                               counter_of(row, "lag")});
  }
  return groups;
}

std::optional<GroupInfo> group_named(const redis::Reply& reply, std::string_view name) {
  for (auto& group : groups_from(reply)) {
    if (group.name == name) return std::move(group);
  }
  return std::nullopt;
}

std::vector<ConsumerInfo> consumers_from(const redis::Reply& reply) {
  std::vector<ConsumerInfo> consumers;
  if (!reply.is_array()) return consumers;
  for (const auto& row : reply.elements) {
    consumers.push_back(ConsumerInfo{text_of(row, "name"), integer_of(row, "pending"), integer_of(row, "idle")});
  }
  return consumers;
}

std::vector<PendingEntry> pending_from(const redis::Reply& reply) {
  std::vector<PendingEntry> entries;
  if (!reply.is_array()) return entries;
  for (const auto& row : reply.elements) {
    if (row.elements.size() < 4) continue;  // [id, consumer, idle, deliveries]
    entries.push_back(
        PendingEntry{row.elements[0].text, row.elements[1].text, row.elements[2].integer, row.elements[3].integer});
  }
  return entries;
}

std::optional<PendingSummary> pending_summary_from(const redis::Reply& reply) {
  // [count, oldest id, newest id, [[consumer, count], …]]; the ids are nil when none is pending.
  if (!reply.is_array() || reply.elements.size() < 3 || reply.elements[1].is_nil()) return std::nullopt;
  return PendingSummary{reply.elements[0].integer, reply.elements[1].text, reply.elements[2].text};
}

}  // namespace rescind::queue
