#!/bin/sh
# Integration test (TAP): the libFuzzer targets (tests/fuzz/README.md) build
# with ./configure CC=clang --enable-fuzzing, and each runs a bounded,
# reproducible session (fixed seed, fixed number of runs, wall-clock cap)
# from its seed corpus without a crash, a sanitizer report, a leak or a
# broken property. A copy of the source tree is built, as in build-clang.t.
#
# Longer campaigns are run by hand; STS_FUZZ_SCALE multiplies the runs.
top=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
scale=${STS_FUZZ_SCALE:-1}
jobs=$(nproc 2>/dev/null || echo 2)

# target  runs  max_len (policy: past POLICY_BODY_MAX; conf: a few lines
# past CONF_LINE_MAX; txt, tlsrpt: past TXT_RECORD_MAX, TLSRPT_RECORD_MAX;
# netstring: a request past NETSTRING_REQUEST_MAX; socketmap: a key past
# SOCKETMAP_KEY_MAX; rcpt: past RCPT_INPUT_MAX; smtpd_proto: past
# SMTPD_PROTO_LINE_MAX)
targets="txt:800000:4200
tlsrpt:400000:4200
policy:400000:70000
domain:800000:600
smtpreply:400000:20000
conf:200000:9000
netstring:400000:100020
socketmap:800000:1200
rcpt:400000:4200
smtpd_proto:400000:66000"
cap=25			# seconds per target, whatever the machine

echo "1..$(( $(echo "$targets" | wc -l) + 1 ))"
(cd "$top" && git ls-files -co --exclude-standard -z | xargs -0 tar cf - 2>/dev/null) | (cd "$work" && tar xf -)
log=$work/build.log
names=$(echo "$targets" | sed 's/:.*//' | sed 's|^|tests/fuzz/fuzz_|' | tr '\n' ' ')
built=no
probe='#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { return (d && n) ? 0 : 0; }'
if ! printf '%s\n' "$probe" > "$work/rt.c" \
   || ! clang -fsanitize=fuzzer,address,undefined -o "$work/rt" "$work/rt.c" > "$log" 2>&1; then
  echo "not ok 1 - clang links -fsanitize=fuzzer,address,undefined (install libclang-rt-14-dev)"
  sed 's/^/#   /' "$log" | tail -n 5
elif (cd "$work" && autoreconf -fi && ./configure CC=clang --enable-fuzzing \
      && make -j"$jobs" $names) > "$log" 2>&1; then
  built=yes
  echo "ok 1 - configure CC=clang --enable-fuzzing builds the fuzz targets"
else
  echo "not ok 1 - configure CC=clang --enable-fuzzing builds the fuzz targets"
  grep -E 'error|Error' "$log" | head -n 15 | sed 's/^/#   /'
fi

n=1
for spec in $targets; do
  n=$((n + 1))
  t=${spec%%:*}; rest=${spec#*:}; runs=$((${rest%%:*} * scale)); maxlen=${rest#*:}
  desc="fuzz_$t: $runs runs from its seed corpus, no crash, leak or broken property"
  if [ "$built" != yes ]; then
    echo "not ok $n - $desc # not built"
    continue
  fi
  corpus=$work/run-corpus/$t
  art=$work/artifacts/$t
  mkdir -p "$corpus" "$art"
  cp "$top/tests/fuzz/corpus/$t/"* "$corpus/"
  out=$work/fuzz-$t.log
  start=$(date +%s)
  (cd "$work" && ASAN_OPTIONS=detect_leaks=1 ./tests/fuzz/fuzz_$t -seed=1 \
      -runs="$runs" -max_len="$maxlen" -max_total_time=$((cap * scale)) -timeout=10 \
      -rss_limit_mb=2048 -artifact_prefix="$art/" -print_final_stats=1 "$corpus") > "$out" 2>&1
  rc=$?
  secs=$(($(date +%s) - start))
  done_runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out")
  if [ "$rc" -eq 0 ] && [ -z "$(ls -A "$art")" ] \
     && ! grep -qE 'ERROR: (libFuzzer|AddressSanitizer|LeakSanitizer)|runtime error:|property violated' "$out"; then
    echo "ok $n - $desc (${done_runs:-?} runs, ${secs}s)"
  else
    echo "not ok $n - $desc (exit $rc)"
    grep -E 'property violated|ERROR:|runtime error:|SUMMARY|^    #[0-9] ' "$out" | head -n 12 | sed 's/^/#   /'
    for f in "$art"/*; do
      [ -f "$f" ] && echo "#   input ($(basename "$f")): $(od -An -tx1 -v "$f" | tr -d ' \n' | cut -c1-400)"
    done
  fi
done
