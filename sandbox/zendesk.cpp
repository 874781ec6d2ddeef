// Zendesk tickets (POST /api/v2/tickets.json, GET /api/v2/tickets.json?external_id=…):
// API-token basic auth, the {"ticket":{…}} body, RecordInvalid errors, the list by external_id,
// and Zendesk's Idempotency-Key on ticket creation: a first use answers
// `x-idempotency-lookup: miss`, the same key with the same body replays the first answer with
// `hit` (no second ticket), the same key with another body is 400 IdempotentRequestError (the
// names of cloudbees-oss/zendesk-java-client, IdempotencyUtil; Zendesk keeps keys 2 hours,
// which the sandbox does not model).
#include <optional>
#include <unordered_map>
#include <vector>

#include "common/sandbox_credentials.hpp"
#include "sandbox/auth.hpp"
#include "sandbox/clock.hpp"
#include "sandbox/form.hpp"
#include "sandbox/json_answer.hpp"
#include "sandbox/json_body.hpp"
#include "sandbox/providers.hpp"

namespace rescind::sandbox {
namespace {

namespace od = simdjson::ondemand;

constexpr std::string_view api_prefix = "/api/v2/";
constexpr std::string_view tickets_path = "/api/v2/tickets.json";
constexpr std::string_view priorities[] = {"urgent", "high", "normal", "low"};
constexpr std::int64_t first_ticket_id = 35436;

Response error_response(http::status status, std::string_view error, std::string_view description) {
  return json_strings_response(status, {{"error", error}, {"description", description}});
}

// What the sandbox reads of a ticket; views into the parser's buffer, valid during one call.
struct Ticket {
  std::string_view subject;
  std::string_view comment_body;
  std::string_view priority;
  std::string_view requester_email;
  std::string_view external_id;
  std::vector<std::string_view> tags;
};

std::string_view string_or_empty(od::value value) {
  std::string_view text;
  return value.get_string().get(text) ? std::string_view{} : text;
}

bool read_ticket(od::value value, Ticket& ticket) {
  return each_member(value, [&](std::string_view key, od::value field) {
    if (key == "subject") {
      ticket.subject = string_or_empty(field);
    } else if (key == "priority") {
      ticket.priority = string_or_empty(field);
    } else if (key == "external_id") {
      ticket.external_id = string_or_empty(field);
    } else if (key == "comment") {
      return each_member(field, [&](std::string_view name, od::value inner) {
        if (name == "body") ticket.comment_body = string_or_empty(inner);
        return true;
      });
    } else if (key == "requester") {
      return each_member(field, [&](std::string_view name, od::value inner) {
        if (name == "email") ticket.requester_email = string_or_empty(inner);
        return true;
      });
    } else if (key == "tags") {
      od::array tags;
      auto error = field.get_array().get(tags);
      if (error) return !is_malformed(error);
      for (auto tag : tags) {
        std::string_view text;
        auto tag_error = tag.get_string().get(text);
        if (is_malformed(tag_error)) return false;
        if (!tag_error) ticket.tags.push_back(text);
      }
    }
    return true;
  });
}

bool read_body(std::string& text, Ticket& ticket) {
  auto read = each_body_member(
      text, [&](std::string_view key, od::value value) { return key != "ticket" || read_ticket(value, ticket); });
  return read == BodyRead::ok;
}

// The RecordInvalid answer for a ticket, nullopt when the ticket is valid.
std::optional<std::string> record_invalid(const Ticket& ticket) {
  common::JsonWriter json;
  json.begin_object().field("error", "RecordInvalid").field("description", "Record validation errors");
  json.key("details").begin_object();
  bool invalid = false;
  auto add = [&](std::string_view field, std::string_view description, std::string_view error) {
    json.key(field).begin_array().begin_object().field("description", description).field("error", error);
    json.end_object().end_array();
    invalid = true;
  };
  if (ticket.comment_body.empty()) add("description", "Description: cannot be blank", "BlankValue");
  bool known = ticket.priority.empty();
  for (auto priority : priorities) known = known || ticket.priority == priority;
  if (!known) add("priority", "Priority: is not one of urgent, high, normal, low", "InvalidValue");
  if (!ticket.requester_email.empty() && ticket.requester_email.find('@') == std::string_view::npos) {
    add("requester", "Requester: Email is invalid", "InvalidValue");
  }
  if (!invalid) return std::nullopt;
  return json.end_object().end_object().take();
}

// 2026-11-22T16:00:00Z: Zendesk's timestamps have no fraction.
std::string zendesk_time(std::chrono::system_clock::time_point at) {
  std::string out;
  append_rfc3339_ms(out, at);
  out.erase(out.size() - 5, 4);
  return out;
}

class Zendesk final : public Provider {
 public:
  std::string_view name() const override { return "zendesk"; }
  bool owns(std::string_view path) const override { return path.starts_with(api_prefix); }

  Reply handle(Call& call) override {
    if (call.path != tickets_path) {
      return refuse(error_response(http::status::not_found, "InvalidEndpoint", "Not found"));
    }
    auto credentials = basic_credentials(call.request);
    if (!credentials || credentials->user != std::string(sandbox_credentials::zendesk_email) + "/token" ||
        credentials->password != sandbox_credentials::zendesk_api_token) {
      return refuse(json_response(http::status::unauthorized, "{\"error\":\"Couldn't authenticate you\"}"));
    }
    if (call.request.method() == http::verb::get) return list(call);
    if (call.request.method() != http::verb::post) {
      return refuse(method_not_allowed("GET, POST", "application/json",
                                       "{\"error\":\"InvalidEndpoint\",\"description\":\"Not found\"}"));
    }
    return create(call);
  }

  Response failure(const Failure& failure) const override {
    unsigned code = static_cast<unsigned>(failure.status);
    if (code == 429) {
      return error_response(failure.status, "APIRateLimitExceeded",
                            "Number of allowed API requests per minute exceeded");
    }
    return error_response(failure.status, code >= 500 ? "ServerError" : "InvalidRequest",
                          "Sandbox: injected failure (HTTP " + std::to_string(code) + ")");
  }

  void reset() override {
    by_external_id_.clear();
    by_idempotency_key_.clear();
  }

 private:
  Reply create(Call& call) {
    std::string key(header(call.request, "Idempotency-Key"));
    if (!key.empty()) {
      if (auto it = by_idempotency_key_.find(key); it != by_idempotency_key_.end()) {
        if (it->second.request != call.request.body()) {
          return refuse(error_response(http::status::bad_request, "IdempotentRequestError",
                                       "Request parameters don't match the given idempotency key"));
        }
        Reply replay = refuse(json_response(http::status::created, it->second.answer));
        replay.response.set(http::field::location, it->second.location);
        replay.response.set("x-idempotency-lookup", "hit");
        replay.replayed = true;
        return replay;
      }
    }
    std::string request_body = call.request.body();  // before parsing pads it
    Ticket ticket;
    if (!read_body(call.request.body(), ticket)) {
      return refuse(error_response(http::status::bad_request, "InvalidJSON", "Sandbox: the body is not valid JSON"));
    }
    if (auto invalid = record_invalid(ticket)) {
      return refuse(json_response(http::status::unprocessable_entity, std::move(*invalid)));
    }

    std::int64_t id = next_ticket_++;
    std::string url = "/api/v2/tickets/" + std::to_string(id) + ".json";
    std::string_view host = header(call.request, http::field::host);
    if (!host.empty()) url = "http://" + std::string(host) + url;
    std::string json = ticket_json(ticket, id, url, zendesk_time(call.now));
    if (!ticket.external_id.empty()) by_external_id_[std::string(ticket.external_id)].push_back(json);

    std::string body = common::JsonWriter().begin_object().key("ticket").raw(json).end_object().take();
    if (!key.empty()) by_idempotency_key_[key] = Saved{std::move(request_body), body, url};
    Reply reply = refuse(json_response(http::status::created, std::move(body)));
    reply.response.set(http::field::location, url);
    if (!key.empty()) reply.response.set("x-idempotency-lookup", "miss");
    reply.effect = effect_of(call, name(), Action::ticket, std::to_string(id), ticket.external_id);
    return reply;
  }

  // Only the external_id filter: the sandbox keeps just the tickets that have one.
  Reply list(const Call& call) const {
    auto query = Form::parse(target_query(call.request.target()));
    const std::string* external_id = query ? query->find("external_id") : nullptr;
    if (!external_id || external_id->empty()) {
      return refuse(
          error_response(http::status::bad_request, "InvalidValue", "Sandbox: list tickets with ?external_id=…"));
    }
    common::JsonWriter json;
    json.begin_object().key("tickets").begin_array();
    std::size_t count = 0;
    if (auto it = by_external_id_.find(*external_id); it != by_external_id_.end()) {
      for (const auto& ticket : it->second) json.raw(ticket);
      count = it->second.size();
    }
    json.end_array().key("next_page").null().key("previous_page").null().field("count", count);
    return refuse(json_response(http::status::ok, json.end_object().take()));
  }

  std::string ticket_json(const Ticket& ticket, std::int64_t id, std::string_view url, std::string_view when) const {
    common::JsonWriter json;
    json.begin_object().field("id", id);  // first: clients may read the id off the front of the answer
    json.field("url", url);
    string_or_null(json.key("external_id"), ticket.external_id);
    json.key("type").null();
    string_or_null(json.key("subject"), ticket.subject);
    string_or_null(json.key("raw_subject"), ticket.subject);
    json.field("description", ticket.comment_body);
    string_or_null(json.key("priority"), ticket.priority);
    json.field("status", "new").field("requester_id", id * 7 + 1000000);
    json.key("tags").begin_array();
    for (auto tag : ticket.tags) json.value(tag);
    json.end_array().field("created_at", when).field("updated_at", when);
    return json.end_object().take();
  }

  std::int64_t next_ticket_ = first_ticket_id;  // never reset: ids stay unique for the process
  std::unordered_map<std::string, std::vector<std::string>> by_external_id_;  // → ticket JSON
  struct Saved {
    std::string request;  // the body the key was first used with
    std::string answer;
    std::string location;
  };
  std::unordered_map<std::string, Saved> by_idempotency_key_;
};

}  // namespace

std::unique_ptr<Provider> make_zendesk(const ProviderOptions&) { return std::make_unique<Zendesk>(); }

}  // namespace rescind::sandbox
