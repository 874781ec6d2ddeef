#include "clients/providers.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>

#include "common/log.hpp"
#include "common/secret_options.hpp"

namespace rescind::clients {

// The providers this worker has, in the order --help lists their options. Adding a provider
// is its own files (clients/NAME.hpp/.cpp with NAME_spec(), a sandbox twin) and one line here.
#define RESCIND_PROVIDERS(X) \
  X(stripe)                  \
  X(sendgrid)                \
  X(twilio)                  \
  X(slack)                   \
  X(paypal)                  \
  X(square)                  \
  X(shopify)                 \
  X(woocommerce)             \
  X(bigcommerce)             \
  X(magento)                 \
  X(mailgun)                 \
  X(mandrill)                \
  X(zendesk)                 \
  X(webhooks)

#define RESCIND_DECLARE_SPEC(name) std::unique_ptr<ProviderSpec> name##_spec(SharedOptions& shared);
RESCIND_PROVIDERS(RESCIND_DECLARE_SPEC)
#undef RESCIND_DECLARE_SPEC

namespace {

// The roles whose provider the job itself names: the money and the order are where the
// shop has them.
bool named_by_job(jobs::Role role) {
  return role == jobs::Role::refund || role == jobs::Role::cancel || role == jobs::Role::restock;
}

std::string_view named_provider(jobs::Role role, const jobs::Job& job) {
  return role == jobs::Role::refund ? std::string_view(job.payment.provider) : std::string_view(job.shop.platform);
}

// OptionSet over CLI11, each option in the group of the spec declaring it.
class CliOptions final : public OptionSet {
 public:
  CliOptions(CLI::App& app, common::SecretOptions& secrets) : app_(app), secrets_(secrets) {}
  void in_group(std::string_view group) { group_ = group; }

  void setting(const std::string& flag, std::string& target, const std::string& help, const std::string& env,
               bool show_default) override {
    auto* option = app_.add_option(flag, target, help)->envname(env)->group(group_);
    if (show_default) option->capture_default_str();
  }
  void secret(const std::string& flag, std::string& target, const std::string& help, const std::string& env) override {
    secrets_.add(flag, target, help, env, group_);
  }
  void secrets(const std::string& flag, std::vector<std::string>& target, const std::string& help,
               const std::string& env) override {
    secrets_.add(flag, target, help, env, group_);
  }

 private:
  CLI::App& app_;
  common::SecretOptions& secrets_;
  std::string group_;
};

const std::string no_provider;
const std::map<std::string, std::string> no_shops;

}  // namespace

// A role several providers offer (email: SendGrid or Mailgun): --ROLE-provider chooses the
// default, --ROLE-provider-for a shop's own.
struct ProviderOptions::Choice {
  jobs::Role role;
  std::vector<std::string> names;  // the providers offering it, in list order
  std::vector<std::string> shop_items;
  bool added = false;

  std::string group() const {
    std::string text(jobs::to_string(role));
    text[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(text[0])));
    return text + " provider";
  }
  std::string alternatives() const {
    std::string text;
    for (std::size_t i = 0; i < names.size(); ++i) {
      text += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + names[i];
    }
    return text;
  }
  void add_options(CLI::App& app, std::string& chosen) {
    std::string role_name(jobs::to_string(role)), upper = role_name;
    std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
    app.add_option("--" + role_name + "-provider", chosen, alternatives())
        ->envname("RESCIND_" + upper + "_PROVIDER")
        ->capture_default_str()
        ->check(CLI::IsMember(names))
        ->group(group());
    app.add_option("--" + role_name + "-provider-for", shop_items,
                   "A shop's own " + role_name + " provider, repeatable: DOMAIN=" + names.back())
        ->envname("RESCIND_" + upper + "_PROVIDER_BY_SHOP")
        ->delimiter(';')
        ->group(group());
    added = true;
  }
};

ProviderOptions::ProviderOptions() {
#define RESCIND_MAKE_SPEC(name) specs_.push_back(name##_spec(*shared_));
  RESCIND_PROVIDERS(RESCIND_MAKE_SPEC)
#undef RESCIND_MAKE_SPEC
  for (std::size_t r = 0; r < jobs::role_count; ++r) {
    auto role = static_cast<jobs::Role>(r);
    if (named_by_job(role)) continue;
    std::vector<std::string> offering;
    for (const auto& spec : specs_) {
      auto roles = spec->roles();
      if (std::find(roles.begin(), roles.end(), role) != roles.end()) offering.emplace_back(spec->name());
    }
    if (offering.empty()) continue;
    default_by_role_[role] = offering.front();
    if (offering.size() > 1) choices_.push_back(std::make_unique<Choice>(Choice{role, offering, {}, false}));
  }
}

ProviderOptions::ProviderOptions(ProviderOptions&&) noexcept = default;
ProviderOptions& ProviderOptions::operator=(ProviderOptions&&) noexcept = default;
ProviderOptions::~ProviderOptions() = default;

void ProviderOptions::add_options(CLI::App& app, common::SecretOptions& secrets) {
  // A choice's options open the group its providers share (--help has always listed
  // --email-provider just before Mailgun's options); otherwise they follow every provider.
  CliOptions options(app, secrets);
  for (const auto& spec : specs_) {
    for (auto& choice : choices_) {
      if (!choice->added && choice->group() == spec->group()) choice->add_options(app, default_by_role_[choice->role]);
    }
    options.in_group(spec->group());
    spec->add_options(options);
  }
  for (auto& choice : choices_) {
    if (!choice->added) choice->add_options(app, default_by_role_[choice->role]);
  }
}

std::vector<std::string> ProviderOptions::real_credentials() const {
  std::vector<std::string> given;
  for (const auto& spec : specs_) {
    auto own = spec->real_credentials();
    given.insert(given.end(), own.begin(), own.end());
  }
  return given;
}

void ProviderOptions::finish(const std::string& sandbox, bool allow_insecure_http) {
  Setup setup{sandbox, allow_insecure_http, false};
  if (!sandbox.empty()) {
    option_url(sandbox, "--sandbox", setup);
    std::string named;
    for (const auto& what : real_credentials()) named += (named.empty() ? "" : ", ") + what;
    if (!named.empty()) {
      throw OptionError(
          "--sandbox sends every call to a fake with test credentials, but real credentials are configured too (" +
          named + "). Remove --sandbox (RESCIND_SANDBOX) for real providers, or the credentials for a sandbox run.");
    }
  }
  for (const auto& choice : choices_) {
    auto flag = "--" + std::string(jobs::to_string(choice->role)) + "-provider-for";
    for (const auto& item : choice->shop_items) {
      auto [shop, provider] = per_shop_item(item, flag);
      if (std::find(choice->names.begin(), choice->names.end(), provider) == choice->names.end())
        throw OptionError(flag + " " + shop + ": " + choice->alternatives() + ", not '" + provider + "'");
      by_shop_[choice->role][shop] = provider;
    }
  }
  for (const auto& spec : specs_) {
    setup.routed_by_default = false;
    for (auto role : spec->roles()) {
      auto it = default_by_role_.find(role);
      setup.routed_by_default = setup.routed_by_default || (it != default_by_role_.end() && it->second == spec->name());
    }
    spec->finish(setup);
  }
}

const std::string& ProviderOptions::default_for(jobs::Role role) const {
  auto it = default_by_role_.find(role);
  return it == default_by_role_.end() ? no_provider : it->second;
}

const std::map<std::string, std::string>& ProviderOptions::by_shop(jobs::Role role) const {
  auto it = by_shop_.find(role);
  return it == by_shop_.end() ? no_shops : it->second;
}

Providers::Providers(const ProviderOptions& options, const Wiring& wiring) {
  for (const auto& spec : options.specs()) {
    providers_.push_back(spec->make(wiring));
    for (auto role : spec->roles()) {
      auto& names = offering_[role];
      names += (names.empty() ? "" : ", ") + std::string(spec->name());
    }
  }
  for (std::size_t r = 0; r < jobs::role_count; ++r) {
    auto role = static_cast<jobs::Role>(r);
    if (!options.default_for(role).empty()) default_by_role_[role] = options.default_for(role);
    if (!options.by_shop(role).empty()) by_shop_[role] = options.by_shop(role);
  }
}

Provider* Providers::find(std::string_view name) const {
  for (const auto& provider : providers_) {
    if (provider->name() == name) return provider.get();
  }
  return nullptr;
}

bool Providers::has(std::string_view provider) const { return find(provider) != nullptr; }

std::string_view Providers::provider_for(jobs::Role role, const jobs::Job& job) const {
  if (named_by_job(role)) return named_provider(role, job);
  if (auto shops = by_shop_.find(role); shops != by_shop_.end()) {
    if (auto own = shops->second.find(job.shop.domain); own != shops->second.end()) return own->second;
  }
  auto it = default_by_role_.find(role);
  return it == default_by_role_.end() ? std::string_view("none") : std::string_view(it->second);
}

std::string_view Providers::account_for(jobs::Role role, const jobs::Job& job) const {
  auto* provider = find(provider_for(role, job));
  return provider ? provider->account(role, job) : std::string_view("default");
}

bool Providers::cancel_refunds(const jobs::Job& job) const {
  auto* platform = find(provider_for(jobs::Role::cancel, job));
  return platform && platform->cancel_refunds();
}

bool Providers::serves(jobs::Role role, const jobs::Job& job) const {
  auto* provider = find(provider_for(role, job));
  return provider && provider->serves(role, job);
}

namespace {
Outcome unsupported(std::string what) { return Outcome::permanent(0, "unsupported_provider", std::move(what)); }
}  // namespace

boost::asio::awaitable<Outcome> Providers::perform(jobs::Role role, const jobs::Job& job, const jobs::Plan& plan,
                                                   jobs::RefundProgress refunded, unsigned key_generation) {
  auto name = provider_for(role, job);
  auto* provider = find(name);
  if (!provider) {
    auto field = role == jobs::Role::refund ? "payment.provider" : named_by_job(role) ? "shop.platform" : "provider";
    auto offered = offering_.find(role);
    co_return unsupported(std::string(field) + " '" + std::string(name) + "' has no client in this worker (" +
                          (offered == offering_.end() ? std::string("none") : offered->second) + ")");
  }
  StepCall step{role, plan, refunded, idempotency_key(job, role, key_generation)};
  co_return co_await provider->perform(step, job);
}

RefundLookups* Providers::lookups_for(const jobs::Job& job) const {
  auto* provider = find(job.payment.provider);
  return provider ? provider->refunds() : nullptr;
}

namespace {
RefundState cannot_ask(const std::string& provider) {
  return RefundState{RefundState::Kind::unknown,
                     {},
                     "no refund client for " + provider,
                     unsupported("payment.provider '" + provider + "' has no refund client")};
}
}  // namespace

boost::asio::awaitable<RefundState> Providers::find_refund(const jobs::Job& job) {
  auto* lookups = lookups_for(job);
  if (!lookups) co_return cannot_ask(job.payment.provider);
  co_return co_await lookups->find_refund(job);
}

boost::asio::awaitable<RefundState> Providers::refund_status(const jobs::Job& job, std::string_view reference) {
  auto* lookups = lookups_for(job);
  if (!lookups) co_return cannot_ask(job.payment.provider);
  co_return co_await lookups->refund_status(job, reference);
}

std::string idempotency_key(const jobs::Job& job, jobs::Role role, unsigned generation) {
  auto key = "rescind:" + job.id + ":" + std::string(jobs::to_string(role));
  return generation == 0 ? key : key + ":" + std::to_string(generation);
}

Url option_url(const std::string& text, std::string_view flag, const Setup& setup) {
  std::string error;
  auto url = parse_url(text, error);
  if (!url) throw OptionError(std::string(flag) + ": " + error);
  if (!url->origin.tls && !setup.allow_insecure_http && !is_loopback(url->origin)) {
    throw OptionError(
        std::string(flag) + ": http://" + url->origin.host +
        " is not a loopback address; use https://, or pass --allow-insecure-http if it must be plain HTTP");
  }
  return *url;
}

std::pair<std::string, std::string> per_shop_item(const std::string& item, std::string_view flag) {
  auto eq = item.find('=');
  if (eq == std::string::npos)
    throw OptionError(std::string(flag) + ": an item is not DOMAIN=VALUE (the item is not shown: it may be a secret)");
  if (eq == 0) throw OptionError(std::string(flag) + ": an item has no DOMAIN before '='");
  if (eq + 1 == item.size())
    throw OptionError(std::string(flag) + " " + item.substr(0, eq) + ": the value after '=' is empty");
  return {item.substr(0, eq), item.substr(eq + 1)};
}

void require(const std::string& value, std::string_view what) {
  if (value.empty()) {
    throw OptionError(std::string(what) +
                      " is not set. Set it (flag or environment variable), or pass --sandbox URL to send every call "
                      "to a rescind-sandbox with its test credentials.");
  }
}

}  // namespace rescind::clients
