#!/usr/bin/env python3
"""make demo: one complete local call, with no key and no network.

    tools/demo.py BUILD_DIR [--mode echo|openai-fake] [--out DIR]

The bridge (BUILD_DIR/wabridge) runs on 127.0.0.1 with ICE on loopback only. The WhatsApp-shaped
pion caller (BUILD_DIR/pion_caller: ICE-lite, actpass, Opus 20 ms, like Meta's relay) calls it
through the HTTP API, says an espeak-ng sentence, records what comes back, and hangs up.

  echo         AI_BACKEND=echo: the local echo assistant plays each utterance back after the
               caller has been silent for 600 ms.
  openai-fake  AI_BACKEND=openai against tests/fakes/openai_realtime_fake.py on ws://127.0.0.1
               (key "sk-demo"): the fake's server VAD ends the caller's turn, pocketsphinx
               transcribes it, and the fake answers with another espeak-ng sentence (faster than
               real time), which the bridge paces out to the caller as Opus.

Prints a short summary (connect times, what each side said and what was recognised, latency,
quality) from the caller's result and timeline, the bridge's GET /sessions/{id}, the fake's log
and pocketsphinx (tests/peers/speech_check.py), and writes into DIR (default BUILD_DIR/demo):

  caller_said.wav   what the caller sent (its Opus packets, decoded)
  caller_heard.wav  what the caller received (its recording, decoded)
  ai_heard.wav      openai-fake: everything the bridge streamed to the fake (24 kHz)
  ai_said.wav       openai-fake: the reply audio the fake sent
  pion.json, timeline.json, session.json, bridge.log (+ fake_summary.json, fake_log.jsonl)

Exit status 0 when the call connected and speech came back; 1 otherwise, with the reason; 2 when
a tool or binary is missing. Takes about 17 s in either mode.
"""
import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
for _sub in ("tests/fakes", "tests/peers", "tests/integration"):
    sys.path.insert(0, os.path.join(REPO, _sub))

import bridge_process  # noqa: E402  start_bridge / stop_bridge on 127.0.0.1
import speech_check as sc  # noqa: E402  synthesise, check (pocketsphinx), frame_levels, speech_spans
import speech_echo_test as st  # noqa: E402  Audio (espeak-ng -> Ogg Opus), CallTimeline, SPEECH_DB

# The fake server's harness (Fake: start, LISTENING port, summary) is the OpenAI test's.
import openai_bridge_test as oat  # noqa: E402

RTP_PORTS = (31000, 31100)  # away from the tests' ranges, so a demo can run beside `make test`
ECHO_WAIT_MS = 600  # the echo assistant's end-of-turn silence (README, "Audio")
TOOLS = ("espeak-ng", "sox", "soxi", "opusenc", "opusdec")
RECOGNISER = "pocketsphinx_continuous"


class DemoError(Exception):
    """The demo could not complete: the message says why."""


def http_get_json(port, path):
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback, never a proxy
    with opener.open("http://127.0.0.1:%d%s" % (port, path), timeout=5) as r:
        return json.loads(r.read())


def fmt_ms(v, digits=0):
    return "?" if v is None else ("%.*f ms" % (digits, v))


def quote(words, limit=100):
    text = " ".join(words) if isinstance(words, list) else words
    return '"%s"' % (text if len(text) <= limit else text[:limit - 3] + "...")


# --- the call ----------------------------------------------------------------------------------


def run_caller(pion, port, call_id, play_ogg, work, grace_s):
    """Runs the call; while it runs, samples GET /sessions/{id} every 200 ms (the jitter buffer and
    loss counters as they were while the caller was talking, not after it hung up). Returns the
    caller's result, its recording, its timeline and the samples [(unix time, session)]."""
    out, rec, tl = (os.path.join(work, n) for n in ("pion.json", "caller_heard.ogg", "timeline.json"))
    argv = [pion, "-url", "http://127.0.0.1:%d" % port, "-call-id", call_id, "-seconds", "60",
            "-play", play_ogg, "-record", rec, "-timeline", tl, "-grace", "%dms" % (grace_s * 1000),
            "-out", out]
    samples = []
    with open(os.path.join(work, "pion.stderr"), "w+") as err:
        p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err)
        deadline = time.monotonic() + 90
        while p.poll() is None and time.monotonic() < deadline:
            try:
                samples.append((time.time(), session_of(port, call_id)))
            except (OSError, ValueError, KeyError):
                pass  # not created yet (404), or already gone
            time.sleep(0.2)
        if p.poll() is None:
            p.kill()
        code = p.wait()
        err.seek(0)
        stderr = err.read().strip()
    try:
        with open(out) as f:
            result = json.load(f)
    except (OSError, ValueError):
        result = {}
    if code != 0 or not result.get("ok"):
        raise DemoError("the call failed: %s%s" % (result.get("error") or "pion_caller exit %d" % code,
                                                   ("\n" + stderr[-1500:]) if stderr else ""))
    return result, rec, tl, samples


def session_of(port, call_id):
    return http_get_json(port, "/sessions/" + urllib.request.quote(call_id, safe=""))["session"]


def recognise(wav, expect):
    """pocketsphinx's words and score, or None when it is not installed."""
    if shutil.which(RECOGNISER) is None:
        return None
    return sc.check(wav, expect)


def timeline_latency(tl_path, played_wav, heard_wav):
    """From the caller's timeline: when the caller's speech started/ended (send times of its first
    and last voiced packets) and when voiced audio came back (arrival of the first and last voiced
    packets), ms after DTLS came up; plus the timeline itself (for t0_unix)."""
    timeline = st.CallTimeline(tl_path, played_wav, heard_wav)
    tx, rx = timeline.sent_spans(), timeline.recv_spans()
    if not tx:
        raise DemoError("no speech in what the caller sent (espeak-ng/opusenc problem?)")
    said = (timeline.send_time(tx[0][0]), timeline.send_time(tx[-1][1] - 1))
    # The reply: the first voiced stretch that starts after the caller began talking.
    rx_after = [r for r in rx if timeline.arrival_time(r[0]) > said[0]]
    heard = None
    if rx_after:
        heard = (timeline.arrival_time(rx_after[0][0]), timeline.arrival_time(rx_after[-1][1] - 1))
    return timeline, said, heard


def echo_turns(bridge_log):
    turns = []
    for line in bridge_log.splitlines():
        try:
            j = json.loads(line)
        except ValueError:
            continue
        if j.get("msg") == "echo turn":
            turns.append(j)
    return turns


def bridge_setting(bridge_log, name, default):
    """A setting as the bridge logged it at start ("wabridge starting", config)."""
    for line in bridge_log.splitlines():
        try:
            j = json.loads(line)
        except ValueError:
            continue
        if j.get("msg") == "wabridge starting":
            return str((j.get("config") or {}).get(name, default))
    return default


def fake_think_ms(fake_log):
    """The fake's own share: its speech_stopped -> its first audio delta (its log, one clock)."""
    stopped = [e["t"] for e in fake_log if e.get("kind") == "server"
               and e.get("type") == "input_audio_buffer.speech_stopped"]
    deltas = [e["t"] for e in fake_log if e.get("kind") == "server" and e.get("type") == "response.output_audio.delta"]
    if not stopped or not deltas:
        return None
    return (deltas[0] - stopped[0]) * 1000.0


def fake_latencies(fake_log, timeline, said_onset_ms, heard_onset_ms, ai_heard_wav, ai_said_wav):
    """openai-fake: the bridge's share of the latency each way, on the host's one clock (the
    caller's timeline has t0_unix, the fake logs Unix times), to within a 20 ms frame.
    caller->AI: the caller sends its first voiced packet -> the append that completes that frame
    reaches the fake (SRTP, jitter buffer, Opus decode, 40 ms appends, WebSocket); the frame is
    found by level in what the fake received, so the fake's VAD start delay does not count.
    AI->caller: the fake sends its first audio delta -> the caller receives the packet with the
    reply's first voiced frame, less the reply's own leading silence (playout queue, the pacer's
    next slot, Opus encode, SRTP)."""
    t0 = timeline.tl.get("t0_unix")
    if not t0:
        return None, None
    up = down = None
    appends = [e for e in fake_log if e.get("kind") == "client" and e.get("type") == "input_audio_buffer.append"
               and e.get("conn", 1) == 1 and e.get("input_ms") is not None]
    if appends and ai_heard_wav:
        levels = sc.frame_levels(ai_heard_wav)
        onset = next((i for i, l in enumerate(levels) if l >= st.SPEECH_DB), None)
        if onset is not None:
            carrying = next((e for e in appends if e["input_ms"] >= 20 * (onset + 1)), None)
            if carrying is not None:
                up = (carrying["t"] - t0) * 1000.0 - said_onset_ms
    deltas = [e for e in fake_log if e.get("kind") == "server" and e.get("type") == "response.output_audio.delta"]
    if deltas and heard_onset_ms is not None and ai_said_wav:
        levels = sc.frame_levels(ai_said_wav)
        lead = next((i for i, l in enumerate(levels) if l >= st.SPEECH_DB), None)
        if lead is not None:
            down = heard_onset_ms - ((deltas[0]["t"] - t0) * 1000.0) - 20.0 * lead
    return up, down


# --- main --------------------------------------------------------------------------------------


def sentence_seconds(wav):
    return float(subprocess.run(["soxi", "-D", wav], capture_output=True, text=True, check=True).stdout)


def during_call(samples, t_from, t_to):
    """The GET /sessions samples taken between two Unix times that have the audio engine's view."""
    return [s for t, s in samples if t_from <= t <= t_to and (s.get("media") or {}).get("audio")]


def clear_out(out):
    os.makedirs(out, exist_ok=True)
    for name in ("caller_said.wav", "caller_heard.wav", "ai_heard.wav", "ai_said.wav", "pion.json",
                 "timeline.json", "session.json", "bridge.log", "fake_summary.json", "fake_log.jsonl"):
        if os.path.exists(os.path.join(out, name)):
            os.remove(os.path.join(out, name))


def demo(args):
    build = args.build_dir
    bridge_bin, pion = os.path.join(build, "wabridge"), os.path.join(build, "pion_caller")
    missing = [t for t in TOOLS if shutil.which(t) is None]
    missing += [p for p in (bridge_bin, pion) if not os.access(p, os.X_OK)]
    if missing:
        print("wabridge demo: missing %s (make deps; make %s %s)" % (", ".join(missing), bridge_bin, pion),
              file=sys.stderr)
        return 2
    out = args.out or os.path.join(build, "demo")
    clear_out(out)
    openai = args.mode == "openai-fake"
    started = time.monotonic()
    call_id = "wacid.DEMO-%s-%d" % (args.mode, int(time.time()))

    with tempfile.TemporaryDirectory(prefix="wabridge-demo.") as work:
        audio = st.Audio(work)  # the espeak-ng sentence, and the tools to make the played file
        # The caller keeps sending (silence after the sentence) until the reply is over, as a
        # phone does: the echo reply starts 600 ms after the sentence and lasts as long as it; the
        # fake's (5 s) starts about 0.7 s after it.
        tail = 7.0 if openai else round(sentence_seconds(audio.sentence) + 2.0, 1)
        play_wav = audio.concat(audio.path("play-demo.wav"), [st.LEAD_S, audio.sentence, tail])
        play_ogg, grace = audio.opusenc(play_wav), 1.0

        fake = None
        settings = dict(LOG_LEVEL="info", RTP_PORT_MIN=RTP_PORTS[0], RTP_PORT_MAX=RTP_PORTS[1],
                        MEDIA_TIMEOUT_SECONDS=5)
        if openai:
            # pocketsphinx at the fake transcribes the caller: the transcript the bridge shows in
            # GET /sessions/{id} is then what the "AI" heard.
            fake_args = ["--transcribe", "speech_check"] if shutil.which(RECOGNISER) else []
            fake = oat.Fake(work, "fake", *fake_args)
            settings.update(AI_BACKEND="openai", OPENAI_API_KEY="sk-demo",
                            OPENAI_REALTIME_URL="ws://127.0.0.1:%d/v1/realtime" % fake.port)
        else:
            settings.update(AI_BACKEND="echo")
        proc = None
        fake_summary, fake_log, bridge_log = None, [], ""
        try:
            proc, port = bridge_process.start_bridge(bridge_bin, **settings)
            result, rec_ogg, tl_path, samples = run_caller(pion, port, call_id, play_ogg, work, grace)
            session = session_of(port, call_id)
        finally:
            if proc is not None:
                code, bridge_log = bridge_process.stop_bridge(proc)
                with open(os.path.join(out, "bridge.log"), "w") as f:
                    f.write(bridge_log)
                if code != 0:
                    print("wabridge demo: warning: the bridge exited with status %s (see %s)"
                          % (code, os.path.join(out, "bridge.log")), file=sys.stderr)
            if fake is not None:
                try:
                    fake_summary = fake.stop()
                    fake_log = fake.log()
                    shutil.copy(fake.summary_path, os.path.join(out, "fake_summary.json"))
                    shutil.copy(fake.log_path, os.path.join(out, "fake_log.jsonl"))
                except Exception as exc:  # only the OpenAI lines need it
                    print("wabridge demo: warning: the fake's summary: %s" % exc, file=sys.stderr)

        # --- files ---------------------------------------------------------------------------
        shutil.copy(os.path.join(work, "pion.json"), os.path.join(out, "pion.json"))
        shutil.copy(tl_path, os.path.join(out, "timeline.json"))
        with open(os.path.join(out, "session.json"), "w") as f:
            json.dump(session, f, indent=2)
        said_wav, heard_wav = os.path.join(out, "caller_said.wav"), os.path.join(out, "caller_heard.wav")
        shutil.copy(audio.opusdec(play_ogg), said_wav)
        if not result.get("record_packets"):
            raise DemoError("the call connected but no audio came back (%d packets received)"
                            % result.get("recv_packets", 0))
        shutil.copy(audio.opusdec(rec_ogg), heard_wav)
        ai_heard = ai_said = None
        if openai:
            rec_dir = os.path.join(fake.dir, "rec")
            replies = sorted(glob.glob(os.path.join(rec_dir, "conn1_resp_*_reply.wav")))
            if os.path.exists(os.path.join(rec_dir, "conn1_input.wav")):
                ai_heard = os.path.join(out, "ai_heard.wav")
                shutil.copy(os.path.join(rec_dir, "conn1_input.wav"), ai_heard)
            if replies:
                ai_said = os.path.join(out, "ai_said.wav")
                shutil.copy(replies[0], ai_said)

        timeline, said, heard = timeline_latency(tl_path, play_wav, heard_wav)
        if heard is None:
            raise DemoError("the call connected and %d packets came back, but they hold only silence (%s)"
                            % (result.get("record_packets", 0), heard_wav))

        # The audio engine's counters while the caller was sending (after it stops, the jitter
        # buffer drains and conceals the missing packets until the hang-up).
        t0 = timeline.tl["t0_unix"]
        live = during_call(samples, t0 + said[0] / 1000.0, t0 + (result.get("last_send_ms") or 0) / 1000.0)
        media = session.get("media") or {}
        aud = ((live[-1] if live else session).get("media") or {}).get("audio") or {}
        delays = sorted(s["media"]["audio"]["jitterBufferDelayMs"] for s in live)
        ai = session.get("ai") or {}

        # --- the summary ---------------------------------------------------------------------
        pad = " " * 16
        lines = ["wabridge demo (%s): connected in %s (ICE %s, DTLS %s)" % (
            args.mode, fmt_ms(result.get("dtls_connected_ms")), fmt_ms(result.get("ice_connected_ms")),
            fmt_ms(result.get("dtls_connected_ms")))]
        lines.append("  caller said:  %s" % quote(sc.TEST_SENTENCE))
        if openai:
            user = [t["text"] for t in ai.get("transcripts", []) if t.get("role") in ("caller", "user")]
            if user:
                n = sc.lcs_length(sc.words_of(user[0]), sc.words_of(sc.TEST_SENTENCE))
                lines.append("  AI heard:     %s" % quote(user[0]))
                lines.append(pad + "-> %d/12 words (the fake's pocketsphinx transcript, via GET /sessions)" % n)
            else:
                lines.append(pad + "-> no transcript of the caller (pocketsphinx missing, or nothing committed)")
            reply = [t["text"] for t in ai.get("transcripts", []) if t.get("role") == "assistant"]
            resp = ((fake_summary or {}).get("responses") or [{}])[0]
            lines.append("  AI said:      %s" % quote(reply[0] if reply else oat.REPLY))
            lines.append(pad + "-> %s of audio, streamed by the fake at %.1fx real time" % (
                fmt_ms(resp.get("total_audio_ms")), resp.get("speedup_observed") or 0))
        else:
            turns = echo_turns(bridge_log)
            spoke_ms = said[1] + 20 - said[0]
            if turns:
                lines.append(pad + "-> the echo assistant heard %s %d ms utterance (the caller spoke %.0f ms)" % (
                    "one" if len(turns) == 1 else "%d turns, the first a" % len(turns),
                    turns[0].get("utteranceMs", 0), spoke_ms))
            else:
                lines.append(pad + "-> the echo assistant logged no turn")
        heard_r = recognise(heard_wav, oat.REPLY if openai else sc.TEST_SENTENCE)
        if heard_r is None:
            lines.append("  caller heard: %.1f s of speech (install pocketsphinx to recognise it)"
                         % ((heard[1] + 20 - heard[0]) / 1000.0))
        else:
            lines.append("  caller heard: %s" % quote(heard_r["words"]))
            lines.append(pad + "-> %d/12 words recognised (pocketsphinx)" % heard_r["matched"])

        if openai:
            think = fake_think_ms(fake_log)
            why = "includes %s ms of server-VAD silence%s" % (
                bridge_setting(bridge_log, "OPENAI_VAD_SILENCE_MS", "500"),
                "" if think is None else " and the fake's %.0f ms from speech_stopped to its first audio" % think)
        else:
            why = "includes the echo assistant's %d ms end-of-turn wait" % ECHO_WAIT_MS
        lines.append("  latency: reply started %.0f ms after the caller stopped talking (%s)"
                     % (heard[0] - said[1], why))
        extra = []
        if openai:
            up, down = fake_latencies(fake_log, timeline, said[0], heard[0], ai_heard, ai_said)
            if up is not None or down is not None:
                extra.append("through the bridge: caller->AI %s, AI->caller %s" % (fmt_ms(up), fmt_ms(down)))
        extra.append("jitter buffer %s (target %s)" % (
            fmt_ms(delays[len(delays) // 2] if delays else aud.get("jitterBufferDelayMs")),
            fmt_ms(aud.get("jitterBufferTargetMs"))))
        extra.append("max gap %s" % fmt_ms(result.get("max_gap_ms"), 1))
        lines.append("           " + "; ".join(extra))

        lines.append("  quality: %s lost, %s late, %s concealed ms, RTT %s, jitter %s (caller->bridge); "
                     % (aud.get("lostPackets", "?"), aud.get("latePackets", "?"), aud.get("concealedMs", "?"),
                        fmt_ms(media.get("rttMs"), 1), fmt_ms(media.get("jitterMs"), 1)))
        filled = result.get("record_filled", 0)
        lines[-1] += "%d packets, %d gap%s filled (bridge->caller)" % (
            result.get("recv_packets", 0), filled, "" if filled == 1 else "s")
        if openai and fake_summary is not None:
            n = fake_summary.get("events_by_type", {})
            lines.append("  OpenAI side: %d session.update, %d appends, %d schema violations, %d reconnects" % (
                n.get("session.update", 0), n.get("input_audio_buffer.append", 0),
                len(fake_summary.get("violations", [])), ai.get("reconnects", 0)))
        final_audio = media.get("audio") or {}
        skipped = final_audio.get("pacerSkippedSlots", 0)
        lines.append("  bridge sent %d packets (%d AI audio, %d silence, %d pacer slot%s skipped); ended: %s" % (
            media.get("packetsSent", 0), final_audio.get("packetsAi", 0), final_audio.get("packetsSilence", 0),
            skipped, "" if skipped == 1 else "s", session.get("endReason")))
        files = [said_wav, heard_wav] + [p for p in (ai_heard, ai_said) if p]
        lines.append("  audio: %s" % ", ".join(os.path.relpath(p) for p in files))
        warnings = sum(1 for l in bridge_log.splitlines() if '"level":"warn"' in l or '"level":"error"' in l)
        lines.append("  (%.1f s; also in %s: pion.json, timeline.json, session.json, bridge.log [%d warnings/errors]%s)"
                     % (time.monotonic() - started, os.path.relpath(out), warnings,
                        ", fake_summary.json, fake_log.jsonl" if openai else ""))
        print("\n".join(lines))
    return 0


def main():
    ap = argparse.ArgumentParser(description="a full local call through wabridge: no key, no network")
    ap.add_argument("build_dir", metavar="BUILD_DIR", help="holds wabridge and pion_caller (e.g. build)")
    ap.add_argument("--mode", choices=("echo", "openai-fake"), default="echo",
                    help="echo: the local echo assistant; openai-fake: the fake OpenAI Realtime server")
    ap.add_argument("--out", default=None, help="where the WAVs and JSON go (default BUILD_DIR/demo)")
    args = ap.parse_args()
    try:
        return demo(args)
    except DemoError as exc:
        print("wabridge demo (%s): FAILED: %s" % (args.mode, exc), file=sys.stderr)
        return 1
    except (sc.ToolError, RuntimeError, AssertionError, OSError, subprocess.TimeoutExpired) as exc:
        print("wabridge demo (%s): FAILED: %s: %s" % (args.mode, type(exc).__name__, str(exc).strip()), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
