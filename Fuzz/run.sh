#!/usr/bin/env bash
# Builds the libFuzzer targets (VOICEGATE_FUZZ=1: coverage + AddressSanitizer on VoiceGateCore) and runs each for
# FUZZ_SECONDS (default 60). Fails on any crash, sanitizer or leak report, timeout or broken invariant; the input
# that did it is kept in .build/fuzz/<target>/ and named in the output.
#   Fuzz/run.sh                 every target, 60 s each
#   FUZZ_SECONDS=3600 Fuzz/run.sh upload      one target, an hour
#   FUZZ_JOBS=1 Fuzz/run.sh      one target at a time
#   Fuzz/run.sh --build-only     build them (CI builds while schemathesis runs), then `Fuzz/run.sh --no-build`
# The corpus each run grows is kept in .build/fuzz/<target>/corpus (outside git) and reused by the next run;
# the seeds in Fuzz/corpus/<target> are read-only.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
build=yes run=yes
case "${1:-}" in
  --build-only) run=no; shift ;;
  --no-build) build=no; shift ;;
esac
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(upload audio upstream-wav dotenv admin-input openai-input encoders workers-file subtitles job-body)

# FUZZ_BUILD_FLAGS: extra `swift build` flags, the same as the release build's so that its dependencies are reused
# (.ci/run builds with -Xswiftc -enable-testing).
export VOICEGATE_FUZZ=1
read -r -a extra <<< "${FUZZ_BUILD_FLAGS:-}"
if [ $build = yes ]; then
  for target in "${targets[@]}"; do
    # pipefail: a failed build fails the run, whatever grep shows of it.
    swift build -c release "${extra[@]}" --product "fuzz-$target" 2>&1 | { grep -E "error|warning: |Compiling fuzz|Build" || true; }
  done
fi
[ $run = yes ] || exit 0
bin=$(swift build -c release "${extra[@]}" --show-bin-path)

# libFuzzer runs on one core, so the targets run side by side, FUZZ_JOBS at a time (default: one per core); each
# still gets its FUZZ_SECONDS of a core to itself.
jobs=${FUZZ_JOBS:-$(nproc)}
fuzz_one() {
  local target=$1 work=.build/fuzz/$1 status=0
  mkdir -p "$work/corpus"
  rm -f "$work/status"
  # Swift's own crash handler would take the signal before libFuzzer could save the input.
  (cd "$work" && SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
     "$bin/fuzz-$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
     -print_final_stats=1 corpus "$OLDPWD/Fuzz/corpus/$target" > log 2>&1) || status=$?
  echo "$status" > "$work/status"
}
echo "== ${#targets[@]} targets, ${seconds} s each, $jobs at a time"
running=0
for target in "${targets[@]}"; do
  if [ "$running" -ge "$jobs" ]; then wait -n || true; running=$((running - 1)); fi
  fuzz_one "$target" &
  running=$((running + 1))
done
wait

failed=()
for target in "${targets[@]}"; do
  work=.build/fuzz/$target
  echo "== fuzz-$target"
  if [ "$(cat "$work/status" 2>/dev/null)" != 0 ]; then
    tail -n 40 "$work/log"
    ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* 2>/dev/null || true
    failed+=("$target")
  else
    grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb|^#[0-9]+.*DONE" "$work/log" | tr '\n' ' '; echo
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzzing failed: ${failed[*]}"
  exit 1
fi
echo "fuzzing: ${#targets[@]} targets, ${seconds} s each, no crash"
