#!/bin/sh
# SPDX-License-Identifier: ISC
# Integration test (TAP): the tree builds warning-free under clang as well as
# gcc (the suite's own build uses gcc with --enable-werror), including the
# unit tests and test drivers.
top=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "1..2"
(cd "$top" && git ls-files -co --exclude-standard -z | xargs -0 tar cf - 2>/dev/null) | (cd "$work" && tar xf -)
log=$work/build.log
if (cd "$work" && autoreconf -fi && ./configure CC=clang --enable-werror) > "$log" 2>&1; then
  echo "ok 1 - configure CC=clang --enable-werror"
else
  echo "not ok 1 - configure CC=clang --enable-werror"; tail -n 15 "$log" | sed 's/^/#   /'
fi
if (cd "$work" && make -j"$(nproc)" && make -j"$(nproc)" check TESTS=) > "$log" 2>&1; then
  echo "ok 2 - clang -Wall -Wextra -Werror builds the engine, front ends, tests and drivers"
else
  echo "not ok 2 - clang -Wall -Wextra -Werror builds the engine, front ends, tests and drivers"
  grep -E 'error|warning' "$log" | head -n 15 | sed 's/^/#   /'
fi
