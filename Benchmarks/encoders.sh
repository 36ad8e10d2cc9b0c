#!/usr/bin/env bash
# Each encoder's speed on one core, in times real time, on a minute of real speech (espeak-ng, at GPT-SoVITS's
# 32 kHz and at the embedded engine's 22.05 kHz):   Benchmarks/encoders.sh [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product encoder-bench >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
espeak-ng -w "$work/speech22.wav" "VoiceGate sits in front of GPT-SoVITS. It queues requests fairly, checks every upload, and streams \
the audio back as it is produced, in mp3, opus, flac, wav or raw pcm, whatever the client asked for."
sox -q "$work/speech22.wav" -r 32000 "$work/speech32.wav" 2>/dev/null
for rate in 32 22; do taskset -c 0 .build/release/encoder-bench "$work/speech$rate.wav" 60 "${1:-5}"; done
