#!/usr/bin/env bash
# The house format (.clang-format) for every tracked C++ file.
#   scripts/format.sh           rewrites the files that differ
#   scripts/format.sh --check   changes nothing; lists the files that differ and exits 1 (test.sh, CI)
# clang-format-14 exactly: another version formats some lines differently.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clang-format-14 >/dev/null || { echo "clang-format-14 is missing (apt-get install clang-format-14)" >&2; exit 2; }
mapfile -t files < <(git ls-files '*.cpp' '*.hpp' '*.h')
case "${1:-}" in
  --check)
    differ=()
    for file in "${files[@]}"; do
      clang-format-14 --dry-run --Werror "$file" 2>/dev/null || differ+=("$file")
    done
    if [ "${#differ[@]}" -gt 0 ]; then
      echo "==> not in the house format (run scripts/format.sh):" >&2
      printf '  %s\n' "${differ[@]}" >&2
      exit 1
    fi
    echo "==> format: ${#files[@]} files as .clang-format says" ;;
  "") clang-format-14 -i "${files[@]}" ;;
  *) echo "usage: scripts/format.sh [--check]" >&2; exit 2 ;;
esac
