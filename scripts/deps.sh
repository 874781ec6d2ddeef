# Sourced by run.sh, test.sh and bench scripts: the Debian 12 packages Rescind needs, and a
# function that installs whichever are missing. The Dockerfile mirrors BUILD_PACKAGES and
# RUNTIME_PACKAGES exactly (checked by scripts/check-packages.sh, run as a test).

# Compiling the binaries.
BUILD_PACKAGES=(g++ cmake ninja-build pkg-config ccache libboost1.81-dev libhiredis-dev
  libsimdjson-dev prometheus-cpp-dev libssl-dev libcli11-dev)
# Running the tests and the demo: a real Redis, GoogleTest, curl to read the sandbox ledger,
# promtool (package prometheus) to check the alert rules, and the openssl CLI to make the
# certificates of the Redis TLS tests; clang-format checks the house format (scripts/format.sh).
TEST_PACKAGES=(redis-server libgtest-dev curl prometheus openssl clang-format-14)
# Fuzzing (scripts/fuzz.sh): clang with libFuzzer and the sanitizer runtimes. Not in the image.
FUZZ_PACKAGES=(clang-14 libclang-rt-14-dev)
# What the built binaries load at run time (the Docker runtime stage).
RUNTIME_PACKAGES=(libhiredis0.14 libsimdjson14 libprometheus-cpp-core1.0
  libssl3 ca-certificates)

install_missing() {
  local missing=()
  local pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "==> installing: ${missing[*]}" >&2
  local sudo=()
  [ "$(id -u)" -ne 0 ] && sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Configures (once) and builds the given targets in build/, the folder test.sh uses too.
build_targets() {
  local jobs
  jobs=$(nproc 2>/dev/null || echo 2)
  if [ ! -f build/build.ninja ]; then
    cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo ${RESCIND_CMAKE_ARGS:-} >/dev/null
  fi
  cmake --build build -j "$jobs" ${1:+--target "$@"}
}
