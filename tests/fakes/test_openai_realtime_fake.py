#!/usr/bin/python3
"""Self-test of the fake OpenAI Realtime server (tests/fakes/openai_realtime_fake.py).

    tests/fakes/test_openai_realtime_fake.py [ignored arguments]

A small python3-websockets client plays the bridge's part against three fake processes (ws://;
wss:// with a test CA made by openssl and a mid-call close; injected errors) and checks what the
fake sends and what it records. Prints `ok - name` / `not ok - name` lines and
`fake: N passed, M failed`; exits 1 if anything failed. FAKE_TEST_KEEP=1 keeps the temporary
folder (logs, summaries, recorded WAVs) and prints its path. About 25 s.
"""

import array
import asyncio
import base64
import json
import math
import os
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import wave

try:
    import jsonschema
    import websockets
    import websockets.exceptions
except ImportError:  # Debian's python3-websockets/python3-jsonschema: /usr/bin/python3 only
    if os.path.exists("/usr/bin/python3") and not os.environ.get("WABRIDGE_FAKE_REEXEC"):
        os.environ["WABRIDGE_FAKE_REEXEC"] = "1"
        os.execv("/usr/bin/python3", ["/usr/bin/python3", os.path.abspath(__file__)] + sys.argv[1:])
    raise

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "peers"))
import openai_realtime_fake as fakemod  # noqa: E402
import speech_check  # noqa: E402

FAKE = os.path.join(HERE, "openai_realtime_fake.py")
KEY = "sk-test-0123456789abcdef"
BAD_KEY = "sk-revoked-0000000000000000"
RATE = 24000

# The session.update of the brief (§4), which passes the strict schema.
SESSION_UPDATE = {"type": "session.update", "event_id": "evt_session_1", "session": {
    "type": "realtime", "model": "gpt-realtime", "output_modalities": ["audio"],
    "instructions": "You are a phone assistant. Keep answers short.",
    "audio": {
        "input": {"format": {"type": "audio/pcm", "rate": 24000},
                  "noise_reduction": {"type": "near_field"},
                  "transcription": {"model": "gpt-4o-mini-transcribe"},
                  "turn_detection": {"type": "server_vad", "threshold": 0.5, "prefix_padding_ms": 300,
                                     "silence_duration_ms": 500, "create_response": True,
                                     "interrupt_response": True}},
        "output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": "marin"}},
    "tools": [{"type": "function", "name": "end_call", "description": "Hang up.",
               "parameters": {"type": "object", "properties": {}}}],
    "tool_choice": "auto"}}

# §5: the order of one VAD turn (transcription events may come anywhere after `committed`).
TURN_ORDER = [
    "input_audio_buffer.speech_started", "input_audio_buffer.speech_stopped",
    "input_audio_buffer.committed", "conversation.item.added", "conversation.item.done",
    "response.created", "rate_limits.updated", "response.output_item.added",
    "conversation.item.added", "response.content_part.added", "response.output_audio.delta",
    "response.output_audio.done", "response.output_audio_transcript.done",
    "response.content_part.done", "response.output_item.done", "conversation.item.done",
    "response.done"]

SCHEMAS = fakemod.load_schemas()
SERVER_VALIDATORS = {t: jsonschema.Draft202012Validator(s) for t, s in SCHEMAS["server_events"].items()}
SCHEMA_FAILURES = []   # (type, error) of every event any client received that fails server_events[type]
RESULTS = {}           # what one case measured, for later cases
OPEN_CLIENTS = []      # closed after each case, whatever happened


# --------------------------------------------------------------------------------------------
# The fake as a process

class FakeProcess:
    def __init__(self, workdir, name, extra):
        self.name = name
        self.log = os.path.join(workdir, name + ".log.jsonl")
        self.summary_path = os.path.join(workdir, name + ".summary.json")
        self.record_dir = os.path.join(workdir, name + ".rec")
        self.stderr_path = os.path.join(workdir, name + ".stderr")
        argv = [sys.executable, FAKE, "--port", "0", "--log", self.log, "--summary", self.summary_path,
                "--record-dir", self.record_dir, "--seed", "7"] + extra
        self.stderr = open(self.stderr_path, "w")
        t0 = time.monotonic()
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self.stderr, text=True)
        line = [None]
        th = threading.Thread(target=lambda: line.__setitem__(0, self.proc.stdout.readline()), daemon=True)
        th.start()
        th.join(15)
        if not line[0] or not line[0].startswith("LISTENING "):
            self.proc.kill()
            raise RuntimeError("%s did not start: %r %s" % (name, line[0], open(self.stderr_path).read()[-2000:]))
        self.port = int(line[0].split()[1])
        self.startup_ms = (time.monotonic() - t0) * 1000.0

    def stop(self):
        """SIGTERM; returns (exit code, seconds taken)."""
        t0 = time.monotonic()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.stderr.close()
        return self.proc.returncode, time.monotonic() - t0

    def summary(self):
        with open(self.summary_path) as f:
            return json.load(f)

    def conn_of(self, client, timeout=3.0):
        """The fake's summary of the connection `client` used (found by its session id), once the
        fake has recorded its close (it writes the summary after its side of the close)."""
        sid = client.session_id
        deadline = time.monotonic() + timeout
        while True:
            try:
                for c in self.summary()["per_connection"]:
                    if c["session_id"] == sid and c["t_close"]:
                        return c
            except (OSError, ValueError):
                pass
            if time.monotonic() > deadline:
                raise AssertionError("the fake did not record the close of session %s" % sid)
            time.sleep(0.02)

    def conn_summary(self, n):
        return next(c for c in self.summary()["per_connection"] if c["conn"] == n)

    def log_records(self):
        with open(self.log) as f:
            return [json.loads(line) for line in f]


# --------------------------------------------------------------------------------------------
# A client playing the bridge's part

class Client:
    def __init__(self):
        self.events = []          # (arrival time, event)
        self.closed = None        # (code, reason, time)
        self.cond = asyncio.Condition()
        self.session_id = None
        OPEN_CLIENTS.append(self)

    @classmethod
    async def open(cls, url, key=KEY, headers=None, ssl_ctx=None):
        c = cls()
        hdrs = {}
        if key is not None:
            hdrs["Authorization"] = "Bearer " + key
        hdrs.update(headers or {})
        c.t_open = time.time()
        c.ws = await websockets.connect(url, extra_headers=hdrs, ssl=ssl_ctx, max_size=None,
                                        compression=None, open_timeout=5)
        c.reader = asyncio.ensure_future(c.read())
        return c

    async def read(self):
        try:
            async for message in self.ws:
                ev = json.loads(message)
                v = SERVER_VALIDATORS.get(ev.get("type"))
                if v is None:
                    SCHEMA_FAILURES.append((ev.get("type"), "unknown server event type"))
                else:
                    for e in v.iter_errors(ev):
                        SCHEMA_FAILURES.append((ev.get("type"), e.message[:200]))
                if ev.get("type") == "session.created":
                    self.session_id = ev["session"]["id"]
                self.events.append((time.time(), ev))
                async with self.cond:
                    self.cond.notify_all()
        except websockets.exceptions.ConnectionClosed:
            pass
        self.closed = (self.ws.close_code, self.ws.close_reason, time.time())
        async with self.cond:
            self.cond.notify_all()

    async def send(self, ev):
        await self.ws.send(json.dumps(ev))

    async def expect(self, pred, after=0, timeout=5.0, what=None):
        """Index and event of the first event at index >= after matching pred (a type name or a
        function)."""
        if isinstance(pred, str):
            what = what or pred
            pred = lambda e, name=pred: e.get("type") == name
        what = what or "a matching event"
        deadline = time.monotonic() + timeout
        async with self.cond:
            while True:
                for i in range(after, len(self.events)):
                    if pred(self.events[i][1]):
                        return i, self.events[i][1]
                if self.closed:
                    raise AssertionError("socket closed (%s %r) while waiting for %s" % (
                        self.closed[0], self.closed[1], what))
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("timed out waiting for %s; got %s" % (
                        what, [e.get("type") for _, e in self.events[after:]][-12:]))
                try:
                    await asyncio.wait_for(self.cond.wait(), left)
                except asyncio.TimeoutError:
                    pass

    async def expect_error(self, code, after=0, timeout=3.0):
        return await self.expect(lambda e: e["type"] == "error" and e["error"].get("code") == code,
                                 after, timeout, what="error " + code)

    async def wait_closed(self, timeout=5.0):
        await asyncio.wait_for(self.reader, timeout)
        return self.closed

    async def close(self):
        await self.ws.close()
        try:
            await asyncio.wait_for(self.reader, 3)
        except asyncio.TimeoutError:
            pass

    def types(self, after=0):
        return [e["type"] for _, e in self.events[after:]]


def b64(samples):
    data = samples.tobytes() if sys.byteorder == "little" else _swapped(samples)
    return base64.b64encode(data).decode("ascii")


def _swapped(samples):
    a = array.array("h", samples)
    a.byteswap()
    return a.tobytes()


async def stream(client, samples, pace=1.0, chunk_ms=20):
    """input_audio_buffer.append every chunk_ms of audio, on an absolute schedule (pace 1 = real
    time). Returns the ms of audio sent."""
    n = RATE // 1000 * chunk_ms
    t0 = time.monotonic()
    for k, i in enumerate(range(0, len(samples), n)):
        await client.send({"type": "input_audio_buffer.append", "audio": b64(samples[i:i + n])})
        delay = t0 + (k + 1) * chunk_ms / 1000.0 / pace - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
    return len(samples) * 1000.0 / RATE


def silence(ms):
    return array.array("h", bytes(RATE // 1000 * ms * 2))


def tone(ms, freq=440.0, amp=8000):
    return array.array("h", (int(amp * math.sin(2 * math.pi * freq * i / RATE)) for i in range(RATE // 1000 * ms)))


def read_wav(path):
    with wave.open(path, "rb") as w:
        assert w.getframerate() == RATE and w.getnchannels() == 1 and w.getsampwidth() == 2
        return fakemod.pcm16_samples(w.readframes(w.getnframes()))


def write_wav(path, pcm_bytes):
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm_bytes)


def in_order(types, wanted):
    """True when `wanted` is a subsequence of `types`."""
    it = iter(types)
    return all(any(t == w for t in it) for w in wanted)


# --------------------------------------------------------------------------------------------
# Cases

class Env:
    pass


async def case_session_created(env):
    c = await Client.open(env.url)
    _, ev = await c.expect("session.created")
    assert c.events[0][1]["type"] == "session.created", c.types()
    s = ev["session"]
    for k in ("type", "object", "id", "model", "expires_at", "output_modalities", "audio", "tools",
              "tool_choice", "max_output_tokens", "tracing", "instructions"):
        assert k in s, "session.created lacks " + k
    assert s["object"] == "realtime.session" and s["id"].startswith("sess_") and s["type"] == "realtime"
    assert s["tracing"] is None and ev["event_id"].startswith("event_")
    assert s["audio"]["input"]["format"] == {"type": "audio/pcm", "rate": 24000}
    errs = list(SERVER_VALIDATORS["session.created"].iter_errors(ev))
    assert not errs, errs[0].message
    await c.close()
    return "first event, %d keys" % len(s)


async def case_conversation(env):
    """The bridge's normal turn, then a barge-in, then a close during a response."""
    c = await Client.open(env.url)
    await c.expect("session.created")
    await c.send(SESSION_UPDATE)
    _, upd = await c.expect("session.updated")
    td = upd["session"]["audio"]["input"]["turn_detection"]
    assert td["silence_duration_ms"] == 500 and td["type"] == "server_vad", td
    assert upd["session"]["audio"]["input"]["transcription"]["model"] == "gpt-4o-mini-transcribe"
    assert upd["session"]["instructions"] == SESSION_UPDATE["session"]["instructions"]
    assert len(upd["session"]["tools"]) == 1
    caller = env.caller_pcm
    sent_ms = 0.0
    mark = len(c.events)
    t_stream = time.time()
    sent_ms += await stream(c, silence(500) + caller + silence(1200))
    stream_wall = time.time() - t_stream
    i_done, done = await c.expect("response.done", mark, timeout=10)
    assert done["response"]["status"] == "completed", done["response"]["status"]
    types = c.types(mark)
    turn = [t for t in types if not t.startswith("conversation.item.input_audio_transcription")
            and t != "response.output_audio_transcript.delta"]
    assert in_order(turn, TURN_ORDER), turn[:20]
    _, started = await c.expect("input_audio_buffer.speech_started", mark)
    _, stopped = await c.expect("input_audio_buffer.speech_stopped", mark)
    assert started["item_id"] == stopped["item_id"]
    speech_ms = len(caller) * 1000.0 / RATE
    # the sentence starts 500 ms in; audio_start_ms includes the 300 ms prefix padding
    assert 100 <= started["audio_start_ms"] <= 350, started
    assert 500 + speech_ms - 400 <= stopped["audio_end_ms"] <= 500 + speech_ms + 100, (stopped, speech_ms)
    _, tr = await c.expect(lambda e: e["type"] == "conversation.item.input_audio_transcription.completed"
                           and e["item_id"] == started["item_id"], mark, what="transcription.completed")
    resp_id = done["response"]["id"]
    item_id = done["response"]["output"][0]["id"]
    deltas = [(t, e) for t, e in c.events[mark:i_done + 1]
              if e["type"] == "response.output_audio.delta" and e["response_id"] == resp_id]
    pcm = b"".join(base64.b64decode(e["delta"]) for _, e in deltas)
    sizes = sorted(set(len(base64.b64decode(e["delta"])) for _, e in deltas))
    audio_ms = len(pcm) / 48.0
    t_created = next(t for t, e in c.events[mark:] if e["type"] == "response.created")
    span = (deltas[-1][0] - t_created) * 1000.0
    speedup = audio_ms / span
    transcript = "".join(e["delta"] for _, e in c.events[mark:i_done]
                         if e["type"] == "response.output_audio_transcript.delta" and e["response_id"] == resp_id)
    _, tdone = await c.expect("response.output_audio_transcript.done", mark)
    assert transcript == tdone["transcript"] == fakemod.REPLY_SENTENCE, (transcript, tdone["transcript"])
    assert len(deltas) >= 8 and len(sizes) >= 4, (len(deltas), sizes)
    assert all(len(base64.b64decode(e["delta"])) % 2 == 0 and e["item_id"] == item_id for _, e in deltas)
    assert speedup >= 2.5, "streamed only %.2fx faster than real time" % speedup
    reply_wav = os.path.join(env.workdir, "reply_heard.wav")
    write_wav(reply_wav, pcm)
    RESULTS["reply"] = {"wav": reply_wav, "audio_ms": audio_ms, "deltas": len(deltas),
                        "speedup": speedup, "sizes": (sizes[0], sizes[-1])}
    RESULTS["turn"] = {"item_id": started["item_id"], "sent_ms": None, "stream_wall": stream_wall,
                       "transcript": tr["transcript"], "audio_start_ms": started["audio_start_ms"],
                       "audio_end_ms": stopped["audio_end_ms"]}

    # -- barge-in: the caller talks over the next reply
    mark = len(c.events)
    await c.send({"type": "response.create", "event_id": "evt_resp_2"})
    i_first, first = await c.expect("response.output_audio.delta", mark, timeout=5)
    t_first = c.events[i_first][0]
    resp2 = first["response_id"]
    item2 = first["item_id"]
    talk = asyncio.ensure_future(stream(c, caller[: RATE * 3 // 2] + silence(800)))
    i_ss, ss = await c.expect("input_audio_buffer.speech_started", mark, timeout=3)
    t_ss = c.events[i_ss][0]
    received = sum(len(base64.b64decode(e["delta"])) for _, e in c.events[mark:i_ss]
                   if e["type"] == "response.output_audio.delta" and e["item_id"] == item2) / 48.0
    played = int(min(received, (t_ss - t_first) * 1000.0))   # what a real-time player had played
    await c.send({"type": "conversation.item.truncate", "event_id": "evt_trunc_1", "item_id": item2,
                  "content_index": 0, "audio_end_ms": played})
    t_trunc = time.time()
    _, rd = await c.expect(lambda e: e["type"] == "response.done" and e["response"]["id"] == resp2, mark)
    assert rd["response"]["status"] == "cancelled", rd["response"]["status"]
    assert rd["response"]["status_details"]["reason"] == "turn_detected", rd["response"]["status_details"]
    i_rd = c.events.index(next(x for x in c.events if x[1] is rd))
    assert i_ss < i_rd, "speech_started after response.done: the response was not interrupted"
    _, oid = await c.expect(lambda e: e["type"] == "response.output_item.done" and e["response_id"] == resp2, mark)
    assert oid["item"]["status"] == "incomplete", oid["item"]
    _, tru = await c.expect("conversation.item.truncated", mark)
    assert tru["item_id"] == item2 and tru["audio_end_ms"] == played, tru
    total2 = sum(len(base64.b64decode(e["delta"])) for _, e in c.events[mark:]
                 if e["type"] == "response.output_audio.delta" and e["item_id"] == item2) / 48.0
    late = [e for _, e in c.events[i_rd + 1:] if e.get("response_id") == resp2]
    assert not late, "events of the cancelled response after its response.done: %s" % late[:2]
    too_long = int(total2) + 500
    m2 = len(c.events)
    await c.send({"type": "conversation.item.truncate", "event_id": "evt_trunc_2", "item_id": item2,
                  "content_index": 0, "audio_end_ms": too_long})
    _, err = await c.expect(lambda e: e["type"] == "error" and e["error"].get("event_id") == "evt_trunc_2", m2)
    msg = err["error"]["message"]
    assert msg == "Audio content of %dms is already shorter than %dms" % (
        min(int(total2), played), too_long), (msg, total2, played)
    sent_ms += await talk
    # the caller stops: a new turn and an automatic response, during which we hang up
    _, r3 = await c.expect(lambda e: e["type"] == "response.created" and e["response"]["id"] != resp2, m2, timeout=5)
    await c.expect(lambda e: e["type"] == "response.output_audio.delta"
                   and e["response_id"] == r3["response"]["id"], m2, timeout=5)
    await c.close()
    RESULTS["barge"] = {"played": played, "received": received, "total": total2,
                        "truncate_after_ss_ms": (t_trunc - t_ss) * 1000.0, "item_id": item2,
                        "resp_id": resp2, "too_long": too_long}
    RESULTS["turn"]["sent_ms"] = sent_ms
    RESULTS["main_conn"] = env.fake_a.conn_of(c)["conn"]
    return ("reply %.0f ms in %d deltas (%d..%d bytes), %.1fx real time; barge-in cut at %d ms of %.0f "
            "received" % (audio_ms, len(deltas), sizes[0], sizes[-1], speedup, played, received))


def case_reply_recognised(env):
    r = speech_check.check(RESULTS["reply"]["wav"], fakemod.REPLY_SENTENCE)
    assert r["matched"] >= 10, r
    neg = speech_check.check(RESULTS["reply"]["wav"], speech_check.TEST_SENTENCE)
    assert neg["matched"] <= 3, neg
    return "reply %d/12 (as the caller's sentence: %d/12)" % (r["matched"], neg["matched"])


def case_caller_recorded(env):
    wav = os.path.join(env.fake_a.record_dir, "conn%d_%s.wav" % (RESULTS["main_conn"], RESULTS["turn"]["item_id"]))
    r = speech_check.check(wav, speech_check.TEST_SENTENCE)
    assert r["matched"] >= 10, r
    whole = os.path.join(env.fake_a.record_dir, "conn%d_input.wav" % RESULTS["main_conn"])
    n = len(read_wav(whole))
    assert abs(n * 1000.0 / RATE - RESULTS["turn"]["sent_ms"]) < 1, (n, RESULTS["turn"]["sent_ms"])
    return "the fake heard %d/12 of the caller's sentence" % r["matched"]


async def case_beta_shaped_update(env):
    c = await Client.open(env.url)
    await c.expect("session.created")
    await c.send({"type": "session.update", "event_id": "evt_beta_1", "session": {
        "modalities": ["text", "audio"], "voice": "alloy", "input_audio_format": "pcm16",
        "output_audio_format": "pcm16", "turn_detection": {"type": "server_vad"}}})
    _, e1 = await c.expect("error")
    await c.send({"type": "session.update", "event_id": "evt_beta_2",
                  "session": {"type": "realtime", "temperature": 0.8}})
    _, e2 = await c.expect(lambda e: e["type"] == "error" and e["error"]["event_id"] == "evt_beta_2")
    await c.send({"type": "session.update", "event_id": "evt_ga_ok",
                  "session": {"type": "realtime", "instructions": "still here"}})
    _, ok = await c.expect("session.updated")
    assert ok["session"]["instructions"] == "still here"
    assert e1["error"]["code"] in ("unknown_parameter", "missing_required_parameter"), e1
    assert e1["error"]["event_id"] == "evt_beta_1" and e1["error"]["type"] == "invalid_request_error"
    assert e2["error"]["code"] == "unknown_parameter" and e2["error"]["param"] == "session.temperature", e2
    await c.close()
    v = env.fake_a.conn_of(c)["violations"]
    assert [x["event_id"] for x in v] == ["evt_beta_1", "evt_beta_2"], v
    return "%s %s; %s %s" % (e1["error"]["code"], e1["error"]["param"], e2["error"]["code"], e2["error"]["param"])


async def case_malformed_events(env):
    c = await Client.open(env.url)
    await c.expect("session.created")
    bad = [
        ("not json {", "invalid_json", None),
        (json.dumps({"event_id": "e1"}), "invalid_event", "e1"),
        (json.dumps({"type": "response.audio.delta", "event_id": "e2"}), "invalid_event", "e2"),
        (json.dumps({"type": "conversation.item.truncate", "event_id": "e3", "item_id": "item_x",
                     "content_index": 0, "audio_end_ms": 12.5}), "invalid_value", "e3"),
        (json.dumps({"type": "conversation.item.truncate", "event_id": "e4", "item_id": "item_x",
                     "content_index": 0}), "missing_required_parameter", "e4"),
        (json.dumps({"type": "input_audio_buffer.append", "event_id": "e5", "audio": "AAAA"}), "invalid_value", "e5"),
        (json.dumps({"type": "input_audio_buffer.append", "event_id": "e6", "audio": "%%%"}), "invalid_value", "e6"),
        (json.dumps({"type": "input_audio_buffer.append", "event_id": "e7", "audio": "", "format": "pcm16"}),
         "unknown_parameter", "e7"),
        (json.dumps({"type": "output_audio_buffer.clear", "event_id": "e8"}), "invalid_value", "e8"),
    ]
    for text, code, eid in bad:
        mark = len(c.events)
        await c.ws.send(text)
        _, e = await c.expect("error", mark)
        assert e["error"]["code"] == code and e["error"]["event_id"] == eid, (text, e["error"])
    mark = len(c.events)
    await c.send({"type": "input_audio_buffer.clear"})
    await c.expect("input_audio_buffer.cleared", mark)
    await c.close()
    v = env.fake_a.conn_of(c)["violations"]
    assert len(v) == len(bad), v
    return "%d kinds reported and recorded, session still answers" % len(bad)


async def case_manual_turn(env):
    c = await Client.open(env.url)
    await c.expect("session.created")
    await c.send({"type": "session.update", "session": {"type": "realtime", "audio": {"input": {
        "turn_detection": None, "transcription": None}}}})
    _, upd = await c.expect("session.updated")
    assert upd["session"]["audio"]["input"]["turn_detection"] is None
    await stream(c, tone(60), pace=50)
    mark = len(c.events)
    await c.send({"type": "input_audio_buffer.commit", "event_id": "c1"})
    await c.expect_error("input_audio_buffer_commit_empty", mark)
    await stream(c, tone(300), pace=50)
    mark = len(c.events)
    await c.send({"type": "input_audio_buffer.commit", "event_id": "c2"})
    _, com = await c.expect("input_audio_buffer.committed", mark)
    _, added = await c.expect("conversation.item.added", mark)
    _, done = await c.expect("conversation.item.done", mark)
    assert added["item"]["id"] == com["item_id"] == done["item"]["id"]
    assert added["item"]["role"] == "user" and added["item"]["content"][0]["type"] == "input_audio"
    await asyncio.sleep(0.3)
    assert "response.created" not in c.types(mark), "a response without VAD or response.create"
    assert not any(t.startswith("input_audio_buffer.speech") for t in c.types())
    await c.send({"type": "input_audio_buffer.clear"})
    await c.expect("input_audio_buffer.cleared", mark)
    await c.close()
    return "commit of 60 ms refused, 360 ms committed"


async def case_response_cancel(env):
    c = await Client.open(env.url)
    await c.expect("session.created")
    await c.send({"type": "response.create", "event_id": "r1"})
    _, created = await c.expect("response.created")
    await c.send({"type": "response.create", "event_id": "r2"})
    _, busy = await c.expect_error("conversation_already_has_active_response")
    assert busy["error"]["event_id"] == "r2" and created["response"]["id"] in busy["error"]["message"]
    await c.expect("response.output_audio.delta")
    await c.send({"type": "response.cancel", "event_id": "x1"})
    _, done = await c.expect("response.done")
    assert done["response"]["status"] == "cancelled"
    assert done["response"]["status_details"]["reason"] == "client_cancelled", done["response"]["status_details"]
    mark = len(c.events)
    await c.send({"type": "response.cancel", "event_id": "x2"})
    _, e = await c.expect_error("response_cancel_not_active", mark)
    assert e["error"]["event_id"] == "x2"
    # text-only output
    mark = len(c.events)
    await c.send({"type": "response.create", "response": {"output_modalities": ["text"]}})
    _, d2 = await c.expect("response.done", mark)
    assert d2["response"]["status"] == "completed"
    text = "".join(e["delta"] for e in (x for _, x in c.events[mark:]) if e["type"] == "response.output_text.delta")
    assert text == fakemod.REPLY_SENTENCE and "response.output_audio.delta" not in c.types(mark)
    await c.close()
    return "cancelled/client_cancelled, then response_cancel_not_active; text mode"


async def case_items(env):
    c = await Client.open(env.url)
    await c.expect("session.created")
    await c.send({"type": "conversation.item.create", "event_id": "i1", "item": {
        "type": "message", "role": "user", "content": [{"type": "input_text", "text": "I pressed 5 on the keypad."}]}})
    _, a1 = await c.expect("conversation.item.added")
    _, d1 = await c.expect("conversation.item.done")
    u = a1["item"]["id"]
    assert a1["previous_item_id"] is None and d1["item"]["id"] == u and a1["item"]["role"] == "user"
    await c.send({"type": "conversation.item.create", "event_id": "i2", "previous_item_id": u, "item": {
        "type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "You chose option five."}]}})
    _, a2 = await c.expect(lambda e: e["type"] == "conversation.item.added" and e["item"]["role"] == "assistant")
    assert a2["previous_item_id"] == u
    mark = len(c.events)
    await c.send({"type": "conversation.item.create", "event_id": "i3", "previous_item_id": "root", "item": {
        "id": "item_replayed_0001", "type": "message", "role": "system",
        "content": [{"type": "input_text", "text": "Earlier call context."}]}})
    _, a3 = await c.expect("conversation.item.added", mark)
    assert a3["item"]["id"] == "item_replayed_0001" and a3["previous_item_id"] is None
    mark = len(c.events)
    await c.send({"type": "conversation.item.create", "event_id": "i4", "item": {
        "type": "message", "role": "assistant", "content": [{"type": "output_audio", "transcript": "hi"}]}})
    _, e4 = await c.expect("error", mark)
    assert e4["error"]["event_id"] == "i4", e4
    mark = len(c.events)
    await c.send({"type": "conversation.item.create", "event_id": "i5", "previous_item_id": "item_nope",
                  "item": {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "x"}]}})
    _, e5 = await c.expect("error", mark)
    assert e5["error"]["param"] == "previous_item_id", e5
    mark = len(c.events)
    await c.send({"type": "conversation.item.truncate", "event_id": "t1", "item_id": u, "content_index": 0,
                  "audio_end_ms": 0})
    _, e6 = await c.expect("error", mark)
    assert "assistant" in e6["error"]["message"], e6
    await c.send({"type": "conversation.item.retrieve", "item_id": u})
    _, r = await c.expect("conversation.item.retrieved")
    assert r["item"]["content"][0]["text"] == "I pressed 5 on the keypad."
    await c.send({"type": "conversation.item.delete", "item_id": u})
    _, dl = await c.expect("conversation.item.deleted")
    assert dl["item_id"] == u
    await c.close()
    created = env.fake_a.conn_of(c)["items_created"]
    assert [x["ok"] for x in created] == [True, True, True, False, False], created
    assert created[0]["text"] == "I pressed 5 on the keypad." and created[1]["role"] == "assistant"
    return "user/assistant/system items added; audio assistant item and unknown previous id refused"


async def case_g711(env):
    c = await Client.open(env.url)
    await c.expect("session.created")
    await c.send({"type": "session.update", "session": {"type": "realtime", "audio": {
        "input": {"format": {"type": "audio/pcmu"}, "turn_detection": None},
        "output": {"format": {"type": "audio/pcmu"}}}}})
    _, upd = await c.expect("session.updated")
    assert upd["session"]["audio"]["output"]["format"] == {"type": "audio/pcmu"}
    loud = fakemod.g711_encode(tone(250)[::3], fakemod.ULAW_TABLE)      # 250 ms at 8 kHz
    await c.send({"type": "input_audio_buffer.append", "audio": base64.b64encode(loud[:1001]).decode()})
    await c.send({"type": "input_audio_buffer.append", "audio": base64.b64encode(loud[1001:]).decode()})
    mark = len(c.events)
    await c.send({"type": "input_audio_buffer.commit"})
    await c.expect("input_audio_buffer.committed", mark)
    await c.send({"type": "response.create"})
    i, done = await c.expect("response.done", mark)
    mu = b"".join(base64.b64decode(e["delta"]) for _, e in c.events[mark:i] if e["type"] == "response.output_audio.delta")
    assert done["response"]["audio"]["output"]["format"] == {"type": "audio/pcmu"}
    pcm = fakemod.g711_decode(mu, fakemod.ULAW_TABLE)
    assert fakemod.level_dbfs(pcm) > -35, fakemod.level_dbfs(pcm)
    await c.close()
    s = env.fake_a.conn_of(c)
    assert s["responses"][0]["audio_ms"] == len(mu) / 8.0 > 4000, (len(mu), s["responses"][0])
    assert s["appended_audio_ms"] == 250.0 and s["violations"] == [], s["appended_audio_ms"]
    return "odd-sized μ-law appends accepted (250 ms), reply %d bytes = %.1f ms at 8 kHz" % (len(mu), len(mu) / 8.0)


async def case_bad_key(env):
    c = await Client.open(env.url, key=BAD_KEY)
    code, reason, _ = await c.wait_closed()
    types = c.types()
    assert types == ["error"], types
    err = c.events[0][1]["error"]
    assert err["code"] == "invalid_api_key" and err["type"] == "invalid_request_error", err
    assert code == 3000 and reason == "invalid_request_error.invalid_api_key", (code, reason)
    c2 = await Client.open(env.url, key=None)
    code2, reason2, _ = await c2.wait_closed()
    assert code2 == 3000 and c2.events[0][1]["error"]["code"] == "invalid_api_key"
    return "error invalid_api_key, close %d %s (also with no Authorization)" % (code, reason)


async def case_beta_header(env):
    c = await Client.open(env.url, headers={"OpenAI-Beta": "realtime=v1"})
    code, reason, _ = await c.wait_closed()
    assert c.types() == ["error"], c.types()
    assert c.events[0][1]["error"]["code"] == "beta_api_shape_disabled"
    assert code == 4000 and reason == "invalid_request_error.beta_api_shape_disabled", (code, reason)
    return "error beta_api_shape_disabled, close %d" % code


async def case_model_and_path(env):
    c = await Client.open("ws://127.0.0.1:%d/v1/realtime?model=gpt-4o-realtime-preview" % env.fake_a.port)
    code, reason, _ = await c.wait_closed()
    assert c.events[0][1]["error"]["code"] == "model_not_found" and code == 4000, (c.types(), code)
    try:
        await Client.open("ws://127.0.0.1:%d/v1/chat?model=gpt-realtime" % env.fake_a.port)
        raise AssertionError("a wrong path was upgraded")
    except websockets.exceptions.InvalidStatusCode as exc:
        assert exc.status_code == 404
    return "retired preview model refused (4000), wrong path 404"


async def case_wss_and_close(env):
    """wss:// with the generated CA; the first connection is closed after 1 s (1001), the next
    one is not."""
    ctx = ssl.create_default_context(cafile=env.ca)
    url = "wss://127.0.0.1:%d/v1/realtime?model=gpt-realtime" % env.fake_b.port
    t0 = time.time()
    c = await Client.open(url, ssl_ctx=ctx)
    await c.expect("session.created")
    connect_ms = (time.time() - t0) * 1000.0
    await c.send(SESSION_UPDATE)
    await c.expect("session.updated")
    code, reason, t_closed = await c.wait_closed(5)
    after = t_closed - c.t_open
    assert code == 1001 and reason == fakemod.SESSION_CAP_REASON, (code, reason)
    assert 0.8 <= after <= 1.6, after
    c2 = await Client.open("wss://localhost:%d/v1/realtime?model=gpt-realtime" % env.fake_b.port, ssl_ctx=ctx)
    await c2.expect("session.created")
    await asyncio.sleep(1.4)
    assert c2.closed is None, "the second connection was closed too: %s" % (c2.closed,)
    await c2.close()
    try:
        c3 = await Client.open(url, ssl_ctx=ssl.create_default_context())
        await c3.close()
        raise AssertionError("a client without the test CA connected")
    except ssl.SSLCertVerificationError:
        pass
    return "TLS connect+session.created %.0f ms; first connection closed 1001 after %.2f s, second kept" % (
        connect_ms, after)


async def case_injected_errors(env):
    url = "ws://127.0.0.1:%d/v1/realtime?model=gpt-realtime" % env.fake_c.port
    c = await Client.open(url)
    await c.expect("session.created")
    _, e1 = await c.expect_error("server_error", timeout=3)
    assert e1["error"]["type"] == "server_error"
    _, e2 = await c.expect_error("insufficient_quota")
    code, reason, t_closed = await c.wait_closed()
    assert code == 3000 and reason == "insufficient_quota.insufficient_quota", (code, reason)
    t_err = next(t for t, e in c.events if e["type"] == "error")
    c2 = await Client.open(url)
    await c2.expect("session.created")
    await asyncio.sleep(0.6)
    assert "error" not in c2.types() and c2.closed is None, c2.types()
    await c2.close()
    return "server_error + insufficient_quota at %.2f s, close 3000; second connection clean" % (t_err - c.t_open)


def case_summary_and_log(env):
    code, secs = env.fake_a.stop()
    assert code == 0, "fake exited %s" % code
    s = env.fake_a.summary()
    n = RESULTS["main_conn"]
    main = next(c for c in s["per_connection"] if c["conn"] == n)
    assert main["violations"] == [], main["violations"]
    assert abs(main["appended_audio_ms"] - RESULTS["turn"]["sent_ms"]) < 1, (main["appended_audio_ms"], RESULTS["turn"])
    assert s["appended_audio_ms"][str(n)] == main["appended_audio_ms"]
    assert main["append_pace"] and 0.8 <= main["append_pace"] <= 1.1, main["append_pace"]
    tr = main["truncates"]
    assert len(tr) == 2 and tr[0]["ok"] and not tr[1]["ok"], tr
    b = RESULTS["barge"]
    assert tr[0]["audio_end_ms"] == b["played"] and tr[0]["item_id"] == b["item_id"]
    assert tr[0]["ms_after_speech_started"] is not None and 0 <= tr[0]["ms_after_speech_started"] < 250, tr[0]
    assert tr[0]["response_id"] == b["resp_id"] and "shorter than" in tr[1]["error"]
    resp = main["responses"]
    assert [r["status"] for r in resp[:2]] == ["completed", "cancelled"], resp
    assert resp[1]["reason"] == "turn_detected" and abs(resp[0]["audio_ms"] - RESULTS["reply"]["audio_ms"]) < 1
    assert resp[0]["speedup_observed"] >= 2.5, resp[0]
    assert len(main["utterances"]) >= 2 and main["utterances"][0]["item_id"] == RESULTS["turn"]["item_id"]
    assert s["connections"] >= 11 and len(s["violations"]) == 2 + 9, [v["message"] for v in s["violations"]]
    assert s["self_check_failures"] == [], s["self_check_failures"][:3]
    assert s["events_by_type"]["input_audio_buffer.append"] >= main["appends"]
    log = env.fake_a.log_records()
    kinds = {r["kind"] for r in log}
    assert {"listening", "connect", "client", "server", "close", "utterance", "response", "exit"} <= kinds, kinds
    apps = [r for r in log if r["kind"] == "client" and r.get("type") == "input_audio_buffer.append" and r["conn"] == n]
    assert len(apps) == main["appends"] and all("audio_ms" in r and "input_ms" in r for r in apps)
    # the first turn was streamed at real time: its appends' audio over their arrival span
    t_rc = next(r["t"] for r in log if r["kind"] == "client" and r.get("type") == "response.create" and r["conn"] == n)
    first = [r for r in apps if r["t"] < t_rc]
    pace = sum(r["audio_ms"] for r in first[1:]) / ((first[-1]["t"] - first[0]["t"]) * 1000.0)
    assert 0.95 <= pace <= 1.05, pace
    tlog = [r for r in log if r["kind"] == "client" and r.get("type") == "conversation.item.truncate"]
    assert tlog and tlog[0]["truncate"]["audio_end_ms"] == b["played"]
    for f in (env.fake_b, env.fake_c):
        f.stop()
        assert f.summary()["self_check_failures"] == []
    return ("exit 0 in %.2f s; %d connections, %d violations (all from the negative cases), append pace "
            "%.3f over the first turn, %d log lines" % (secs, s["connections"], len(s["violations"]), pace, len(log)))


def case_schema_valid(env):
    assert not SCHEMA_FAILURES, SCHEMA_FAILURES[:5]
    return "every event received validates against server_events[type]"


# --------------------------------------------------------------------------------------------

async def _run_async(fn, env):
    try:
        return await asyncio.wait_for(fn(env), 40)
    finally:
        for c in OPEN_CLIENTS:
            if c.closed is None:
                try:
                    await asyncio.wait_for(c.ws.close(), 2)
                except Exception:
                    pass
        del OPEN_CLIENTS[:]


def run(name, fn, env, counts):
    try:
        if asyncio.iscoroutinefunction(fn):
            detail = asyncio.run(_run_async(fn, env))
        else:
            detail = fn(env)
        print("ok - %s%s" % (name, " (%s)" % detail if detail else ""))
        counts[0] += 1
    except Exception:
        print("not ok - " + name)
        traceback.print_exc(file=sys.stdout)
        counts[1] += 1
    sys.stdout.flush()


def main():
    t_start = time.monotonic()
    workdir = tempfile.mkdtemp(prefix="openai_fake_test.")
    keep = bool(os.environ.get("FAKE_TEST_KEEP"))
    env = Env()
    env.workdir = workdir
    counts = [0, 0]
    fakes = []
    try:
        caller_wav = os.path.join(workdir, "caller.wav")
        speech_check.synthesise(speech_check.TEST_SENTENCE, caller_wav, rate=RATE)
        env.caller_pcm = read_wav(caller_wav)
        env.ca, crt, key = fakemod.make_test_ca(os.path.join(workdir, "ca"))
        env.fake_a = FakeProcess(workdir, "a", ["--bad-key", BAD_KEY])
        env.fake_b = FakeProcess(workdir, "b", ["--tls-cert", crt, "--tls-key", key,
                                                "--close-after-seconds", "1", "--close-on", "first"])
        env.fake_c = FakeProcess(workdir, "c", ["--inject-error", "server_error", "--inject-error",
                                                "insufficient_quota", "--error-after-seconds", "0.3"])
        fakes = [env.fake_a, env.fake_b, env.fake_c]
        env.url = "ws://127.0.0.1:%d/v1/realtime?model=gpt-realtime" % env.fake_a.port
    except Exception:
        print("not ok - setup (espeak-ng, openssl, the fake)")
        traceback.print_exc(file=sys.stdout)
        for f in fakes:
            f.stop()
        print("fake: 0 passed, 1 failed")
        return 1
    cases = [
        ("fake sends a complete GA session.created first", case_session_created),
        ("conversation: VAD turn in order, reply streamed faster than real time, barge-in, truncate checks", case_conversation),
        ("reply audio is the reply sentence (speech_check >= 10/12)", case_reply_recognised),
        ("the fake recorded the caller's sentence (speech_check >= 10/12)", case_caller_recorded),
        ("beta-shaped session.update is a recorded violation, session stays open", case_beta_shaped_update),
        ("malformed events get errors with event_id and are recorded", case_malformed_events),
        ("manual turn: commit_empty, commit, clear (turn_detection null)", case_manual_turn),
        ("response.cancel, active-response conflict, text output", case_response_cancel),
        ("conversation.item.create/retrieve/delete, refusals", case_items),
        ("G.711 μ-law session: 8-byte-per-ms input clock, μ-law reply", case_g711),
        ("bad key: error invalid_api_key, close 3000", case_bad_key),
        ("OpenAI-Beta header: error beta_api_shape_disabled, close 4000", case_beta_header),
        ("unknown model and wrong path refused", case_model_and_path),
        ("wss:// with the generated test CA; close 1001 mid-call on the first connection only", case_wss_and_close),
        ("injected errors: server_error, then insufficient_quota and close 3000", case_injected_errors),
        ("summary and log after SIGTERM", case_summary_and_log),
        ("every server event received is schema-valid", case_schema_valid),
    ]
    for name, fn in cases:
        run(name, fn, env, counts)
    for f in fakes:
        if f.proc.poll() is None:
            f.stop()
    if keep:
        print("# kept %s" % workdir)
    else:
        import shutil
        shutil.rmtree(workdir, ignore_errors=True)
    print("# %.1f s" % (time.monotonic() - t_start))
    print("fake: %d passed, %d failed" % tuple(counts))
    return 1 if counts[1] else 0


if __name__ == "__main__":
    sys.exit(main())
