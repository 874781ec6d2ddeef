// queue_ceiling: the raw speed of the queue itself, the "noop" scenario's yardstick.
//
// Does only what any Redis Streams consumer must: XREADGROUP GROUP g c COUNT n STREAMS key >
// and one XACK key g id… per batch, with the ack of batch k and the read of batch k+1 sent
// together (one round trip per batch, hiredis's synchronous API with redisAppendCommand).
// No parsing of the entries, no state, no HTTP: whatever a worker does on top costs extra.
//
//   queue_ceiling --port 6379 --stream ceiling:jobs --group g --expect 100000 [--count 100]
//
// Creates the group at id 0 (the entries are enqueued before it starts), reads until the
// stream has no undelivered entry left, and prints one JSON line on stdout:
//   {"system":"ceiling","jobs":N,"seconds":…,"jobs_per_s":…,"cpu_s":…,"cpu_us_per_job":…,"peak_rss_mb":…}
// The clock starts after connecting and creating the group, and stops at the last XACK
// reply. Exit 0 when it read and acknowledged exactly --expect entries (if given), else 1.
#include <hiredis/hiredis.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

struct Options {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string stream = "ceiling:jobs";
  std::string group = "g";
  std::string consumer = "c";
  long count = 100;
  long expect = -1;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "queue_ceiling: %s\nusage: queue_ceiling [--host H] [--port P] [--stream KEY] [--group G] "
               "[--consumer C] [--count N] [--expect N]\n",
               why);
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "-h" || a == "--help") usage("reads a stream with XREADGROUP + pipelined XACK and reports entries/s");
    if (i + 1 >= argc) usage("missing value");
    const char* v = argv[++i];
    if (a == "--host")
      o.host = v;
    else if (a == "--port")
      o.port = std::atoi(v);
    else if (a == "--stream")
      o.stream = v;
    else if (a == "--group")
      o.group = v;
    else if (a == "--consumer")
      o.consumer = v;
    else if (a == "--count")
      o.count = std::atol(v);
    else if (a == "--expect")
      o.expect = std::atol(v);
    else
      usage("unknown option");
  }
  if (o.port <= 0 || o.count <= 0) usage("bad --port or --count");
  return o;
}

[[noreturn]] void fail(redisContext* c, const char* what) {
  std::fprintf(stderr, "queue_ceiling: %s: %s\n", what, c && c->err ? c->errstr : "unexpected reply");
  std::exit(1);
}

redisReply* get_reply(redisContext* c) {
  void* reply = nullptr;
  if (redisGetReply(c, &reply) != REDIS_OK || reply == nullptr) fail(c, "reading a reply");
  auto* r = static_cast<redisReply*>(reply);
  if (r->type == REDIS_REPLY_ERROR) {
    std::fprintf(stderr, "queue_ceiling: Redis error: %s\n", r->str);
    std::exit(1);
  }
  return r;
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  redisContext* c = redisConnect(o.host.c_str(), o.port);
  if (c == nullptr || c->err) fail(c, "connecting");

  auto* created =
      static_cast<redisReply*>(redisCommand(c, "XGROUP CREATE %s %s 0 MKSTREAM", o.stream.c_str(), o.group.c_str()));
  if (created == nullptr) fail(c, "XGROUP CREATE");
  if (created->type == REDIS_REPLY_ERROR && std::strncmp(created->str, "BUSYGROUP", 9) != 0) {
    std::fprintf(stderr, "queue_ceiling: XGROUP CREATE: %s\n", created->str);
    return 1;
  }
  freeReplyObject(created);

  const std::string count = std::to_string(o.count);
  auto append_read = [&] {
    if (redisAppendCommand(c, "XREADGROUP GROUP %s %s COUNT %s STREAMS %s >", o.group.c_str(), o.consumer.c_str(),
                           count.c_str(), o.stream.c_str()) != REDIS_OK) {
      fail(c, "appending XREADGROUP");
    }
  };

  // argv for XACK key group id…: the ids point into the reply, freed after the ack is sent.
  std::vector<const char*> argv_ack;
  std::vector<size_t> lens_ack;
  argv_ack.reserve(static_cast<size_t>(o.count) + 3);
  lens_ack.reserve(static_cast<size_t>(o.count) + 3);

  double cpu_start = cpu_seconds();
  auto start = std::chrono::steady_clock::now();
  long read = 0, acked = 0;
  append_read();
  for (;;) {
    redisReply* reply = get_reply(c);  // the read (the previous ack's reply was taken already)
    // Nil: nothing left to deliver. Otherwise [[key, [[id, [f, v, …]], …]]].
    redisReply* entries = nullptr;
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 1 && reply->element[0]->elements == 2) {
      entries = reply->element[0]->element[1];
    }
    if (entries == nullptr || entries->elements == 0) {
      freeReplyObject(reply);
      break;
    }
    argv_ack.clear();
    lens_ack.clear();
    argv_ack.push_back("XACK");
    lens_ack.push_back(4);
    argv_ack.push_back(o.stream.data());
    lens_ack.push_back(o.stream.size());
    argv_ack.push_back(o.group.data());
    lens_ack.push_back(o.group.size());
    for (size_t i = 0; i < entries->elements; ++i) {
      redisReply* id = entries->element[i]->element[0];
      argv_ack.push_back(id->str);
      lens_ack.push_back(id->len);
    }
    read += static_cast<long>(entries->elements);
    if (redisAppendCommandArgv(c, static_cast<int>(argv_ack.size()), argv_ack.data(), lens_ack.data()) != REDIS_OK) {
      fail(c, "appending XACK");
    }
    freeReplyObject(reply);
    append_read();  // the next read travels with this ack
    redisReply* ack = get_reply(c);
    if (ack->type != REDIS_REPLY_INTEGER) fail(c, "XACK reply");
    acked += ack->integer;
    freeReplyObject(ack);
  }
  auto stop = std::chrono::steady_clock::now();
  double cpu = cpu_seconds() - cpu_start;
  double seconds = std::chrono::duration<double>(stop - start).count();

  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  std::printf(
      "{\"system\":\"ceiling\",\"jobs\":%ld,\"acked\":%ld,\"seconds\":%.4f,\"jobs_per_s\":%.0f,\"cpu_s\":%.3f,"
      "\"cpu_us_per_job\":%.3f,\"peak_rss_mb\":%.1f,\"batch\":%ld}\n",
      read, acked, seconds, seconds > 0 ? static_cast<double>(read) / seconds : 0.0, cpu,
      read > 0 ? cpu * 1e6 / static_cast<double>(read) : 0.0, static_cast<double>(u.ru_maxrss) / 1024.0, o.count);
  redisFree(c);
  if (acked != read) {
    std::fprintf(stderr, "queue_ceiling: read %ld entries but XACK acknowledged %ld\n", read, acked);
    return 1;
  }
  if (o.expect >= 0 && read != o.expect) {
    std::fprintf(stderr, "queue_ceiling: expected %ld entries, read %ld\n", o.expect, read);
    return 1;
  }
  return 0;
}
