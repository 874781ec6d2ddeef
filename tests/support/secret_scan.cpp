// The suite's last test: no credential of the sandbox may appear in anything the test
// processes wrote (worker, sandbox and rescindctl stdout/stderr, every Redis's DLQ), which
// tests/support keeps in one folder. Also searched: the base64 user:secret forms of Basic
// auth and the webhook signing key decoded. Prints which credential a file holds, never the
// credential itself.
//
//   secret_scan DIR          exit 0: none found; 1: found (the files are named); 2: usage
//   secret_scan --self-test  plants each credential in a scratch folder and expects a find
#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "common/mandrill_credentials.hpp"
#include "common/sandbox_credentials.hpp"

namespace {

namespace fs = std::filesystem;
namespace creds = rescind::sandbox_credentials;

struct Needle {
  std::string name;
  std::string text;
};

// Written here with OpenSSL rather than with the worker's encoder, so that a bug in that one
// cannot hide a leak from this check.
std::string base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::vector<Needle> needles() {
  auto basic = [](std::string_view user, std::string_view password) {
    return base64(std::string(user) + ":" + std::string(password));
  };
  std::string_view hook = creds::slack_webhook_path;
  return {
      {"stripe_api_key", std::string(creds::stripe_api_key)},
      {"sendgrid_api_key", std::string(creds::sendgrid_api_key)},
      {"twilio_auth_token", std::string(creds::twilio_auth_token)},
      {"slack_webhook_path", std::string(hook)},
      {"slack_webhook_token", std::string(hook.substr(hook.rfind('/') + 1))},
      {"paypal_secret", std::string(creds::paypal_secret)},
      {"square_access_token", std::string(creds::square_access_token)},
      {"shopify_access_token", std::string(creds::shopify_access_token)},
      {"mailgun_api_key", std::string(creds::mailgun_api_key)},
      {"mandrill_api_key", std::string(creds::mandrill_api_key)},
      {"zendesk_api_token", std::string(creds::zendesk_api_token)},
      {"webhook_secret", std::string(creds::webhook_secret)},
      {"webhook_key (decoded)", "rescind-sandbox-webhook-key"},
      {"twilio Basic sid:token", basic(creds::twilio_account_sid, creds::twilio_auth_token)},
      {"mailgun Basic api:key", basic("api", creds::mailgun_api_key)},
      {"zendesk Basic email/token:token",
       basic(std::string(creds::zendesk_email) + "/token", creds::zendesk_api_token)},
      {"paypal Basic client_id:secret", basic(creds::paypal_client_id, creds::paypal_secret)},
  };
}

// Files holding a credential, as "path: name (line N)"; `scanned` counts the files read.
std::vector<std::string> scan(const fs::path& dir, std::size_t& scanned) {
  std::vector<std::string> found;
  auto all = needles();
  for (const auto& file : fs::recursive_directory_iterator(dir)) {
    if (!file.is_regular_file()) continue;
    ++scanned;
    std::ifstream in(file.path(), std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    const std::string content = text.str();
    for (const auto& needle : all) {
      auto at = content.find(needle.text);
      if (at == std::string::npos) continue;
      auto line = 1 + std::count(content.begin(), content.begin() + static_cast<std::ptrdiff_t>(at), '\n');
      found.push_back(file.path().string() + ": " + needle.name + " (line " + std::to_string(line) + ")");
    }
  }
  return found;
}

int self_test() {
  auto scratch = fs::temp_directory_path() / ("rescind-secret-scan-" + std::to_string(getpid()));
  int failures = 0;
  for (const auto& needle : needles()) {
    fs::remove_all(scratch);
    fs::create_directories(scratch / "nested");
    std::ofstream(scratch / "clean.stderr") << "{\"msg\":\"job dead-lettered\",\"error\":\"Basic [redacted]\"}\n";
    std::ofstream(scratch / "nested" / "leak.dlq")
        << "rescind:dlq 1-0\n  error: 400 Authorization: Basic " << needle.text << "\n";
    std::size_t scanned = 0;
    auto found = scan(scratch, scanned);
    bool only_the_leak = !found.empty() && found.size() <= 2 &&  // the path form also holds the token form
                         std::all_of(found.begin(), found.end(),
                                     [](const std::string& f) { return f.find("leak.dlq") != std::string::npos; });
    if (scanned != 2 || !only_the_leak) {
      std::cerr << "self-test: a planted " << needle.name << " was not found (or a clean file was flagged)\n";
      ++failures;
    }
  }
  fs::remove_all(scratch);
  std::cout << "self-test: " << needles().size() - static_cast<std::size_t>(failures) << " of " << needles().size()
            << " planted credentials found\n";
  return failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::string_view(argv[1]) == "--self-test") return self_test();
  if (argc != 2) {
    std::cerr << "usage: secret_scan DIR | --self-test\n";
    return 2;
  }
  fs::path dir = argv[1];
  if (!fs::is_directory(dir)) {
    std::cout << "no test output kept in " << dir << " (no test started a process): nothing to scan\n";
    return 0;
  }
  std::size_t scanned = 0;
  auto found = scan(dir, scanned);
  std::cout << "scanned " << scanned << " outputs of test processes in " << dir << " for " << needles().size()
            << " sandbox credentials\n";
  for (const auto& f : found) std::cout << "LEAK " << f << "\n";
  if (!found.empty())
    std::cout << found.size() << " leaks: a credential reached a log line, a DLQ entry or an error message\n";
  return found.empty() ? 0 : 1;
}
