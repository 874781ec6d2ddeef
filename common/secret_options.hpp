// Secret command-line options with a file form: --NAME-file and ENV_FILE beside --NAME and
// ENV, the way Kubernetes, Docker and systemd credentials mount secrets, so the value is
// neither in the process list nor in the environment. Shared by rescind-worker and rescindctl.
#pragma once
#include <CLI/CLI.hpp>
#include <fstream>
#include <list>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "common/log.hpp"

namespace rescind::common {

class SecretOptions {
 public:
  explicit SecretOptions(CLI::App& app) : app_(app) {}

  // whole_value: the value is a secret as a whole (a key); false where only a part of it is
  // (the password in a Redis URL, registered by whoever parses the URL).
  CLI::Option* add(const std::string& flag, std::string& target, const std::string& help, const std::string& env,
                   const std::string& group, bool whole_value = true) {
    return add_pair(flag, help, env, group, app_.add_option(flag, target, help),
                    Secret{flag, {}, nullptr, &target, nullptr, whole_value});
  }
  // A list option: ';'-separated in its variable, one item per line (or ';'-separated) in its file.
  CLI::Option* add(const std::string& flag, std::vector<std::string>& target, const std::string& help,
                   const std::string& env, const std::string& group) {
    return add_pair(flag, help, env, group, app_.add_option(flag, target, help)->delimiter(';'),
                    Secret{flag, {}, nullptr, nullptr, &target, true});
  }

  // After parsing: each file given replaces its option's value (a trailing newline is not part
  // of it), and each value is registered as a log secret at once, so that not even a usage
  // error about another option can print it. The error, if any: a file that cannot be read,
  // or an option given both ways.
  std::optional<std::string> read_files() {
    for (auto& secret : secrets_) {
      if (!secret.path.empty()) {
        if (secret.value_option->count() > 0)
          return secret.flag + " and " + secret.flag + "-file are both set; give one of them";
        std::ifstream in(secret.path, std::ios::binary);
        std::stringstream text;
        if (in) text << in.rdbuf();
        if (!in || in.bad()) return secret.flag + "-file: cannot read '" + secret.path + "'";
        auto value = text.str();
        while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
        if (secret.single) {
          *secret.single = std::move(value);
        } else {
          secret.list->clear();
          std::istringstream lines(value);
          for (std::string line; std::getline(lines, line);) {
            std::istringstream parts(line);
            for (std::string part; std::getline(parts, part, ';');) {
              if (!part.empty() && part.back() == '\r') part.pop_back();
              if (!part.empty()) secret.list->push_back(part);
            }
          }
        }
      }
      if (secret.single && secret.whole_value) log::register_secret(*secret.single);
      if (secret.list) {
        for (const auto& item : *secret.list) log::register_secret(item);
      }
    }
    return std::nullopt;
  }

  // After parsing (the parser keeps its own copies): each secret given as a flag's value is
  // overwritten with '*' in argv, which is what ps and /proc/PID/cmdline read, so the process
  // list shows it no longer, though it did from exec until here: the -file form and the
  // variables are the ways that never show it. In a URL only the user info is starred. The
  // answer: the flags that carried a secret, for a warning.
  std::vector<std::string> hide_from_process_list(int argc, char** argv) const {
    std::vector<std::string> given;
    for (int i = 1; i < argc; ++i) {
      std::string_view arg = argv[i];
      if (arg == "--") break;
      for (const auto& secret : secrets_) {
        bool hid = false;
        if (arg == secret.flag) {
          // The value follows; a list takes every argument up to the next option.
          for (int j = i + 1; j < argc && (j == i + 1 || argv[j][0] != '-'); ++j) {
            hid |= star(argv[j], secret.whole_value);
            if (secret.single) break;
          }
        } else if (arg.starts_with(secret.flag + "=")) {
          hid = star(argv[i] + secret.flag.size() + 1, secret.whole_value);
        } else {
          continue;
        }
        if (hid) given.push_back(secret.flag);
        break;
      }
    }
    return given;
  }

 private:
  // Whole: every character; otherwise a URL's user info (between "://" and the last '@').
  static bool star(char* value, bool whole) {
    std::string_view text = value;
    std::size_t from = 0, to = text.size();
    if (!whole) {
      auto scheme = text.find("://");
      auto at = text.rfind('@');
      if (scheme == std::string_view::npos || at == std::string_view::npos || at < scheme + 3) return false;
      from = scheme + 3;
      to = at;
    }
    for (auto k = from; k < to; ++k) value[k] = '*';
    return to > from;
  }

  struct Secret {
    std::string flag;
    std::string path;  // CLI11 writes it: std::list keeps its address
    CLI::Option* value_option;
    std::string* single;
    std::vector<std::string>* list;
    bool whole_value;
  };

  CLI::Option* add_pair(const std::string& flag, const std::string& help, const std::string& env,
                        const std::string& group, CLI::Option* value_option, Secret secret) {
    secret.value_option = value_option;
    auto& kept = secrets_.emplace_back(std::move(secret));
    app_.add_option(flag + "-file", kept.path,
                    "File holding " + flag + " (" + help + "); a trailing newline is ignored")
        ->envname(env + "_FILE")
        ->group(group);
    return value_option->envname(env)->group(group);
  }

  CLI::App& app_;
  std::list<Secret> secrets_;
};

}  // namespace rescind::common
