#!/usr/bin/env bash
# Runs a GPU job that outlasts one device call (at most 10 min a call; the machine is lost ~30 s
# after a call ends), resumably:
#
#   bash benchmarks/gpu/resumable.sh JOB.sh [EXTRA_PATH...]
#
# The first call copies benchmarks/, rag_desktop/ and the EXTRA_PATHs (carried build or wheels)
# to $STATE/src, so that the tool re-sending the working tree cannot change a script while bash
# reads it, and starts JOB.sh there in its own session. Every call then waits up to WAIT s and
# copies what is done to $OUT: log and results.tgz (the job's $STATE/res). While it prints
# "still running", call again at once. The job touches $STATE/DONE when it has finished, and
# skips work whose result file already exists, so a machine lost midway costs only the step.
set -u
JOB=$1; shift
STATE=${STATE:-/tmp/gpu-$(basename "$JOB" .sh)}
WAIT=${WAIT:-540}
export STATE
mkdir -p "$STATE/res" "$OUT"
start=$(date +%s)
running() { [ -f "$STATE/pid" ] && kill -0 "$(cat "$STATE/pid")" 2>/dev/null; }
if [ ! -f "$STATE/DONE" ] && ! running; then
  rm -rf "$STATE/src" && mkdir -p "$STATE/src"
  cp -r benchmarks rag_desktop "$@" "$STATE/src/"
  (cd "$STATE/src" && setsid nohup bash "$JOB" > "$STATE/log" 2>&1 < /dev/null &
   echo $! > "$STATE/pid")
  echo "started $JOB (pid $(cat "$STATE/pid"))"
fi
while running && [ ! -f "$STATE/DONE" ] && [ $(( $(date +%s) - start )) -lt "$WAIT" ]; do
  sleep 5
done
cp "$STATE/log" "$OUT/log"
tar -czf "$OUT/results.tgz" -C "$STATE/res" .
tail -30 "$STATE/log"
if [ -f "$STATE/DONE" ]; then echo "== DONE"
elif running; then echo "== still running: call again now"
else echo "== stopped (see log)"; fi
