#!/usr/bin/env bash
# Offer -> answer latency over HTTP at 1 and 32 concurrent clients against a real bridge on
# 127.0.0.1 (each offer is followed by a DELETE, so the session count stays bounded).
#   bench/run_http_bench.sh BUILD_DIR [REQUESTS_PER_CLIENT]
set -euo pipefail
out=$1
n=${2:-2000}
cd "$(dirname "$0")/.."
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
PORT=$port BIND_ADDRESS=127.0.0.1 ICE_BIND_ADDRESSES=127.0.0.1 LOG_LEVEL=warn MAX_SESSIONS=100000 \
    DRAIN_SECONDS=1 "$out/wabridge" &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do (echo > /dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
offer=tests/data/sdp/whatsapp/wa-offer-01.sdp
"$out/offer_latency" "$port" 1 "$n" "$offer"
"$out/offer_latency" "$port" 32 $((n / 8)) "$offer"
cpu=$(awk '{print ($14+$15)/100}' /proc/$pid/stat)
echo "bridge CPU seconds for the whole run: $cpu"
kill -TERM $pid
wait $pid
