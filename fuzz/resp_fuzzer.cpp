// The bytes a Redis server sends, read the way redis/connection.cpp's read loop reads them:
// fed to hiredis's reader in socket-sized pieces, each complete reply copied into a
// redis::Reply by to_reply. Checked: nothing crashes or leaks whatever the bytes, and a copied
// reply is faithful: written back as RESP it reads back as the same Reply.
#include <hiredis/hiredis.h>
#include <hiredis/read.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "redis/reply.hpp"

namespace {

using rescind::redis::Reply;

[[noreturn]] void violated(const char* promise, const std::string& detail) {
  std::fprintf(stderr, "\nINVARIANT VIOLATED: %s\n  %s\n", promise, detail.c_str());
  std::abort();
}

// hiredis 0.14 allocates an array's element table when it reads the header ("*N"), before any
// element arrives, and has no cap on N; the server is trusted and such an input only measures
// the allocator. An array cannot complete with more elements than there are bytes, so larger
// headers are left out.
bool declares_more_elements_than_bytes(std::string_view bytes) {
  for (std::size_t at = bytes.find('*'); at != std::string_view::npos; at = bytes.find('*', at + 1)) {
    unsigned long long count = 0;
    for (std::size_t i = at + 1; i < bytes.size() && bytes[i] >= '0' && bytes[i] <= '9'; ++i) {
      count = count * 10 + static_cast<unsigned>(bytes[i] - '0');
      if (count > bytes.size()) return true;
    }
  }
  return false;
}

// Everything a reader yields from `bytes` fed `chunk` bytes at a time, until the end or an error.
std::vector<Reply> read_all(std::string_view bytes, std::size_t chunk, bool& protocol_error) {
  std::vector<Reply> replies;
  redisReader* reader = redisReaderCreate();
  protocol_error = false;
  for (std::size_t at = 0; at < bytes.size() && !protocol_error; at += chunk) {
    auto piece = bytes.substr(at, chunk);
    if (redisReaderFeed(reader, piece.data(), piece.size()) != REDIS_OK) {
      protocol_error = true;
      break;
    }
    for (;;) {
      void* raw = nullptr;
      if (redisReaderGetReply(reader, &raw) != REDIS_OK) {
        protocol_error = true;
        break;
      }
      if (!raw) break;
      replies.push_back(rescind::redis::to_reply(static_cast<redisReply*>(raw)));
      freeReplyObject(raw);
    }
  }
  redisReaderFree(reader);
  return replies;
}

void write_resp(const Reply& reply, std::string& out) {
  switch (reply.type) {
    case Reply::Type::string:
      out += "$" + std::to_string(reply.text.size()) + "\r\n" + reply.text + "\r\n";
      break;
    case Reply::Type::status:
      out += "+" + reply.text + "\r\n";
      break;
    case Reply::Type::error:
      out += "-" + reply.text + "\r\n";
      break;
    case Reply::Type::integer:
      out += ":" + std::to_string(reply.integer) + "\r\n";
      break;
    case Reply::Type::nil:
      out += "$-1\r\n";
      break;
    case Reply::Type::array:
      out += "*" + std::to_string(reply.elements.size()) + "\r\n";
      for (const auto& element : reply.elements) write_resp(element, out);
      break;
  }
}

bool same(const Reply& a, const Reply& b) {
  if (a.type != b.type || a.text != b.text || a.integer != b.integer || a.elements.size() != b.elements.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.elements.size(); ++i) {
    if (!same(a.elements[i], b.elements[i])) return false;
  }
  return true;
}

void check_reply(const Reply& reply) {
  if (reply.type != Reply::Type::integer && reply.integer != 0)
    violated("only integer replies carry a number", describe(reply));
  if (reply.type != Reply::Type::array && !reply.elements.empty())
    violated("only arrays have elements", describe(reply));
  if ((reply.type == Reply::Type::nil || reply.type == Reply::Type::array || reply.type == Reply::Type::integer) &&
      !reply.text.empty()) {
    violated("nil, arrays and integers carry no text", describe(reply));
  }
  (void)describe(reply);
  (void)reply.error_is("BUSYGROUP");
  (void)reply.error_is("NOSCRIPT");
  // Status and error lines end at the first CR LF: one inside would not survive the wire.
  if ((reply.type == Reply::Type::status || reply.type == Reply::Type::error) &&
      reply.text.find("\r\n") != std::string::npos) {
    violated("a status or error line holds no CR LF", describe(reply));
  }
  std::string wire;
  write_resp(reply, wire);
  bool error = false;
  auto again = read_all(wire, wire.size(), error);
  if (error || again.size() != 1 || !same(again.front(), reply)) {
    violated("a reply written back as RESP reads back the same", describe(reply) + "  wire: " + wire);
  }
  for (const auto& element : reply.elements) check_reply(element);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  // The first byte sets how many bytes each socket read returns (0: everything at once).
  std::size_t chunk = data[0] == 0 ? size : data[0];
  std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  if (bytes.empty() || declares_more_elements_than_bytes(bytes)) return 0;
  bool error = false;
  auto replies = read_all(bytes, chunk, error);
  for (const auto& reply : replies) check_reply(reply);
  // However the bytes were cut, the same replies come out.
  bool whole_error = false;
  auto whole = read_all(bytes, bytes.size(), whole_error);
  if (error != whole_error) violated("socket reads of any size find the same protocol error", std::to_string(chunk));
  if (!error) {
    if (whole.size() != replies.size())
      violated("socket reads of any size give the same replies", std::to_string(chunk));
    for (std::size_t i = 0; i < whole.size(); ++i) {
      if (!same(whole[i], replies[i])) violated("socket reads of any size give the same replies", describe(whole[i]));
    }
  }
  return 0;
}
