#!/usr/bin/env python3
"""End-to-end WebRTC acceptance: callers no one here wrote call the real bridge.

The bridge runs with AI_BACKEND=rtp-echo on 127.0.0.1 (ICE bound to loopback). Each caller
posts its offer to /sessions/{callId}/webrtc, connects (ICE, DTLS, SRTP), sends Opus for a few
seconds and counts what comes back. Printed as `ok - name` lines and a closing
`webrtc: N passed, M failed`.

  tests/integration/webrtc_echo_test.py BUILD_DIR/wabridge
"""
import json
import os
import subprocess
import sys
import tempfile
import time
import bridge_process  # noqa: E402
import urllib.request

ARG = sys.argv[1] if len(sys.argv) > 1 else "build"
# run_tests.sh passes the bridge binary; a build folder works too.
BUILD = os.path.dirname(ARG) if os.path.basename(ARG) == "wabridge" else ARG
SECONDS = int(os.environ.get("WEBRTC_TEST_SECONDS", "10"))


def start_bridge(**extra):
    settings = {"AI_BACKEND": "rtp-echo", "RTP_PORT_MIN": "30000", "RTP_PORT_MAX": "30200",
                "MEDIA_TIMEOUT_SECONDS": "3"}
    settings.update(extra)
    return bridge_process.start_bridge(os.path.join(BUILD, "wabridge"), **settings)


def get_json(port, path):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=5) as r:
        return json.loads(r.read())


def run_caller(argv, out, timeout):
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    try:
        with open(out) as f:
            result = json.load(f)
    except (OSError, ValueError):
        result = {}
    return proc, result


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def assert_echo(result, name, port, call_id, lite):
    check(result.get("ok") is True, "%s reported failure: %r" % (name, result))
    if lite:
        # WhatsApp-shaped: the caller is ICE-lite and controlled; the bridge nominated.
        check(result.get("ice_role") == "controlled", result)
        check(result.get("remote_nominated") is True, result)
    check(result["ice_connected_ms"] is not None and result["ice_connected_ms"] < 1000, result)
    check(result["dtls_connected_ms"] is not None and result["dtls_connected_ms"] < 1000, result)
    ratio = result.get("echo_ratio") or 0
    check(ratio >= 0.95, "echo ratio %.3f < 0.95: %r" % (ratio, result))
    for key in ("returned_ssrc_constant", "returned_seq_contiguous", "returned_ts_step_960"):
        if key in result and result[key] is not None:
            check(result[key] is True, "%s: %r" % (key, result))


def test_pion_lite_caller(port, tmp):
    binary = os.path.join(BUILD, "pion_caller")
    out = os.path.join(tmp, "pion.json")
    proc, result = run_caller([binary, "-url", "http://127.0.0.1:%d" % port, "-call-id", "pion-1",
                               "-seconds", str(SECONDS), "-out", out], out, SECONDS + 30)
    print("# pion: " + json.dumps(result))
    if proc.returncode != 0:
        print("# pion stderr: " + proc.stderr[-2000:])
    assert_echo(result, "pion", port, "pion-1", lite=True)
    session = get_json(port, "/sessions/pion-1")["session"]
    check(session["state"] == "ended" and session["endReason"] in ("deleted", "dtls_closed", "rtcp_bye"),
          session)
    media = session["media"]
    check(media["packetsReceived"] >= 0.95 * SECONDS * 50, media)
    check(media["srtpAuthFailures"] == 0 and media["srtpProfile"] != "", media)


def test_aiortc_full_ice_caller(port, tmp):
    out = os.path.join(tmp, "aiortc.json")
    proc, result = run_caller([sys.executable, "tests/peers/aiortc_caller.py", "--url",
                               "http://127.0.0.1:%d" % port, "--call-id", "aiortc-1", "--seconds",
                               str(SECONDS), "--out", out], out, SECONDS + 40)
    print("# aiortc: " + json.dumps(result))
    if proc.returncode != 0:
        print("# aiortc stderr: " + proc.stderr[-2000:])
    assert_echo(result, "aiortc", port, "aiortc-1", lite=False)


def test_caller_hanging_up_without_delete_ends_the_session(port, tmp):
    # pion closes its peer connection and exits without DELETE: the bridge must notice by itself
    # (DTLS close_notify, RTCP BYE, or at the latest MEDIA_TIMEOUT_SECONDS=3 without media).
    out = os.path.join(tmp, "pion-gone.json")
    proc, result = run_caller([os.path.join(BUILD, "pion_caller"), "-url", "http://127.0.0.1:%d" % port,
                               "-call-id", "pion-gone", "-seconds", "1", "-no-delete", "-out", out],
                              out, 40)
    check(result.get("ok") is True, result)
    deadline = time.time() + 6
    session = None
    while time.time() < deadline:
        session = get_json(port, "/sessions/pion-gone")["session"]
        if session["state"] == "ended":
            break
        time.sleep(0.2)
    print("# pion-gone ended: %s after %.1f s" % (session["endReason"], session["durationSeconds"]))
    check(session["state"] == "ended", session)
    check(session["endReason"] in ("dtls_closed", "rtcp_bye", "media_timeout"), session)


def wait_ended(port, call_id, seconds):
    deadline = time.time() + seconds
    session = None
    while time.time() < deadline:
        session = get_json(port, "/sessions/" + call_id)["session"]
        if session["state"] == "ended":
            break
        time.sleep(0.2)
    return session


def test_wrong_dtls_fingerprint_ends_the_call(port, tmp):
    # The caller's SDP fingerprint is not its certificate's: the bridge (DTLS client) must abort
    # the handshake, end the call with dtls_fingerprint_mismatch and count it.
    out = os.path.join(tmp, "pion-badfp.json")
    run_caller([os.path.join(BUILD, "pion_caller"), "-url", "http://127.0.0.1:%d" % port, "-call-id",
                "pion-badfp", "-seconds", "1", "-no-delete", "-connect-timeout", "5s",
                "-wrong-fingerprint", "-out", out], out, 40)
    session = wait_ended(port, "pion-badfp", 12)
    print("# pion-badfp: %s, media %s" % (session["endReason"], session["media"]["state"]))
    check(session["state"] == "ended" and session["endReason"] == "dtls_fingerprint_mismatch", session)
    check(session["media"]["srtpProfile"] == "" and session["media"]["packetsReceived"] == 0, session)
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
        text = r.read().decode()
    check("wabridge_dtls_fingerprint_mismatches_total 1" in text, "mismatch metric")


def test_unreachable_peer_ends_with_an_ice_reason(port, tmp):
    # WhatsApp's offer, with its only candidate on a dead loopback port: ICE must give up within
    # the 10 s limit and say so.
    offer = open("tests/data/sdp/whatsapp/wa-offer-01.sdp", newline="").read()
    lines = [l for l in offer.split("\r\n") if "2a03:2880" not in l]
    offer = "\r\n".join(lines).replace("57.144.215.49 3484", "127.0.0.1 9")
    req = urllib.request.Request("http://127.0.0.1:%d/sessions/dead-peer/webrtc" % port,
                                 data=json.dumps({"sdpOffer": offer}).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=5) as r:
        check(r.status == 200, r.status)
    session = wait_ended(port, "dead-peer", 14)
    print("# dead-peer: %s after %.1f s" % (session["endReason"], session["durationSeconds"]))
    check(session["endReason"] in ("ice_failed", "ice_timeout"), session)
    check(session["durationSeconds"] <= 11, session)


def pion(port, tmp, call_id, *flags, timeout=40):
    out = os.path.join(tmp, call_id + ".json")
    return run_caller([os.path.join(BUILD, "pion_caller"), "-url", "http://127.0.0.1:%d" % port,
                       "-call-id", call_id, "-out", out] + list(flags), out, timeout)


def test_rtcp_reports_flow_both_ways(port, tmp):
    # RFC 3550 §6.4: the bridge sends SR (it sends media) with a report block about the caller's
    # stream and its SDES CNAME; pion's interceptors send theirs. Both sides compute the round
    # trip from LSR/DLSR, and on loopback it is well under a millisecond or so.
    answer = os.path.join(tmp, "rtcp-answer.sdp")
    _, result = pion(port, tmp, "pion-rtcp", "-seconds", "8", "-answer-out", answer)
    check(result.get("ok") is True, result)
    r = result["rtcp"]
    print("# pion-rtcp: pion saw %r" % r)
    cname = [l.split("cname:")[1].strip() for l in open(answer).read().splitlines() if "cname:" in l]
    check(r["sender_reports"] >= 1 and r["malformed"] == 0, r)
    check(r["cnames"] == cname, (r["cnames"], cname))
    check(r["blocks_about_us"] >= 1 and r["max_fraction_lost"] == 0 and r["last_cumulative_lost"] == 0, r)
    check(r["max_jitter"] < 48 * 5, r)  # under 5 ms at 48 kHz on loopback
    check(r["rtt_ms"] is not None and 0 <= r["rtt_ms"] < 20, r)
    check(r["sr_packet_count"] >= 100, r)  # SR counts our packets: the pacer sends 50/s
    media = get_json(port, "/sessions/pion-rtcp")["session"]["media"]
    print("# pion-rtcp: bridge rttMs=%s jitterMs=%s packetsLost=%s" % (media["rttMs"], media["jitterMs"], media["packetsLost"]))
    check(media["rttMs"] is not None and 0 <= media["rttMs"] < 20, media)
    check(media["jitterMs"] < 5 and media["packetsLost"] == 0, media)


def test_caller_rtcp_bye_ends_the_call(port, tmp):
    _, result = pion(port, tmp, "pion-bye", "-seconds", "1", "-grace", "200ms", "-send-bye", "-no-delete")
    check(result.get("ok") is True and result.get("sent_bye") is True, result)
    session = wait_ended(port, "pion-bye", 5)
    print("# pion-bye: %s" % session["endReason"])
    check(session["endReason"] == "rtcp_bye", session)


def test_caller_going_silent_ends_with_media_timeout(port, tmp):
    # RTP stops after 1 s but the caller keeps the connection (no BYE, no close_notify) for 6 s:
    # MEDIA_TIMEOUT_SECONDS=3 must end the call first.
    _, result = pion(port, tmp, "pion-silent", "-seconds", "1", "-grace", "6s", "-no-delete")
    check(result.get("ok") is True, result)
    session = wait_ended(port, "pion-silent", 2)
    print("# pion-silent: %s after %.1f s" % (session["endReason"], session["durationSeconds"]))
    check(session["endReason"] == "media_timeout", session)
    check(3 <= session["durationSeconds"] - 1 <= 5.5, session)


def test_ipv6_call_on_loopback(_port, tmp):
    # IPv6 end to end: a bridge with ICE on ::1 only, the full-ICE aiortc caller on ::1 (pion's
    # ICE refuses ::1 as an "IPv4-compatible" address, so it cannot take this one).
    proc6, port6 = start_bridge(ICE_BIND_ADDRESSES="::1", RTP_PORT_MIN="30300", RTP_PORT_MAX="30350")
    try:
        out = os.path.join(tmp, "aiortc-v6.json")
        _, result = run_caller([sys.executable, "tests/peers/aiortc_caller.py", "--url",
                                "http://127.0.0.1:%d" % port6, "--call-id", "v6-1", "--seconds", "3",
                                "--ipv6", "--out", out], out, 40)
        print("# aiortc over ::1: pair %s, echo ratio %s" % (result.get("selected_pair"), result.get("echo_ratio")))
        check(result.get("ok") is True and result.get("echo_ratio", 0) >= 0.95, result)
        check([c.split()[4] for c in result["answer_candidates"]] == ["::1"], result["answer_candidates"])
        check(result["selected_pair"].startswith("::1:") and " <-> ::1:" in result["selected_pair"], result)
    finally:
        code, err = bridge_process.stop_bridge(proc6)
        check(code == 0, "IPv6 bridge exit %s: %s" % (code, err[-1000:]))


def test_metrics_after_calls(port, tmp):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
        text = r.read().decode()
    check("wabridge_sessions_ended_total{reason=" in text, "no ended sessions in metrics")
    for line in text.splitlines():
        if line.startswith("wabridge_srtp_auth_failures_total "):
            check(float(line.split()[1]) == 0, line)


def main():
    proc, port = start_bridge()
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for fn in (test_pion_lite_caller, test_aiortc_full_ice_caller,
                   test_caller_hanging_up_without_delete_ends_the_session,
                   test_wrong_dtls_fingerprint_ends_the_call,
                   test_unreachable_peer_ends_with_an_ice_reason, test_rtcp_reports_flow_both_ways,
                   test_caller_rtcp_bye_ends_the_call,
                   test_caller_going_silent_ends_with_media_timeout, test_ipv6_call_on_loopback,
                   test_metrics_after_calls):
            name = fn.__name__.replace("_", " ")
            if bridge_process.run_case(name, fn, port, tmp):
                passed += 1
            else:
                failed += 1
    code, err = bridge_process.stop_bridge(proc)
    if code != 0:
        print("not ok - bridge exit status %s" % code)
        print(err[-3000:])
        failed += 1
    print("webrtc: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
