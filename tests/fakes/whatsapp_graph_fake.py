#!/usr/bin/env python3
"""whatsapp_graph_fake: a local stand-in for the WhatsApp Cloud API call endpoints (Graph API) and
a receiver for wabridge's signed call events, for the bridge's integration tests.

    whatsapp_graph_fake.py [--port 0] [--token T] [--events-secret S] [--cert PEM --key PEM]
                           [--phone-number-id ID] [--no-sdp-check] [--delay-ms N]
                           [--fail-events N] [--faults JSON] [--log FILE]

Listens on 127.0.0.1 only (or ::1 with --host ::1) and prints one JSON line on stdout when it is
ready: {"port": N, "url": "http://127.0.0.1:N"}. SIGTERM/SIGINT stop it (exit 0).

Served (see ../../../shared/docs/whatsapp-calling.md §3 and §6, and tests/fakes/README.md):

    POST /{version}/{phone_number_id}/calls   pre_accept | accept | reject | terminate | connect,
                                              validated like the Graph API; errors in Graph shape
    POST /events                              call events from the bridge, X-Wabridge-Signature
                                              sha256=<hex HMAC-SHA256(raw body, events secret)>
    GET  /_fake/requests   GET /_fake/events   GET /_fake/faults   GET /_fake/health
    POST /_fake/reset      POST /_fake/faults

Importable (stdlib only): `GraphFake(...)` runs the same server in a thread of the test process:

    fake = GraphFake(token="t", events_secret="s")
    base = fake.start()                      # "http://127.0.0.1:<port>"
    ...
    fake.wait_for_action("accept", call_id=cid, timeout=5)
    fake.stop()
"""

import argparse
import base64
import copy
import hashlib
import hmac
import http.server
import json
import os
import re
import secrets
import signal
import socket
import socketserver
import ssl
import string
import sys
import threading
import time
import urllib.parse

LOOPBACKS = ("127.0.0.1", "::1")
ACTIONS = ("pre_accept", "accept", "reject", "terminate", "connect")
TOP_LEVEL_FIELDS = {"messaging_product", "action", "call_id", "session", "to",
                    "biz_opaque_callback_data"}
SESSION_FIELDS = {"sdp_type", "sdp"}
MAX_OPAQUE = 512
MAX_BODY = 1024 * 1024
CALLS_PATH = re.compile(r"^/(?P<version>v[0-9]+\.[0-9]+)/(?P<pnid>[0-9]+)/calls/?$")
ANY_GRAPH_PATH = re.compile(r"^/v[0-9]+\.[0-9]+/")
EVENTS_PATH = "/events"
SIGNATURE_HEADER = "X-Wabridge-Signature"

# Graph error titles (messages are "(#code) title", as Graph prints them).
GRAPH_TITLES = {
    1: "An unknown error occurred",
    2: "Service temporarily unavailable",
    4: "Application request limit reached",
    100: "Invalid parameter",
    131000: "Something went wrong",
    138000: "Calling is not enabled for this phone number",
    138002: "Concurrent call limit reached",
    138003: "Call already ongoing with this user",
    138004: "Connection error",
    138005: "Call rate limit reached",
    138006: "No approved call permission from the user",
    138007: "Connect timeout",
    138008: "SDP Validation error",
    138018: "Calling prerequisites are missing",
}


def default_graph_code(status):
    """The Graph error code an injected failure gets when the test names none."""
    if status == 401:
        return 190
    if status == 429:
        return 4
    if status == 503:
        return 2
    if status >= 500:
        return 1
    return 100


def fbtrace_id():
    alphabet = string.ascii_letters + string.digits + "-_"
    return "A" + "".join(secrets.choice(alphabet) for _ in range(22))


def new_wacid():
    """A call id shaped like Meta's: `wacid.` + URL-safe base64 with `_` and `=` padding."""
    while True:
        tail = base64.urlsafe_b64encode(os.urandom(43)).decode("ascii")   # 43 bytes: "==" padding
        if "_" in tail:
            return "wacid.HBgL" + tail


def graph_error(code, details=None, message=None, type_="OAuthException"):
    """A Graph API error body. `details` goes to error_data.details (omitted when None)."""
    err = {"message": message or "(#%d) %s" % (code, GRAPH_TITLES.get(code, "Error")),
           "type": type_, "code": code}
    if details is not None:
        err["error_data"] = {"messaging_product": "whatsapp", "details": details}
    err["fbtrace_id"] = fbtrace_id()
    return {"error": err}


def check_loopback_host(host):
    if host not in LOOPBACKS:
        raise ValueError("the fake listens on loopback only (127.0.0.1 or ::1), not %r" % (host,))


# --------------------------------------------------------------------------------------------
# SDP sanity (Meta-like, light; the bridge's own checklist is stricter)

def sdp_problems(sdp):
    """A list of problems with an SDP answer sent in pre_accept/accept, empty when it looks like
    something Meta accepts: CRLF line endings, exactly one a=fingerprint (sha-256),
    a=setup:active, ICE ufrag/pwd, one m=audio section."""
    problems = []
    if "\\n" in sdp:
        problems.append("SDP contains escaped \\r\\n sequences (double-encoded?)")
    if not sdp.startswith("v=0"):
        problems.append("SDP does not start with v=0")
    bare_lf = len(re.findall(r"(?<!\r)\n", sdp))
    bare_cr = len(re.findall(r"\r(?!\n)", sdp))
    if bare_lf or bare_cr:
        problems.append("SDP lines must end with CRLF (%d bare LF, %d bare CR)" % (bare_lf, bare_cr))
    elif not sdp.endswith("\r\n"):
        problems.append("SDP must end with CRLF")
    lines = [line for line in re.split(r"\r\n|\n|\r", sdp) if line]
    fingerprints = [line for line in lines if line.startswith("a=fingerprint:")]
    if not fingerprints:
        problems.append("No fingerprint found in SDP")
    elif len(fingerprints) > 1:
        problems.append("SDP has %d a=fingerprint lines; exactly one (sha-256) is allowed"
                        % len(fingerprints))
    elif not fingerprints[0][len("a=fingerprint:"):].lower().startswith("sha-256 "):
        problems.append("the fingerprint must be sha-256: %r" % fingerprints[0])
    setups = [line[len("a=setup:"):].strip() for line in lines if line.startswith("a=setup:")]
    if not setups:
        problems.append("a=setup is missing (must be active)")
    elif any(s != "active" for s in setups):
        problems.append("a=setup must be active, got %s" % ",".join(setups))
    for attr in ("ice-ufrag", "ice-pwd"):
        values = [line.split(":", 1)[1].strip() for line in lines if line.startswith("a=%s:" % attr)]
        if not values or not all(values):
            problems.append("a=%s is missing" % attr)
    media = [line for line in lines if line.startswith("m=")]
    if len(media) != 1 or not media[0].startswith("m=audio "):
        problems.append("exactly one m=audio section is required (found %s)"
                        % ([m.split(" ")[0] for m in media] or "none"))
    return problems


# --------------------------------------------------------------------------------------------
# Faults

class Faults:
    """Injected failures. fail_next: ordered list of {status, count, action?, call_id?,
    graph_code?, details?, message?, delay_ms?, drop?}; the first entry that matches a Graph
    request (after the token check) is used and its count decremented. fail_call:
    {call_id: spec or [specs]}, spec {action?, status, graph_code?, details?, message?, count?}
    (no count = every time). delay_ms: added before every Graph and events answer.
    fail_events: the next N events get `events_status` (default 500)."""

    def __init__(self):
        self.fail_next = []
        self.fail_call = {}
        self.delay_ms = 0
        self.fail_events = 0
        self.events_status = 500

    def update(self, spec):
        """Each key present replaces that setting. {"clear": true} first clears everything."""
        if not isinstance(spec, dict):
            raise ValueError("faults must be a JSON object")
        unknown = set(spec) - {"clear", "fail_next", "fail_call", "delay_ms", "fail_events",
                               "events_status"}
        if unknown:
            raise ValueError("unknown fault settings: %s" % ", ".join(sorted(unknown)))
        if spec.get("clear"):
            self.__init__()
        if "fail_next" in spec:
            entries = spec["fail_next"] or []
            if isinstance(entries, dict):
                entries = [entries]
            self.fail_next = [self._entry(e, default_count=1) for e in entries]
        if "fail_call" in spec:
            calls = spec["fail_call"] or {}
            if not isinstance(calls, dict):
                raise ValueError("fail_call must map call ids to specs")
            self.fail_call = {}
            for cid, specs in calls.items():
                if isinstance(specs, dict):
                    specs = [specs]
                self.fail_call[cid] = [self._entry(s, default_count=None) for s in specs]
        if "delay_ms" in spec:
            self.delay_ms = max(0, int(spec["delay_ms"] or 0))
        if "fail_events" in spec:
            self.fail_events = max(0, int(spec["fail_events"] or 0))
        if "events_status" in spec:
            self.events_status = int(spec["events_status"])

    @staticmethod
    def _entry(e, default_count):
        if not isinstance(e, dict):
            raise ValueError("a fault entry must be an object: %r" % (e,))
        allowed = {"status", "count", "action", "call_id", "graph_code", "details", "message",
                   "delay_ms", "drop"}
        unknown = set(e) - allowed
        if unknown:
            raise ValueError("unknown fault entry fields: %s" % ", ".join(sorted(unknown)))
        out = dict(e)
        out["status"] = int(e.get("status", 500))
        if not 100 <= out["status"] <= 599:
            raise ValueError("bad fault status %r" % e.get("status"))
        out["count"] = e.get("count", default_count)
        if out["count"] is not None:
            out["count"] = int(out["count"])
        if out.get("action") is not None and out["action"] not in ACTIONS:
            raise ValueError("bad fault action %r" % out["action"])
        out.setdefault("graph_code", default_graph_code(out["status"]))
        return out

    def take(self, action, call_id):
        """The fault for this Graph request, or None; consumes one count."""
        for spec in self.fail_call.get(call_id, []) if call_id else []:
            if spec.get("action") not in (None, action):
                continue
            if spec["count"] is not None:
                if spec["count"] <= 0:
                    continue
                spec["count"] -= 1
            return dict(spec, source="fail_call")
        for spec in self.fail_next:
            if spec.get("action") not in (None, action):
                continue
            if spec.get("call_id") not in (None, call_id):
                continue
            if spec["count"] is not None and spec["count"] <= 0:
                continue
            if spec["count"] is not None:
                spec["count"] -= 1
            taken = dict(spec, source="fail_next")
            self.fail_next = [s for s in self.fail_next if s["count"] is None or s["count"] > 0]
            return taken
        return None

    def as_dict(self):
        return {"fail_next": copy.deepcopy(self.fail_next), "fail_call": copy.deepcopy(self.fail_call),
                "delay_ms": self.delay_ms, "fail_events": self.fail_events,
                "events_status": self.events_status}


# --------------------------------------------------------------------------------------------
# Records

def export_record(rec):
    """A JSON-serialisable copy of a record: `raw` (bytes) becomes `body_base64`."""
    out = {k: v for k, v in rec.items() if k != "raw"}
    out["body_base64"] = base64.b64encode(rec.get("raw") or b"").decode("ascii")
    return out


def _copy_record(rec):
    return copy.deepcopy(rec)


# --------------------------------------------------------------------------------------------
# The HTTP side

class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "whatsapp-graph-fake/1"
    sys_version = ""
    timeout = 30

    def log_message(self, fmt, *args):     # quiet; everything is recorded instead
        if self.server.fake.verbose:
            sys.stderr.write("graph-fake: " + (fmt % args) + "\n")

    # ---- plumbing

    def _read_body(self):
        """The request body (bytes), or raises ValueError with what is wrong."""
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            chunks, total = [], 0
            while True:
                line = self.rfile.readline(1024)
                if not line:
                    raise ValueError("truncated chunked body")
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                total += size
                if total > MAX_BODY:
                    raise OverflowError("body larger than %d bytes" % MAX_BODY)
                chunks.append(self.rfile.read(size))
                self.rfile.readline(16)
            return b"".join(chunks)
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        n = int(length)
        if n < 0:
            raise ValueError("bad Content-Length")
        if n > MAX_BODY:
            raise OverflowError("body larger than %d bytes" % MAX_BODY)
        data = self.rfile.read(n)
        if len(data) != n:
            raise ValueError("truncated body (%d of %d bytes)" % (len(data), n))
        return data

    def _send_json(self, status, obj, extra_headers=None):
        data = json.dumps(obj, separators=(",", ":")).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra_headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self.wfile.flush()

    def _drop(self):
        """Close the connection without an answer (an injected `drop`)."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _base_record(self, kind, raw):
        parsed = urllib.parse.urlsplit(self.path)
        headers = {}
        for name, value in self.headers.items():
            key = name.lower()
            headers[key] = value if key not in headers else headers[key] + ", " + value
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError:
            body = raw.decode("utf-8", "replace")
        return {"kind": kind, "t_mono": self._t_mono, "t_wall": self._t_wall,
                "method": self.command, "path": parsed.path, "query": parsed.query,
                "headers": headers, "raw": raw, "body": body, "json": None,
                "client": list(self.client_address[:2]), "tls": self.server.fake.tls}

    # ---- dispatch

    def do_GET(self):
        self._dispatch()

    def do_POST(self):
        self._dispatch()

    def do_PUT(self):
        self._dispatch()

    def do_DELETE(self):
        self._dispatch()

    def _dispatch(self):
        self._t_mono = time.monotonic()
        self._t_wall = time.time()
        fake = self.server.fake
        path = urllib.parse.urlsplit(self.path).path
        try:
            raw = self._read_body()
        except OverflowError as e:
            self.close_connection = True
            self._send_json(413, graph_error(100, str(e)))
            return
        except ValueError as e:
            self.close_connection = True
            self._send_json(400, graph_error(100, "could not read the request body: %s" % e))
            return
        if path.startswith("/_fake/"):
            self._control(path, raw)
        elif path == EVENTS_PATH or path == EVENTS_PATH + "/":
            self._event(raw)
        else:
            self._graph(path, raw)
        if fake.stopping:
            self.close_connection = True

    # ---- control endpoints

    def _control(self, path, raw):
        fake = self.server.fake
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        q = {k: v[-1] for k, v in query.items()}
        try:
            since = int(q.get("since", 0))
        except ValueError:
            self._send_json(400, {"ok": False, "error": "since must be an integer"})
            return
        if self.command == "GET" and path == "/_fake/requests":
            recs = fake.requests(action=q.get("action"), call_id=q.get("call_id"), since=since)
            self._send_json(200, [export_record(r) for r in recs])
        elif self.command == "GET" and path == "/_fake/events":
            self._send_json(200, [export_record(r) for r in fake.events(since=since)])
        elif self.command == "GET" and path == "/_fake/faults":
            self._send_json(200, fake.faults())
        elif self.command == "GET" and path == "/_fake/health":
            self._send_json(200, {"ok": True, "port": fake.port, "url": fake.url,
                                  "requests": len(fake._requests), "events": len(fake._events)})
        elif self.command == "POST" and path == "/_fake/reset":
            fake.reset()
            self._send_json(200, {"ok": True})
        elif self.command == "POST" and path == "/_fake/faults":
            try:
                spec = json.loads(raw.decode("utf-8") or "{}")
                fake.set_faults(**spec) if isinstance(spec, dict) else fake.set_faults(spec)
            except (ValueError, TypeError) as e:
                self._send_json(400, {"ok": False, "error": str(e)})
                return
            self._send_json(200, {"ok": True, "faults": fake.faults()})
        else:
            self._send_json(404, {"ok": False, "error": "no such control endpoint: %s %s"
                                  % (self.command, path)})

    # ---- call events from the bridge

    def _event(self, raw):
        fake = self.server.fake
        rec = self._base_record("event", raw)
        sig = self.headers.get(SIGNATURE_HEADER)
        rec["signature"] = sig
        valid, problem = None, None
        if fake.events_secret is not None:
            expected = "sha256=" + hmac.new(fake.events_secret, raw, hashlib.sha256).hexdigest()
            if sig is None:
                valid, problem = False, "no %s header" % SIGNATURE_HEADER
            elif not sig.startswith("sha256="):
                valid, problem = False, "the signature does not start with sha256="
            else:
                valid = hmac.compare_digest(sig.encode("utf-8", "replace"), expected.encode("ascii"))
                if valid:
                    problem = None
                elif sig.lower() == expected:
                    problem = "the hex digits must be lower-case"
                else:
                    problem = "signature mismatch"
        rec["signature_valid"] = valid
        rec["signature_problem"] = problem
        try:
            rec["json"] = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            rec["json_error"] = str(e)
        delay_ms, fault = 0, None
        with fake._lock:
            delay_ms = fake._faults.delay_ms
            if self.command == "POST" and fake._faults.fail_events > 0:
                fake._faults.fail_events -= 1
                fault = {"source": "fail_events", "status": fake._faults.events_status}
        if self.command != "POST":
            status, resp = 405, {"ok": False, "error": "POST only"}
        elif valid is False:
            status, resp = 401, {"ok": False, "error": problem}
        elif fault:
            status, resp = fault["status"], {"ok": False, "error": "injected failure"}
        elif rec["json"] is None:
            status, resp = 400, {"ok": False, "error": "body is not JSON: %s" % rec.get("json_error")}
        else:
            status, resp = 200, {"ok": True}
        rec.update(status=status, response=resp, fault=fault, delay_ms=delay_ms)
        fake._append("event", rec)
        if delay_ms:
            time.sleep(delay_ms / 1000.0)
        self._send_json(status, resp)

    # ---- Graph API

    def _graph(self, path, raw):
        fake = self.server.fake
        rec = self._base_record("graph", raw)
        m = CALLS_PATH.match(path)
        rec.update(version=m.group("version") if m else None,
                   phone_number_id=m.group("pnid") if m else None,
                   action=None, call_id=None, fault=None, delay_ms=0)
        status, resp, headers, fault = self._graph_answer(m, raw, rec)
        rec["status"] = status
        rec["response"] = resp
        rec["fault"] = fault
        err = resp.get("error") if isinstance(resp, dict) else None
        rec["error_code"] = err.get("code") if err else None
        rec["details"] = (err.get("error_data") or {}).get("details") if err else None
        delay_ms = (fault or {}).get("delay_ms")
        if delay_ms is None:
            with fake._lock:
                delay_ms = fake._faults.delay_ms
        rec["delay_ms"] = delay_ms
        rec["t_answer_mono"] = time.monotonic() + delay_ms / 1000.0
        fake._append("graph", rec)
        if delay_ms:
            time.sleep(delay_ms / 1000.0)
        if fault and fault.get("drop"):
            self._drop()
            return
        self._send_json(status, resp, headers)

    def _graph_answer(self, m, raw, rec):
        """(status, body, extra headers, fault) for a Graph request; fills rec's parsed fields."""
        fake = self.server.fake
        if m is None:
            if ANY_GRAPH_PATH.match(rec["path"]):
                return 400, graph_error(2500, None, "Unknown path components: %s" % rec["path"]), {}, None
            return 404, graph_error(2500, None, "Unknown path: %s" % rec["path"]), {}, None
        # parse what can be parsed first, so that every record names its action and call
        body = None
        try:
            body = json.loads(rec["raw"].decode("utf-8"))
            rec["json"] = body
        except (UnicodeDecodeError, ValueError) as e:
            rec["json_error"] = str(e)
        if isinstance(body, dict):
            rec["action"] = body.get("action") if isinstance(body.get("action"), str) else None
            rec["call_id"] = body.get("call_id") if isinstance(body.get("call_id"), str) else None
        # 1. the token
        auth = self.headers.get("Authorization")
        if not auth or not auth.startswith("Bearer ") or auth[len("Bearer "):] != fake.token:
            why = ("An active access token must be used to query information about the current user."
                   if not auth else "Invalid OAuth access token - Cannot parse access token")
            err = graph_error(190, None, why)
            return 401, err, {"WWW-Authenticate": 'OAuth "Facebook Platform" "invalid_token" "%s"'
                                                  % why}, None
        # 2. injected faults
        if self.command == "POST":
            with fake._lock:
                fault = fake._faults.take(rec["action"], rec["call_id"])
            if fault:
                code = fault.get("graph_code")
                details = fault.get("details", "injected failure")
                return fault["status"], graph_error(code, details, fault.get("message")), {}, fault
        # 3. validation
        if self.command != "POST":
            return 400, graph_error(100, "only POST is supported on %s" % rec["path"],
                                    "Unsupported %s request." % self.command.lower()), {}, None
        if fake.phone_number_id is not None and m.group("pnid") != fake.phone_number_id:
            return 400, graph_error(100, "unknown phone number id %s" % m.group("pnid"),
                                    "Unsupported post request. Object with ID '%s' does not exist, "
                                    "cannot be loaded due to missing permissions, or does not "
                                    "support this operation." % m.group("pnid")), {}, None
        problem = self._validate(body, rec)
        if problem:
            code, details = problem
            return 400, graph_error(code, details), {}, None
        # 4. success
        action = body["action"]
        if action == "connect":
            cid = new_wacid()
            rec["call_id"] = cid
            with fake._lock:
                fake._connects[cid] = body.get("to")
            return 200, {"messaging_product": "whatsapp", "calls": [{"id": cid}]}, {}, None
        if action == "pre_accept":
            with fake._lock:
                fake._pre_accept_sdp[body["call_id"]] = body["session"]["sdp"]
        return 200, {"messaging_product": "whatsapp", "success": True}, {}, None

    def _validate(self, body, rec):
        """(code, details) of the first problem, or None."""
        fake = self.server.fake
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype != "application/json":
            return 100, "Content-Type must be application/json, got %r" % self.headers.get("Content-Type")
        if body is None and "json_error" in rec:
            return 100, "the request body is not valid JSON: %s" % rec["json_error"]
        if not isinstance(body, dict):
            return 100, "the request body must be a JSON object"
        unknown = sorted(set(body) - TOP_LEVEL_FIELDS)
        if unknown:
            return 100, "unknown parameter(s): %s" % ", ".join(unknown)
        if body.get("messaging_product") != "whatsapp":
            return 100, "messaging_product must be \"whatsapp\", got %r" % (body.get("messaging_product"),)
        action = body.get("action")
        if "action" not in body:
            return 100, "the parameter action is required"
        if action not in ACTIONS:
            return 100, "action must be one of %s, got %r" % ("/".join(ACTIONS), action)
        if "biz_opaque_callback_data" in body:
            opaque = body["biz_opaque_callback_data"]
            if not isinstance(opaque, str):
                return 100, "biz_opaque_callback_data must be a string"
            if len(opaque) > MAX_OPAQUE:
                return 100, "biz_opaque_callback_data is %d characters; the limit is %d" % (
                    len(opaque), MAX_OPAQUE)
        if "to" in body and (not isinstance(body["to"], str) or not body["to"]):
            return 100, "to must be a non-empty string"
        if action == "connect":
            if "call_id" in body:
                return 100, "call_id is not allowed for action connect"
            if "to" not in body:
                return 100, "the parameter to is required for action connect"
            return self._check_session(body, "offer", sdp_check=False)
        cid = body.get("call_id")
        if "call_id" not in body:
            return 100, "the parameter call_id is required for action %s" % action
        if not isinstance(cid, str) or not cid:
            return 100, "call_id must be a non-empty string"
        if action in ("reject", "terminate"):
            if "session" in body:
                return 100, "session is not allowed for action %s" % action
            return None
        problem = self._check_session(body, "answer", sdp_check=fake.sdp_check)
        if problem:
            return problem
        if action == "accept":
            with fake._lock:
                earlier = fake._pre_accept_sdp.get(cid)
            sdp = body["session"]["sdp"]
            if earlier is not None and earlier != sdp:
                at = next((i for i, (a, b) in enumerate(zip(earlier, sdp)) if a != b),
                          min(len(earlier), len(sdp)))
                return 138008, ("the accept SDP differs from the pre_accept SDP of this call "
                                "(first difference at character %d; %d vs %d characters)"
                                % (at, len(sdp), len(earlier)))
        return None

    @staticmethod
    def _check_session(body, sdp_type, sdp_check):
        action = body["action"]
        session = body.get("session")
        if session is None:
            return 100, "the parameter session is required for action %s" % action
        if not isinstance(session, dict):
            return 100, "session must be an object"
        unknown = sorted(set(session) - SESSION_FIELDS)
        if unknown:
            return 100, "unknown parameter(s) in session: %s" % ", ".join(unknown)
        if session.get("sdp_type") != sdp_type:
            return 100, "session.sdp_type must be \"%s\" for action %s, got %r" % (
                sdp_type, action, session.get("sdp_type"))
        sdp = session.get("sdp")
        if not isinstance(sdp, str) or not sdp.strip():
            return 100, "session.sdp must be a non-empty string"
        if sdp_check:
            problems = sdp_problems(sdp)
            if problems:
                return 138008, "; ".join(problems)
        return None


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, fake, address, family):
        self.address_family = family
        self.fake = fake
        super().__init__(address, _Handler)

    def finish_request(self, request, client_address):
        fake = self.fake
        conn = request
        with fake._lock:
            fake._open.add(request)
        try:
            if fake._ssl_ctx is not None:
                request.settimeout(10)
                try:
                    conn = fake._ssl_ctx.wrap_socket(request, server_side=True)
                except (ssl.SSLError, OSError) as e:
                    with fake._lock:
                        fake._tls_errors.append({"t_mono": time.monotonic(), "error": str(e)})
                    return
                conn.settimeout(None)
                with fake._lock:
                    fake._open.add(conn)
            self.RequestHandlerClass(conn, client_address, self)
        finally:
            with fake._lock:
                fake._open.discard(request)
                fake._open.discard(conn)
            if conn is not request:
                try:
                    conn.close()
                except OSError:
                    pass

    def handle_error(self, request, client_address):
        if self.fake.verbose:
            super().handle_error(request, client_address)


# --------------------------------------------------------------------------------------------
# The in-process API

class GraphFake:
    """The fake Graph API + call-events receiver, run in a thread of the calling process.

    token: the access token to require (`Authorization: Bearer <token>`).
    events_secret: HMAC key for X-Wabridge-Signature on POST /events (str or bytes); None
        accepts every event unsigned (signature_valid is then None).
    host/port: 127.0.0.1 or ::1 only; port 0 picks a free port.
    certfile/keyfile: PEM files; serve https:// when given.
    phone_number_id: when set, other ids in the path get Graph's "Unsupported post request".
    sdp_check: the light SDP sanity check on pre_accept/accept answers (138008).
    log_path: append each record as one JSON line (raw body base64) to this file.
    """

    def __init__(self, token="test-graph-token", events_secret=None, host="127.0.0.1", port=0,
                 certfile=None, keyfile=None, phone_number_id=None, sdp_check=True,
                 log_path=None, verbose=False):
        check_loopback_host(host)
        if bool(certfile) != bool(keyfile):
            raise ValueError("certfile and keyfile go together")
        self.token = token
        self.events_secret = (events_secret.encode("utf-8") if isinstance(events_secret, str)
                              else events_secret)
        self.host = host
        self.requested_port = port
        self.phone_number_id = phone_number_id
        self.sdp_check = sdp_check
        self.verbose = verbose
        self.tls = bool(certfile)
        self._ssl_ctx = None
        if certfile:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            ctx.load_cert_chain(certfile, keyfile)
            self._ssl_ctx = ctx
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._requests = []
        self._events = []
        self._seq = 0
        self._faults = Faults()
        self._pre_accept_sdp = {}
        self._connects = {}
        self._tls_errors = []
        self._open = set()
        self._log = open(log_path, "a", buffering=1) if log_path else None
        self._server = None
        self._thread = None
        self.stopping = False
        self.port = None
        self.url = None

    # ---- life cycle

    def start(self):
        """Binds, starts serving in a daemon thread, returns the base URL."""
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        self._server = _Server(self, (self.host, self.requested_port), family)
        self.port = self._server.server_address[1]
        host = "[%s]" % self.host if ":" in self.host else self.host
        self.url = "%s://%s:%d" % ("https" if self.tls else "http", host, self.port)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name="graph-fake", daemon=True)
        self._thread.start()
        return self.url

    def stop(self):
        """Stops serving and closes open connections."""
        if self._server is None:
            return
        self.stopping = True
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            conns = list(self._open)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._thread.join(5)
        self._server = None
        if self._log:
            self._log.close()
            self._log = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def calls_url(self, phone_number_id="123456789012345", version="v23.0"):
        """The URL the bridge should POST call actions to."""
        return "%s/%s/%s/calls" % (self.url, version, phone_number_id)

    def events_url(self):
        return self.url + EVENTS_PATH

    # ---- records

    def _append(self, kind, rec):
        with self._cond:
            self._seq += 1
            rec["seq"] = self._seq
            (self._requests if kind == "graph" else self._events).append(rec)
            self._cond.notify_all()
            if self._log:
                self._log.write(json.dumps(export_record(rec)) + "\n")

    def requests(self, action=None, call_id=None, status=None, since=0):
        """Copies of the Graph request records, in arrival order (failed ones included).
        Each: seq, kind "graph", t_mono, t_wall, method, path, query, version, phone_number_id,
        headers (lower-case names), raw (bytes), body (str), json, action, call_id, status,
        response, error_code, details, fault, delay_ms, t_answer_mono, client, tls."""
        with self._lock:
            return [_copy_record(r) for r in self._requests
                    if r["seq"] > since
                    and (action is None or r.get("action") == action)
                    and (call_id is None or r.get("call_id") == call_id)
                    and (status is None or r.get("status") == status)]

    def events(self, since=0, valid=None):
        """Copies of the POST /events records: seq, kind "event", t_mono, t_wall, path, headers,
        raw, body, json, signature, signature_valid, signature_problem, status, fault."""
        with self._lock:
            return [_copy_record(r) for r in self._events
                    if r["seq"] > since and (valid is None or r.get("signature_valid") == valid)]

    def last_seq(self):
        """The seq of the latest record (requests and events share one counter)."""
        with self._lock:
            return self._seq

    def tls_errors(self):
        with self._lock:
            return list(self._tls_errors)

    def connected_calls(self):
        """{wacid: to} of every successful connect."""
        with self._lock:
            return dict(self._connects)

    def pre_accept_sdp(self, call_id):
        with self._lock:
            return self._pre_accept_sdp.get(call_id)

    def reset(self):
        """Forgets records, faults and per-call state (pre_accept SDPs, connects)."""
        with self._cond:
            self._requests.clear()
            self._events.clear()
            self._faults = Faults()
            self._pre_accept_sdp.clear()
            self._connects.clear()
            self._tls_errors.clear()
            self._cond.notify_all()

    # ---- faults

    def set_faults(self, spec=None, **kw):
        """Replaces the named settings: fail_next=[{status, count=1, action?, call_id?,
        graph_code?, details?, message?, delay_ms?, drop?}], fail_call={call_id: spec or
        [specs]}, delay_ms=N, fail_events=N, events_status=500, clear=True."""
        spec = dict(spec or {}, **kw)
        with self._lock:
            self._faults.update(spec)

    def fail_next(self, status=500, count=1, action=None, graph_code=None, details=None, **extra):
        """Appends one fail_next entry (e.g. 500 twice: fail_next(500, 2))."""
        e = dict(extra, status=status, count=count)
        if action is not None:
            e["action"] = action
        if graph_code is not None:
            e["graph_code"] = graph_code
        if details is not None:
            e["details"] = details
        with self._lock:
            self._faults.fail_next.append(Faults._entry(e, default_count=1))

    def fail_call(self, call_id, action=None, status=400, graph_code=138008, details=None,
                  count=None, **extra):
        """Adds a failure for one call (every time unless count is given)."""
        e = dict(extra, status=status, graph_code=graph_code, count=count)
        if action is not None:
            e["action"] = action
        if details is not None:
            e["details"] = details
        with self._lock:
            self._faults.fail_call.setdefault(call_id, []).append(Faults._entry(e, default_count=None))

    def fail_events(self, n, status=500):
        with self._lock:
            self._faults.fail_events = n
            self._faults.events_status = status

    def set_delay(self, ms):
        with self._lock:
            self._faults.delay_ms = max(0, int(ms))

    def faults(self):
        with self._lock:
            return self._faults.as_dict()

    # ---- waiting

    def wait_for(self, predicate=None, timeout=5.0, count=1, source="requests", since=0):
        """Blocks until at least `count` records of `source` ("requests" or "events") with
        seq > since satisfy `predicate` (a function of a record; None = any), and returns copies
        of all the matching ones. Raises TimeoutError (listing what was recorded) otherwise."""
        if source not in ("requests", "events"):
            raise ValueError("source must be requests or events")
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                pool = self._requests if source == "requests" else self._events
                hits = [r for r in pool if r["seq"] > since and (predicate is None or predicate(r))]
                if len(hits) >= count:
                    return [_copy_record(r) for r in hits]
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = ["%s %s %s" % (r.get("action") or r.get("path"), r.get("call_id") or "",
                                          r.get("status")) for r in pool[-10:]]
                    raise TimeoutError("waited %.1f s for %d matching %s, got %d; last recorded: %s"
                                       % (timeout, count, source, len(hits), seen))
                self._cond.wait(min(left, 0.5))

    def wait_for_action(self, action, call_id=None, status=None, count=1, timeout=5.0, since=0):
        """wait_for() on Graph requests with this action (and call id, and answered status)."""
        return self.wait_for(lambda r: r.get("action") == action
                             and (call_id is None or r.get("call_id") == call_id)
                             and (status is None or r.get("status") == status),
                             timeout=timeout, count=count, since=since)

    def wait_for_event(self, predicate=None, count=1, timeout=5.0, since=0):
        """wait_for() on POST /events records; the predicate gets the record (`json` = body)."""
        return self.wait_for(predicate, timeout=timeout, count=count, source="events", since=since)


# --------------------------------------------------------------------------------------------
# As a process

def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1", help="127.0.0.1 (default) or ::1")
    ap.add_argument("--port", type=int, default=0, help="0 picks a free port (printed)")
    ap.add_argument("--token", default="test-graph-token", help="the required Bearer token")
    ap.add_argument("--events-secret", default=None, help="HMAC key for X-Wabridge-Signature")
    ap.add_argument("--cert", default=None, help="PEM certificate: serve https://")
    ap.add_argument("--key", default=None, help="PEM private key for --cert")
    ap.add_argument("--phone-number-id", default=None, help="accept only this id in the path")
    ap.add_argument("--no-sdp-check", action="store_true", help="skip the SDP sanity check")
    ap.add_argument("--delay-ms", type=int, default=0, help="delay before every answer")
    ap.add_argument("--fail-events", type=int, default=0, help="answer 500 to the first N events")
    ap.add_argument("--faults", default=None, help="initial faults, as for POST /_fake/faults")
    ap.add_argument("--log", default=None, help="JSON-lines file of every record")
    ap.add_argument("--verbose", action="store_true", help="access log on stderr")
    return ap.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        fake = GraphFake(token=args.token, events_secret=args.events_secret, host=args.host,
                         port=args.port, certfile=args.cert, keyfile=args.key,
                         phone_number_id=args.phone_number_id, sdp_check=not args.no_sdp_check,
                         log_path=args.log, verbose=args.verbose)
        if args.faults:
            fake.set_faults(json.loads(args.faults))
        if args.delay_ms:
            fake.set_delay(args.delay_ms)
        if args.fail_events:
            fake.fail_events(args.fail_events)
        url = fake.start()
    except (ValueError, OSError, ssl.SSLError) as e:
        sys.stderr.write("whatsapp_graph_fake: %s\n" % e)
        return 2
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    sys.stdout.write(json.dumps({"port": fake.port, "url": url}) + "\n")
    sys.stdout.flush()
    while not done.wait(0.5):
        pass
    fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
