#!/usr/bin/python3
"""openai_realtime_fake: a local stand-in for the OpenAI Realtime API (GA interface only).

    openai_realtime_fake.py [--port 0] [--tls-cert CRT --tls-key KEY] [--log FILE] [--summary FILE]
                            [--record-dir DIR] [--reply TEXT]... [--speedup 5] [faults...]

Listens on 127.0.0.1 only and prints `LISTENING <port>` as the first line on stdout. Serves
`GET /v1/realtime?model=...` as a WebSocket upgrade (ws://, or wss:// with --tls-cert/--tls-key),
speaks the GA event protocol of ../../../shared/docs/openai-realtime.md (§12 is the checklist this
follows), validates every client event against `client_events_strict` of
tests/data/openai/openai-realtime-schemas.json, emulates server VAD on the caller's audio,
answers with espeak-ng speech streamed faster than real time, checks truncates, injects faults,
and records everything a test needs in a JSON-lines log and a summary file. SIGTERM/SIGINT end
it cleanly (the summary is written). tests/fakes/README.md documents the flags and file formats.

Importable (no websockets needed for these): `make_test_ca(dir)` -> (ca_cert, server_cert,
server_key) for 127.0.0.1/localhost; `load_schemas()`; `strictify(schema)`;
`ServerEventChecker`; `REPLY_SENTENCE`.
"""

import argparse
import array
import asyncio
import base64
import binascii
import collections
import http
import json
import math
import os
import random
import re
import secrets
import shutil
import signal
import ssl
import string
import subprocess
import sys
import tempfile
import time
import urllib.parse
import wave

try:
    import jsonschema
    import websockets
    import websockets.exceptions
except ImportError:  # Debian's python3-websockets/python3-jsonschema live in /usr/bin/python3's path
    jsonschema = None
    websockets = None

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS_DIR = os.path.normpath(os.path.join(HERE, ".."))
SCHEMA_FILE = os.path.join(TESTS_DIR, "data", "openai", "openai-realtime-schemas.json")
PEERS_DIR = os.path.join(TESTS_DIR, "peers")

# The default spoken reply: twelve words sharing none with speech_check.TEST_SENTENCE (the
# caller's sentence). speech_check.OTHER_SENTENCE is not used: it scores only 9/12 against
# itself ("green apples during" are misheard); this one scores 11-12/12 from espeak-ng at 24 kHz
# and after Opus at 16-24 kbit/s, and 0/12 against the test sentence (and vice versa).
REPLY_SENTENCE = ("doctors write careful letters about quiet winter evenings beside golden "
                  "mountain lanterns")

DEFAULT_INSTRUCTIONS = ("Your knowledge cutoff is 2023-10. You are a helpful, witty, and friendly AI. "
                        "(wabridge fake server: replies are canned espeak-ng speech.)")

# Models the fake accepts by default: the GA names in the spec, minus the shut-down previews.
KNOWN_MODELS = (
    "gpt-realtime", "gpt-realtime-2025-08-28", "gpt-realtime-mini", "gpt-realtime-mini-2025-10-06",
    "gpt-realtime-mini-2025-12-15", "gpt-realtime-1.5", "gpt-realtime-2", "gpt-realtime-2.1",
    "gpt-realtime-2.1-mini", "gpt-audio-1.5", "gpt-audio-mini", "gpt-audio-mini-2025-10-06",
    "gpt-audio-mini-2025-12-15")

MAX_APPEND_BYTES = 15 * 1024 * 1024      # per input_audio_buffer.append, decoded
MIN_COMMIT_MS = 100                      # input_audio_buffer_commit_empty below this
VAD_FRAME_MS = 10
SESSION_CAP_REASON = "Your session hit the maximum duration of 60 minutes."

# Error codes after which the live server closes the socket (close code 3000, reason type.code).
FATAL_CODES = {"invalid_api_key", "insufficient_quota", "account_deactivated",
               "billing_hard_limit_reached", "model_not_found"}
ERROR_TYPES = {"insufficient_quota": "insufficient_quota", "server_error": "server_error",
               "rate_limit_exceeded": "rate_limit_error", "session_expired": "invalid_request_error"}
ERROR_MESSAGES = {
    "invalid_api_key": "Incorrect API key provided: %s. You can find your API key at "
                       "https://platform.openai.com/account/api-keys.",
    "insufficient_quota": "You exceeded your current quota, please check your plan and billing "
                          "details.",
    "account_deactivated": "This account has been deactivated.",
    "billing_hard_limit_reached": "Billing hard limit has been reached.",
    "server_error": "The server had an error while processing your request. Sorry about that!",
    "model_not_found": "The model `%s` does not exist or you do not have access to it.",
}


# --------------------------------------------------------------------------------------------
# Test CA (openssl CLI)

def make_test_ca(directory, days=2):
    """Creates a throw-away CA and a server certificate for 127.0.0.1 and localhost in
    `directory` with the openssl CLI (EC P-256). Returns (ca_cert_path, server_cert_path,
    server_key_path)."""
    os.makedirs(directory, exist_ok=True)
    p = lambda name: os.path.join(directory, name)
    ext = p("server_ext.cnf")
    with open(ext, "w") as f:
        f.write("basicConstraints=critical,CA:FALSE\n"
                "keyUsage=critical,digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth\n"
                "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                "subjectKeyIdentifier=hash\n"
                "authorityKeyIdentifier=keyid,issuer\n")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    steps = [
        ["openssl", "req", "-x509"] + ec + ["-keyout", p("ca.key"), "-out", p("ca.crt"),
         "-days", str(days), "-subj", "/CN=wabridge test CA",
         "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
        ["openssl", "req"] + ec + ["-keyout", p("server.key"), "-out", p("server.csr"),
         "-subj", "/CN=localhost"],
        ["openssl", "x509", "-req", "-in", p("server.csr"), "-CA", p("ca.crt"), "-CAkey",
         p("ca.key"), "-CAcreateserial", "-out", p("server.crt"), "-days", str(days),
         "-sha256", "-extfile", ext],
    ]
    for argv in steps:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError("%s failed: %s" % (" ".join(argv[:3]), r.stderr.strip()[-400:]))
    return p("ca.crt"), p("server.crt"), p("server.key")


# --------------------------------------------------------------------------------------------
# Schemas

def load_schemas(path=SCHEMA_FILE):
    with open(path) as f:
        return json.load(f)


def strictify(schema):
    """A copy of `schema` with unevaluatedProperties:false on every object subschema that
    declares `properties` and leaves extra keys open (the same rule the data file used to make
    client_events_strict). Used to check the fake's own server events strictly."""
    schema_maps = ("properties", "$defs", "definitions", "patternProperties", "dependentSchemas")
    schema_lists = ("anyOf", "allOf", "oneOf", "prefixItems")
    schema_single = ("items", "not", "if", "then", "else", "additionalProperties", "contains",
                     "unevaluatedItems", "propertyNames", "additionalItems")

    def walk(s):
        if not isinstance(s, dict):
            return s
        out = {}
        for k, v in s.items():
            if k in schema_maps and isinstance(v, dict):
                out[k] = {name: walk(sub) for name, sub in v.items()}
            elif k in schema_lists and isinstance(v, list):
                out[k] = [walk(sub) for sub in v]
            elif k in schema_single and isinstance(v, dict):
                out[k] = walk(v)
            else:
                out[k] = v
        if (isinstance(out.get("properties"), dict) and "additionalProperties" not in out
                and "patternProperties" not in out and "unevaluatedProperties" not in out):
            out["unevaluatedProperties"] = False
        return out
    return walk(schema)


def json_path(path):
    """['session', 'tools', 0, 'meta'] -> 'session.tools[0].meta' (the live server's style)."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += "[%d]" % part
        else:
            out += ("." if out else "") + str(part)
    return out


def _is_branch_mismatch(err, base_len):
    """True when a failed anyOf branch is simply the wrong alternative: a type mismatch at the
    instance itself (e.g. the `null` of a nullable wrapper), or a different discriminator value
    (`type` or `role` const/enum) of the instance."""
    rel = list(err.absolute_path)[base_len:]
    if not rel and err.validator in ("type", "const", "enum"):
        return True
    if len(rel) == 1 and rel[0] in ("type", "role") and err.validator in ("const", "enum"):
        return True
    return False


def _leaves(err):
    """The most specific errors under `err`, following only plausible anyOf branches."""
    if not err.context:
        return [err]
    base_len = len(err.absolute_path)
    branches = collections.OrderedDict()
    for c in err.context:
        branches.setdefault(c.relative_schema_path[0] if c.relative_schema_path else 0, []).append(c)
    plausible = [b for b in branches.values() if not any(_is_branch_mismatch(c, base_len) for c in b)]
    if not plausible:
        # every branch is the wrong alternative: report the instance against the union
        return [err]
    out = []
    for b in plausible:
        for c in b:
            out += _leaves(c)
    return out


def describe_violation(errors):
    """From the jsonschema errors of one event, the error the live server would report:
    (code, param, message). Only plausible anyOf branches are followed, and cascades are
    dropped: jsonschema also reports a property whose own value failed as 'unevaluated' on its
    parent object."""
    leaves = []
    for e in errors:
        leaves += _leaves(e)
    candidates = []  # (code, path, message)
    for e in leaves:
        if e.validator == "unevaluatedProperties":
            names = re.findall(r"'([^']*)'", e.message.split("(", 1)[-1]) or ["?"]
            for n in names:
                path = list(e.absolute_path) + [n]
                candidates.append(("unknown_parameter", path, "Unknown parameter: '%s'." % json_path(path)))
        elif e.validator == "required":
            missing = e.message.split("'")[1] if "'" in e.message else "?"
            path = list(e.absolute_path) + [missing]
            candidates.append(("missing_required_parameter", path,
                               "Missing required parameter: '%s'." % json_path(path)))
        else:
            path = list(e.absolute_path)
            candidates.append(("invalid_value", path, "Invalid value for '%s': %s." % (
                json_path(path) or "event", e.message[:300])))
    unique = []
    for c in candidates:
        if c not in unique:
            unique.append(c)

    def cascade(c):
        if c[0] != "unknown_parameter":
            return False
        return any(o is not c and o[1][:len(c[1])] == c[1] and (o[0] != c[0] or len(o[1]) > len(c[1]))
                   for o in unique)
    kept = [c for c in unique if not cascade(c)] or unique
    if not kept:
        e = errors[0]
        return "invalid_value", json_path(list(e.absolute_path)) or None, e.message[:300]
    rank = {"unknown_parameter": 0, "missing_required_parameter": 1, "invalid_value": 2}
    kept.sort(key=lambda c: (-len(c[1]), rank[c[0]]))
    code, path, message = kept[0]
    return code, json_path(path) or None, message


class ServerEventChecker:
    """Validates server events against `server_events[type]`, strictly (unknown fields rejected)
    by default."""

    def __init__(self, doc, strict=True):
        self.validators = {}
        for t, s in doc["server_events"].items():
            self.validators[t] = jsonschema.Draft202012Validator(strictify(s) if strict else s)

    def errors(self, event):
        v = self.validators.get(event.get("type"))
        if v is None:
            return ["unknown server event type %r" % event.get("type")]
        return ["%s: %s" % (json_path(list(e.absolute_path)) or "(event)", e.message[:300])
                for e in v.iter_errors(event)]


# --------------------------------------------------------------------------------------------
# Audio helpers (pure Python: audioop is gone from Python 3.13)

def _ulaw_decode(u):
    u = ~u & 0xFF
    t = ((u & 0x0F) << 3) + 0x84
    t <<= (u & 0x70) >> 4
    return (0x84 - t) if (u & 0x80) else (t - 0x84)


def _alaw_decode(a):
    a ^= 0x55
    t = (a & 0x0F) << 4
    seg = (a & 0x70) >> 4
    if seg == 0:
        t += 8
    elif seg == 1:
        t += 0x108
    else:
        t = (t + 0x108) << (seg - 1)
    return t if (a & 0x80) else -t


ULAW_TABLE = [_ulaw_decode(i) for i in range(256)]
ALAW_TABLE = [_alaw_decode(i) for i in range(256)]


def g711_decode(data, table):
    return array.array("h", (table[b] for b in data))


def g711_encode(samples, table):
    """Nearest code for each sample (exact inverse of the decode table)."""
    import bisect
    pairs = sorted((v, code) for code, v in enumerate(table))
    values = [v for v, _ in pairs]
    out = bytearray()
    for x in samples:
        i = bisect.bisect_left(values, x)
        if i == len(values) or (i > 0 and abs(values[i - 1] - x) <= abs(values[i] - x)):
            i -= 1
        out.append(pairs[i][1])
    return bytes(out)


def pcm16_samples(data):
    a = array.array("h")
    a.frombytes(data[: len(data) // 2 * 2])
    if sys.byteorder == "big":
        a.byteswap()
    return a


def level_dbfs(samples):
    if not samples:
        return -120.0
    energy = sum(x * x for x in samples) / len(samples)
    return max(-120.0, 10 * math.log10(energy / (32768.0 * 32768.0))) if energy else -120.0


class AudioFormat:
    """One of the GA formats: bytes per ms, sample rate, and how to get PCM16 samples."""

    def __init__(self, fmt):
        self.type = (fmt or {}).get("type", "audio/pcm")
        if self.type == "audio/pcm":
            self.rate, self.bytes_per_sample = int((fmt or {}).get("rate") or 24000), 2
        else:
            self.rate, self.bytes_per_sample = 8000, 1
        self.bytes_per_ms = self.rate * self.bytes_per_sample // 1000

    def samples(self, data):
        if self.type == "audio/pcm":
            return pcm16_samples(data)
        return g711_decode(data, ULAW_TABLE if self.type == "audio/pcmu" else ALAW_TABLE)


def write_wav(path, samples, rate):
    data = samples.tobytes() if sys.byteorder == "little" else _swapped(samples)
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(data)


def _swapped(samples):
    a = array.array("h", samples)
    a.byteswap()
    return a.tobytes()


def synthesise_reply(text, rate, cache_dir):
    """espeak-ng speech (speech_check's voice) as PCM16 samples at `rate`."""
    sys.path.insert(0, PEERS_DIR)
    try:
        import speech_check
    finally:
        sys.path.remove(PEERS_DIR)
    path = os.path.join(cache_dir, "reply_%d_%s.wav" % (rate, abs(hash(text)) % 10 ** 12))
    speech_check.synthesise(text, path, rate=rate)
    with wave.open(path, "rb") as w:
        return pcm16_samples(w.readframes(w.getnframes()))


# --------------------------------------------------------------------------------------------
# Ids, time, log

def new_id(prefix, n=21):
    alphabet = string.ascii_letters + string.digits
    return prefix + "".join(secrets.choice(alphabet) for _ in range(n))


def now():
    return time.time()


class JsonLog:
    """JSON lines, flushed as written."""

    def __init__(self, path):
        self.f = open(path, "a", buffering=1) if path else None

    def write(self, record):
        if self.f:
            self.f.write(json.dumps(record, separators=(",", ":")) + "\n")
            self.f.flush()

    def close(self):
        if self.f:
            self.f.close()


def percentile(values, q):
    if not values:
        return None
    v = sorted(values)
    return v[min(len(v) - 1, max(0, int(math.ceil(q / 100.0 * len(v))) - 1))]


# --------------------------------------------------------------------------------------------
# Server state shared by all connections

class Fake:
    def __init__(self, args):
        self.args = args
        self.doc = load_schemas(args.schemas)
        client = self.doc["client_events" if args.lenient else "client_events_strict"]
        self.client_validators = {t: jsonschema.Draft202012Validator(s) for t, s in client.items()}
        self.server_checker = ServerEventChecker(self.doc) if not args.no_self_check else None
        self.log = JsonLog(args.log)
        self.rng = random.Random(args.seed)
        self.started = now()
        self.connections = []
        self.next_conn = 1
        self.shutting_down = False
        self.sessions = 0           # connections that got a session
        self.workdir = tempfile.mkdtemp(prefix="openai_fake.")
        if args.record_dir:
            os.makedirs(args.record_dir, exist_ok=True)
        self.replies = args.reply or [REPLY_SENTENCE]
        self.reply_audio = {}   # (text, rate) -> samples
        self.reply_counter = 0
        for text in self.replies:  # synthesise now: the first response must not wait for espeak
            self.reply_pcm(text, 24000)

    def reply_pcm(self, text, rate):
        key = (text, rate)
        if key not in self.reply_audio:
            self.reply_audio[key] = synthesise_reply(text, rate, self.workdir)
        return self.reply_audio[key]

    def next_reply(self):
        text = self.replies[self.reply_counter % len(self.replies)]
        self.reply_counter += 1
        return text

    def record_path(self, name):
        if not self.args.record_dir:
            return None
        return os.path.join(self.args.record_dir, name)

    def summary(self):
        conns = [c.summary() for c in self.connections]
        events, server_events, errors = collections.Counter(), collections.Counter(), collections.Counter()
        violations, truncates, responses, self_check = [], [], [], []
        for c in conns:
            events.update(c["events_by_type"])
            server_events.update(c["server_events_by_type"])
            errors.update(c["errors_sent"])
            violations += c["violations"]
            truncates += c["truncates"]
            responses += c["responses"]
            self_check += c["self_check_failures"]
        return {
            "started": self.started, "ended": now(), "argv": sys.argv[1:],
            "connections": len(conns),
            "events_by_type": dict(events),
            "server_events_by_type": dict(server_events),
            "errors_sent": dict(errors),
            "violations": violations,
            "truncates": truncates,
            "appended_audio_ms": {str(c["conn"]): c["appended_audio_ms"] for c in conns},
            "responses": responses,
            "items_created": [dict(i, conn=c["conn"]) for c in conns for i in c["items_created"]],
            "utterances": [dict(u, conn=c["conn"]) for c in conns for u in c["utterances"]],
            "self_check_failures": self_check,
            "per_connection": conns,
        }

    def write_summary(self):
        if not self.args.summary:
            return
        tmp = self.args.summary + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.summary(), f, indent=1)
            f.write("\n")
        os.replace(tmp, self.args.summary)


# --------------------------------------------------------------------------------------------
# One conversation item / response

class Item:
    def __init__(self, item_id, role, type_="message", content=None, status="completed"):
        self.id, self.role, self.type, self.status = item_id, role, type_, status
        self.content = content if content is not None else []
        self.audio_samples = 0       # assistant: produced (sent) output audio
        self.audio_ms_total = 0.0    # assistant: length of the whole reply
        self.truncated_ms = None
        self.extra = {}              # other item fields (function calls)

    def as_event_item(self):
        item = {"id": self.id, "object": "realtime.item", "type": self.type, "status": self.status}
        if self.type == "message":
            item["role"] = self.role
            item["content"] = [dict(part) for part in self.content]
        item.update(self.extra)
        return item


class Response:
    def __init__(self, conn, params):
        self.conn = conn
        self.id = new_id("resp_")
        self.params = params or {}
        self.out_of_band = self.params.get("conversation") == "none"
        self.modalities = self.params.get("output_modalities") or conn.session.get("output_modalities") or ["audio"]
        self.audio_mode = "audio" in self.modalities
        out_fmt = (((self.params.get("audio") or {}).get("output") or {}).get("format")
                   or conn.session["audio"]["output"]["format"])
        self.fmt = AudioFormat(out_fmt)
        self.format_obj = out_fmt
        self.text = conn.fake.next_reply()
        self.item = Item(new_id("item_"), "assistant", status="in_progress")
        self.status = "in_progress"
        self.reason = None
        self.task = None
        self.t_created = None
        self.t_first_delta = None
        self.t_last_delta = None
        self.t_done = None
        self.deltas = 0
        self.delta_sizes_ms = []
        self.transcript_sent = ""
        self.pcm = None
        self.sent_samples = 0
        self.total_samples = 0
        self.part_added = False
        self.output_item_added = False

    def summary(self):
        ms = self.sent_samples * 1000.0 / self.fmt.rate
        span = ((self.t_last_delta or self.t_created or 0) - (self.t_created or 0)) * 1000.0
        return {"conn": self.conn.n, "id": self.id, "item_id": self.item.id, "status": self.status,
                "reason": self.reason, "text": self.text, "modalities": self.modalities,
                "audio_ms": round(ms, 1),
                "total_audio_ms": round(self.total_samples * 1000.0 / self.fmt.rate, 1),
                "deltas": self.deltas,
                "delta_ms_min": round(min(self.delta_sizes_ms), 1) if self.delta_sizes_ms else None,
                "delta_ms_max": round(max(self.delta_sizes_ms), 1) if self.delta_sizes_ms else None,
                "t_created": self.t_created, "t_first_delta": self.t_first_delta,
                "t_last_delta": self.t_last_delta, "t_done": self.t_done,
                "speedup_observed": round(ms / span, 2) if span > 0 and ms > 0 else None,
                "truncated_ms": self.item.truncated_ms,
                "out_of_band": self.out_of_band}

    def base(self, type_, **kw):
        ev = {"type": type_, "response_id": self.id, "item_id": self.item.id, "output_index": 0}
        ev.update(kw)
        return ev

    def response_obj(self):
        conn = self.conn
        obj = {"object": "realtime.response", "id": self.id, "status": self.status,
               "status_details": None, "output": [], "conversation_id": conn.conversation_id,
               "output_modalities": list(self.modalities), "max_output_tokens": conn.session.get("max_output_tokens", "inf"),
               "audio": {"output": {"format": self.format_obj,
                                    "voice": conn.session["audio"]["output"].get("voice")}},
               "usage": None, "metadata": self.params.get("metadata")}
        if self.out_of_band:
            obj["conversation_id"] = None
        return obj

    def start(self):
        conn = self.conn
        self.t_created = now()
        conn.emit({"type": "response.created", "response": self.response_obj()})
        conn.emit({"type": "rate_limits.updated", "rate_limits": [
            {"name": "requests", "limit": 5000, "remaining": 4999, "reset_seconds": 0.012},
            {"name": "tokens", "limit": 800000, "remaining": 798000, "reset_seconds": 0.15}]})
        if conn.fake.args.fail_response:
            code = conn.fake.args.fail_response
            self.status, self.reason = "failed", None
            self.t_done = now()
            resp = self.response_obj()
            resp["status_details"] = {"type": "failed", "reason": None,
                                      "error": {"type": ERROR_TYPES.get(code, "invalid_request_error"), "code": code}}
            conn.emit({"type": "response.done", "response": resp})
            conn.response_finished(self)
            return
        self.task = asyncio.ensure_future(self.run())

    async def run(self):
        conn, args, rng = self.conn, self.conn.fake.args, self.conn.fake.rng
        if self.audio_mode:
            if self.fmt.type == "audio/pcm":
                self.pcm = conn.fake.reply_pcm(self.text, 24000)
            else:
                samples = conn.fake.reply_pcm(self.text, 8000)
                self.pcm = samples
            self.total_samples = len(self.pcm)
            self.item.audio_ms_total = self.total_samples * 1000.0 / self.fmt.rate
            part = {"type": "output_audio", "transcript": ""}
        else:
            part = {"type": "output_text", "text": ""}
        self.item.content = [part]
        conn.emit(self.base_noitem("response.output_item.added", item=self.item.as_event_item()))
        self.output_item_added = True
        if not self.out_of_band:
            conn.add_item(self.item, announce=False)
            conn.emit({"type": "conversation.item.added", "previous_item_id": conn.previous_of(self.item.id),
                       "item": self.item.as_event_item()})
        # the schema's ContentPart type is "audio"/"text" (what the live server sends here)
        conn.emit(self.base("response.content_part.added", content_index=0,
                            part={"type": "audio" if self.audio_mode else "text",
                                  "transcript": "" if self.audio_mode else None,
                                  "text": None if self.audio_mode else ""}))
        self.part_added = True
        await asyncio.sleep(args.first_delta_ms / 1000.0)
        words = self.text.split()
        if not self.audio_mode:
            for i, w in enumerate(words):
                d = w + (" " if i < len(words) - 1 else "")
                self.transcript_sent += d
                if self.t_first_delta is None:
                    self.t_first_delta = now()
                self.t_last_delta = now()
                self.deltas += 1
                conn.emit(self.base("response.output_text.delta", content_index=0, delta=d))
                await asyncio.sleep(0.01)
            self.finish("completed", None)
            return
        spm = self.fmt.rate / 1000.0  # samples per ms
        n_words = len(words)
        word_at = [int(self.total_samples * i / max(1, n_words)) for i in range(n_words)]
        next_word = 0
        while self.sent_samples < self.total_samples:
            size_ms = rng.uniform(args.delta_min_ms, args.delta_max_ms)
            n = max(1, int(size_ms * spm))
            if rng.random() < 0.3:
                n += rng.randint(1, int(spm * 10))  # not a whole number of 10 ms frames
            n = min(n, self.total_samples - self.sent_samples)
            chunk = self.pcm[self.sent_samples:self.sent_samples + n]
            end = self.sent_samples + n
            while next_word < n_words and word_at[next_word] < end:
                d = words[next_word] + (" " if next_word < n_words - 1 else "")
                self.transcript_sent += d
                conn.emit(self.base("response.output_audio_transcript.delta", content_index=0, delta=d))
                next_word += 1
            if self.fmt.type == "audio/pcm":
                data = chunk.tobytes() if sys.byteorder == "little" else _swapped(chunk)
            else:
                data = g711_encode(chunk, ULAW_TABLE if self.fmt.type == "audio/pcmu" else ALAW_TABLE)
            t = now()
            if self.t_first_delta is None:
                self.t_first_delta = t
            self.t_last_delta = t
            self.deltas += 1
            self.delta_sizes_ms.append(n / spm)
            self.sent_samples = end
            self.item.audio_samples = end
            conn.record_output_audio(self, chunk)
            conn.emit(self.base("response.output_audio.delta", content_index=0,
                                delta=base64.b64encode(data).decode("ascii")),
                      log_extra={"audio_ms": round(n / spm, 2)})
            if self.sent_samples < self.total_samples:
                delay = (n / spm) / args.speedup / 1000.0
                delay *= rng.uniform(max(0.0, 1 - args.jitter), 1 + args.jitter)
                await asyncio.sleep(delay)
        self.finish("completed", None)

    def base_noitem(self, type_, **kw):
        ev = {"type": type_, "response_id": self.id, "output_index": 0}
        ev.update(kw)
        return ev

    def finish(self, status, reason):
        """Ends the response with the GA closing sequence (also for cancelled ones)."""
        conn = self.conn
        self.status, self.reason = status, reason
        self.item.status = "completed" if status == "completed" else "incomplete"
        if self.audio_mode:
            self.item.content = [{"type": "output_audio", "transcript": self.transcript_sent}]
        else:
            self.item.content = [{"type": "output_text", "text": self.transcript_sent}]
        if self.part_added:
            if self.audio_mode:
                conn.emit(self.base("response.output_audio.done", content_index=0))
                conn.emit(self.base("response.output_audio_transcript.done", content_index=0,
                                    transcript=self.transcript_sent))
                part = {"type": "audio", "transcript": self.transcript_sent}
            else:
                conn.emit(self.base("response.output_text.done", content_index=0, text=self.transcript_sent))
                part = {"type": "text", "text": self.transcript_sent}
            conn.emit(self.base("response.content_part.done", content_index=0, part=part))
        if self.output_item_added:
            conn.emit(self.base_noitem("response.output_item.done", item=self.item.as_event_item()))
            if not self.out_of_band:
                conn.emit({"type": "conversation.item.done", "previous_item_id": conn.previous_of(self.item.id),
                           "item": self.item.as_event_item()})
        self.t_done = now()
        resp = self.response_obj()
        if status != "completed":
            resp["status_details"] = {"type": status, "reason": reason, "error": None}
        resp["output"] = [self.item.as_event_item()] if self.output_item_added else []
        out_tokens = int(self.sent_samples / max(1, self.fmt.rate) * 10) + len(self.transcript_sent.split())
        resp["usage"] = {"total_tokens": 120 + out_tokens, "input_tokens": 120, "output_tokens": out_tokens,
                         "input_token_details": {"cached_tokens": 0, "text_tokens": 100, "audio_tokens": 20,
                                                 "image_tokens": 0,
                                                 "cached_tokens_details": {"text_tokens": 0, "audio_tokens": 0,
                                                                           "image_tokens": 0}},
                         "output_token_details": {"text_tokens": len(self.transcript_sent.split()),
                                                  "audio_tokens": int(self.sent_samples / max(1, self.fmt.rate) * 10)}}
        conn.emit({"type": "response.done", "response": resp})
        conn.response_finished(self)

    def cancel(self, reason):
        if self.status != "in_progress":
            return
        if self.task is not None:
            self.task.cancel()
        self.finish("cancelled", reason)


# --------------------------------------------------------------------------------------------
# One WebSocket connection = one session

class Connection:
    def __init__(self, fake, ws, path):
        self.fake, self.ws, self.args = fake, ws, fake.args
        self.n = fake.next_conn
        fake.next_conn += 1
        fake.connections.append(self)
        self.path = path
        self.t_open = now()
        self.mono0 = time.monotonic()
        self.t_close = None
        self.close_code = None
        self.close_reason = None
        self.closed_by = None
        self.outq = asyncio.Queue()
        self.events_by_type = collections.Counter()
        self.server_events_by_type = collections.Counter()
        self.errors_sent = collections.Counter()
        self.violations = []
        self.self_check_failures = []
        self.truncates = []
        self.items_created = []
        self.utterances = []
        self.responses = []
        self.active = None               # the default-conversation response in progress
        self.items = collections.OrderedDict()
        self.conversation_id = new_id("conv_")
        self.session = None
        self.audio_produced = False
        self.tasks = []
        self.last_speech_started = None  # {"t", "item_id", "audio_start_ms"} when it was sent
        # input audio
        self.appends = 0
        self.appended_bytes = 0
        self.append_times = []
        self.input_samples = 0           # the input clock, in samples of the input format
        self.buffer = array.array("h")   # uncommitted audio, PCM16 at the input rate
        self.buffer_start = 0            # sample index of buffer[0]
        self.vad_frame_rest = array.array("h")
        self.vad = {"speaking": False, "run": 0, "gap": 0, "onset": None, "silence": 0,
                    "last_speech_end": None, "item_id": None, "audio_start": None}
        self.input_wav = None
        self.output_wavs = {}
        self.query = {}
        self.model = None
        self.violated = False
        self.session_no = None

    # -- time and log

    def ms(self):
        return round((time.monotonic() - self.mono0) * 1000.0, 1)

    def log(self, kind, **fields):
        rec = {"t": round(now(), 6), "ms": self.ms(), "conn": self.n, "kind": kind}
        rec.update(fields)
        self.fake.log.write(rec)

    # -- sending

    def emit(self, event, log_extra=None):
        """Queues a server event (fresh event_id), after checking it against the schema."""
        ev = {"event_id": new_id("event_")}
        ev.update(event)
        if self.fake.server_checker is not None:
            errs = self.fake.server_checker.errors(ev)
            if errs:
                rec = {"conn": self.n, "type": ev["type"], "errors": errs[:5]}
                self.self_check_failures.append(rec)
                self.log("self_check_failure", type=ev["type"], errors=errs[:5])
                print("openai_fake: SELF-CHECK FAILURE %s: %s" % (ev["type"], errs[:3]), file=sys.stderr)
        if ev["type"] == "error":
            self.errors_sent[ev["error"].get("code") or ev["error"].get("type")] += 1
        self.outq.put_nowait(("event", ev, log_extra))

    def error(self, code, message, param=None, client_event_id=None, type_="invalid_request_error"):
        self.emit({"type": "error", "error": {"type": type_, "code": code, "message": message,
                                              "param": param, "event_id": client_event_id}})

    def close(self, code, reason):
        self.outq.put_nowait(("close", code, reason))

    async def writer(self):
        while True:
            item = await self.outq.get()
            if item[0] == "event":
                _, ev, extra = item
                text = json.dumps(ev, separators=(",", ":"))
                t = now()
                if ev["type"] == "input_audio_buffer.speech_started":
                    self.last_speech_started = {"t": t, "item_id": ev["item_id"],
                                                "audio_start_ms": ev["audio_start_ms"]}
                self.server_events_by_type[ev["type"]] += 1
                fields = {"type": ev["type"], "size": len(text)}
                for k in ("item_id", "response_id", "audio_start_ms", "audio_end_ms"):
                    if k in ev:
                        fields[k] = ev[k]
                if ev["type"] == "error":
                    fields["error"] = ev["error"]
                elif ev["type"] == "response.done":
                    fields["status"] = ev["response"]["status"]
                    fields["status_details"] = ev["response"]["status_details"]
                if extra:
                    fields.update(extra)
                self.log("server", **fields)
                try:
                    await self.ws.send(text)
                except websockets.exceptions.ConnectionClosed:
                    return
            elif item[0] == "close":
                _, code, reason = item
                self.closed_by = "server"
                self.log("server_close", code=code, reason=reason)
                try:
                    await self.ws.close(code=code, reason=reason)
                except websockets.exceptions.ConnectionClosed:
                    pass
                return
            elif item[0] == "reset":
                self.closed_by = "server"
                self.log("server_reset")
                self.ws.transport.abort()
                return
            elif item[0] == "stop":
                return

    # -- lifecycle

    def headers_ok(self):
        """Handshake checks (after the 101, as the live server does). False = refused."""
        h = self.ws.request_headers
        if h.get("OpenAI-Beta") is not None:
            self.error("beta_api_shape_disabled",
                       "The Realtime Beta API is no longer supported. Remove the 'OpenAI-Beta: "
                       "realtime=v1' header and migrate to the GA interface.")
            self.close(4000, "invalid_request_error.beta_api_shape_disabled")
            return False
        auth = h.get("Authorization") or ""
        key = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        bad = (not key or key in (self.args.bad_key or [])
               or (self.args.api_key is not None and key != self.args.api_key))
        if bad:
            shown = (key[:3] + "*" * 4 + key[-4:]) if len(key) > 8 else "****"
            msg = (ERROR_MESSAGES["invalid_api_key"] % shown if key else
                   "You didn't provide an API key. You need to provide your API key in an "
                   "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).")
            self.error("invalid_api_key", msg)
            self.close(3000, "invalid_request_error.invalid_api_key")
            return False
        if self.query.get("intent") != "transcription" and "call_id" not in self.query:
            model = self.model
            if not self.args.any_model and model not in KNOWN_MODELS:
                self.error("model_not_found", ERROR_MESSAGES["model_not_found"] % model, param="model")
                self.close(4000, "invalid_request_error.model_not_found")
                return False
        return True

    def default_session(self):
        return {
            "type": "realtime", "object": "realtime.session", "id": new_id("sess_"),
            "model": self.model or "gpt-realtime", "output_modalities": ["audio"],
            "instructions": DEFAULT_INSTRUCTIONS, "tools": [], "tool_choice": "auto",
            "max_output_tokens": "inf", "tracing": None, "prompt": None,
            "expires_at": int(now()) + 3600,
            "audio": {
                "input": {"format": {"type": "audio/pcm", "rate": 24000}, "transcription": None,
                          "noise_reduction": None,
                          "turn_detection": {"type": "server_vad", "threshold": 0.5,
                                             "prefix_padding_ms": 300,
                                             "silence_duration_ms": self.args.default_silence_ms,
                                             "idle_timeout_ms": None, "create_response": True,
                                             "interrupt_response": True}},
                "output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": "marin",
                           "speed": 1}},
            "include": None,
        }

    def fault_applies(self, scope):
        """`first` = the first connection that got a session (refused ones do not count)."""
        return scope == "each" or self.session_no == 1

    async def run(self):
        parsed = urllib.parse.urlsplit(self.path)
        self.query = dict(urllib.parse.parse_qsl(parsed.query))
        self.model = self.query.get("model")
        h = self.ws.request_headers
        self.log("connect", path=self.path, model=self.model, tls=self.args.tls_cert is not None,
                 authorization=("Bearer" if (h.get("Authorization") or "").lower().startswith("bearer ")
                                else ("other" if h.get("Authorization") else None)),
                 openai_beta=h.get("OpenAI-Beta"), user_agent=h.get("User-Agent"),
                 remote=str(self.ws.remote_address))
        writer = asyncio.ensure_future(self.writer())
        try:
            if self.headers_ok():
                self.fake.sessions += 1
                self.session_no = self.fake.sessions
                self.session = self.default_session()
                self.emit({"type": "session.created", "session": self.session_view()})
                self.start_faults()
                await self.read_loop()
            else:
                await self.read_loop()
        finally:
            for t in self.tasks:
                t.cancel()
            if self.active is not None and self.active.task is not None:
                self.active.task.cancel()
            if not writer.done():
                self.outq.put_nowait(("stop",))
                try:
                    await asyncio.wait_for(writer, 2)
                except (asyncio.TimeoutError, Exception):
                    writer.cancel()
            self.t_close = now()
            self.close_code = self.ws.close_code
            self.close_reason = self.ws.close_reason
            if self.closed_by is None:
                self.closed_by = "shutdown" if self.fake.shutting_down else "client"
            self.finish_recordings()
            self.log("close", code=self.close_code, reason=self.close_reason, by=self.closed_by,
                     appended_audio_ms=self.appended_ms())
            self.fake.write_summary()

    async def read_loop(self):
        try:
            async for message in self.ws:
                self.on_message(message)
        except websockets.exceptions.ConnectionClosed:
            pass

    def start_faults(self):
        a = self.args
        if a.close_after_seconds is not None and self.fault_applies(a.close_on):
            self.tasks.append(asyncio.ensure_future(self.close_later(a.close_after_seconds)))
        if a.inject_error and self.fault_applies(a.error_on):
            self.tasks.append(asyncio.ensure_future(self.error_later(a.error_after_seconds)))

    async def close_later(self, seconds):
        await asyncio.sleep(seconds)
        self.log("fault", what="close", mode=self.args.close_mode, code=self.args.close_code)
        if self.active is not None:
            self.active.task and self.active.task.cancel()
        if self.args.close_mode == "reset":
            self.outq.put_nowait(("reset",))
        else:
            self.close(self.args.close_code, self.args.close_reason)

    async def error_later(self, seconds):
        await asyncio.sleep(seconds)
        for code in self.args.inject_error:
            self.log("fault", what="error", code=code)
            msg = ERROR_MESSAGES.get(code, "Injected error (%s) from the fake server." % code)
            if "%s" in msg:
                msg = msg % ("sk-****" if code == "invalid_api_key" else self.model)
            type_ = ERROR_TYPES.get(code, "invalid_request_error")
            self.error(code, msg, type_=type_)
            if code in FATAL_CODES:
                if self.active is not None and self.active.task is not None:
                    self.active.task.cancel()
                self.close(3000, "%s.%s" % (type_, code))
                return

    # -- client events

    def on_message(self, message):
        t = now()
        size = len(message)
        if isinstance(message, bytes):
            self.violation(None, "binary_frame", "invalid_event", None,
                           "Binary frames are not supported; send JSON text frames.", size)
            return
        try:
            ev = json.loads(message)
        except ValueError as exc:
            self.violation(None, "json", "invalid_json", None,
                           "We could not parse the JSON body of your request. (%s)" % exc, size)
            return
        if not isinstance(ev, dict):
            self.violation(None, "json", "invalid_event", None, "An event must be a JSON object.", size)
            return
        etype = ev.get("type")
        event_id = ev.get("event_id") if isinstance(ev.get("event_id"), str) else None
        self.events_by_type[str(etype)] += 1
        if not isinstance(etype, str):
            self.violation(ev, "unknown_event", "invalid_event", "type", "The 'type' field is missing.", size)
            return
        validator = self.fake.client_validators.get(etype)
        if validator is None:
            self.violation(ev, "unknown_event", "invalid_event", "type",
                           "Invalid value: '%s'. Supported values are: %s." % (
                               etype, ", ".join("'%s'" % k for k in sorted(self.fake.client_validators))), size)
            return
        errors = list(validator.iter_errors(ev))
        if errors:
            code, param, msg = describe_violation(errors)
            self.violation(ev, "schema", code, param, msg, size)
            return
        if self.session is None:
            return  # refused connection: nothing else is processed
        handler = getattr(self, "on_" + etype.replace(".", "_"))
        self.violated = False
        extra = handler(ev) or {}
        if self.violated:
            return  # violation() has logged the event
        fields = {"type": etype, "size": size, "valid": True}
        if event_id:
            fields["event_id"] = event_id
        fields.update(extra)
        self.fake.log.write(dict({"t": round(t, 6), "ms": self.ms(), "conn": self.n, "kind": "client"}, **fields))

    def violation(self, ev, kind, code, param, message, size):
        etype = ev.get("type") if isinstance(ev, dict) else None
        event_id = ev.get("event_id") if isinstance(ev, dict) and isinstance(ev.get("event_id"), str) else None
        rec = {"conn": self.n, "t": round(now(), 6), "type": etype, "kind": kind, "code": code,
               "param": param, "message": message, "event_id": event_id}
        self.violations.append(rec)
        self.violated = True
        self.log("client", type=etype, size=size, valid=False, violation=rec)
        self.error(code, message, param=param, client_event_id=event_id)

    # session.update

    def session_view(self):
        return json.loads(json.dumps(self.session))

    def on_session_update(self, ev):
        upd = ev["session"]
        eid = ev.get("event_id")
        if upd.get("type") != "realtime":
            self.error("invalid_value", "This fake server supports only session.type 'realtime'.",
                       param="session.type", client_event_id=eid)
            return {"rejected": "session.type"}
        voice = ((upd.get("audio") or {}).get("output") or {}).get("voice")
        if voice is not None and self.audio_produced and voice != self.session["audio"]["output"]["voice"]:
            self.error("cannot_update_voice", "Cannot update a conversation's voice if assistant "
                       "audio is present.", param="session.audio.output.voice", client_event_id=eid)
            return {"rejected": "voice"}
        for k, v in upd.items():
            if k == "audio":
                for io in ("input", "output"):
                    sub = (v or {}).get(io)
                    if sub is None:
                        continue
                    for kk, vv in sub.items():
                        if kk == "turn_detection" and isinstance(vv, dict):
                            vv = self.turn_detection_defaults(vv)
                        self.session["audio"][io][kk] = vv
            elif k not in ("type",):
                self.session[k] = v
        if self.args.no_session_updated:
            return {"ignored": True}
        self.emit({"type": "session.updated", "session": self.session_view()})
        return {"session": {"turn_detection": self.session["audio"]["input"]["turn_detection"],
                            "input_format": self.session["audio"]["input"]["format"],
                            "output_format": self.session["audio"]["output"]["format"],
                            "transcription": self.session["audio"]["input"]["transcription"],
                            "voice": self.session["audio"]["output"].get("voice"),
                            "instructions_len": len(self.session.get("instructions") or "")}}

    def turn_detection_defaults(self, td):
        td = dict(td)
        if td.get("type") == "server_vad":
            base = {"threshold": 0.5, "prefix_padding_ms": 300,
                    "silence_duration_ms": self.args.default_silence_ms, "idle_timeout_ms": None,
                    "create_response": True, "interrupt_response": True}
        else:
            base = {"eagerness": "auto", "create_response": True, "interrupt_response": True}
        for k, v in base.items():
            if td.get(k) is None:
                td[k] = v
        return td

    # input audio

    def input_format(self):
        return AudioFormat(self.session["audio"]["input"]["format"])

    def appended_ms(self):
        fmt = self.input_format() if self.session else AudioFormat(None)
        return round(self.appended_bytes / float(fmt.bytes_per_ms), 1)

    def on_input_audio_buffer_append(self, ev):
        try:
            data = base64.b64decode(ev["audio"], validate=True)
        except (binascii.Error, ValueError):
            self.violation(ev, "audio", "invalid_value", "audio",
                           "Invalid 'audio': the value is not valid base64.", len(ev["audio"]))
            return {"rejected": "base64"}
        fmt = self.input_format()
        if len(data) > MAX_APPEND_BYTES:
            self.violation(ev, "audio", "invalid_value", "audio",
                           "Audio content of %d bytes exceeds the limit of 15 MiB per append." % len(data),
                           len(ev["audio"]))
            return {"rejected": "too_large"}
        if fmt.type == "audio/pcm" and len(data) % 2:
            self.violation(ev, "audio", "invalid_value", "audio",
                           "Invalid 'audio': PCM16 audio must have an even number of bytes (got %d)." % len(data),
                           len(ev["audio"]))
            return {"rejected": "odd_length"}
        t = now()
        self.appends += 1
        self.appended_bytes += len(data)
        self.append_times.append(t)
        samples = fmt.samples(data)
        self.buffer.extend(samples)
        if self.input_wav is None and self.args.record_dir:
            self.input_wav = wave.open(self.fake.record_path("conn%d_input.wav" % self.n), "wb")
            self.input_wav.setnchannels(1)
            self.input_wav.setsampwidth(2)
            self.input_wav.setframerate(fmt.rate)
        if self.input_wav is not None:
            self.input_wav.writeframes(samples.tobytes() if sys.byteorder == "little" else _swapped(samples))
        start_samples = self.input_samples
        self.input_samples += len(samples)
        self.run_vad(samples, fmt, start_samples)
        return {"bytes": len(data), "audio_ms": round(len(data) / float(fmt.bytes_per_ms), 2),
                "input_ms": round(self.input_samples * 1000.0 / fmt.rate, 1)}

    def run_vad(self, samples, fmt, start_samples):
        td = self.session["audio"]["input"]["turn_detection"]
        if not td:
            return
        spms = fmt.rate // 1000
        frame = VAD_FRAME_MS * spms
        pending = self.vad_frame_rest + samples
        pos0 = start_samples - len(self.vad_frame_rest)  # sample index of pending[0]
        i = 0
        if self.args.vad_threshold_db is not None:
            thr_db = self.args.vad_threshold_db
        else:
            thr_db = -60.0 + 40.0 * float(td.get("threshold") if td.get("threshold") is not None else 0.5)
        if td["type"] == "semantic_vad":
            silence_ms = {"low": 1000, "medium": 600, "high": 300}.get(td.get("eagerness"), 600)
        else:
            silence_ms = td.get("silence_duration_ms") or self.args.default_silence_ms
        prefix_ms = (td.get("prefix_padding_ms") or 0) if td["type"] == "server_vad" else 300
        v = self.vad
        while i + frame <= len(pending):
            chunk = pending[i:i + frame]
            fstart = pos0 + i
            fend = fstart + frame
            speech = level_dbfs(chunk) >= thr_db
            if not v["speaking"]:
                if speech:
                    if v["run"] == 0:
                        v["onset"] = fstart
                    v["run"] += VAD_FRAME_MS
                    v["gap"] = 0
                    if v["run"] >= self.args.vad_start_ms:
                        self.speech_started(v, prefix_ms, spms, fend)
                else:
                    v["gap"] += VAD_FRAME_MS
                    if v["gap"] > 20:
                        v["run"] = 0
                        v["onset"] = None
                    # keep the idle buffer short: the prefix padding plus a margin
                    keep = (prefix_ms + 1000) * spms
                    if len(self.buffer) > keep * 2 and v["run"] == 0:
                        drop = len(self.buffer) - keep
                        del self.buffer[:drop]
                        self.buffer_start += drop
            else:
                if speech:
                    v["silence"] = 0
                    v["last_speech_end"] = fend
                else:
                    v["silence"] += VAD_FRAME_MS
                    if v["silence"] >= silence_ms:
                        self.speech_stopped(v, spms, fend, td)
            i += frame
        self.vad_frame_rest = pending[i:]

    def speech_started(self, v, prefix_ms, spms, detect_at):
        v["speaking"] = True
        v["silence"] = 0
        v["last_speech_end"] = detect_at
        start = max(self.buffer_start, v["onset"] - prefix_ms * spms, 0)
        v["audio_start"] = start
        v["item_id"] = new_id("item_")
        v["detected_ms"] = detect_at // spms
        self.emit({"type": "input_audio_buffer.speech_started", "audio_start_ms": start // spms,
                   "item_id": v["item_id"]})
        td = self.session["audio"]["input"]["turn_detection"]
        if self.active is not None and td.get("interrupt_response", True):
            self.active.cancel("turn_detected")

    def speech_stopped(self, v, spms, detect_at, td):
        end = v["last_speech_end"]
        item_id = v["item_id"]
        self.emit({"type": "input_audio_buffer.speech_stopped", "audio_end_ms": end // spms,
                   "item_id": item_id})
        a, b = v["audio_start"] - self.buffer_start, detect_at - self.buffer_start
        audio = self.buffer[max(0, a):max(0, b)]
        meta = {"audio_start_ms": v["audio_start"] // spms, "audio_end_ms": end // spms,
                "detected_start_ms": v.get("detected_ms"), "detected_end_ms": detect_at // spms}
        del self.buffer[:max(0, b)]
        self.buffer_start = detect_at
        v.update({"speaking": False, "run": 0, "gap": 0, "onset": None, "silence": 0,
                  "item_id": None, "audio_start": None})
        self.commit_user_item(item_id, audio, meta)
        if td.get("create_response", True):
            if self.active is None:
                self.create_response({})
            else:
                self.log("note", what="auto response skipped: a response is active",
                         response_id=self.active.id)

    def commit_user_item(self, item_id, audio, meta):
        fmt = self.input_format()
        prev = self.last_item_id()
        self.emit({"type": "input_audio_buffer.committed", "previous_item_id": prev, "item_id": item_id})
        item = Item(item_id, "user", content=[{"type": "input_audio", "transcript": None}])
        self.add_item(item, announce=True)
        wav = self.fake.record_path("conn%d_%s.wav" % (self.n, item_id))
        if wav:
            write_wav(wav, audio, fmt.rate)
        utt = dict(meta, item_id=item_id, wav=wav, audio_ms=round(len(audio) * 1000.0 / fmt.rate, 1),
                   transcript=None, t=round(now(), 6))
        self.utterances.append(utt)
        self.log("utterance", **utt)
        if self.session["audio"]["input"].get("transcription"):
            self.tasks.append(asyncio.ensure_future(self.transcribe(item, audio, fmt.rate, utt)))

    async def transcribe(self, item, audio, rate, utt):
        await asyncio.sleep(self.args.transcript_delay_ms / 1000.0)
        text = self.args.transcript
        if self.args.transcribe == "speech_check":
            path = utt.get("wav") or os.path.join(self.fake.workdir, "%s.wav" % item.id)
            if not utt.get("wav"):
                write_wav(path, audio, rate)
            loop = asyncio.get_event_loop()
            try:
                r = await loop.run_in_executor(None, _speech_check, path, self.args.transcribe_expect)
                text = " ".join(r["words"])
            except Exception as exc:  # pocketsphinx missing or failed
                self.emit({"type": "conversation.item.input_audio_transcription.failed",
                           "item_id": item.id, "content_index": 0,
                           "error": {"type": "transcription_error", "code": "fake_transcriber_failed",
                                     "message": str(exc)[:200], "param": None}})
                return
        elif text is None:
            text = "[fake transcript of %d ms of caller audio]" % (len(audio) * 1000 // rate)
        utt["transcript"] = text
        item.content = [{"type": "input_audio", "transcript": text}]
        words = text.split(" ")
        for i, w in enumerate(words):
            self.emit({"type": "conversation.item.input_audio_transcription.delta", "item_id": item.id,
                       "content_index": 0, "delta": w + (" " if i < len(words) - 1 else "")})
        self.emit({"type": "conversation.item.input_audio_transcription.completed", "item_id": item.id,
                   "content_index": 0, "transcript": text,
                   "usage": {"type": "tokens", "input_tokens": max(1, len(audio) // max(1, rate // 10)),
                             "output_tokens": len(words), "total_tokens": len(words) + max(1, len(audio) // max(1, rate // 10)),
                             "input_token_details": {"text_tokens": 0, "audio_tokens": max(1, len(audio) // max(1, rate // 10))}}})

    def on_input_audio_buffer_commit(self, ev):
        fmt = self.input_format()
        spms = fmt.rate // 1000
        ms = len(self.buffer) // spms
        if ms < MIN_COMMIT_MS:
            self.error("input_audio_buffer_commit_empty",
                       "Error committing input audio buffer: buffer too small. Expected at least "
                       "100ms of audio, but buffer only has %.2fms of audio." % (len(self.buffer) / float(spms)),
                       client_event_id=ev.get("event_id"))
            return {"committed": False, "buffer_ms": ms}
        item_id = self.vad["item_id"] or new_id("item_")
        audio = self.buffer[:]
        meta = {"audio_start_ms": self.buffer_start // spms,
                "audio_end_ms": (self.buffer_start + len(self.buffer)) // spms, "manual": True}
        self.buffer_start += len(self.buffer)
        del self.buffer[:]
        self.vad.update({"speaking": False, "run": 0, "gap": 0, "onset": None, "silence": 0,
                         "item_id": None, "audio_start": None})
        self.commit_user_item(item_id, audio, meta)
        return {"committed": True, "buffer_ms": ms, "item_id": item_id}

    def on_input_audio_buffer_clear(self, ev):
        ms = len(self.buffer) * 1000 // self.input_format().rate
        self.buffer_start += len(self.buffer)
        del self.buffer[:]
        self.vad.update({"speaking": False, "run": 0, "gap": 0, "onset": None, "silence": 0,
                         "item_id": None, "audio_start": None})
        self.emit({"type": "input_audio_buffer.cleared"})
        return {"cleared_ms": ms}

    def on_output_audio_buffer_clear(self, ev):
        self.violation(ev, "transport", "invalid_value", "type",
                       "output_audio_buffer.clear is only supported for WebRTC and SIP sessions, "
                       "not over WebSocket.", 0)
        return {"rejected": "websocket"}

    # conversation items

    def last_item_id(self):
        return next(reversed(self.items)) if self.items else None

    def previous_of(self, item_id):
        prev = None
        for k in self.items:
            if k == item_id:
                return prev
            prev = k
        return prev

    def add_item(self, item, announce, after=None):
        if after is None:
            self.items[item.id] = item
        else:
            new = collections.OrderedDict()
            if after == "root":
                new[item.id] = item
            for k, v in self.items.items():
                new[k] = v
                if k == after:
                    new[item.id] = item
            self.items = new
        if announce:
            prev = self.previous_of(item.id)
            self.emit({"type": "conversation.item.added", "previous_item_id": prev, "item": item.as_event_item()})
            self.emit({"type": "conversation.item.done", "previous_item_id": prev, "item": item.as_event_item()})

    def on_conversation_item_create(self, ev):
        it = ev["item"]
        eid = ev.get("event_id")
        prev = ev.get("previous_item_id")
        rec = {"t": round(now(), 6), "type": it.get("type"), "role": it.get("role"),
               "previous_item_id": prev, "client_item_id": it.get("id"), "ok": False}
        if it.get("type") == "message":
            texts = []
            for part in it.get("content", []):
                texts.append(part.get("text") or part.get("transcript") or ("<%s>" % part.get("type")))
            rec["text"] = " ".join(texts)
            if it.get("role") == "assistant" and any(p.get("type") == "output_audio" for p in it.get("content", [])):
                msg = "Assistant messages cannot contain audio content: replay them as output_text."
                self.error("invalid_value", msg, param="item.content", client_event_id=eid)
                rec["error"] = msg
                self.items_created.append(rec)
                return {"item": rec}
        elif it.get("type") == "function_call_output":
            rec["call_id"] = it.get("call_id")
        if prev is not None and prev != "root" and prev not in self.items:
            msg = "Previous item with id '%s' not found." % prev
            self.error("invalid_value", msg, param="previous_item_id", client_event_id=eid)
            rec["error"] = msg
            self.items_created.append(rec)
            return {"item": rec}
        item_id = it.get("id") or new_id("item_")
        if item_id in self.items:
            msg = "Item with id '%s' already exists." % item_id
            self.error("invalid_value", msg, param="item.id", client_event_id=eid)
            rec["error"] = msg
            self.items_created.append(rec)
            return {"item": rec}
        item = Item(item_id, it.get("role"), type_=it.get("type", "message"),
                    content=[dict(p) for p in it.get("content", [])] if it.get("type") == "message" else None)
        if it.get("type") != "message":
            item.extra = {k: v for k, v in it.items() if k not in ("id", "object", "type", "status", "role", "content")}
        rec.update(ok=True, item_id=item_id)
        self.items_created.append(rec)
        self.add_item(item, announce=True, after=prev)
        return {"item": rec}

    def on_conversation_item_delete(self, ev):
        item_id = ev["item_id"]
        if item_id not in self.items:
            self.error("invalid_value", "Item with item_id '%s' not found." % item_id, param="item_id",
                       client_event_id=ev.get("event_id"))
            return {"deleted": False}
        del self.items[item_id]
        self.emit({"type": "conversation.item.deleted", "item_id": item_id})
        return {"deleted": True, "item_id": item_id}

    def on_conversation_item_retrieve(self, ev):
        item_id = ev["item_id"]
        item = self.items.get(item_id)
        if item is None:
            self.error("invalid_value", "Item with item_id '%s' not found." % item_id, param="item_id",
                       client_event_id=ev.get("event_id"))
            return {"retrieved": False}
        self.emit({"type": "conversation.item.retrieved", "item": item.as_event_item()})
        return {"retrieved": True, "item_id": item_id}

    def on_conversation_item_truncate(self, ev):
        t = now()
        eid = ev.get("event_id")
        item_id, ci, end_ms = ev["item_id"], ev["content_index"], ev["audio_end_ms"]
        item = self.items.get(item_id)
        ss = self.last_speech_started
        rec = {"conn": self.n, "t": round(t, 6), "item_id": item_id, "content_index": ci,
               "audio_end_ms": end_ms,
               "speech_started_t": ss["t"] if ss else None,
               "speech_started_item_id": ss["item_id"] if ss else None,
               "ms_after_speech_started": round((t - ss["t"]) * 1000.0, 1) if ss else None,
               "produced_ms": None, "item_total_ms": None, "response_id": None,
               "response_status": None, "ok": False, "error": None}
        resp = next((r for r in self.responses if r.item.id == item_id), None)
        if resp is not None:
            rec["response_id"] = resp.id
            rec["response_status"] = resp.status
        err = None
        if item is None:
            err = ("invalid_value", "item_id", "Conversation item with item_id '%s' not found." % item_id)
        elif item.role != "assistant" or item.type != "message":
            err = ("invalid_value", "item_id", "Only assistant message items can be truncated.")
        elif ci < 0 or ci >= len(item.content) or item.content[ci].get("type") != "output_audio":
            err = ("invalid_value", "content_index",
                   "Content index %d of item '%s' is not an audio content part." % (ci, item_id))
        elif end_ms < 0:
            err = ("invalid_value", "audio_end_ms", "audio_end_ms must be a non-negative integer.")
        else:
            rate = resp.fmt.rate if resp else 24000
            produced = item.audio_samples * 1000.0 / rate
            if item.truncated_ms is not None:
                produced = min(produced, item.truncated_ms)
            rec["produced_ms"] = round(produced, 2)
            rec["item_total_ms"] = round(item.audio_ms_total, 1)
            if end_ms > produced:
                err = ("invalid_value", "audio_end_ms",
                       "Audio content of %dms is already shorter than %dms" % (int(produced), end_ms))
        if err:
            rec["error"] = err[2]
            self.error(err[0], err[2], param=err[1], client_event_id=eid)
        else:
            rec["ok"] = True
            item.truncated_ms = end_ms
            # the transcript is cut to what was heard (proportionally to the audio)
            tr = item.content[ci].get("transcript") or ""
            words = tr.split()
            keep = int(len(words) * end_ms / item.audio_ms_total) if item.audio_ms_total else 0
            item.content[ci]["transcript"] = " ".join(words[:keep])
            rec["transcript_kept"] = item.content[ci]["transcript"]
            self.emit({"type": "conversation.item.truncated", "item_id": item_id, "content_index": ci,
                       "audio_end_ms": end_ms})
        self.truncates.append(rec)
        return {"truncate": rec}

    # responses

    def create_response(self, params, client_event_id=None):
        if params.get("conversation") != "none" and self.active is not None:
            self.error("conversation_already_has_active_response",
                       "Conversation already has an active response in progress: %s. Wait until the "
                       "response is finished before creating a new one." % self.active.id,
                       client_event_id=client_event_id)
            return None
        r = Response(self, params)
        self.responses.append(r)
        if not r.out_of_band:
            self.active = r
        r.start()
        return r

    def response_finished(self, r):
        if self.active is r:
            self.active = None
        if r.sent_samples:
            self.audio_produced = True
        self.log("response", **r.summary())

    def record_output_audio(self, r, chunk):
        if not self.args.record_dir:
            return
        w = self.output_wavs.get(r.id)
        if w is None:
            w = wave.open(self.fake.record_path("conn%d_%s_reply.wav" % (self.n, r.id)), "wb")
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(r.fmt.rate)
            self.output_wavs[r.id] = w
        w.writeframes(chunk.tobytes() if sys.byteorder == "little" else _swapped(chunk))

    def on_response_create(self, ev):
        r = self.create_response(ev.get("response") or {}, ev.get("event_id"))
        return {"response_id": r.id if r else None}

    def on_response_cancel(self, ev):
        target = ev.get("response_id")
        r = self.active
        if target is not None:
            r = next((x for x in self.responses if x.id == target and x.status == "in_progress"), None)
        if r is None or r.status != "in_progress":
            self.error("response_cancel_not_active", "Cancellation failed: no active response found.",
                       client_event_id=ev.get("event_id"))
            return {"cancelled": False}
        r.cancel("client_cancelled")
        return {"cancelled": True, "response_id": r.id}

    # -- summary

    def finish_recordings(self):
        if self.input_wav is not None:
            self.input_wav.close()
            self.input_wav = None
        for w in self.output_wavs.values():
            w.close()
        self.output_wavs = {}

    def summary(self):
        gaps = [(b - a) * 1000.0 for a, b in zip(self.append_times, self.append_times[1:])]
        span = ((self.append_times[-1] - self.append_times[0]) * 1000.0) if len(self.append_times) > 1 else 0
        appended = self.appended_ms()
        return {
            "conn": self.n, "session_id": self.session["id"] if self.session else None,
            "path": self.path, "model": self.model, "t_open": self.t_open,
            "t_close": self.t_close, "close_code": self.close_code, "close_reason": self.close_reason,
            "closed_by": self.closed_by,
            "events_by_type": dict(self.events_by_type),
            "server_events_by_type": dict(self.server_events_by_type),
            "errors_sent": dict(self.errors_sent),
            "violations": self.violations,
            "self_check_failures": self.self_check_failures,
            "truncates": self.truncates,
            "appends": self.appends, "appended_audio_ms": appended,
            "append_first_t": self.append_times[0] if self.append_times else None,
            "append_last_t": self.append_times[-1] if self.append_times else None,
            "append_interval_ms": {"p50": _r(percentile(gaps, 50)), "p95": _r(percentile(gaps, 95)),
                                   "max": _r(max(gaps) if gaps else None)},
            # audio ms per wall ms between the first and last append (1.0 = real time)
            "append_pace": round(appended / span, 3) if span > 0 else None,
            "utterances": self.utterances,
            "items_created": self.items_created,
            "responses": [r.summary() for r in self.responses],
            "session": {"turn_detection": self.session["audio"]["input"]["turn_detection"],
                        "transcription": self.session["audio"]["input"]["transcription"],
                        "input_format": self.session["audio"]["input"]["format"],
                        "output_format": self.session["audio"]["output"]["format"],
                        "voice": self.session["audio"]["output"].get("voice")} if self.session else None,
        }


def _r(x):
    return None if x is None else round(x, 1)


def _speech_check(path, expect):
    sys.path.insert(0, PEERS_DIR)
    try:
        import speech_check
    finally:
        sys.path.remove(PEERS_DIR)
    return speech_check.check(path, expect)


# --------------------------------------------------------------------------------------------
# Server

async def serve(args):
    fake = Fake(args)
    ctx = None
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)

    async def process_request(path, headers):
        parsed = urllib.parse.urlsplit(path)
        if parsed.path.rstrip("/") != "/v1/realtime":
            fake.log.write({"t": round(now(), 6), "kind": "http_reject", "path": path, "status": 404})
            return (http.HTTPStatus(404), [("Content-Type", "application/json")],
                    b'{"error":{"message":"Invalid URL","type":"invalid_request_error"}}\n')
        if args.http_reject_status:
            auth = headers.get("Authorization") or ""
            key = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
            if not key or key in (args.bad_key or []):
                fake.log.write({"t": round(now(), 6), "kind": "http_reject", "path": path,
                                "status": args.http_reject_status})
                return (http.HTTPStatus(args.http_reject_status), [("Content-Type", "application/json")],
                        b'{"error":{"message":"Incorrect API key provided","type":"invalid_request_error",'
                        b'"code":"invalid_api_key"}}\n')
        return None

    async def handler(ws, path=None):
        conn = Connection(fake, ws, path if path is not None else ws.path)
        await conn.run()

    stop = asyncio.get_event_loop().create_future()
    loop = asyncio.get_event_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(True))

    server = await websockets.serve(
        handler, "127.0.0.1", args.port, ssl=ctx, process_request=process_request,
        max_size=args.max_message_bytes, compression=None,
        ping_interval=args.ping_interval if args.ping_interval > 0 else None,
        server_header="openai-realtime-fake")
    port = server.sockets[0].getsockname()[1]
    print("LISTENING %d" % port, flush=True)
    fake.log.write({"t": round(now(), 6), "kind": "listening", "port": port,
                    "scheme": "wss" if ctx else "ws", "argv": sys.argv[1:]})
    fake.write_summary()
    await stop
    fake.shutting_down = True
    server.close()
    try:
        await asyncio.wait_for(server.wait_closed(), 5)
    except asyncio.TimeoutError:
        pass
    fake.write_summary()
    fake.log.write({"t": round(now(), 6), "kind": "exit", "connections": len(fake.connections)})
    fake.log.close()
    shutil.rmtree(fake.workdir, ignore_errors=True)


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description="fake OpenAI Realtime (GA) server for wabridge's tests")
    a = ap.add_argument
    a("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0 = pick one; printed as LISTENING <port>)")
    a("--tls-cert", help="serve wss:// with this certificate (PEM)")
    a("--tls-key", help="... and this key (PEM)")
    a("--make-test-ca", metavar="DIR", help="create a test CA and server cert in DIR, print the paths, exit")
    a("--schemas", default=SCHEMA_FILE, help="the schema file (default tests/data/openai/...)")
    a("--lenient", action="store_true", help="validate against client_events (not _strict)")
    a("--no-self-check", action="store_true", help="do not validate the fake's own server events")
    a("--log", help="JSON-lines event log, flushed per line")
    a("--summary", help="summary JSON, rewritten after each connection and at exit")
    a("--record-dir", help="save the caller's audio (per connection and per user item) and the replies as WAV")
    # auth and handshake
    a("--api-key", help="accept only this key (default: any non-empty key not listed by --bad-key)")
    a("--bad-key", action="append", help="a key answered with invalid_api_key + close 3000 (repeatable)")
    a("--http-reject-status", type=int, default=0,
      help="refuse a missing/bad key with this HTTP status on the upgrade instead (e.g. 403)")
    a("--any-model", action="store_true", help="accept any model name (default: model_not_found for unknown ones)")
    # VAD
    a("--vad-threshold-db", type=float, default=None,
      help="speech level in dBFS (default from turn_detection.threshold t: -60 + 40*t, so -40 at 0.5)")
    a("--vad-start-ms", type=int, default=60, help="speech needed before speech_started (default 60)")
    a("--default-silence-ms", type=int, default=200,
      help="silence_duration_ms when the client does not set it (the live default shown in session.created: 200)")
    a("--transcript", default=None, help="the caller transcript to send (default: a placeholder naming the length)")
    a("--transcribe", choices=("placeholder", "speech_check"), default="placeholder",
      help="speech_check: run pocketsphinx (tests/peers/speech_check.py) on each user item")
    a("--transcribe-expect", default=None, help="the sentence speech_check's grammar is built for "
      "(default speech_check.TEST_SENTENCE)")
    a("--transcript-delay-ms", type=int, default=150, help="delay before the transcription events")
    # responses
    a("--reply", action="append", help="reply text said by espeak-ng (repeatable: used in turn)")
    a("--speedup", type=float, default=5.0, help="output audio is streamed this many times faster than real time")
    a("--jitter", type=float, default=0.5, help="each pause between deltas is scaled by uniform(1-j, 1+j)")
    a("--delta-min-ms", type=float, default=20.0, help="smallest audio delta (ms of audio)")
    a("--delta-max-ms", type=float, default=240.0, help="largest audio delta (ms of audio)")
    a("--first-delta-ms", type=float, default=120.0, help="pause between response.created and the first delta")
    a("--seed", type=int, default=None, help="random seed (delta sizes and pauses)")
    a("--fail-response", metavar="CODE", help="every response ends as failed with status_details.error CODE")
    a("--no-session-updated", action="store_true", help="never answer session.update (fault)")
    # faults
    a("--close-after-seconds", type=float, default=None, help="close the socket this long after it opened")
    a("--close-on", choices=("first", "each"), default="first", help="... on the first connection only, or on each")
    a("--close-code", type=int, default=1001, help="close code (default 1001)")
    a("--close-reason", default=SESSION_CAP_REASON, help="close reason")
    a("--close-mode", choices=("frame", "reset"), default="frame", help="a close frame, or an abrupt TCP reset")
    a("--inject-error", action="append", metavar="CODE",
      help="send an error event with this code (repeatable); fatal codes (%s) then close 3000" %
      ", ".join(sorted(FATAL_CODES)))
    a("--error-after-seconds", type=float, default=0.0, help="when to inject (after session.created)")
    a("--error-on", choices=("first", "each"), default="first", help="inject on the first connection only, or on each")
    # transport
    a("--ping-interval", type=float, default=20.0, help="WebSocket pings every N s (0 = none)")
    a("--max-message-bytes", type=int, default=64 * 1024 * 1024, help="largest client message accepted")
    args = ap.parse_args(argv)
    if bool(args.tls_cert) != bool(args.tls_key):
        ap.error("--tls-cert and --tls-key go together")
    if args.transcribe_expect is None:
        args.transcribe_expect = ("yellow zebras carry heavy wooden boxes across frozen rivers slowly "
                                  "before saturday")
    if args.speedup <= 0:
        ap.error("--speedup must be > 0")
    return args


def main():
    args = parse_args()
    if args.make_test_ca:
        for p in make_test_ca(args.make_test_ca):
            print(p)
        return 0
    if websockets is None or jsonschema is None:
        if os.path.exists("/usr/bin/python3") and not os.environ.get("WABRIDGE_FAKE_REEXEC"):
            os.environ["WABRIDGE_FAKE_REEXEC"] = "1"
            os.execv("/usr/bin/python3", ["/usr/bin/python3", os.path.abspath(__file__)] + sys.argv[1:])
        print("openai_fake: needs python3-websockets and python3-jsonschema (tools/deps.sh)", file=sys.stderr)
        return 2
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
