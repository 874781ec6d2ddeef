// Which providers exist (one list, clients/providers.cpp) and which one performs a role for
// a job: the job's own word for the money and the order (payment.provider, shop.platform),
// otherwise the configured provider for the role, a shop's own choice first. The worker
// parses options through ProviderOptions and runs steps through Providers; it never names a
// provider.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "clients/provider.hpp"

namespace CLI {
class App;
}
namespace rescind::common {
class SecretOptions;
}

namespace rescind::clients {

// The configuration side: every provider's spec, in --help order, and the routing choices.
class ProviderOptions {
 public:
  ProviderOptions();  // every provider in the list
  ProviderOptions(ProviderOptions&&) noexcept;
  ProviderOptions& operator=(ProviderOptions&&) noexcept;
  ~ProviderOptions();

  // Each provider's options in its group; a role more than one provider offers gets
  // --ROLE-provider and --ROLE-provider-for, listed in the group of its providers.
  void add_options(CLI::App& app, common::SecretOptions& secrets);
  // The variables of real credentials configured, for --sandbox's refusal.
  std::vector<std::string> real_credentials() const;
  // After parsing; throws OptionError.
  void finish(const std::string& sandbox, bool allow_insecure_http);

  const std::vector<std::unique_ptr<ProviderSpec>>& specs() const { return specs_; }
  // The provider performing `role` unless the shop has its own (empty for the roles the job names).
  const std::string& default_for(jobs::Role role) const;
  const std::map<std::string, std::string>& by_shop(jobs::Role role) const;

 private:
  struct Choice;  // a role several providers offer
  // Specs keep a reference to it: it stays where it is when the options move.
  std::unique_ptr<SharedOptions> shared_ = std::make_unique<SharedOptions>();
  std::vector<std::unique_ptr<ProviderSpec>> specs_;
  std::vector<std::unique_ptr<Choice>> choices_;
  std::map<jobs::Role, std::string> default_by_role_;
  std::map<jobs::Role, std::map<std::string, std::string>> by_shop_;
};

// The running side: one component per provider, built once.
class Providers {
 public:
  Providers(const ProviderOptions& options, const Wiring& wiring);

  // The provider that performs `role` for this job (a log, audit and DLQ field). For a refund
  // or a cancel it is the job's own word, which may name a provider this worker does not have.
  std::string_view provider_for(jobs::Role role, const jobs::Job& job) const;
  // Whether this worker has `provider`: only then does a step reach a quota account, and only
  // then is the name a metric label (anything else is "other", so jobs naming invented
  // providers cannot add series).
  bool has(std::string_view provider) const;
  std::string_view label(std::string_view provider) const { return has(provider) ? provider : "other"; }
  // The provider account a call for `role` is made on (what its quota counts against).
  std::string_view account_for(jobs::Role role, const jobs::Job& job) const;
  // Whether the job has somewhere for `role` (the plan's record step).
  bool serves(jobs::Role role, const jobs::Job& job) const;
  // Whether the job's platform refunds in its cancel (Provider::cancel_refunds()).
  bool cancel_refunds(const jobs::Job& job) const;

  // `key_generation`: which idempotency key a refund uses (see idempotency_key()).
  boost::asio::awaitable<Outcome> perform(jobs::Role role, const jobs::Job& job, const jobs::Plan& plan,
                                          jobs::RefundProgress refunded, unsigned key_generation = 0);
  // Asks the job's payment provider instead of telling it; `unknown` for a provider that
  // cannot be asked.
  boost::asio::awaitable<RefundState> find_refund(const jobs::Job& job);
  boost::asio::awaitable<RefundState> refund_status(const jobs::Job& job, std::string_view reference);

 private:
  Provider* find(std::string_view name) const;
  RefundLookups* lookups_for(const jobs::Job& job) const;

  std::vector<std::unique_ptr<Provider>> providers_;
  std::map<jobs::Role, std::string> offering_;  // "stripe, paypal, square": for a refused step's message
  std::map<jobs::Role, std::string> default_by_role_;
  std::map<jobs::Role, std::map<std::string, std::string>> by_shop_;
};

}  // namespace rescind::clients
