// The suite's last test: no credential of the sandbox may appear in anything the test
// processes wrote (worker, sandbox and rescindctl stdout/stderr, every Redis's DLQ), which
// tests/support keeps in one folder. Prints which credential a file holds, never the
// credential itself.
//
// The credentials are not listed here: every provider's spec declares its secret options,
// and under --sandbox fills them with the test credentials it sends, so a provider added to
// the list is scanned for without a line here. Each is looked for as it is and base64-encoded
// at each of the three alignments (so the Basic auth header of any user:secret pair is found,
// whoever the user is); a URL by its path and the path's last segment (the token; the host is
// the sandbox's, a new port every run); a Standard Webhooks whsec_ secret decoded too.
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

#include "clients/providers.hpp"

namespace {

namespace fs = std::filesystem;
namespace clients = rescind::clients;

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

std::string unbase64(std::string_view text) {
  std::string out(3 * ((text.size() + 3) / 4) + 1, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return {};
  out.resize(static_cast<std::size_t>(n));
  while (!out.empty() && out.back() == '\0') out.pop_back();  // the padding's zero bytes
  return out;
}

// The characters base64 writes for `secret` wherever it sits in the encoded text, for the
// three places it can start relative to a 3-byte group: only whole groups inside the secret,
// so that what comes before or after it (a user name and ':') does not change them.
std::vector<std::string> base64_forms(std::string_view secret) {
  std::vector<std::string> forms;
  for (std::size_t skip = 0; skip < 3 && skip < secret.size(); ++skip) {
    auto rest = secret.substr(skip);
    auto whole = rest.size() - rest.size() % 3;
    if (whole >= 12) forms.push_back(base64(rest.substr(0, whole)));
  }
  return forms;
}

// Records the secret options a spec declares; settings are not secrets.
class SecretRecorder final : public clients::OptionSet {
 public:
  struct Declared {
    std::string flag;
    const std::string* single = nullptr;
    const std::vector<std::string>* list = nullptr;
  };
  std::vector<Declared> declared;

  void setting(const std::string&, std::string&, const std::string&, const std::string&, bool) override {}
  void secret(const std::string& flag, std::string& target, const std::string&, const std::string&) override {
    declared.push_back({flag, &target, nullptr});
  }
  void secrets(const std::string& flag, std::vector<std::string>& target, const std::string&,
               const std::string&) override {
    declared.push_back({flag, nullptr, &target});
  }
};

void add_forms(std::vector<Needle>& out, const std::string& name, const std::string& value) {
  if (value.empty()) return;
  auto scheme = value.find("://");
  if (scheme != std::string::npos) {
    auto path = value.find('/', scheme + 3);
    if (path == std::string::npos) return;
    add_forms(out, name + " (path)", value.substr(path));
    auto segment = value.substr(value.rfind('/') + 1);
    if (segment.size() >= 8) add_forms(out, name + " (token)", segment);
    return;
  }
  out.push_back({name, value});
  for (auto& form : base64_forms(value)) out.push_back({name + " (base64)", std::move(form)});
  if (value.rfind("whsec_", 0) == 0) {
    auto key = unbase64(value.substr(6));
    if (!key.empty()) out.push_back({name + " (decoded)", std::move(key)});
  }
}

// Every provider's secrets as --sandbox sets them.
std::vector<Needle> derive_needles() {
  clients::ProviderOptions options;
  clients::Setup setup;
  setup.sandbox = "http://127.0.0.1:9";  // any loopback URL: it is not called
  std::vector<Needle> out;
  for (const auto& spec : options.specs()) {
    SecretRecorder recorder;
    spec->add_options(recorder);
    spec->finish(setup);
    for (const auto& d : recorder.declared) {
      auto name = std::string(spec->name()) + " " + d.flag;
      if (d.single) add_forms(out, name, *d.single);
      if (d.list) {
        // A per-shop item is DOMAIN=SECRET, and a secret of several parts (Magento's OAuth
        // ck:cs:at:ats) is looked for part by part as well: a client sends them apart.
        for (const auto& item : *d.list) {
          auto value = item.substr(item.find('=') == std::string::npos ? 0 : item.find('=') + 1);
          add_forms(out, name, value);
          if (value.find(':') == std::string::npos || value.find("://") != std::string::npos) continue;
          std::size_t from = 0;
          for (auto to = value.find(':'); from <= value.size(); to = value.find(':', from)) {
            if (to == std::string::npos) to = value.size();
            if (to - from >= 12) add_forms(out, name + " (part)", value.substr(from, to - from));
            from = to + 1;
          }
        }
      }
    }
  }
  return out;
}

const std::vector<Needle>& needles() {
  static const std::vector<Needle> all = derive_needles();
  return all;
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

bool finds_only(const fs::path& scratch, const std::string& planted) {
  fs::remove_all(scratch);
  fs::create_directories(scratch / "nested");
  std::ofstream(scratch / "clean.stderr") << "{\"msg\":\"job dead-lettered\",\"error\":\"Basic [redacted]\"}\n";
  std::ofstream(scratch / "nested" / "leak.dlq") << "rescind:dlq 1-0\n  error: 400 Authorization: " << planted << "\n";
  std::size_t scanned = 0;
  auto found = scan(scratch, scanned);
  return scanned == 2 && !found.empty() && std::all_of(found.begin(), found.end(), [](const std::string& f) {
           return f.find("leak.dlq") != std::string::npos;
         });
}

int self_test() {
  auto scratch = fs::temp_directory_path() / ("rescind-secret-scan-" + std::to_string(getpid()));
  int failures = 0, planted = 0;
  auto expect = [&](const std::string& text, const std::string& what) {
    ++planted;
    if (finds_only(scratch, text)) return;
    std::cerr << "self-test: a planted " << what << " was not found (or a clean file was flagged)\n";
    ++failures;
  };
  for (const auto& needle : needles()) {
    expect(needle.text, needle.name);
    // As Basic auth sends it, behind users of every length modulo 3.
    if (needle.name.find('(') == std::string::npos) {
      for (std::string user : {"u:", "us:", "use:"})
        expect("Basic " + base64(user + needle.text), needle.name + " as Basic");
    }
  }
  // Every provider that declares a secret fills it under --sandbox: otherwise its credential
  // would be scanned for as nothing.
  clients::ProviderOptions options;
  for (const auto& spec : options.specs()) {
    SecretRecorder recorder;
    spec->add_options(recorder);
    bool single = std::any_of(recorder.declared.begin(), recorder.declared.end(),
                              [](const SecretRecorder::Declared& d) { return d.single != nullptr; });
    auto prefix = std::string(spec->name()) + " ";
    bool found =
        std::any_of(needles().begin(), needles().end(), [&](const Needle& n) { return n.name.rfind(prefix, 0) == 0; });
    if (single && !found) {
      std::cerr << "self-test: " << spec->name() << " declares a secret but sets none under --sandbox\n";
      ++failures;
    }
  }
  fs::remove_all(scratch);
  std::cout << "self-test: " << planted - failures << " of " << planted << " planted credentials found ("
            << needles().size() << " forms of the providers' sandbox secrets)\n";
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
