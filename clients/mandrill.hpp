// Mailchimp Transactional (Mandrill) customer email (role: email, where --email-provider or
// --email-provider-for chooses it). POST /api/1.3/messages/send (the swagger base path,
// pinned), JSON with the API key inside the body, the job id in metadata.rescind_job_id.
//
// Mandrill has no idempotency key, so a send whose answer was lost may have sent the email.
// What this client does about it: it remembers, in this process, the jobs whose send got no
// answer it could read, and before sending for such a job again it searches Mandrill
// (POST /api/1.3/messages/search.json, query u_rescind_job_id:"<job id>"); a message found is
// the earlier send, and the step is done. It does not search on a job's first try: the worker
// does not tell a provider which try a step is, and a search before every send would double
// the calls for the rare lost answer. So a retry that another worker (or this one after a
// restart) makes sends without searching, and may send a second email; so may a retry that
// comes before Mandrill's search index has the first message (its delay is not documented).
// Nor does it see a loss on a pooled connection that HttpClient resends by itself (a failure
// before any byte of the answer, clients/http_client.cpp): that resend may send twice too.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>
#include <unordered_set>

#include "clients/http_client.hpp"
#include "clients/outcome.hpp"
#include "jobs/messages.hpp"

namespace rescind::clients {

struct MandrillSettings {
  Url base;  // https://mandrillapp.com
  std::string api_key;
  std::string from_email;
  std::string from_name;
};

class MandrillEmail {
 public:
  MandrillEmail(HttpClient& http, MandrillSettings settings);

  asio::awaitable<Outcome> send(const jobs::Job& job, const jobs::EmailMessage& message);

  // The answer to messages/send: the first recipient's status (sent, queued or scheduled: ok
  // with its _id; rejected or invalid: permanent with the reject_reason), or Mandrill's error
  // shape, classified by HTTP status and error name, never by its message.
  static Outcome interpret(const Exchange& exchange);
  // The answer to messages/search.json: nullopt when it found no message, else what the
  // message found says (ok with its _id, permanent if Mandrill rejected it), or how the search
  // failed.
  static std::optional<Outcome> interpret_search(const Exchange& exchange);

 private:
  // Searches for the job's earlier message: nullopt when none was found (or the search cannot
  // help), else the step's outcome.
  asio::awaitable<std::optional<Outcome>> find_earlier(const jobs::Job& job);

  HttpClient& http_;
  MandrillSettings settings_;
  // Jobs whose send got no readable answer. One thread runs every coroutine of the worker, so
  // no lock; bounded, because a job that never comes back would otherwise stay forever.
  std::unordered_set<std::string> unanswered_;
};

}  // namespace rescind::clients
