#include "tests/support/process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace rescind::testing {
namespace {

std::string temp_path(const std::string& stem) {
  std::string pattern = "/tmp/rescind-test-" + stem + "-XXXXXX";
  int fd = mkstemp(pattern.data());
  if (fd < 0) throw std::runtime_error("mkstemp failed");
  close(fd);
  return pattern;
}

std::string base_name(const std::string& program) { return program.substr(program.rfind('/') + 1); }

// Keeps what a child wrote in output_dir() for the suite's final secret scan, or drops it
// when there is no such folder.
void keep_output(const std::string& path, const std::string& program, const std::string& stream) {
  auto dir = output_dir();
  if (dir.empty() || path.empty()) {
    unlink(path.c_str());
    return;
  }
  std::string kept = dir + "/" + base_name(program) + "-" + std::to_string(getpid()) + "-XXXXXX";
  int fd = mkstemp(kept.data());
  if (fd >= 0) close(fd);
  if (fd < 0 || rename(path.c_str(), (kept + "." + stream).c_str()) != 0) unlink(path.c_str());
  unlink(kept.c_str());
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

[[noreturn]] void exec_child(const std::string& program, const std::vector<std::string>& args,
                             const std::vector<std::string>& env) {
  for (const auto& kv : env) putenv(const_cast<char*>(kv.c_str()));
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(program.c_str()));
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  execvp(program.c_str(), argv.data());
  _exit(127);
}

}  // namespace

std::string output_dir() {
#ifdef RESCIND_TEST_OUTPUT_DIR
  static const std::string dir = [] {
    std::string path = RESCIND_TEST_OUTPUT_DIR;
    mkdir(path.c_str(), 0755);
    return path;
  }();
  return dir;
#else
  return {};
#endif
}

Process::Process(std::string program, std::vector<std::string> args, std::vector<std::string> env) {
  int out[2];
  if (pipe(out) != 0) throw std::runtime_error("pipe failed");
  stderr_path_ = temp_path("stderr");
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    int err = open(stderr_path_.c_str(), O_WRONLY | O_TRUNC);
    dup2(out[1], STDOUT_FILENO);
    dup2(err, STDERR_FILENO);
    int null = open("/dev/null", O_RDONLY);
    dup2(null, STDIN_FILENO);
    close(out[0]);
    close(out[1]);
    exec_child(program, args, env);
  }
  close(out[1]);
  stdout_fd_ = out[0];
  program_ = base_name(program);
  if (!output_dir().empty()) stdout_copy_path_ = temp_path("stdout");
}

Process::~Process() {
  if (running()) {
    signal(SIGTERM);
    if (!wait(std::chrono::seconds(10))) {
      signal(SIGKILL);
      wait(std::chrono::seconds(5));
    }
  }
  if (stdout_fd_ >= 0) {
    // What it wrote and no test read: into the copy too.
    pollfd pfd{stdout_fd_, POLLIN, 0};
    char buf[4096];
    while (!stdout_copy_path_.empty() && poll(&pfd, 1, 0) > 0 && (pfd.revents & POLLIN)) {
      auto n = read(stdout_fd_, buf, sizeof buf);
      if (n <= 0) break;
      copy_stdout(std::string_view(buf, static_cast<std::size_t>(n)));
    }
    close(stdout_fd_);
  }
  keep_output(stderr_path_, program_, "stderr");
  keep_output(stdout_copy_path_, program_, "stdout");
}

void Process::copy_stdout(std::string_view bytes) {
  if (stdout_copy_path_.empty()) return;
  std::ofstream(stdout_copy_path_, std::ios::app | std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::optional<std::string> Process::read_line(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (auto nl = stdout_buffer_.find('\n'); nl != std::string::npos) {
      auto line = stdout_buffer_.substr(0, nl);
      stdout_buffer_.erase(0, nl + 1);
      return line;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    pollfd pfd{stdout_fd_, POLLIN, 0};
    if (poll(&pfd, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[4096];
    auto n = read(stdout_fd_, buf, sizeof buf);
    if (n <= 0) return std::nullopt;
    stdout_buffer_.append(buf, static_cast<std::size_t>(n));
    copy_stdout(std::string_view(buf, static_cast<std::size_t>(n)));
  }
}

void Process::signal(int sig) {
  if (pid_ > 0 && !exit_code_) kill(pid_, sig);
}

std::optional<int> Process::wait(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!exit_code_) {
    int status = 0;
    auto r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // polling a child's exit, not hoping
  }
  return exit_code_;
}

bool Process::running() { return pid_ > 0 && !wait(std::chrono::milliseconds(0)); }

std::string Process::stderr_text() const { return slurp(stderr_path_); }

Ran run_command(const std::string& program, const std::vector<std::string>& args, const std::string& input) {
  auto in_path = temp_path("stdin"), out_path = temp_path("stdout"), err_path = temp_path("stderr");
  { std::ofstream(in_path) << input; }
  pid_t pid = fork();
  if (pid == 0) {
    int in = open(in_path.c_str(), O_RDONLY), out = open(out_path.c_str(), O_WRONLY | O_TRUNC),
        err = open(err_path.c_str(), O_WRONLY | O_TRUNC);
    dup2(in, STDIN_FILENO);
    dup2(out, STDOUT_FILENO);
    dup2(err, STDERR_FILENO);
    exec_child(program, args, {});
  }
  int status = 0;
  waitpid(pid, &status, 0);
  Ran ran{WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), slurp(out_path), slurp(err_path)};
  unlink(in_path.c_str());
  keep_output(out_path, program, "stdout");
  keep_output(err_path, program, "stderr");
  return ran;
}

unsigned short free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace rescind::testing
