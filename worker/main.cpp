// rescind-worker: parse the configuration, then hand it to the engine.
#include <variant>

#include "worker/config.hpp"
#include "worker/engine.hpp"

int main(int argc, char** argv) {
  auto parsed = rescind::worker::parse_config(argc, argv);
  if (auto* exit_code = std::get_if<int>(&parsed)) return *exit_code;
  rescind::worker::Engine engine(std::move(std::get<rescind::worker::Config>(parsed)));
  return engine.run();
}
