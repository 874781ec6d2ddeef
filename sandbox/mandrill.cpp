// Mailchimp Transactional (Mandrill), API 1.3: POST /api/1.3/messages/send (the API key inside
// the JSON body, message.to and from_email required, an answer per recipient) and
// POST /api/1.3/messages/search.json for the one query the worker makes, u_rescind_job_id:<id>
// (the job id a send carried in metadata). Errors in Mandrill's shape,
// {"status":"error","code":N,"name":"Invalid_Key|ValidationError|…","message":…}.
#include <cstdio>
#include <deque>
#include <span>
#include <vector>

#include "common/json_text.hpp"
#include "common/mandrill_credentials.hpp"
#include "sandbox/json_body.hpp"
#include "sandbox/providers.hpp"

namespace rescind::sandbox {
namespace {

namespace od = simdjson::ondemand;

// Mandrill takes each call with or without the format suffix.
constexpr std::string_view send_paths[] = {"/api/1.3/messages/send", "/api/1.3/messages/send.json"};
constexpr std::string_view search_paths[] = {"/api/1.3/messages/search", "/api/1.3/messages/search.json"};
constexpr std::string_view job_query = "u_rescind_job_id:";

// Messages kept for the search, oldest forgotten first: a long benchmark stays in bounded memory.
constexpr std::size_t most_kept = 10'000;

bool one_of(std::string_view path, std::span<const std::string_view> paths) {
  for (auto known : paths) {
    if (path == known) return true;
  }
  return false;
}

// Mandrill's examples: -1 for Invalid_Key, -2 for ValidationError; the sandbox answers -1 for
// the other names.
Response error_response(http::status status, std::string_view name, std::string_view message) {
  common::JsonWriter json;
  json.begin_object().field("status", "error").field("code", name == "ValidationError" ? -2 : -1);
  json.field("name", name).field("message", message);
  return json_response(status, json.end_object().take());
}

Reply refuse(http::status status, std::string_view name, std::string_view message) {
  return sandbox::refuse(error_response(status, name, message));
}

Reply invalid(std::string_view message) {
  return refuse(http::status::bad_request, "ValidationError", "Validation error: " + std::string(message));
}

std::string_view string_or_empty(od::value value) {
  std::string_view text;
  return value.get_string().get(text) ? std::string_view{} : text;
}

struct Recipient {
  std::string_view email;
  std::string_view type = "to";
};

// What the sandbox reads of a call; views into the parser's buffer, valid during one call.
struct Body {
  std::string_view key;
  bool has_message = false;
  bool to_is_array = false;
  std::vector<Recipient> to;
  std::string_view from_email;
  std::string_view subject;
  std::string_view job_id;  // message.metadata.rescind_job_id
  std::string_view query;   // search
  std::int64_t limit = 100;
};

bool read_recipients(od::value value, Body& body) {
  od::array list;
  auto error = value.get_array().get(list);
  if (error) return !is_malformed(error);
  body.to_is_array = true;
  for (auto item : list) {
    od::value entry;
    if (item.get(entry)) return false;
    Recipient recipient;
    bool ok = each_member(entry, [&](std::string_view key, od::value field) {
      if (key == "email") recipient.email = string_or_empty(field);
      if (key == "type") recipient.type = string_or_empty(field);
      return true;
    });
    if (!ok) return false;
    body.to.push_back(recipient);
  }
  return true;
}

bool read_message(od::value value, Body& body) {
  body.has_message = true;
  return each_member(value, [&](std::string_view key, od::value field) {
    if (key == "to") return read_recipients(field, body);
    if (key == "from_email") {
      body.from_email = string_or_empty(field);
    } else if (key == "subject") {
      body.subject = string_or_empty(field);
    } else if (key == "metadata") {
      return each_member(field, [&](std::string_view name, od::value inner) {
        if (name == "rescind_job_id") body.job_id = string_or_empty(inner);
        return true;
      });
    }
    return true;
  });
}

bool read_body(std::string& text, Body& body) {
  auto read = each_body_member(text, [&](std::string_view key, od::value field) {
    if (key == "key") {
      body.key = string_or_empty(field);
    } else if (key == "message") {
      return read_message(field, body);
    } else if (key == "query") {
      body.query = string_or_empty(field);
    } else if (key == "limit") {
      std::int64_t limit = 0;
      if (!field.get_int64().get(limit) && limit > 0) body.limit = limit;
    }
    return true;
  });
  return read == BodyRead::ok;
}

// What a send took from the request, for the search.
struct Sent {
  std::string id;
  std::string email;
  std::string sender;
  std::string subject;
  std::string job_id;
  std::chrono::system_clock::time_point at;
};

// Mandrill's _id: 32 hex digits.
std::string message_id(std::uint64_t serial) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(serial * 0x9E3779B97F4A7C15ull),
                static_cast<unsigned long long>(serial));
  return buf;
}

class Mandrill final : public Provider {
 public:
  std::string_view name() const override { return "mandrill"; }
  bool owns(std::string_view path) const override { return one_of(path, send_paths) || one_of(path, search_paths); }

  Reply handle(Call& call) override {
    if (auto refused = refuse_unless_post(call.request, R"({"status":"error","code":-1,"name":"GeneralError",)"
                                                        R"("message":"Method not allowed"})")) {
      return std::move(*refused);
    }
    Body body;
    if (!read_body(call.request.body(), body)) return invalid("the request body is not a JSON object");
    if (body.key != sandbox_credentials::mandrill_api_key) {
      return refuse(http::status::unauthorized, "Invalid_Key", "Invalid API key");
    }
    return one_of(call.path, send_paths) ? send(call, body) : search(body);
  }

  Response failure(const Failure& failure) const override {
    unsigned code = static_cast<unsigned>(failure.status);
    std::string message = "Sandbox: injected failure (HTTP " + std::to_string(code) + ")";
    if (code == 401) return error_response(failure.status, "Invalid_Key", "Invalid API key");
    if (code == 429) return error_response(failure.status, "RequestLimitExceeded", "Too many requests");
    if (code >= 500) return error_response(failure.status, "GeneralError", message);
    return error_response(failure.status, "ValidationError", message);
  }

  void reset() override { sent_.clear(); }

 private:
  Reply send(const Call& call, const Body& body) {
    if (!body.has_message) return invalid(R"({"message":"Sorry, this field can't be left blank."})");
    if (!body.to_is_array || body.to.empty()) return invalid(R"({"message":{"to":"Please enter an array"}})");
    for (const auto& recipient : body.to) {
      if (recipient.email.find('@') == std::string_view::npos)
        return invalid(R"({"message":{"to":[{"email":"An email address must contain a single @"}]}})");
      if (recipient.type != "to" && recipient.type != "cc" && recipient.type != "bcc")
        return invalid(R"({"message":{"to":[{"type":"must be one of to, cc or bcc"}]}})");
    }
    if (body.from_email.find('@') == std::string_view::npos)
      return invalid(R"({"message":{"from_email":"An email address must contain a single @"}})");

    common::JsonWriter answer;
    answer.begin_array();
    Effect effect = effect_of(call, name(), Action::email, {}, body.job_id);
    for (const auto& recipient : body.to) {
      Sent sent{message_id(next_message_++),
                std::string(recipient.email),
                std::string(body.from_email),
                std::string(body.subject),
                effect.job_id,
                call.now};
      answer.begin_object().field("email", sent.email).field("status", "sent");
      answer.key("reject_reason").null().key("queued_reason").null().field("_id", sent.id).end_object();
      // One message to every recipient: all of them are in its ledger entry, which Mandrill's
      // first _id names.
      effect.to += (effect.to.empty() ? "" : ",") + sent.email;
      if (effect.ref.empty()) effect.ref = sent.id;
      if (sent_.size() >= most_kept) sent_.pop_front();
      sent_.push_back(std::move(sent));
    }
    Reply reply = sandbox::refuse(json_response(http::status::ok, answer.end_array().take()));
    reply.effect = std::move(effect);
    return reply;
  }

  Reply search(const Body& body) const {
    std::string_view job = body.query;
    if (!job.starts_with(job_query)) {
      return invalid("Sandbox: the only search it answers is u_rescind_job_id:<job id>");
    }
    job.remove_prefix(job_query.size());
    if (job.size() >= 2 && job.front() == '"' && job.back() == '"') job = job.substr(1, job.size() - 2);
    common::JsonWriter answer;
    answer.begin_array();
    std::int64_t found = 0;
    for (auto it = sent_.rbegin(); it != sent_.rend() && found < body.limit; ++it) {
      if (it->job_id.empty() || it->job_id != job) continue;
      ++found;
      auto ts = std::chrono::duration_cast<std::chrono::seconds>(it->at.time_since_epoch()).count();
      answer.begin_object().field("ts", ts).field("_id", it->id).field("sender", it->sender);
      answer.key("template").null().field("subject", it->subject).field("email", it->email);
      answer.key("tags").begin_array().end_array().field("opens", 0).field("clicks", 0).field("state", "sent");
      answer.key("metadata").begin_object().field("rescind_job_id", it->job_id).end_object().end_object();
    }
    return sandbox::refuse(json_response(http::status::ok, answer.end_array().take()));
  }

  std::deque<Sent> sent_;
  std::uint64_t next_message_ = 1;  // never reset: message ids stay unique for the process
};

}  // namespace

std::unique_ptr<Provider> make_mandrill(const ProviderOptions&) { return std::make_unique<Mandrill>(); }

}  // namespace rescind::sandbox
