// rescind-worker: parse the configuration, then hand it to the engine.
#include <sys/prctl.h>
#include <sys/resource.h>

#include <exception>
#include <iostream>
#include <variant>

#include "worker/config.hpp"
#include "worker/engine.hpp"

int main(int argc, char** argv) {
  // Before any secret is read: a core file (or a ptrace by another process of this user)
  // would hold every credential in clear, and abort and crash paths exist. Not dumpable also
  // makes /proc/<pid>/environ and mem root-only.
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  rlimit no_core{0, 0};
  setrlimit(RLIMIT_CORE, &no_core);

  auto parsed = rescind::worker::parse_config(argc, argv);
  if (auto* exit_code = std::get_if<int>(&parsed)) return *exit_code;
  rescind::worker::Engine engine(std::move(std::get<rescind::worker::Config>(parsed)));
  try {
    return engine.run();
  } catch (const std::exception& e) {
    // A start-up failure the configuration check could not foresee (a CA file removed
    // since): a message and exit 1, not std::terminate and a core dump.
    std::cerr << "rescind-worker: " << e.what() << "\n";
    return 1;
  }
}
