#!/usr/bin/env python3
"""End to end with AI_BACKEND=openai against the fake Realtime server (tests/fakes/).

A WhatsApp-shaped pion caller speaks an espeak-ng sentence; the bridge decodes it, streams it to
the fake as input_audio_buffer.append; the fake's VAD ends the turn and it answers with another
espeak-ng sentence, faster than real time; the bridge paces it out as Opus. Checked: the fake
recognises the caller's words and the caller recognises the fake's (pocketsphinx, >= 10/12),
the fake found zero schema violations in everything the bridge sent, over ws:// and over wss://
(a test CA given to the bridge with OPENAI_CA_FILE); a barge-in truncates the reply to what the
caller actually heard; a socket the fake closes mid-call is reconnected within 2 s with the
conversation replayed; a wrong key ends the call with invalid_api_key.

  tests/integration/openai_bridge_test.py BUILD_DIR/wabridge
"""
import array
import glob
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

import speech_echo_test as st  # noqa: E402  (Audio, pion_call, CallTimeline, tools)
import bridge_process  # noqa: E402

sc = st.sc
check = st.check
FAKE = os.path.join(st.REPO, "tests", "fakes", "openai_realtime_fake.py")
sys.path.insert(0, os.path.dirname(FAKE))
import openai_realtime_fake as fake_mod  # noqa: E402
import whatsapp_graph_fake as graph_fake  # noqa: E402

REPLY = fake_mod.REPLY_SENTENCE


class Fake:
    def __init__(self, tmp, name, *args):
        self.dir = os.path.join(tmp, name)
        os.makedirs(self.dir, exist_ok=True)
        self.summary_path = os.path.join(self.dir, "summary.json")
        self.log_path = os.path.join(self.dir, "log.jsonl")
        self.proc = subprocess.Popen(
            [FAKE, "--port", "0", "--log", self.log_path, "--summary", self.summary_path,
             "--record-dir", os.path.join(self.dir, "rec")] + list(args),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().split()
        if line[:1] != ["LISTENING"]:
            raise AssertionError("fake did not start: %r %s" % (line, self.proc.stderr.read()))
        self.port = int(line[1])

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=10)
        with open(self.summary_path) as f:
            return json.load(f)

    def log(self):
        with open(self.log_path) as f:
            return [json.loads(l) for l in f if l.strip()]


def bridge(fake_url, **extra):
    settings = {"AI_BACKEND": "openai", "OPENAI_API_KEY": "sk-test", "OPENAI_REALTIME_URL": fake_url,
                "LOG_LEVEL": "info", "RTP_PORT_MIN": 30700, "RTP_PORT_MAX": 30800,
                "MEDIA_TIMEOUT_SECONDS": 5}
    settings.update(extra)
    return bridge_process.start_bridge(st.BRIDGE, **settings)


def session(port, call_id):
    with urllib.request.urlopen("http://127.0.0.1:%d/sessions/%s" % (port, call_id), timeout=5) as r:
        return json.loads(r.read())["session"]


def call(tmp, audio, fake, name, parts, extra_env=None, url=None, grace=1.0):
    proc, port = bridge(url or "ws://127.0.0.1:%d/v1/realtime" % fake.port, **(extra_env or {}))
    try:
        wav = audio.concat(audio.path(name + ".wav"), parts)
        result, rec, tl = st.pion_call(port, tmp, name, audio.opusenc(wav), grace=grace,
                                       extra=["-no-delete"])
        s = session(port, name)
    finally:
        code, err = bridge_process.stop_bridge(proc)
    check(code == 0, "bridge exit %s: %s" % (code, err[-2000:]))
    return result, rec, tl, wav, s, err


def heard_by_fake(fake_dir, expect=sc.TEST_SENTENCE):
    items = sorted(glob.glob(os.path.join(fake_dir, "rec", "conn1_item_*.wav")))
    check(items, "the fake recorded no caller turn")
    r = sc.check(items[0], expect)
    print("# fake heard %r" % " ".join(r["words"]))
    return r["matched"]


def case_ws_speech_both_ways(tmp, audio):
    fake = Fake(tmp, "ws")
    # The call events (CALL_EVENTS_URL) go to the Graph fake's signed-events receiver.
    receiver = graph_fake.GraphFake(events_secret="ev-secret")
    receiver.start()
    try:
        result, rec, _, _, s, _ = call(tmp, audio, fake, "oa-ws", [0.5, audio.sentence, 8.0],
                                       extra_env={"CALL_EVENTS_URL": receiver.events_url(),
                                                  "CALL_EVENTS_SECRET": "ev-secret"})
        finals = [e for e in receiver.events() if (e.get("json") or {}).get("type") == "transcript.final"]
    finally:
        receiver.stop()
    check(any(e["json"]["data"]["role"] == "assistant" and e["json"]["data"]["text"] == REPLY
              and e["json"]["callId"] == "oa-ws" and e["signature_valid"] for e in finals),
          "no signed transcript.final event with the reply: %r" % [e.get("json") for e in finals])
    summary = fake.stop()
    check(summary["violations"] == [], "schema violations: %r" % summary["violations"][:3])
    up = heard_by_fake(fake.dir)
    down = sc.check(audio.opusdec(rec), REPLY)["matched"]
    check(up >= 10, "the fake recognised %d/12 of the caller's words" % up)
    check(down >= 10, "the caller recognised %d/12 of the fake's words" % down)
    check(result["max_gap_ms"] is not None and result["max_gap_ms"] <= 60, result["max_gap_ms"])
    lines = (s.get("ai") or {}).get("transcripts", [])
    check(any(l["role"] == "assistant" and l["text"] == REPLY for l in lines), lines)
    n = summary["events_by_type"]
    check(n.get("session.update") == 1 and n.get("input_audio_buffer.append", 0) > 100, n)
    return "%d/12 up, %d/12 down, %d appends, 0 violations" % (up, down, n["input_audio_buffer.append"])


def case_wss_with_a_test_ca(tmp, audio):
    ca, cert, key = fake_mod.make_test_ca(os.path.join(tmp, "ca"))
    fake = Fake(tmp, "wss", "--tls-cert", cert, "--tls-key", key)
    _, rec, _, _, s, _ = call(tmp, audio, fake, "oa-wss", [0.5, audio.sentence, 8.0],
                              extra_env={"OPENAI_CA_FILE": ca},
                              url="wss://127.0.0.1:%d/v1/realtime" % fake.port)
    summary = fake.stop()
    check(summary["violations"] == [], summary["violations"][:3])
    down = sc.check(audio.opusdec(rec), REPLY)["matched"]
    check(down >= 10, "the caller recognised %d/12 of the fake's words over wss://" % down)
    return "%d/12 down over TLS" % down


def envelope(wav, tmp):
    """20 ms RMS envelope (dB) of a recording, resampled to 8 kHz mono by sox."""
    out = os.path.join(tmp, "env-%d.raw" % abs(hash(wav)))
    subprocess.run(["sox", wav, "-r", "8000", "-c", "1", "-b", "16", "-e", "signed", "-t", "raw", out],
                   check=True, capture_output=True)
    samples = array.array("h")
    with open(out, "rb") as f:
        samples.frombytes(f.read())
    env = []
    for i in range(0, len(samples) - 160, 160):
        frame = samples[i:i + 160]
        rms = math.sqrt(sum(x * x for x in frame) / 160.0)
        env.append(20 * math.log10(max(rms, 1.0)))
    return env


def envelope_match(recording, reference, pad=150):
    """Best Pearson correlation of the reference envelope against every window of the recording
    (padded with 3 s of silence each side, so a reference longer than the recording still fits)."""
    longer = [0.0] * pad + list(recording) + [0.0] * pad
    n = len(reference)
    my = sum(reference) / n
    syy = sum((q - my) ** 2 for q in reference)
    best = -1.0
    for off in range(0, len(longer) - n + 1):
        x = longer[off:off + n]
        mx = sum(x) / n
        sxx = sum((p - mx) ** 2 for p in x)
        if sxx <= 0 or syy <= 0:
            continue
        sxy = sum((p - mx) * (q - my) for p, q in zip(x, reference))
        best = max(best, sxy / math.sqrt(sxx * syy))
    return best


def case_g711_and_turn_detection_settings(tmp, audio):
    """OPENAI_AUDIO_FORMAT=pcmu and the OPENAI_VAD_* settings reach the fake as sent, and speech
    crosses both ways through G.711 at 8 kHz (resampled by speexdsp). Telephone-band audio is
    beyond the 16 kHz recogniser (the sentence itself, sox-converted to 8 kHz u-law, scores 0/12),
    so the check is the loudness envelope against the audio actually sent, with another sentence
    as the control that must not match."""
    fake = Fake(tmp, "pcmu")
    env = {"OPENAI_AUDIO_FORMAT": "pcmu", "OPENAI_VAD_THRESHOLD": "0.45",
           "OPENAI_VAD_PREFIX_PADDING_MS": "250", "OPENAI_VAD_SILENCE_MS": "600"}
    _, rec, _, _, _, _ = call(tmp, audio, fake, "oa-pcmu", [0.5, audio.sentence, 8.0], extra_env=env)
    summary = fake.stop()
    check(summary["violations"] == [], "schema violations: %r" % summary["violations"][:3])
    updates = [e for e in fake.log() if e.get("kind") == "client" and e.get("type") == "session.update"]
    check(len(updates) == 1, updates)
    sess = updates[0]["session"]
    td = sess["turn_detection"]
    check(td["type"] == "server_vad" and td["threshold"] == 0.45 and td["prefix_padding_ms"] == 250
          and td["silence_duration_ms"] == 600, td)
    check(sess["input_format"] == {"type": "audio/pcmu"} and sess["output_format"] == {"type": "audio/pcmu"},
          sess)
    heard = sorted(glob.glob(os.path.join(fake.dir, "rec", "conn1_item_*.wav")))
    replies = sorted(glob.glob(os.path.join(fake.dir, "rec", "conn1_resp_*_reply.wav")))
    check(heard and replies, "the fake recorded no turn or sent no reply")
    said, other = envelope(audio.sentence, tmp), envelope(audio.other, tmp)
    up = envelope_match(envelope(heard[0], tmp), said)
    up_control = envelope_match(envelope(heard[0], tmp), other)
    reply = envelope(replies[0], tmp)
    down = envelope_match(envelope(audio.opusdec(rec), tmp), reply)
    down_control = envelope_match(envelope(audio.opusdec(rec), tmp), said)
    check(up >= 0.85 and up_control < up - 0.2,
          "uplink envelope match %.2f (control %.2f)" % (up, up_control))
    check(down >= 0.85 and down_control < down - 0.2,
          "downlink envelope match %.2f (control %.2f)" % (down, down_control))
    return "envelope match up %.2f (control %.2f), down %.2f (control %.2f) over u-law" % (
        up, up_control, down, down_control)


def case_request_turn_detection_reaches_openai(tmp, audio):
    """A request's turnDetection overrides the OPENAI_VAD_* settings for its call only."""
    fake = Fake(tmp, "reqvad")
    proc, port = bridge("ws://127.0.0.1:%d/v1/realtime" % fake.port, OPENAI_VAD_SILENCE_MS="700")
    try:
        with open(os.path.join(st.REPO, "tests", "data", "sdp", "whatsapp", "wa-offer-01.sdp"), newline="") as f:
            offer = f.read()
        for call_id, extra in (("req-vad", {"turnDetection": {"type": "semantic_vad", "eagerness": "low"}}),
                               ("env-vad", {})):
            body = dict({"sdpOffer": offer}, **extra)
            req = urllib.request.Request("http://127.0.0.1:%d/sessions/%s/webrtc" % (port, call_id),
                                         data=json.dumps(body).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=5) as r:
                check(r.status == 200, r.status)
        deadline = time.time() + 10
        while time.time() < deadline:
            if len([e for e in fake.log() if e.get("type") == "session.update"]) >= 2:
                break
            time.sleep(0.1)
    finally:
        bridge_process.stop_bridge(proc)
    fake.stop()
    tds = sorted((e["session"]["turn_detection"] for e in fake.log()
                  if e.get("kind") == "client" and e.get("type") == "session.update"),
                 key=lambda td: td["type"])
    check(len(tds) == 2, tds)
    check(tds[0]["type"] == "semantic_vad" and tds[0]["eagerness"] == "low", tds[0])
    check(tds[1]["type"] == "server_vad" and tds[1]["silence_duration_ms"] == 700, tds[1])
    return "semantic_vad/low from the request, server_vad/700 ms from the env for the other call"


def case_barge_in_truncates_to_what_was_heard(tmp, audio):
    fake = Fake(tmp, "barge")
    # Sentence A, then B while the reply to A is playing.
    _, rec, tl, wav, s, _ = call(tmp, audio, fake, "oa-barge",
                                 [0.5, audio.sentence, 1.8, audio.other, 6.0], grace=0.5)
    summary = fake.stop()
    check(summary["violations"] == [], summary["violations"][:3])
    truncs = [t for t in summary["truncates"] if t.get("ok")]
    check(len(truncs) >= 1, "no accepted truncate: %r" % summary["truncates"])
    t = truncs[0]
    timeline = st.CallTimeline(tl, wav, audio.opusdec(rec))
    tx = timeline.sent_spans()
    check(len(tx) >= 2, tx)
    b_onset = timeline.send_time(tx[1][0])
    rx = timeline.recv_spans()
    reply = [r for r in rx if timeline.arrival_time(r[0]) < b_onset + 200]
    check(reply, "no reply audio before B: %r" % rx)
    first = reply[-1][0] if len(reply) == 1 else reply[0][0]
    # The last voiced packet before the reply stayed silent (within B).
    last = max(f for f in range(first, len(timeline.recv_levels))
               if timeline.recv_levels[f] >= st.SPEECH_DB
               and (timeline.slot_arrival(f) or 0) <= timeline.send_time(tx[1][1] - 1))
    reply_wav = sorted(glob.glob(os.path.join(fake.dir, "rec", "conn1_resp_*_reply.wav")))[0]
    levels = sc.frame_levels(reply_wav)
    lead_ms = 20 * next(i for i, l in enumerate(levels) if l >= st.SPEECH_DB)
    heard_ms = (last - first + 1) * 20 + lead_ms
    diff = t["audio_end_ms"] - heard_ms
    print("# truncate audio_end_ms=%d, caller heard %d ms (reply lead %d ms)" % (t["audio_end_ms"], heard_ms, lead_ms))
    check(abs(diff) <= 60, "truncate %d ms vs heard %d ms" % (t["audio_end_ms"], heard_ms))
    # At the caller, the reply stops within 60 ms of the bridge getting speech_started (the
    # fake's send time, on the same host; loopback delivery is well under a millisecond).
    t0 = timeline.tl["t0_unix"]
    started = [e for e in fake.log() if e.get("kind") == "server"
               and e.get("type") == "input_audio_buffer.speech_started"
               and (e["t"] - t0) * 1000 > b_onset - 100]
    check(started, "no speech_started for B in the fake's log")
    ss_ms = (started[0]["t"] - t0) * 1000
    stop = timeline.arrival_time(last) + 20 - ss_ms
    print("# speech_started reached the bridge at %.0f ms; the reply's last voiced packet ended %.1f ms later" % (ss_ms, stop))
    check(stop <= 60, "the reply went on %.1f ms after speech_started" % stop)
    return "audio_end_ms %d vs %d ms heard (%+d); stopped %.0f ms after speech_started" % (
        t["audio_end_ms"], heard_ms, diff, stop)


def case_reconnect_after_the_fake_closes(tmp, audio):
    fake = Fake(tmp, "reconnect", "--close-after-seconds", "8", "--close-on", "first")
    result, rec, _, _, s, _ = call(tmp, audio, fake, "oa-reconnect", [0.5, audio.sentence, 10.0])
    summary = fake.stop()
    conns = summary["per_connection"]
    check(len(conns) == 2, "connections: %d" % len(conns))
    gap = conns[1]["t_open"] - conns[0]["t_close"]
    check(gap < 2.0, "reconnected after %.2f s" % gap)
    replayed = conns[1]["events_by_type"].get("conversation.item.create", 0)
    check(replayed >= 2, "replayed items: %r" % conns[1]["events_by_type"])
    check(conns[1]["events_by_type"].get("session.update") == 1, conns[1]["events_by_type"])
    check(s["ai"]["reconnects"] == 1, s["ai"])
    check(s["endReason"] in (None, "dtls_closed", "deleted") or s["state"] != "ended", s["endReason"])
    check(result["max_gap_ms"] <= 60, "the caller's audio paused %.1f ms" % result["max_gap_ms"])
    check(summary["violations"] == [], summary["violations"][:3])
    return "back in %.0f ms, %d items replayed" % (gap * 1000, replayed)


def case_wrong_key_ends_the_call(tmp, audio):
    fake = Fake(tmp, "badkey", "--bad-key", "sk-bad")
    proc, port = bridge("ws://127.0.0.1:%d/v1/realtime" % fake.port, OPENAI_API_KEY="sk-bad")
    try:
        wav = audio.concat(audio.path("badkey.wav"), [0.5, audio.sentence])
        subprocess.run([st.PION, "-url", "http://127.0.0.1:%d" % port, "-call-id", "oa-badkey",
                        "-play", audio.opusenc(wav), "-no-delete", "-grace", "200ms",
                        "-out", os.path.join(tmp, "badkey.json")], capture_output=True, timeout=60)
        deadline = time.time() + 10
        s = session(port, "oa-badkey")
        while s["state"] != "ended" and time.time() < deadline:
            time.sleep(0.2)
            s = session(port, "oa-badkey")
        with urllib.request.urlopen("http://127.0.0.1:%d/health" % port, timeout=5) as r:
            health = json.loads(r.read())
    finally:
        code, _ = bridge_process.stop_bridge(proc)
    fake.stop()
    check(s["endReason"] == "invalid_api_key", s["endReason"])
    check(health["status"] == "healthy", health)
    check(code == 0, code)
    return "ended invalid_api_key after %.1f s" % s["durationSeconds"]


def main():
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="openai-test.") as tmp:
        audio = st.Audio(tmp)
        for name, fn in (("speech both ways over ws://", case_ws_speech_both_ways),
                         ("speech over wss:// with a test CA", case_wss_with_a_test_ca),
                         ("G.711 and turn detection settings", case_g711_and_turn_detection_settings),
                         ("a request's turnDetection reaches OpenAI", case_request_turn_detection_reaches_openai),
                         ("barge-in truncates to what the caller heard",
                          case_barge_in_truncates_to_what_was_heard),
                         ("reconnect after the fake closes mid-call", case_reconnect_after_the_fake_closes),
                         ("wrong key ends the call", case_wrong_key_ends_the_call)):
            if bridge_process.run_case(name, fn, tmp, audio):
                passed += 1
            else:
                failed += 1
    print("openai: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
