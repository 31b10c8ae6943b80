#!/bin/sh
# SPDX-License-Identifier: ISC
# Integration test (TAP): every libFuzzer target (tests/fuzz/README.md)
# builds with ./configure CC=clang --enable-fuzzing (`make fuzz-targets`),
# and each runs a short, reproducible session through tests/fuzz/run
# (fixed seed, at most RUNS executions and CAP seconds) from its seed
# corpus without a crash, a sanitizer report, a leak, a timeout or a
# broken property. A copy of the source tree is built, as in
# build-clang.t. The targets are found as tests/fuzz/run finds them
# (every tests/fuzz/fuzz_*.c with LLVMFuzzerTestOneInput), so a new one
# is run here without being listed, and one that stops building fails.
#
# A smoke run so that the targets cannot rot; campaigns are run by hand
# (tests/fuzz/run SECONDS). STS_FUZZ_SCALE multiplies runs and the cap.
top=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
scale=${STS_FUZZ_SCALE:-1}
jobs=$(nproc 2>/dev/null || echo 2)
runs=$((100000 * scale))
cap=$((10 * scale))			# seconds per target, whatever the machine

targets=$(cd "$top/tests/fuzz" && grep -l LLVMFuzzerTestOneInput fuzz_*.c \
  | sed 's/^fuzz_//; s/\.c$//' | sort)
count=$(echo $targets | wc -w)
echo "1..$((count + 1))"
(cd "$top" && git ls-files -co --exclude-standard -z | xargs -0 tar cf - 2>/dev/null) | (cd "$work" && tar xf -)
log=$work/build.log
built=no
probe='#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { return (d && n) ? 0 : 0; }'
if ! printf '%s\n' "$probe" > "$work/rt.c" \
   || ! clang -fsanitize=fuzzer,address,undefined -o "$work/rt" "$work/rt.c" > "$log" 2>&1; then
  echo "not ok 1 - clang links -fsanitize=fuzzer,address,undefined (install libclang-rt-14-dev)"
  sed 's/^/#   /' "$log" | tail -n 5
elif (cd "$work" && autoreconf -fi && ./configure CC=clang --enable-fuzzing \
      && make -j"$jobs" fuzz-targets) > "$log" 2>&1; then
  built=yes
  echo "ok 1 - configure CC=clang --enable-fuzzing; make fuzz-targets builds $count targets"
else
  echo "not ok 1 - configure CC=clang --enable-fuzzing; make fuzz-targets builds $count targets"
  grep -E 'error|Error' "$log" | head -n 15 | sed 's/^/#   /'
fi

if [ "$built" != yes ]; then
  n=1
  for t in $targets; do
    n=$((n + 1))
    echo "not ok $n - fuzz_$t # not built"
  done
  exit 0
fi
# tests/fuzz/run numbers its TAP lines from 1: shift them past the build.
"$work/tests/fuzz/run" -t -s 1 -r "$runs" "$cap" $targets \
  | awk '/^1\.\./ { next }
	 /^(not )?ok [0-9]+/ { for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+$/) { $i = $i + 1; break } }
	 { print }'
