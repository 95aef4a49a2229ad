#!/usr/bin/env bash
# The bridge's own latency on the OpenAI side, from its histograms, with CALLS concurrent
# WhatsApp-shaped pion calls against the fake Realtime server (tests/fakes/), all on 127.0.0.1:
#   uplink:   caller RTP packet arrival → the append carrying its audio written to the socket
#             (includes the jitter buffer's delay and the wait for a 40 ms append to fill);
#   downlink: a reply delta received while the playout queue is empty → the first RTP packet
#             built from it (the wait for the next 20 ms pacing slot, plus the work).
# Percentiles are read from the Prometheus buckets (the bucket's upper bound), means are exact.
#   bench/run_openai_bench.sh BUILD_DIR [CALLS]
set -euo pipefail
out=$1
calls=${2:-5}
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
tests/fakes/openai_realtime_fake.py --port 0 --summary "$tmp/fake.json" > "$tmp/fake.out" 2>&1 &
fake=$!
for _ in $(seq 50); do grep -q LISTENING "$tmp/fake.out" 2>/dev/null && break; sleep 0.1; done
fport=$(awk '/LISTENING/ {print $2}' "$tmp/fake.out")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
PORT=$port BIND_ADDRESS=127.0.0.1 ICE_BIND_ADDRESSES=127.0.0.1 AI_BACKEND=openai LOG_LEVEL=warn \
    OPENAI_API_KEY=sk-bench OPENAI_REALTIME_URL="ws://127.0.0.1:$fport/v1/realtime" \
    DRAIN_SECONDS=1 RTP_PORT_MIN=32600 RTP_PORT_MAX=32800 "$out/wabridge" &
pid=$!
trap 'kill $pid $fake 2>/dev/null || true; rm -rf "$tmp"' EXIT
for _ in $(seq 50); do (echo > /dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done

espeak-ng -v en-us+edward -w "$tmp/s.wav" "yellow zebras carry heavy wooden boxes across frozen rivers slowly before saturday"
sox -V1 -n -r 22050 -c 1 "$tmp/lead.wav" trim 0 0.5
sox -V1 -n -r 22050 -c 1 "$tmp/tail.wav" trim 0 7
sox -V1 "$tmp/lead.wav" "$tmp/s.wav" "$tmp/tail.wav" -r 48000 -b 16 "$tmp/talk.wav"
opusenc --quiet --framesize 20 --bitrate 24 --max-delay 20 "$tmp/talk.wav" "$tmp/talk.ogg"
for i in $(seq "$calls"); do
    "$out/pion_caller" -url "http://127.0.0.1:$port" -call-id "oa-bench-$i" -play "$tmp/talk.ogg" \
        -grace 500ms -out "$tmp/$i.json" >/dev/null 2>&1 &
done
wait $(jobs -p | grep -vE "^($pid|$fake)$") 2>/dev/null || true
curl -s "http://127.0.0.1:$port/metrics" > "$tmp/metrics.txt"
python3 - "$tmp" "$calls" <<'PY'
import json, os, sys
tmp, calls = sys.argv[1], int(sys.argv[2])
text = open(os.path.join(tmp, "metrics.txt")).read().splitlines()
def hist(name):
    buckets, total, count = [], 0.0, 0
    for l in text:
        if l.startswith(name + "_bucket{le=\""):
            le = l.split('le="')[1].split('"')[0]
            buckets.append((float("inf") if le == "+Inf" else float(le), float(l.split()[-1])))
        elif l.startswith(name + "_sum "):
            total = float(l.split()[-1])
        elif l.startswith(name + "_count "):
            count = int(float(l.split()[-1]))
    def q(p):
        for le, c in buckets:
            if count and c >= p * count:
                return le
        return None
    return count, (total / count if count else None), q(0.5), q(0.99)
ok = sum(1 for i in range(1, calls + 1) if json.load(open(os.path.join(tmp, "%d.json" % i))).get("ok"))
print("calls=%d ok=%d" % (calls, ok))
for label, name in (("uplink (RTP arrival -> append written)", "wabridge_openai_uplink_latency_seconds"),
                    ("downlink (delta -> first RTP packet)", "wabridge_openai_downlink_latency_seconds")):
    n, mean, p50, p99 = hist(name)
    fmt = lambda v: "n/a" if v is None else ("%.1f ms" % (v * 1000) if v != float("inf") else "> max bucket")
    print("%-42s n=%d mean=%s p50<=%s p99<=%s" % (label, n, fmt(mean), fmt(p50), fmt(p99)))
PY
kill -TERM $pid $fake; wait $pid $fake 2>/dev/null || true
