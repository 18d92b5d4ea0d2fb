#!/usr/bin/env bash
# Makes the README's picture of the demo, assets/demo.svg: the demo run in tmux and driven by
# keys, recorded with --record (an asciicast v2 file), then drawn frame by frame as an
# animated SVG. Run it from anywhere: assets/record-demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v tmux >/dev/null 2>&1; then
    echo "record-demo: tmux drives the demo; install it (apt install tmux, brew install tmux)" >&2
    exit 1
fi
cargo build --quiet
work=$(mktemp -d)
cast="$work/demo.cast"
session="cutover-record-$$"
trap 'tmux kill-session -t "$session" 2>/dev/null || true; rm -rf "$work"' EXIT

tmux new-session -d -s "$session" -x 120 -y 34 \
    "target/debug/cutover demo --speed 30 --seed 7 --record $cast \
     --audit-log $work/audit.jsonl --log-file $work/cutover.log"
# Keys as a presenter types them: wait for green to come up, stage and apply a first 10%,
# start the plan, let it run to the end, then quit.
press() {
    sleep "$1"
    shift
    tmux send-keys -t "$session" "$@"
}
press 5 l
press 2 Enter
press 4 a
press 30 q
sleep 2
tmux kill-session -t "$session" 2>/dev/null || true
cargo run --quiet --example cast_svg -- "$cast" assets/demo.svg
