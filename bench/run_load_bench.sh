#!/usr/bin/env bash
# Load, latency and capacity: build/load_bench against a fresh bridge for each call count.
#
#   bench/run_load_bench.sh BUILD_DIR "25 50 100" [SECONDS] [OUT_DIR]
#
# For each N: a bridge (AI_BACKEND=openai, ICE on 127.0.0.1) pointed at the harness's lean fake
# Realtime server, N WhatsApp-shaped calls placed 20 ms apart, a settle of 3 s, then a window of
# SECONDS (default 20) in which everything is measured. One JSON per N goes to OUT_DIR (default
# build/load), and a Markdown table of the headline figures is printed at the end. REPEATS=k
# runs each count k times (rows in run order); BRIDGE_BIN runs another bridge binary (for
# before/after comparisons) with the same harness; BRIDGE_ENV="NAME=value ..." adds settings. "holds" is the capacity criterion: loop lag
# p99 under 5 ms, no pacing slot more than 10 ms late and none skipped in the window.
set -euo pipefail
out=$1
counts=${2:-"25 50 100"}
seconds=${3:-20}
dir=${4:-$out/load}
cd "$(dirname "$0")/.."
mkdir -p "$dir"
# With two cores or more the bridge gets core 0 and the harness core 1, so "per core" means one
# core and the harness never competes with the bridge for it.
pin_bridge=() pin_harness=()
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
    pin_bridge=(taskset -c 0) pin_harness=(taskset -c 1)
fi
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

repeats=${REPEATS:-1}
runs=()
for n in $counts; do
  for r in $(seq "$repeats"); do
    tag=$n; [ "$repeats" -gt 1 ] && tag=$n-$r
    runs+=("$tag")
    port=$(free_port)
    fake=$(free_port)
    # shellcheck disable=SC2086 # BRIDGE_ENV is a list of NAME=value words
    env PORT=$port BIND_ADDRESS=127.0.0.1 ICE_BIND_ADDRESSES=127.0.0.1 AI_BACKEND=openai \
        OPENAI_API_KEY=sk-load-bench OPENAI_REALTIME_URL="ws://127.0.0.1:$fake/v1/realtime" \
        OPENAI_TRANSCRIPTION_MODEL=none LOG_LEVEL=warn DRAIN_SECONDS=1 MAX_SESSIONS=2000 \
        RTP_PORT_MIN=30000 RTP_PORT_MAX=34999 ${BRIDGE_ENV:-} "${pin_bridge[@]}" \
        "${BRIDGE_BIN:-$out/wabridge}" 2> "$dir/bridge-$tag.log" &
    pid=$!
    for _ in $(seq 50); do (echo > /dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
    status=0
    "${pin_harness[@]}" "$out/load_bench" --bridge-port "$port" --bridge-pid "$pid" --fake-port "$fake" --calls "$n" \
        --seconds "$seconds" --json "$dir/load-$tag.json" > /dev/null 2> "$dir/harness-$tag.log" ||
        status=$?
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    echo "N=$tag done (harness exit $status)" >&2
  done
done

python3 - "$dir" "${runs[@]}" <<'PY'
import json, os, sys
d, counts = sys.argv[1], sys.argv[2:]
def q(h, k):
    v = h.get(k)
    return "–" if v is None else ("%g" % v if not isinstance(v, str) else v)
print("| calls | holds | connected | bridge CPU / call | codec floor / call | ratio | bridge CPU total | harness CPU | "
      "loop lag p99 | pacer late p99 / >10 ms / skipped | RSS / call | uplink added p50/p99 | "
      "downlink p50/p99 | barge-in flush p50/p99 | offer→answer p99 | ICE+DTLS p50/p99 |")
print("|" + "---|" * 16)
for n in counts:
    p = os.path.join(d, "load-%s.json" % n)
    if not os.path.exists(p):
        print("| %s | (no result) |" % n + " |" * 14)
        continue
    r = json.load(open(p))
    pl = r["pacer_lateness"]
    lag99 = r["loop_lag"].get("p99_le_ms", 0)
    holds = (not isinstance(lag99, str) and lag99 < 5 and pl.get("over_10ms", 0) == 0
             and r["pacer_skipped_slots"] == 0 and r["connected"] == r["calls"])
    print("| %d | %s | %d | %.3f %% | %.3f %% | **%.2f** | %.0f %% | %.0f %% | ≤ %s ms | ≤ %s ms / %d / %d | %.0f KiB | "
          "≤ %s / ≤ %s ms | ≤ %s / ≤ %s ms | ≤ %s / ≤ %s ms | %.1f ms | %.1f / %.1f ms |" % (
        r["calls"], "yes" if holds else "no", r["connected"], r["bridge_cpu_per_call_pct"], r["codec_floor_per_call_pct"],
        r["ratio_bridge_to_floor"], r["bridge_cpu_total_pct"], r["harness_cpu_total_pct"],
        q(r["loop_lag"], "p99_le_ms"), q(pl, "p99_le_ms"), pl.get("over_10ms", 0), r["pacer_skipped_slots"],
        r["rss_per_call_kib"], q(r["uplink_added"], "p50_le_ms"), q(r["uplink_added"], "p99_le_ms"),
        q(r["downlink_delta_to_rtp"], "p50_le_ms"), q(r["downlink_delta_to_rtp"], "p99_le_ms"),
        q(r["barge_in_flush"], "p50_le_ms"), q(r["barge_in_flush"], "p99_le_ms"),
        r["offer_to_answer"].get("p99_ms", 0), r["ice_dtls_connect"].get("p50_ms", 0),
        r["ice_dtls_connect"].get("p99_ms", 0)))
PY
