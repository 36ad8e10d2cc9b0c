#!/usr/bin/env bash
# schemathesis, every check, against the served /openapi.json of a gateway started here (embedded engine).
#   Tests/schemathesis/run.sh [binary] [max examples per operation]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
binary=${1:-.build/release/voicegate}
examples=${2:-300}
data=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
key=schemathesis-key-0123456789abcdef
# The voice /v1/audio/speech is sent with (hooks.py), saved the way an operator saves one.
DATA_DIR=$data "$binary" voices add sample "$here/../../assets/sample-voice.wav" --prompt-text "The sample voice of VoiceGate." --language en >/dev/null
API_KEY=$key PORT=$port DATA_DIR=$data JOB_CALLBACK_HOSTS=callback.invalid LOG_LEVEL=${GATEWAY_LOG_LEVEL:-error} "$binary" --server > "$data/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; [ -n "${KEEP_DATA:-}" ] || rm -rf "$data"' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.2; done
cd "$data"
SCHEMATHESIS_HOOKS=hooks PYTHONPATH=$here schemathesis --config-file "$here/schemathesis.toml" run "http://127.0.0.1:$port/openapi.json" --checks all \
  -H "X-API-Key: $key" --max-examples "$examples" --workers 2 --seed 1 --no-color ${SCHEMATHESIS_EXTRA:-}
kill -0 $pid || { echo "the gateway is no longer running"; cat "$data/server.log"; exit 1; }
