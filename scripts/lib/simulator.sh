# Sourced by the scripts that drive a real client against the simulator
# (newman.sh, sdk.sh, schemathesis.sh): builds vipps-golive, starts its
# standalone simulator on a free loopback port with its journal in
# "$RUN/journal.jsonl", and sets BIN (the binary), BASE (its URL) and SIM_PID. The simulator is
# stopped when the script exits. Needs ROOT, RUN and PROFILE (release or debug).
#
#   start_simulator NAME [SIMULATOR FLAGS...]
#
# NAME prefixes the error messages; "$RUN" is emptied first. A script with
# more to clean up defines `extra_cleanup` before calling it.

start_simulator() {
  local name="$1"
  shift
  if [[ "$PROFILE" == release ]]; then cargo build --release --quiet; else cargo build --quiet; fi
  BIN="${CARGO_TARGET_DIR:-$ROOT/target}/$PROFILE/vipps-golive"
  rm -rf "$RUN" && mkdir -p "$RUN"
  "$BIN" simulator --host 127.0.0.1 --port 0 "$@" --journal "$RUN/journal.jsonl" >"$RUN/simulator.log" 2>&1 &
  SIM_PID=$!
  trap stop_simulator EXIT INT TERM
  BASE=""
  for _ in $(seq 1 100); do
    BASE="$(sed -n 's/^Vipps simulator listening on \(http[^ ]*\).*/\1/p' "$RUN/simulator.log" | head -1)"
    [[ -n "$BASE" ]] && break
    kill -0 "$SIM_PID" 2>/dev/null || { echo "$name: the simulator exited:" >&2; cat "$RUN/simulator.log" >&2; exit 2; }
    sleep 0.1
  done
  [[ -n "$BASE" ]] || { echo "$name: the simulator did not report its URL" >&2; exit 2; }
  echo "simulator: $BASE (pid $SIM_PID)"
}

stop_simulator() {
  kill "$SIM_PID" 2>/dev/null || true
  wait "$SIM_PID" 2>/dev/null || true
  if declare -F extra_cleanup >/dev/null; then extra_cleanup; fi
}
