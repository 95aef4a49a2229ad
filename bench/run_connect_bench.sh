#!/usr/bin/env bash
# Call set-up time against a real bridge (AI_BACKEND=rtp-echo, everything on 127.0.0.1):
# N WhatsApp-shaped ICE-lite pion calls, one after another; from the POST to ICE connected and
# to DTLS connected, as the caller measures it and as the bridge records it.
#   bench/run_connect_bench.sh BUILD_DIR [CALLS]
set -euo pipefail
out=$1
calls=${2:-50}
cd "$(dirname "$0")/.."
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
PORT=$port BIND_ADDRESS=127.0.0.1 ICE_BIND_ADDRESSES=127.0.0.1 AI_BACKEND=rtp-echo LOG_LEVEL=warn \
    DRAIN_SECONDS=1 RTP_PORT_MIN=31000 RTP_PORT_MAX=31500 "$out/wabridge" &
pid=$!
tmp=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$tmp"' EXIT
for _ in $(seq 50); do (echo > /dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
for i in $(seq "$calls"); do
    "$out/pion_caller" -url "http://127.0.0.1:$port" -call-id "bench-$i" -seconds 1 \
        -out "$tmp/$i.json" >/dev/null 2>&1 || true
    curl -s "http://127.0.0.1:$port/sessions/bench-$i" > "$tmp/$i.session.json" || true
done
python3 - "$tmp" "$calls" <<'PY'
import json, os, sys
tmp, calls = sys.argv[1], int(sys.argv[2])
def pct(v, p):
    v = sorted(v); return v[min(len(v) - 1, int(p * len(v)))]
caller_ice, caller_dtls, bridge_ice, bridge_dtls, ok = [], [], [], [], 0
for i in range(1, calls + 1):
    try:
        r = json.load(open(os.path.join(tmp, "%d.json" % i)))
        s = json.load(open(os.path.join(tmp, "%d.session.json" % i)))["session"]["media"]
    except (OSError, ValueError, KeyError):
        continue
    if r.get("ok") and r.get("echo_ratio", 0) >= 0.95:
        ok += 1
    if r.get("ice_connected_ms") is not None: caller_ice.append(r["ice_connected_ms"])
    if r.get("dtls_connected_ms") is not None: caller_dtls.append(r["dtls_connected_ms"])
    if s.get("iceConnectedMs") is not None: bridge_ice.append(s["iceConnectedMs"])
    if s.get("dtlsConnectedMs") is not None: bridge_dtls.append(s["dtlsConnectedMs"])
print("calls=%d ok=%d" % (calls, ok))
for name, v in (("caller: POST -> ICE connected", caller_ice), ("caller: POST -> DTLS connected", caller_dtls),
                ("bridge: session -> ICE connected", bridge_ice), ("bridge: session -> DTLS connected", bridge_dtls)):
    if v:
        print("%-36s p50=%.1f ms p99=%.1f ms max=%.1f ms (n=%d)" % (name, pct(v, .5), pct(v, .99), max(v), len(v)))
PY
kill -TERM $pid
wait $pid || true
