#!/usr/bin/env bash
# Bridge CPU per call against the codec floor, in one run.
#
# A real bridge in echo mode (AI_BACKEND=echo, everything on 127.0.0.1) takes N concurrent
# WhatsApp-shaped pion calls. Each caller plays an espeak-ng sentence then as much silence, for
# SECONDS (the caller talks ~50 % of the time; the echo assistant answers ~50 % of the time and
# sends cached silence otherwise). The bridge's CPU (utime+stime from /proc) is read over the
# steady middle of the calls and divided by calls × seconds. The codec floor, one Opus decode
# plus one Opus encode per 20 ms (BM_CodecFloor), is measured by bench_micro right after, in
# the same run, and the ratio printed.
#   bench/run_audio_bench.sh BUILD_DIR [CALLS] [SECONDS]
set -euo pipefail
out=$1
calls=${2:-10}
seconds=${3:-20}
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
PORT=$port BIND_ADDRESS=127.0.0.1 ICE_BIND_ADDRESSES=127.0.0.1 AI_BACKEND=echo LOG_LEVEL=warn \
    DRAIN_SECONDS=1 RTP_PORT_MIN=32000 RTP_PORT_MAX=32500 "$out/wabridge" &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$tmp"' EXIT
for _ in $(seq 50); do (echo > /dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done

# Talk/silence audio: the sentence, then silence of the same length, repeated.
espeak-ng -w "$tmp/s.wav" "yellow zebras carry heavy wooden boxes across frozen rivers slowly before saturday"
sox -V1 "$tmp/s.wav" -r 48000 -c 1 -b 16 "$tmp/s48.wav"
len=$(soxi -D "$tmp/s48.wav")
sox -V1 -n -r 48000 -c 1 -b 16 "$tmp/quiet.wav" trim 0 "$len"
parts=()
for _ in $(seq $(( (seconds + 5) / 6 + 1 ))); do parts+=("$tmp/s48.wav" "$tmp/quiet.wav"); done
sox -V1 "${parts[@]}" "$tmp/talk.wav"
opusenc --quiet --framesize 20 --bitrate 24 --max-delay 20 "$tmp/talk.wav" "$tmp/talk.ogg"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
hz=$(getconf CLK_TCK)
for i in $(seq "$calls"); do
    "$out/pion_caller" -url "http://127.0.0.1:$port" -call-id "audio-$i" -seconds "$seconds" \
        -play "$tmp/talk.ogg" -grace 200ms -out "$tmp/$i.json" >/dev/null 2>&1 &
done
sleep 3 # set-up done, calls in their steady state
t0=$(cpu_ticks); s0=$(date +%s.%N)
sleep $((seconds - 5))
t1=$(cpu_ticks); s1=$(date +%s.%N)
active=$(curl -s "http://127.0.0.1:$port/health" | python3 -c 'import json,sys; print(json.load(sys.stdin)["activeSessions"])')
curl -s "http://127.0.0.1:$port/sessions" > "$tmp/sessions.json"
wait $(jobs -p | grep -v "^$pid$") 2>/dev/null || true
"$out/bench_micro" --benchmark_filter='BM_CodecFloor$' --benchmark_min_time=1 \
    --benchmark_format=json > "$tmp/floor.json" 2>/dev/null
python3 - "$tmp" "$calls" "$t0" "$t1" "$s0" "$s1" "$hz" "$active" <<'PY'
import json, sys, os
tmp, calls, t0, t1, s0, s1, hz, active = sys.argv[1], int(sys.argv[2]), *map(float, sys.argv[3:8]), int(sys.argv[8])
wall = s1 - s0
cpu = (t1 - t0) / hz
per_call = cpu / wall / calls  # core-seconds per call-second
floor_ns = [b for b in json.load(open(os.path.join(tmp, "floor.json")))["benchmarks"]
            if b["name"] == "BM_CodecFloor"][0]["cpu_time"]
floor = floor_ns * 1e-9 * 50  # one decode + one encode per 20 ms
ok = sum(1 for i in range(1, calls + 1)
         if json.load(open(os.path.join(tmp, "%d.json" % i))).get("ok"))
gaps = [json.load(open(os.path.join(tmp, "%d.json" % i))).get("max_gap_ms", 0) for i in range(1, calls + 1)]
print("calls=%d ok=%d active during window=%d window=%.1f s" % (calls, ok, active, wall))
print("bridge CPU: %.3f s in %.1f s = %.2f %% of a core per call" % (cpu, wall, 100 * per_call))
print("codec floor (BM_CodecFloor): %.1f us per 20 ms = %.2f %% of a core per call" % (floor_ns / 1000, 100 * floor))
print("ratio bridge / codec floor: %.2f" % (per_call / floor))
print("largest receive gap at any caller: %.1f ms" % max(gaps))
PY
kill -TERM $pid
wait $pid || true
