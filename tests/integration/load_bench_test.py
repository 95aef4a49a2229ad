#!/usr/bin/env python3
"""The load bench's harness still measures a real bridge: build/load_bench (next to the binary in
argv[1]) runs 4 WhatsApp-shaped calls for 4 s against a bridge in OpenAI mode pointed at the
harness's lean fake, and every figure the benchmark reports must be there and plausible: calls
connected, packets both ways at 50/s, AI audio about half the time, appends reaching the fake,
barge-ins flushed, CPU and the codec floor measured. Not a performance test: no threshold here
is a speed."""
import json
import os
import subprocess
import sys
import tempfile

import bridge_process
from bridge_process import free_port, run_case

BINARY = sys.argv[1] if len(sys.argv) > 1 else "build/wabridge"
HARNESS = os.path.join(os.path.dirname(os.path.abspath(BINARY)), "load_bench")
CALLS, SECONDS = 4, 4


def test_harness_figures(tmp):
    fake = free_port()
    proc, port = bridge_process.start_bridge(
        BINARY, AI_BACKEND="openai", OPENAI_API_KEY="sk-load-test",
        OPENAI_REALTIME_URL="ws://127.0.0.1:%d/v1/realtime" % fake,
        OPENAI_TRANSCRIPTION_MODEL="none", LOG_LEVEL="warn")
    out = os.path.join(tmp, "load.json")
    try:
        run = subprocess.run([HARNESS, "--bridge-port", str(port), "--bridge-pid", str(proc.pid),
                              "--fake-port", str(fake), "--calls", str(CALLS), "--seconds",
                              str(SECONDS), "--settle", "2", "--json", out],
                             capture_output=True, text=True, timeout=60)
    finally:
        code, err = bridge_process.stop_bridge(proc)
    assert run.returncode == 0, "harness exit %d: %s" % (run.returncode, run.stderr[-2000:])
    assert code == 0, "bridge exit %s: %s" % (code, err[-2000:])
    r = json.load(open(out))
    assert r["connected"] == CALLS and r["failed"] == 0 and r["refused"] == 0, r
    p = r["packets"]
    expected = SECONDS * 50 * CALLS
    assert 0.95 * expected <= p["caller_sent"] <= 1.05 * expected, p
    assert 0.95 * expected <= p["caller_received"] <= 1.05 * expected, p
    assert p["srtp_failures"] == 0, p
    ai_share = p["caller_received_ai"] / p["caller_received"]
    assert 0.25 <= ai_share <= 0.75, "AI audio in %.2f of the packets" % ai_share
    f = r["fake"]
    assert f["connections"] == CALLS and f["bad_frames"] == 0, f
    # 20 ms appends (OPENAI_APPEND_MS): 50 a second per call, each 20 ms of 24 kHz PCM16 in
    # base64 (1280 characters).
    assert f["appends"] >= 0.9 * SECONDS * 50 * CALLS, f
    assert f["append_b64_bytes"] == 1280 * f["appends"], f
    assert r["uplink_added"]["count"] >= 0.9 * f["appends"], r["uplink_added"]
    assert r["barge_in_flush"]["count"] >= 1 and f["truncates"] >= 1, (r["barge_in_flush"], f)
    assert r["downlink_delta_to_rtp"]["count"] >= 1, r["downlink_delta_to_rtp"]
    assert r["bridge_cpu_per_call_pct"] > 0 and r["codec_floor_per_call_pct"] > 0, r
    floor = r["codec_floor"]
    assert 0 < floor["decode_us"] < floor["encode_audio_us"], floor
    assert r["offer_to_answer"]["count"] == CALLS and r["ice_dtls_connect"]["count"] == CALLS, r
    assert r["whole_calls"]["pacer_max_late"]["count"] == CALLS, r["whole_calls"]
    return "%d calls, %d/%d packets, AI %.0f %%, ratio %.2f" % (
        CALLS, p["caller_received"], expected, ai_share * 100, r["ratio_bridge_to_floor"])


def main():
    if not os.access(HARNESS, os.X_OK):
        print("not ok - load bench harness (%s not built)" % HARNESS)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        ok = run_case("load bench harness measures a real bridge", test_harness_figures, tmp)
    print("load bench: %d passed, %d failed" % (1 if ok else 0, 0 if ok else 1))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
