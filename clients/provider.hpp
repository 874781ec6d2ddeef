// What the worker knows of a provider. Each provider is one component in its own file
// (clients/stripe.cpp, …): a Provider that performs steps, and a ProviderSpec that owns its
// options and environment variables, its sandbox credentials, its required-or-optional check
// and the secrets it registers for redaction, and builds the Provider once options are parsed.
// The list of providers and the routing of a role to one of them are clients/providers.hpp;
// worker/ names no provider.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "clients/outcome.hpp"
#include "clients/refunds.hpp"
#include "clients/url.hpp"
#include "jobs/job.hpp"
#include "jobs/messages.hpp"
#include "jobs/plan.hpp"

namespace rescind::clients {

class HttpClient;
class GoneReceivers;

// One step of a job's plan, as the provider performing it needs it.
struct StepCall {
  jobs::Role role;
  const jobs::Plan& plan;
  jobs::RefundProgress refunded;  // how far the job's refund has got, for the wording of messages
  // Stable per job and step, and per generation for a refund (idempotency_key()).
  std::string idempotency_key;
};

// A payment provider can also be asked rather than told: the refund a job made under any key
// (reconcile, before a new key), and the state of one refund (a pending one, polled).
class RefundLookups {
 public:
  virtual ~RefundLookups() = default;
  virtual boost::asio::awaitable<RefundState> find_refund(const jobs::Job& job) = 0;
  virtual boost::asio::awaitable<RefundState> refund_status(const jobs::Job& job, std::string_view reference) = 0;
};

class Provider {
 public:
  virtual ~Provider() = default;
  // The name jobs, metrics, quotas (--limit) and the audit trail use: "stripe", "twilio", …
  virtual std::string_view name() const = 0;
  // The account a call counts against, for the quota (a Twilio sender, a Shopify shop, a shop
  // with its own Stripe key); "default" where one key serves every job.
  virtual std::string_view account(jobs::Role /*role*/, const jobs::Job& /*job*/) const { return "default"; }
  // Whether this provider has somewhere to perform `role` for the job at all (back-office
  // receivers for its shop): the plan leaves the step out when not.
  virtual bool serves(jobs::Role /*role*/, const jobs::Job& /*job*/) const { return true; }
  virtual boost::asio::awaitable<Outcome> perform(const StepCall& step, const jobs::Job& job) = 0;
  // Null unless the provider moves money.
  virtual RefundLookups* refunds() { return nullptr; }
  // A store platform whose cancel can also return the payment it holds (Shopify's orderCancel
  // with refund: true): the plan then refunds in the cancel step. Where the cancel leaves the
  // money where it is (WooCommerce, …), the platform refunds in a refund step of its own.
  virtual bool cancel_refunds() const { return false; }
};

// The component of a payment provider over its client (StripeRefunds, PayPalRefunds, …): the
// refund step is the client's refund() under the step's key, and the lookups are the
// client's own. A provider with more to say (its quota account) derives from it.
template <class Client>
class PaymentProvider : public Provider, public RefundLookups {
 public:
  template <class... Args>
  explicit PaymentProvider(std::string_view name, Args&&... client_args)
      : name_(name), client_(std::forward<Args>(client_args)...) {}
  std::string_view name() const override { return name_; }
  boost::asio::awaitable<Outcome> perform(const StepCall& step, const jobs::Job& job) override {
    co_return co_await client_.refund(job, step.idempotency_key);
  }
  RefundLookups* refunds() override { return this; }
  boost::asio::awaitable<RefundState> find_refund(const jobs::Job& job) override {
    co_return co_await client_.find_refund(job);
  }
  boost::asio::awaitable<RefundState> refund_status(const jobs::Job& job, std::string_view reference) override {
    co_return co_await client_.refund_status(job, reference);
  }

 private:
  std::string_view name_;
  Client client_;
};

// What the worker offers the components it builds.
struct Wiring {
  HttpClient& http;
  boost::asio::any_io_executor executor;
  GoneReceivers* gone = nullptr;  // where receivers that answered 410 are remembered (may be null)
};

// Settings more than one provider reads: owned by ProviderOptions, given to every spec when
// it is made.
struct SharedOptions {
  // The sender of customer emails, whichever provider sends them (--email-from,
  // --email-from-name; listed in SendGrid's group, the first email provider).
  std::string email_from;
  std::string email_from_name = "Rescind";
};

// What every spec's finish() is told once options are parsed.
struct Setup {
  // Set: every call goes to this rescind-sandbox with its test credentials.
  std::string sandbox;
  bool allow_insecure_http = false;
  // Routing sends a role to this provider unless a shop says otherwise: its credentials are
  // then required, not optional.
  bool routed_by_default = false;
};

// A usage error found while finishing options: the worker prints it and exits 2.
struct OptionError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// How a spec declares its options: flags with their environment variables, listed in the
// spec's --help group (the worker's CLI11 parser implements it; a provider never sees CLI11).
class OptionSet {
 public:
  virtual ~OptionSet() = default;
  // `show_default`: --help shows the target's value as it is now as the default.
  virtual void setting(const std::string& flag, std::string& target, const std::string& help, const std::string& env,
                       bool show_default = false) = 0;
  // A secret also has a file form (FLAG-file, ENV_FILE), is starred in the process list when
  // given as a flag, and is registered for redaction as soon as it is read.
  virtual void secret(const std::string& flag, std::string& target, const std::string& help,
                      const std::string& env) = 0;
  // A repeatable secret (';'-separated in the variable); each item is registered.
  virtual void secrets(const std::string& flag, std::vector<std::string>& target, const std::string& help,
                       const std::string& env) = 0;
};

class ProviderSpec {
 public:
  virtual ~ProviderSpec() = default;
  virtual std::string_view name() const = 0;
  // The roles it can perform; routing chooses among the providers offering a role.
  virtual std::vector<jobs::Role> roles() const = 0;
  // The --help group its options are listed under.
  virtual std::string_view group() const = 0;
  virtual void add_options(OptionSet& options) = 0;
  // The real credentials given (their variables' names, never their values): --sandbox refuses
  // to start beside any, which would either be sent to the fake or be a production worker
  // "succeeding" against it.
  virtual std::vector<std::string> real_credentials() const = 0;
  // After parsing: its own lists and URLs read, test credentials set under --sandbox, its
  // required settings checked, its secrets registered for redaction. Throws OptionError.
  virtual void finish(const Setup& setup) = 0;
  virtual std::unique_ptr<Provider> make(const Wiring& wiring) const = 0;
};

// The key a provider uses to recognise a repeated call: stable per job and step, and per
// generation for a refund. Generation 0 is every job's first key; the worker moves a refund to
// the next one only after the provider definitely refused it AND a reconcile found no refund
// for the job (worker/job_runner.cpp): a provider replays a key's saved refusal for 24 h
// (Stripe) or 45 days (PayPal), so a replay after the cause is fixed needs a new key.
std::string idempotency_key(const jobs::Job& job, jobs::Role role, unsigned generation = 0);

// What specs share while finishing options.

// A provider URL; plain http:// only to loopback (the sandbox, a local proxy) unless
// --allow-insecure-http says otherwise: API keys and customer data would travel in clear.
Url option_url(const std::string& text, std::string_view flag, const Setup& setup);
// A DOMAIN=VALUE item of a per-shop list. A malformed item is named by its domain at most:
// the value is a key, a token or a webhook URL.
std::pair<std::string, std::string> per_shop_item(const std::string& item, std::string_view flag);
// A required setting that is empty: an OptionError that says how to set it.
void require(const std::string& value, std::string_view what);

}  // namespace rescind::clients
