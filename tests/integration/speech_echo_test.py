#!/usr/bin/env python3
"""Speech acceptance: a caller says a known sentence and must hear it back, recognisably.

espeak-ng says a twelve-word sentence, opusenc turns it into 20 ms Opus packets, the callers
(pion: ICE-lite like WhatsApp; aiortc: full ICE) send it to the bridge and record what comes
back, and tests/peers/speech_check.py (pocketsphinx with a small grammar) counts how many of the
words it hears, in order. The checker itself is shown to fail first: silence, noise, another
sentence and the same words in reverse order all score low.

The bridge runs on 127.0.0.1 with AI_BACKEND=$SPEECH_TEST_BACKEND (default DEFAULT_BACKEND):
  echo      the echo assistant: replies with the caller's utterance after 600 ms of silence,
            sends audio (or silence) every 20 ms, stops talking when interrupted (barge-in);
  rtp-echo  returns each Opus packet at once; used to validate these tools. The echo-only
            assertions (reply after the utterance, barge-in) are skipped, and so is the word
            threshold under impairment (rtp-echo has no jitter buffer).

Printed as `ok - name (numbers)` / `not ok - name` lines and `speech: N passed, M failed`.

  tests/integration/speech_echo_test.py BUILD_DIR/wabridge
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "peers"))
import speech_check as sc  # noqa: E402
import bridge_process  # noqa: E402

# The echo assistant (AI_BACKEND=echo). "rtp-echo" validates the tools against a bridge without
# it (the echo-only checks are then skipped). SPEECH_TEST_BACKEND overrides.
DEFAULT_BACKEND = "echo"
BACKEND = os.environ.get("SPEECH_TEST_BACKEND", DEFAULT_BACKEND)
ECHO = BACKEND == "echo"

ARG = sys.argv[1] if len(sys.argv) > 1 else "build"
BUILD = os.path.dirname(ARG) if os.path.basename(ARG) == "wabridge" else ARG
BRIDGE = os.path.join(BUILD, "wabridge")
PION = os.path.join(BUILD, "pion_caller")
AIORTC = os.path.join(REPO, "tests", "peers", "aiortc_caller.py")

SPEECH_DB = -40.0  # a 20 ms frame at or above this RMS level is speech; below, silence
LEAD_S, TAIL_S = 0.5, 3.0  # silence before and after the sentence in the played file
# After the caller's last packet, wait for the reply: the echo assistant answers 600 ms after the
# utterance and takes as long as the utterance, so the reply can outlast the file's 3 s tail.
GRACE_S = 4.0 if ECHO else 0.3
MAX_GAP_MS = 60.0
BARGE_IN_MS = 40.0
FRAME_MS = 20
SOX_GEN = ["sox", "-V1", "-n", "-r", "48000", "-c", "1", "-b", "16"]  # + out file + effects


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def run(argv, timeout=120, **kw):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kw)
    if p.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (os.path.basename(argv[0]), p.returncode,
                                                   (p.stderr or p.stdout).strip()[-1500:]))
    return p.stdout


def start_bridge():
    return bridge_process.start_bridge(
        BRIDGE, AI_BACKEND=BACKEND, LOG_LEVEL="warn", RTP_PORT_MIN=30400, RTP_PORT_MAX=30600,
        MEDIA_TIMEOUT_SECONDS=5)


# --- audio -------------------------------------------------------------------------------------


class Audio:
    """Every file the cases use, made fresh from espeak-ng (deterministic) in a temp dir."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.sentence = self.path("sentence.wav")
        self.other = self.path("other.wav")
        sc.synthesise(sc.TEST_SENTENCE, self.sentence)
        sc.synthesise(sc.OTHER_SENTENCE, self.other)
        self.play_wav = self.path("play.wav")  # lead + sentence + tail
        self.concat(self.play_wav, [LEAD_S, self.sentence, TAIL_S])
        self.play_ogg = self.opusenc(self.play_wav)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def silence(self, seconds):
        out = self.path("silence-%.3f.wav" % seconds)
        if not os.path.exists(out):
            run(SOX_GEN + [out, "trim", "0", "%.3f" % seconds])
        return out

    def concat(self, out, parts):
        files = [self.silence(p) if isinstance(p, float) else p for p in parts]
        run(["sox", "-V1"] + files + [out])
        return out

    def opusenc(self, wav):
        """20 ms packets, one per Ogg page (what pion_caller -play needs), 24 kbit/s VBR."""
        out = wav[:-4] + ".ogg"
        run(["opusenc", "--quiet", "--framesize", "20", "--bitrate", "24", "--max-delay", "20", wav, out])
        return out

    def opusdec(self, ogg):
        out = ogg[:-4] + ".dec.wav"
        run(["opusdec", "--quiet", ogg, out])
        return out


def score(wav):
    r = sc.check(wav)
    print("# heard %r in %s" % (" ".join(r["words"]), os.path.basename(wav)))
    return r["matched"]


# --- timelines ---------------------------------------------------------------------------------


class CallTimeline:
    """pion_caller's -timeline, with the recording and the played file lined up on packets."""

    def __init__(self, path, played_wav, recorded_wav):
        with open(path) as f:
            self.tl = json.load(f)
        pre_skip = self.tl["play_pre_skip"] or 0
        # Frame k of these level lists is the audio of sent packet k / received slot k.
        self.sent_levels = sc.frame_levels(played_wav, lead=pre_skip)
        self.recv_levels = sc.frame_levels(recorded_wav)
        self.sent_at = {e["i"]: e["sent"] for e in self.tl["sent"]}
        ssrc = self.tl["received"][0]["ssrc"] if self.tl["received"] else None
        self.arrival = {e["ts"]: e["t"] for e in self.tl["received"] if e["ssrc"] == ssrc}
        self.ts0 = self.tl["record_first_ts"]
        check(self.ts0 is not None and self.arrival, "nothing came back")

    def send_time(self, k):
        """When sent packet k went out (ms since DTLS up); the next sent one if it was dropped."""
        for j in range(k, k + 50):
            if self.sent_at.get(j) is not None:
                return self.sent_at[j]
        raise AssertionError("no packet sent at or after index %d" % k)

    def arrival_time(self, f):
        """When received slot f arrived; a slot filled for a lost packet takes the next arrival."""
        for j in range(f, f + 50):
            t = self.arrival.get((self.ts0 + 960 * j) & 0xFFFFFFFF)
            if t is not None:
                return t
        raise AssertionError("no packet received at or after slot %d" % f)

    def slot_arrival(self, f):
        """When received slot f arrived, None for a slot filled for a lost packet."""
        return self.arrival.get((self.ts0 + 960 * f) & 0xFFFFFFFF)

    def sent_spans(self):
        return sc.speech_spans(self.sent_levels, SPEECH_DB)

    def recv_spans(self):
        return sc.speech_spans(self.recv_levels, SPEECH_DB)


def pion_call(port, tmp, name, play_ogg, extra=(), grace=GRACE_S):
    out, rec, tl = (os.path.join(tmp, name + s) for s in (".json", ".rec.ogg", ".timeline.json"))
    argv = [PION, "-url", "http://127.0.0.1:%d" % port, "-call-id", name, "-seconds", "60",
            "-play", play_ogg, "-record", rec, "-timeline", tl, "-grace", "%dms" % (grace * 1000),
            "-out", out] + list(extra)
    p = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    try:
        with open(out) as f:
            result = json.load(f)
    except (OSError, ValueError):
        result = {}
    keys = ("ok", "error", "dtls_connected_ms", "packets_generated", "packets_sent", "packets_dropped",
            "packets_reordered", "recv_packets", "max_gap_ms", "max_gap_sending_ms", "record_packets",
            "record_filled", "record_late", "packets_echoed")
    print("# %s: %s" % (name, json.dumps({k: result.get(k) for k in keys})))
    if p.returncode != 0 or not result.get("ok"):
        raise AssertionError("pion_caller failed (%d): %s %s"
                             % (p.returncode, result.get("error"), p.stderr[-1500:]))
    return result, rec, tl


# --- cases -------------------------------------------------------------------------------------


def case_checker_controls(audio, state):
    """speech_check must fail on what is not the sentence, and pass on the sentence through Opus."""
    a = audio
    noise_white, noise_pink = a.path("white.wav"), a.path("pink.wav")
    run(SOX_GEN + [noise_white, "synth", "5", "whitenoise", "vol", "0.3"])
    run(SOX_GEN + [noise_pink, "synth", "5", "pinknoise", "vol", "0.3"])
    reverse = a.path("reverse.wav")
    sc.synthesise(" ".join(reversed(sc.words_of(sc.TEST_SENTENCE))), reverse)
    clean = a.opusdec(a.opusenc(a.concat(a.path("clean.wav"), [LEAD_S, a.sentence, 1.0])))
    results = []
    for name, wav, ok in (("silence", a.silence(5.0), lambda n: n <= 2),
                          ("white noise", noise_white, lambda n: n <= 2),
                          ("pink noise", noise_pink, lambda n: n <= 2),
                          ("other sentence", a.other, lambda n: n <= 4),
                          ("sentence reversed", reverse, lambda n: n <= 4),
                          ("clean sentence via Opus", clean, lambda n: n >= 11)):
        n = score(wav)
        results.append((name, n, ok(n)))
    state["controls"] = results
    for name, n, good in results:
        print("%s - speech_check %s (%d/12 words)" % ("ok" if good else "not ok", name, n))
    return [good for _, _, good in results]


def case_pion_speech(port, tmp, audio, state):
    result, rec, tl = pion_call(port, tmp, "speech-pion", audio.play_ogg)
    state["pion"] = result
    check(result["recv_packets"] > 0 and result["record_packets"] > 0, "nothing came back")
    wav = audio.opusdec(rec)
    n = score(wav)
    detail = "%d/12 words, " % n + utterance_timing(CallTimeline(tl, audio.play_wav, wav))
    check(n >= 10, "only %d/12 words" % n)
    return detail


def utterance_timing(timeline):
    """Where the utterance came back. echo: after the caller's utterance ended, as long as it, and
    complete; rtp-echo: within a frame of when it was sent."""
    tx, rx = timeline.sent_spans(), timeline.recv_spans()
    print("# sent speech frames %s, received %s" % (tx, rx))
    check(len(tx) == 1, "the played file should hold one utterance: %s" % tx)
    check(rx, "no speech in the recording")
    tx_start, tx_end = timeline.send_time(tx[0][0]), timeline.send_time(tx[0][1] - 1)
    rx_start, rx_end = timeline.arrival_time(rx[0][0]), timeline.arrival_time(rx[-1][1] - 1)
    if ECHO:
        # The assistant answers after the utterance, with as much speech as it heard, and the
        # recording holds the whole reply.
        after = rx_start - tx_end
        detail = "reply %.0f ms after the caller stopped" % after
        check(after > 0, "reply started %.0f ms before the caller's speech ended" % -after)
        tx_len, rx_len = tx_end - tx_start, rx_end - rx_start
        check(abs(rx_len - tx_len) <= 0.2 * tx_len,
              "reply lasts %.0f ms, utterance %.0f ms" % (rx_len, tx_len))
        check(rx[-1][1] < len(timeline.recv_levels) - 5, "the reply was cut off by the hang-up")
    else:
        # rtp-echo returns each packet at once: the speech comes back within a frame, which
        # validates the send/arrival/recording alignment the echo checks rely on.
        lag = rx_start - tx_start
        detail = "onset echoed %+.1f ms" % lag
        check(-5 <= lag <= FRAME_MS + 5, "rtp-echo onset lag %.1f ms: timeline alignment is off" % lag)
    return detail


def case_aiortc_speech(port, tmp, audio, state):
    out, rec = os.path.join(tmp, "speech-aiortc.json"), os.path.join(tmp, "speech-aiortc.rec.wav")
    p = subprocess.run([sys.executable, AIORTC, "--url", "http://127.0.0.1:%d" % port,
                        "--call-id", "speech-aiortc", "--seconds", "60", "--play", audio.play_wav,
                        "--record", rec, "--grace", str(GRACE_S), "--out", out],
                       capture_output=True, text=True, timeout=120)
    try:
        with open(out) as f:
            result = json.load(f)
    except (OSError, ValueError):
        result = {}
    print("# speech-aiortc: %s" % json.dumps({k: result.get(k) for k in (
        "ok", "error", "ice_role", "packets_sent", "packets_received", "play_seconds")}))
    check(p.returncode == 0 and result.get("ok"),
          "aiortc_caller failed: %s %s" % (result.get("error"), p.stderr[-1500:]))
    check(result.get("packets_received", 0) > 0 and os.path.exists(rec), "nothing came back")
    n = score(rec)
    check(n >= 10, "only %d/12 words" % n)
    return "%d/12 words" % n


def case_no_receive_gap(port, tmp, audio, state):
    r = state.get("pion")
    check(r, "the pion speech call did not run")
    whole, sending = r.get("max_gap_ms"), r.get("max_gap_sending_ms")
    check(whole is not None and sending is not None, "no gap measured: %r" % r)
    if ECHO:
        check(whole <= MAX_GAP_MS, "a %.1f ms gap in what the bridge sent" % whole)
        return "max gap %.1f ms" % whole
    # rtp-echo only returns what we send, so after our last packet it is silent by design.
    check(sending <= MAX_GAP_MS, "a %.1f ms gap while we were sending" % sending)
    return "max gap %.1f ms while sending; %.1f ms until hang-up" % (sending, whole)


def case_impaired_speech(port, tmp, audio, state):
    result, rec, _ = pion_call(port, tmp, "speech-impaired", audio.play_ogg,
                               ["-loss", "0.05", "-delay", "30ms", "-jitter", "20ms", "-seed", "1"])
    gen, dropped, sent = result["packets_generated"], result["packets_dropped"], result["packets_sent"]
    check(gen == sent + dropped, "generated %d != sent %d + dropped %d" % (gen, sent, dropped))
    check(0.01 * gen <= dropped <= 0.12 * gen, "%d/%d dropped at loss 0.05" % (dropped, gen))
    check(result["packets_reordered"] > 0, "jitter 20 ms reordered nothing")
    n = score(audio.opusdec(rec))
    detail = "%d/12 words, %d/%d dropped, %d reordered" % (n, dropped, gen, result["packets_reordered"])
    if not ECHO:
        check(result["packets_echoed"] == sent,
              "rtp-echo returned %d of %d" % (result["packets_echoed"], sent))
        return detail, ("the 9/12 threshold needs the echo backend's jitter buffer (rtp-echo returns "
                        "packets in arrival order and skips lost ones)")
    check(n >= 9, "only %d/12 words under 5%% loss and 30±20 ms jitter" % n)
    return detail


def case_barge_in(port, tmp, audio, state):
    if not ECHO:
        return None, "needs echo backend"
    # A, then silence until about 1 s into the assistant's playback of A (it starts 600 ms after
    # A ends), then B while it is still talking.
    wav = audio.concat(audio.path("barge.wav"), [LEAD_S, audio.sentence, 1.6, audio.other, 1.5])
    _, rec, tl = pion_call(port, tmp, "speech-barge-in", audio.opusenc(wav), grace=0.5)
    stop_ms, first_silent_ms = barge_in_timing(CallTimeline(tl, wav, audio.opusdec(rec)))
    detail = "%.1f ms (first silent packet %.1f ms)" % (stop_ms, first_silent_ms)
    check(stop_ms <= BARGE_IN_MS, "playback went on %.1f ms after the caller spoke: %s" % (stop_ms, detail))
    return detail


def barge_in_timing(timeline):
    """From the first packet of B's speech we sent to the last voiced packet received before the
    received audio stays silent until B ends, and to the first silent one after it (ms)."""
    tx = timeline.sent_spans()
    check(len(tx) == 2, "the played file should hold two utterances: %s" % tx)
    b_onset = timeline.send_time(tx[1][0])
    b_end = timeline.send_time(tx[1][1] - 1)
    levels = timeline.recv_levels
    arrivals = [timeline.slot_arrival(f) for f in range(len(levels))]
    # The assistant must have been talking when B started.
    talking = [f for f, t in enumerate(arrivals)
               if t is not None and b_onset - 300 <= t <= b_onset and levels[f] >= SPEECH_DB]
    check(talking, "the assistant was not talking in the 300 ms before B started (at %.0f ms)" % b_onset)
    # The last voiced packet after which the audio stays silent until B has ended (the assistant
    # may answer B only after that).
    first = next(f for f, t in enumerate(arrivals) if t is not None and t >= b_onset - 300)
    last_voiced = None
    for f in range(first, len(levels)):
        t = arrivals[f]
        if t is not None and t > b_end:
            break
        if levels[f] >= SPEECH_DB:
            last_voiced = f
    check(last_voiced is not None, "no speech received around B's onset")
    return (timeline.arrival_time(last_voiced) - b_onset, timeline.arrival_time(last_voiced + 1) - b_onset)


def case_go_unit_tests(port, tmp, audio, state):
    """pion_caller's helpers (Ogg, impairment, gaps) have Go tests; run them with the build's overlay."""
    gopath = os.environ.get("PION_GOPATH", os.path.join(REPO, "build", "gopath"))
    if shutil.which("go") is None or not os.path.isdir(os.path.join(gopath, "src")):
        return None, "no Go toolchain or GOPATH overlay (tools/build_pion_caller.sh)"
    env = dict(os.environ, GOPATH=gopath, GO111MODULE="off", GOPROXY="off", GOFLAGS="", GOTOOLCHAIN="local",
               GOCACHE=os.environ.get("GOCACHE", os.path.join(gopath, "cache")), CGO_ENABLED="0")
    out = run(["go", "test", "-count=1", "-v", "."], timeout=300, env=env,
              cwd=os.path.join(REPO, "tests", "peers", "pion_caller"))
    passed = out.count("--- PASS")
    check(passed > 0 and "--- FAIL" not in out, out[-2000:])
    return "%d Go tests" % passed


def main():
    print("# backend: %s" % BACKEND)
    missing = [t for t in ("espeak-ng", "sox", "soxi", "opusenc", "opusdec", "pocketsphinx_continuous")
               if shutil.which(t) is None]
    for path in (BRIDGE, PION):
        if not os.access(path, os.X_OK):
            missing.append(path)
    if missing:
        print("not ok - speech tools present (missing: %s; see tools/deps.sh, make build/pion_caller)"
              % ", ".join(missing))
        print("speech: 0 passed, 1 failed")
        return 1
    started = time.monotonic()
    passed = failed = 0
    state = {}
    proc, port = start_bridge()
    with tempfile.TemporaryDirectory(prefix="speech-test.") as tmp:
        try:
            audio = Audio(tmp)
        except Exception:
            traceback.print_exc(file=sys.stdout)
            audio = None
        if audio is None:
            print("not ok - speech audio generated")
            failed += 1
        else:
            try:
                for good in case_checker_controls(audio, state):
                    passed, failed = passed + good, failed + (not good)
            except Exception:
                print("not ok - speech_check controls")
                traceback.print_exc(file=sys.stdout)
                failed += 1
            for name, fn in (("pion speech echo", case_pion_speech),
                             ("aiortc speech echo", case_aiortc_speech),
                             ("no receive gap over %d ms" % MAX_GAP_MS, case_no_receive_gap),
                             ("pion impaired speech echo", case_impaired_speech),
                             ("barge-in", case_barge_in),
                             ("pion caller helpers", case_go_unit_tests)):
                if bridge_process.run_case(name, fn, port, tmp, audio, state):
                    passed += 1
                else:
                    failed += 1
    code, err = bridge_process.stop_bridge(proc)
    if code != 0:
        print("not ok - bridge exit status %s" % code)
        print(err[-3000:])
        failed += 1
    print("# %.1f s" % (time.monotonic() - started))
    print("speech: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
