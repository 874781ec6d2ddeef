// A child process for tests: started with arguments, its stdout readable line by line,
// its stderr kept in a file (shown when a test fails), stopped when the object dies.
#pragma once
#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rescind::testing {

class Process {
 public:
  Process(std::string program, std::vector<std::string> args, std::vector<std::string> env = {});
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  // The next line of stdout, or nullopt if none came before the deadline (or it exited).
  std::optional<std::string> read_line(std::chrono::milliseconds timeout);

  // Sends a signal; wait() collects the exit code (or 128+signal).
  void signal(int sig);
  std::optional<int> wait(std::chrono::milliseconds timeout);
  bool running();

  std::string stderr_text() const;
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string stdout_buffer_;
  std::string stderr_path_;
  std::optional<int> exit_code_;
  std::string program_;
  std::string stdout_copy_path_;  // everything read from stdout, kept for output_dir()
  void copy_stdout(std::string_view bytes);
};

// Runs a command to completion; returns exit code and what it printed.
struct Ran {
  int exit_code;
  std::string out;
  std::string err;
};
Ran run_command(const std::string& program, const std::vector<std::string>& args, const std::string& input = {});

unsigned short free_port();

// Where every child's stdout and stderr (and each Redis's DLQ) is kept when it ends, for the
// suite's last test, which scans them for the sandbox's credentials (tests/CMakeLists.txt);
// empty: nothing is kept.
std::string output_dir();

}  // namespace rescind::testing
