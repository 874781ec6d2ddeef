// The worker process: wires config into its components, runs them on one io_context,
// and stops them gracefully on SIGTERM/SIGINT.
#pragma once
#include "worker/config.hpp"

namespace rescind::worker {

class Engine {
 public:
  explicit Engine(Config config);

  // Runs until stopped by a signal (exit code 0) or a fatal start-up failure (1).
  int run();

 private:
  Config config_;
};

}  // namespace rescind::worker
