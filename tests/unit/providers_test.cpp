// The provider list and the routing of a role to a provider, through the options users give:
// which provider performs each role for a job, which account its quota counts against, what
// --sandbox refuses and what a required provider without credentials says. No sockets: a
// step for a provider this worker lacks is refused before any call.
#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "clients/http_client.hpp"
#include "clients/providers.hpp"
#include "common/secret_options.hpp"
#include "jobs/parse.hpp"
#include "tests/support/stack.hpp"

namespace rescind::clients {
namespace {

jobs::Job sample() {
  jobs::JobParser parser;
  return std::get<jobs::Job>(parser.parse(testing::job_json("evt_routing")));
}

// Parses `args` as the worker would (its own options left out), then finishes the options.
ProviderOptions parsed(std::vector<std::string> args, const std::string& sandbox = "http://127.0.0.1:8099") {
  ProviderOptions options;
  CLI::App app;
  common::SecretOptions secrets(app);
  options.add_options(app, secrets);
  args.insert(args.begin(), "rescind-worker");
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  app.parse(static_cast<int>(argv.size()), argv.data());
  if (auto unreadable = secrets.read_files()) throw OptionError(*unreadable);
  options.finish(sandbox, false);
  return options;
}

struct Running {
  boost::asio::io_context io;
  HttpClient http{io.get_executor(), HttpOptions{}};
  Providers providers;
  explicit Running(const ProviderOptions& options) : providers(options, Wiring{http, io.get_executor(), nullptr}) {}
};

TEST(ProviderRouting, EachRoleGoesToItsProviderAndAShopMayChooseItsOwnEmail) {
  auto options = parsed({"--email-provider-for", "own.example=mailgun"});
  Running running(options);
  auto job = sample();
  job.payment.provider = "paypal";
  job.shop.platform = "shopify";
  auto& p = running.providers;
  EXPECT_EQ(p.provider_for(jobs::Role::refund, job), "paypal");  // the job's word
  EXPECT_EQ(p.provider_for(jobs::Role::cancel, job), "shopify");
  EXPECT_EQ(p.provider_for(jobs::Role::sms, job), "twilio");
  EXPECT_EQ(p.provider_for(jobs::Role::staff, job), "slack");
  EXPECT_EQ(p.provider_for(jobs::Role::ticket, job), "zendesk");
  EXPECT_EQ(p.provider_for(jobs::Role::record, job), "webhook");
  EXPECT_EQ(p.provider_for(jobs::Role::email, job), "sendgrid");
  job.shop.domain = "own.example";
  EXPECT_EQ(p.provider_for(jobs::Role::email, job), "mailgun");
}

TEST(ProviderRouting, QuotaAccountsAreTheSenderTheShopOrTheShopsOwnKey) {
  auto options = parsed({"--stripe-api-key-for", "own.example=sk_test_own"});
  Running running(options);
  auto job = sample();
  job.payment.provider = "stripe";
  job.shop.platform = "shopify";
  auto& p = running.providers;
  EXPECT_EQ(p.account_for(jobs::Role::sms, job), "+15005550006");  // the sandbox's sender
  EXPECT_EQ(p.account_for(jobs::Role::cancel, job), job.shop.domain);
  EXPECT_EQ(p.account_for(jobs::Role::refund, job), "default");
  job.shop.domain = "own.example";
  EXPECT_EQ(p.account_for(jobs::Role::refund, job), "own.example");
}

TEST(ProviderRouting, AnInventedProviderIsOtherAndItsStepIsRefusedWithoutACall) {
  auto options = parsed({});
  Running running(options);
  auto job = sample();
  job.payment.provider = "invented";
  EXPECT_FALSE(running.providers.has("invented"));
  EXPECT_EQ(running.providers.label("invented"), "other");
  EXPECT_EQ(running.providers.label("square"), "square");
  jobs::Plan plan;
  auto done = boost::asio::co_spawn(running.io, running.providers.perform(jobs::Role::refund, job, plan, {}),
                                    boost::asio::use_future);
  running.io.run();
  auto outcome = done.get();
  EXPECT_EQ(outcome.kind, Outcome::Kind::permanent);
  EXPECT_EQ(outcome.code, "unsupported_provider");
  EXPECT_EQ(outcome.status, 0);  // no answer: nothing was sent
  EXPECT_NE(outcome.message.find("stripe, paypal, square"), std::string::npos) << outcome.message;
}

TEST(ProviderRouting, TheRecordStepExistsOnlyWhereAReceiverIs) {
  auto options = parsed({"--record-webhook-for", "books.example=http://127.0.0.1:9/hook"});
  Running running(options);
  auto job = sample();
  EXPECT_FALSE(running.providers.serves(jobs::Role::record, job));
  job.shop.domain = "books.example";
  EXPECT_TRUE(running.providers.serves(jobs::Role::record, job));
}

TEST(ProviderOptionsCheck, SandboxRefusesRealCredentialsNamingOnlyTheirVariables) {
  try {
    parsed({"--stripe-api-key", "sk_live_realkey", "--square-access-token", "EAAAreal"});
    FAIL() << "--sandbox started beside real credentials";
  } catch (const OptionError& e) {
    std::string message = e.what();
    EXPECT_NE(message.find("STRIPE_API_KEY"), std::string::npos) << message;
    EXPECT_NE(message.find("SQUARE_ACCESS_TOKEN"), std::string::npos) << message;
    EXPECT_EQ(message.find("sk_live_realkey"), std::string::npos) << message;
  }
}

TEST(ProviderOptionsCheck, TheDefaultEmailProvidersCredentialsAreRequiredAndTheOtherIsOptional) {
  // Without --sandbox and without credentials: Stripe is always required.
  EXPECT_THROW(parsed({}, ""), OptionError);
  std::vector<std::string> real = {"--stripe-api-key",     "sk_test_x",
                                   "--twilio-account-sid", "AC1",
                                   "--twilio-auth-token",  "t",
                                   "--twilio-from",        "+15005550006",
                                   "--slack-webhook-url",  "https://hooks.slack.com/services/T/B/x"};
  auto without_email = real;
  EXPECT_THROW(parsed(without_email, ""), OptionError);  // SendGrid is the default: its key is needed
  auto sendgrid = real;
  sendgrid.insert(sendgrid.end(), {"--sendgrid-api-key", "SG.x", "--email-from", "orders@shop.example"});
  EXPECT_NO_THROW(parsed(sendgrid, ""));  // Mailgun unconfigured is fine while no one routes to it
  auto mailgun = real;
  mailgun.insert(mailgun.end(), {"--email-provider", "mailgun"});
  EXPECT_THROW(parsed(mailgun, ""), OptionError);
  mailgun.insert(mailgun.end(), {"--mailgun-api-key", "key-x", "--mailgun-domain", "mg.shop.example"});
  EXPECT_NO_THROW(parsed(mailgun, ""));
}

TEST(ProviderOptionsCheck, AShopsEmailProviderMustBeOneThisWorkerHas) {
  EXPECT_THROW(parsed({"--email-provider-for", "own.example=postmark"}), OptionError);
}

}  // namespace
}  // namespace rescind::clients
