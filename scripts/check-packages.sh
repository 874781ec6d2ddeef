#!/usr/bin/env bash
# The Dockerfile must install exactly the packages scripts/deps.sh installs: the image is
# built nowhere here (no Docker engine), so this is what keeps it honest.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh

docker_list() {  # the words of `ARG NAME="…"` in the Dockerfile, sorted
  sed -n "/^ARG $1=\"/,/\"/p" Dockerfile | sed -e "s/^ARG $1=\"//" -e 's/"//' -e 's/\\$//' | tr ' ' '\n' | sed '/^$/d' | sort -u
}
fail=0
for name in BUILD_PACKAGES RUNTIME_PACKAGES; do
  declare -n list=$name
  script=$(printf '%s\n' "${list[@]}" | sort -u)
  docker=$(docker_list "$name")
  if [ "$script" != "$docker" ]; then
    echo "$name differs between scripts/deps.sh and Dockerfile:"
    diff <(echo "$script") <(echo "$docker") || true
    fail=1
  fi
done
[ $fail -eq 0 ] && echo "Dockerfile packages match scripts/deps.sh"
exit $fail
