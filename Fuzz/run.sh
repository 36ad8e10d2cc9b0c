#!/usr/bin/env bash
# Builds the libFuzzer targets (VOICEGATE_FUZZ=1: coverage + AddressSanitizer on VoiceGateCore) and runs each for
# FUZZ_SECONDS (default 60). Fails on any crash, sanitizer or leak report, timeout or broken invariant; the input
# that did it is kept in .build/fuzz/<target>/ and named in the output.
#   Fuzz/run.sh                 every target, 60 s each
#   FUZZ_SECONDS=3600 Fuzz/run.sh upload      one target, an hour
# The corpus each run grows is kept in .build/fuzz/<target>/corpus (outside git) and reused by the next run;
# the seeds in Fuzz/corpus/<target> are read-only.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(upload audio upstream-wav dotenv admin-input openai-input encoders workers-file)

# FUZZ_BUILD_FLAGS: extra `swift build` flags, the same as the release build's so that its dependencies are reused
# (.ci/run builds with -Xswiftc -enable-testing).
export VOICEGATE_FUZZ=1
read -r -a extra <<< "${FUZZ_BUILD_FLAGS:-}"
for target in "${targets[@]}"; do
  swift build -c release "${extra[@]}" --product "fuzz-$target" 2>&1 | grep -E "error|warning: |Compiling fuzz|Build" || true
done
bin=$(swift build -c release "${extra[@]}" --show-bin-path)

failed=()
for target in "${targets[@]}"; do
  work=.build/fuzz/$target
  mkdir -p "$work/corpus"
  echo "== fuzz-$target for ${seconds} s"
  # Swift's own crash handler would take the signal before libFuzzer could save the input.
  if ! (cd "$work" && SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
        "$bin/fuzz-$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
        -print_final_stats=1 corpus "$OLDPWD/Fuzz/corpus/$target" > log 2>&1); then
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
