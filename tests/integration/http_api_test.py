#!/usr/bin/env python3
"""Integration tests of the HTTP control plane over real sockets on 127.0.0.1.

Starts build/wabridge (path in argv[1]) with test settings, talks HTTP/1.1 to it with the
standard library only, and prints one `ok - name` / `not ok - name` line per test, then
`integration: N passed, M failed`. Exit status 1 when anything failed.
"""
import http.client
import json
import re
import os
import signal
import socket
import subprocess
import sys
import time
from bridge_process import free_port, run_case  # noqa: E402

BINARY = sys.argv[1] if len(sys.argv) > 1 else "build/wabridge"
DATA = "tests/data/sdp/whatsapp/"
OFFER = open(DATA + "wa-offer-01.sdp").read()
OFFER2 = open(DATA + "wa-offer-02.sdp").read()
PARTIAL = open(DATA + "wa-offer-04-partial.sdp").read()


class Bridge:
    """One bridge process with the given extra environment."""

    def __init__(self, **env):
        self.port = free_port()
        full = dict(os.environ)
        for k in list(full):
            if k in ("BRIDGE_API_TOKEN", "OPENAI_API_KEY", "PUBLIC_IP"):
                del full[k]
        full.update({"PORT": str(self.port), "BIND_ADDRESS": "127.0.0.1",
                     "ICE_BIND_ADDRESSES": "127.0.0.1", "LOG_FORMAT": "json"})
        full.update({k: str(v) for k, v in env.items()})
        self.proc = subprocess.Popen([BINARY], env=full, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError("bridge exited: " + self.proc.stderr.read())
                time.sleep(0.05)
        raise RuntimeError("bridge did not listen")

    def conn(self):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)

    def request(self, method, path, body=None, headers=None, content_type="application/json"):
        c = self.conn()
        h = dict(headers or {})
        if body is not None and content_type:
            h["Content-Type"] = content_type
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read().decode()
        c.close()
        return r.status, dict(r.getheaders()), data

    def json(self, method, path, body=None, **kw):
        status, headers, data = self.request(method, path, body, **kw)
        return status, headers, json.loads(data) if data else None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        out, err = self.proc.communicate()
        return self.proc.returncode, err


def raw(port, payload, read_until_close=True, timeout=5):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(payload)
    chunks = []
    while True:
        try:
            b = s.recv(65536)
        except socket.timeout:
            break
        if not b:
            break
        chunks.append(b)
        if not read_until_close:
            break
    s.close()
    return b"".join(chunks)


def split_responses(data):
    """Splits a byte stream of HTTP/1.1 responses that all carry Content-Length."""
    out = []
    while data:
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        status = int(lines[0].split()[1])
        headers = {l.split(":", 1)[0].lower(): l.split(":", 1)[1].strip() for l in lines[1:]}
        n = int(headers["content-length"])
        out.append((status, headers, rest[:n].decode()))
        data = rest[n:]
    return out


TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def check(cond, message):
    if not cond:
        raise AssertionError(message)


def error_of(body):
    check(body["success"] is False, "error body without success:false: %r" % body)
    return body["error"]["code"]


# ---------------------------------------------------------------- endpoints

@test
def health_reports_status_sessions_uptime_version(b):
    status, headers, body = b.json("GET", "/health")
    check(status == 200, status)
    check(headers["Content-Type"].startswith("application/json"), headers)
    check(body["status"] == "healthy" and body["activeSessions"] == 0, body)
    check(body["version"] == "0.1.0", body)
    check(isinstance(body["uptime"], (int, float)) and body["uptime"] >= 0, body)


@test
def webrtc_offer_gets_a_whatsapp_answer(b):
    status, _, body = b.json("POST", "/sessions/wacid.ABC%3D%3D/webrtc", {"sdpOffer": OFFER})
    check(status == 200, (status, body))
    check(body["success"] is True and body["sessionId"] == "wacid.ABC==", body)
    answer = body["sdpAnswer"]
    check(answer.startswith("v=0\r\n"), answer[:20])
    for line in ("a=setup:active", "a=mid:audio", "a=group:BUNDLE audio", "a=rtcp-mux",
                 "a=sendrecv", "a=rtpmap:111 opus/48000/2", "a=rtpmap:126 telephone-event/8000",
                 "a=ptime:20"):
        check(line + "\r\n" in answer, line)
    check(answer.count("a=fingerprint:sha-256 ") == 1, "fingerprints")
    # A host candidate on ICE_BIND_ADDRESSES, on a port libnice bound inside RTP_PORT_MIN..MAX.
    ports = [int(m) for m in re.findall(r" udp \d+ 127\.0\.0\.1 (\d+) typ host", answer)]
    check(len(ports) == 1 and 10000 <= ports[0] <= 10100, ("candidate", ports))
    check("AeinEGDfvqBctbtM" not in answer, "echoed ufrag")


@test
def retried_webhook_gets_the_same_answer_and_a_new_offer_conflicts(b):
    _, _, first = b.json("POST", "/sessions/retry1/webrtc", {"sdpOffer": OFFER})
    _, _, again = b.json("POST", "/sessions/retry1/webrtc", {"sdpOffer": OFFER})
    check(first["sdpAnswer"] == again["sdpAnswer"], "retry changed the answer")
    status, _, body = b.json("POST", "/sessions/retry1/webrtc", {"sdpOffer": OFFER2})
    check(status == 409 and error_of(body) == "session_conflict", (status, body))


@test
def invalid_sdp_is_400_with_the_engines_reason(b):
    status, _, body = b.json("POST", "/sessions/bad1/webrtc", {"sdpOffer": PARTIAL})
    check(status == 400 and error_of(body) == "invalid_sdp", (status, body))
    check(body["error"]["message"] == "line 8: no a=fingerprint for DTLS", body)
    check(body["error"]["sdpError"] == "no_fingerprint" and body["error"]["line"] == 8, body)
    status, _, body = b.json("POST", "/sessions/bad2/webrtc", {"sdpOffer": "hello"})
    check(status == 400 and "line 1" in body["error"]["message"], body)


@test
def session_get_list_delete(b):
    b.json("POST", "/sessions/life1/webrtc",
           {"sdpOffer": OFFER, "openaiModel": "gpt-realtime-mini", "voice": "cedar"})
    status, _, body = b.json("GET", "/sessions/life1")
    check(status == 200, status)
    s = body["session"]
    check(s["callId"] == "life1" and s["state"] == "answered", s)
    check(s["model"] == "gpt-realtime-mini" and s["voice"] == "cedar", s)
    check(s["negotiated"]["dtlsRole"] == "client" and s["negotiated"]["iceRole"] == "controlling", s)
    check(s["createdAt"].endswith("Z") and s["endReason"] is None, s)
    status, _, body = b.json("GET", "/sessions")
    check(status == 200 and "life1" in [x["callId"] for x in body["sessions"]], body)
    status, _, body = b.json("DELETE", "/sessions/life1")
    check(status == 200 and body == {"success": True}, (status, body))
    _, _, body = b.json("GET", "/sessions/life1")
    check(body["session"]["state"] == "ended" and body["session"]["endReason"] == "deleted", body)
    status, _, body = b.json("DELETE", "/sessions/never-existed")
    check(status == 404 and error_of(body) == "session_not_found", (status, body))
    status, _, body = b.json("GET", "/sessions/never-existed")
    check(status == 404, status)
    status, _, body = b.json("POST", "/sessions/life1/webrtc", {"sdpOffer": OFFER})
    check(status == 409 and error_of(body) == "session_ended", (status, body))


@test
def bridge_start_and_stop_are_aliases(b):
    status, _, body = b.json("POST", "/bridge/start",
                             {"callId": "alias1", "sdpOffer": OFFER, "from": "15551234567",
                              "sessionConfig": {"voice": "marin", "instructions": "hi",
                                                "temperature": 0.8}})
    check(status == 200 and body["success"] and body["callId"] == "alias1", (status, body))
    check("a=setup:active\r\n" in body["sdpAnswer"], "answer")
    _, _, got = b.json("GET", "/sessions/alias1")
    check(got["session"]["from"] == "15551234567" and got["session"]["voice"] == "marin", got)
    status, _, body = b.json("POST", "/bridge/stop", {"callId": "alias1"})
    check(status == 200 and body == {"success": True}, (status, body))
    status, _, body = b.json("POST", "/bridge/stop", {"callId": "nope"})
    check(status == 404, status)
    status, _, body = b.json("POST", "/bridge/start", {"sdpOffer": OFFER})
    check(status == 400 and error_of(body) == "invalid_request", (status, body))


# ---------------------------------------------------------------- error statuses

@test
def every_error_status_is_json(b):
    cases = [
        ("GET", "/nope", None, {}, "application/json", 404, "not_found"),
        ("PUT", "/sessions/x/webrtc", "{}", {}, "application/json", 405, "method_not_allowed"),
        ("POST", "/sessions/x/webrtc", "sdp", {}, "text/plain", 415, "unsupported_media_type"),
        ("POST", "/sessions/x/webrtc", "{not json", {}, "application/json", 400, "invalid_json"),
        ("POST", "/sessions/x/webrtc", "[]", {}, "application/json", 400, "invalid_json"),
        ("POST", "/sessions/x/webrtc", "{}", {}, "application/json", 400, "invalid_request"),
        ("POST", "/sessions/x/webrtc", '{"sdpOffer": 5}', {}, "application/json", 400,
         "invalid_request"),
        ("GET", "/sessions/%ZZ", None, {}, None, 400, "invalid_call_id"),
    ]
    for method, path, body, headers, ctype, want_status, want_code in cases:
        status, h, data = b.request(method, path, body, headers, content_type=ctype)
        check(status == want_status, (method, path, status, data))
        check(error_of(json.loads(data)) == want_code, (path, data))
        if want_status == 405:
            check(h.get("Allow") == "POST", h)


@test
def two_mebibyte_body_is_413(b):
    big = b'{"sdpOffer":"' + b"a" * (2 * 1024 * 1024) + b'"}'
    head = ("POST /sessions/big/webrtc HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            "Content-Length: %d\r\n\r\n" % len(big)).encode()
    s = socket.create_connection(("127.0.0.1", b.port), timeout=5)
    s.sendall(head)
    data = s.recv(65536)
    s.close()
    status, headers, body = split_responses(data)[0]
    check(status == 413 and json.loads(body)["error"]["code"] == "payload_too_large", data)
    check(headers.get("connection") == "close", headers)


@test
def garbage_bytes_get_400_and_the_connection_closes(b):
    data = raw(b.port, b"\x16\x03\x01\x02\x00garbage\r\n\r\n")
    status, headers, body = split_responses(data)[0]
    check(status == 400 and json.loads(body)["error"]["code"] == "bad_request", data)
    check(headers.get("connection") == "close", headers)


# ---------------------------------------------------------------- keep-alive, pipelining

@test
def a_thousand_keep_alive_requests_on_one_connection(b):
    before = metric(b, "wabridge_http_connections_accepted_total")
    c = b.conn()
    for i in range(1000):
        c.request("GET", "/health")
        r = c.getresponse()
        body = json.loads(r.read())
        check(r.status == 200 and body["status"] == "healthy", i)
    c.close()
    after = metric(b, "wabridge_http_connections_accepted_total")
    # one for the loop, one for each metrics scrape
    check(after - before == 2, (before, after))


@test
def pipelined_requests_are_answered_in_order(b):
    body = json.dumps({"sdpOffer": OFFER})
    reqs = ("GET /sessions/pipe-missing HTTP/1.1\r\nHost: x\r\n\r\n"
            "POST /sessions/pipe1/webrtc HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            "Content-Length: %d\r\n\r\n%s"
            "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n") % (len(body), body)
    responses = split_responses(raw(b.port, reqs.encode()))
    check([r[0] for r in responses] == [404, 200, 200], [r[0] for r in responses])
    check(json.loads(responses[1][2])["sessionId"] == "pipe1", responses[1])
    check(json.loads(responses[2][2])["status"] == "healthy", responses[2])


# ---------------------------------------------------------------- metrics

def metric(b, name):
    _, _, text = b.request("GET", "/metrics")
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError("metric %s missing" % name)


@test
def metrics_expose_sessions_requests_lag_and_process(b):
    b.json("POST", "/sessions/m1/webrtc", {"sdpOffer": OFFER})
    b.json("DELETE", "/sessions/m1")
    b.json("GET", "/health")
    status, headers, text = b.request("GET", "/metrics")
    check(status == 200 and headers["Content-Type"].startswith("text/plain; version=0.0.4"), headers)
    for needle in ("wabridge_sessions_active ", "wabridge_sessions_created_total ",
                   'wabridge_sessions_ended_total{reason="deleted"} ',
                   'wabridge_http_requests_total{route="/health",status="200"} ',
                   'wabridge_http_requests_total{route="/sessions/{callId}/webrtc",status="200"} ',
                   'wabridge_loop_lag_seconds_bucket{le="0.001"} ', "wabridge_loop_lag_seconds_count ",
                   "wabridge_process_cpu_seconds ", "wabridge_process_resident_memory_bytes "):
        check(needle in text, needle)
    check(metric(b, "wabridge_process_resident_memory_bytes") > 1e6, "rss")
    # The 1 s session sweep is a loop timer, so lag observations appear within a second or two.
    deadline = time.time() + 3
    while metric(b, "wabridge_loop_lag_seconds_count") == 0 and time.time() < deadline:
        time.sleep(0.2)
    check(metric(b, "wabridge_loop_lag_seconds_count") > 0, "lag observations")


# ---------------------------------------------------------------- separate processes

def with_bridge(env, fn):
    b = Bridge(**env)
    try:
        fn(b)
    finally:
        b.stop()


@test
def public_ip_replaces_the_private_ipv4_candidate_and_ipv6_is_gathered_too(_):
    # 1:1 NAT (Janus's nat_1_1_mapping): PUBLIC_IP stands in for host addresses of its own
    # family; ::1 has no public twin and is advertised as is. No traffic goes anywhere: the
    # offer's candidate is not on loopback, so the bridge never pairs with it.
    def run(b):
        status, _, body = b.json("POST", "/sessions/nat1/webrtc", {"sdpOffer": OFFER})
        check(status == 200, (status, body))
        cands = re.findall(r"a=candidate:\S+ 1 udp \d+ (\S+) (\d+) typ host", body["sdpAnswer"])
        addrs = sorted(a for a, _ in cands)
        check(addrs == ["203.0.113.7", "::1"], cands)
        # o= keeps JSEP's meaningless 127.0.0.1 (RFC 8829 §5.2.1), as browsers do.
        media = body["sdpAnswer"].split("\r\nm=", 1)[1]
        check("127.0.0.1" not in media, "private address leaked")
        check(all(10000 <= int(p) <= 10100 for _, p in cands), cands)
        check("c=IN IP4 203.0.113.7\r\n" in body["sdpAnswer"], "c= line")
        b.json("DELETE", "/sessions/nat1")
    with_bridge({"PUBLIC_IP": "203.0.113.7", "ICE_BIND_ADDRESSES": "127.0.0.1,::1"}, run)


@test
def auth_on_protects_everything_but_health_and_metrics(_):
    def body(b):
        check(b.request("GET", "/health")[0] == 200, "health open")
        check(b.request("GET", "/metrics")[0] == 200, "metrics open")
        status, h, data = b.request("GET", "/sessions")
        check(status == 401 and json.loads(data)["error"]["code"] == "unauthorized", data)
        check(h.get("WWW-Authenticate") == "Bearer", h)
        check(b.request("GET", "/sessions", headers={"Authorization": "Bearer wrong"})[0] == 401, "wrong")
        check(b.request("GET", "/sessions", headers={"Authorization": "Bearer s3cret-t0ken-x"})[0] == 401,
              "longer")
        check(b.request("GET", "/sessions", headers={"Authorization": "Bearer s3cret-t0ken"})[0] == 200,
              "right")
        status, _, _ = b.request("POST", "/sessions/a1/webrtc", json.dumps({"sdpOffer": OFFER}),
                                 headers={"Authorization": "bearer s3cret-t0ken"})
        check(status == 200, status)
        check(b.request("POST", "/bridge/stop", json.dumps({"callId": "a1"}))[0] == 401, "stop")
    with_bridge({"BRIDGE_API_TOKEN": "s3cret-t0ken"}, body)


@test
def at_max_sessions_new_calls_get_503_with_retry_after(_):
    def body(b):
        for i in range(2):
            check(b.json("POST", "/sessions/cap%d/webrtc" % i, {"sdpOffer": OFFER})[0] == 200, i)
        status, h, body = b.json("POST", "/sessions/cap9/webrtc", {"sdpOffer": OFFER})
        check(status == 503 and error_of(body) == "at_capacity" and h.get("Retry-After"), (status, h))
        b.json("DELETE", "/sessions/cap0")
        check(b.json("POST", "/sessions/cap9/webrtc", {"sdpOffer": OFFER})[0] == 200, "freed")
    with_bridge({"MAX_SESSIONS": 2}, body)


@test
def slow_client_is_cut_off_by_the_header_timeout(_):
    def body(b):
        s = socket.create_connection(("127.0.0.1", b.port), timeout=5)
        start = time.time()
        s.sendall(b"GET /health HTTP/1.1\r\n")
        data = b""
        for piece in (b"Host", b": ", b"x", b"\r\n", b"X-Slow: 1\r\n") * 4:
            try:
                s.sendall(piece)
            except OSError:
                break
            time.sleep(0.3)
        s.settimeout(3)
        try:
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        except (socket.timeout, ConnectionResetError):
            pass
        elapsed = time.time() - start
        s.close()
        status, headers, text = split_responses(data)[0]
        check(status == 408 and json.loads(text)["error"]["code"] == "request_timeout", data)
        check(0.9 <= elapsed < 6, elapsed)
    with_bridge({"HTTP_HEADER_TIMEOUT_SECONDS": 1}, body)


@test
def connections_over_the_cap_are_refused_politely(_):
    def body(b):
        # Let the bridge see the readiness probe's close first, so exactly 3 are open.
        time.sleep(0.3)
        held = [socket.create_connection(("127.0.0.1", b.port)) for _ in range(3)]
        time.sleep(0.3)
        data = raw(b.port, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        status, headers, text = split_responses(data)[0]
        check(status == 503 and json.loads(text)["error"]["code"] == "too_many_connections", data)
        for s in held:
            s.close()
        time.sleep(0.2)
        check(b.request("GET", "/health")[0] == 200, "after the others closed")
    with_bridge({"HTTP_MAX_CONNECTIONS": 3}, body)


@test
def sessions_end_after_session_max_seconds(_):
    def body(b):
        b.json("POST", "/sessions/long1/webrtc", {"sdpOffer": OFFER})
        deadline = time.time() + 5
        state = None
        while time.time() < deadline:
            state = b.json("GET", "/sessions/long1")[2]["session"]
            if state["state"] == "ended":
                break
            time.sleep(0.2)
        check(state["state"] == "ended" and state["endReason"] == "max_duration", state)
        check(1.0 <= state["durationSeconds"] < 3.5, state)
    with_bridge({"SESSION_MAX_SECONDS": 1}, body)


@test
def sigterm_with_an_active_session_drains_then_exits_0(_):
    b = Bridge(DRAIN_SECONDS=2)
    try:
        b.json("POST", "/sessions/drain1/webrtc", {"sdpOffer": OFFER})
        start = time.time()
        b.proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        status, _, body = b.json("GET", "/health")
        check(status == 200 and body["status"] == "draining" and body["activeSessions"] == 1, body)
        status, h, body = b.json("POST", "/sessions/drain2/webrtc", {"sdpOffer": OFFER})
        check(status == 503 and error_of(body) == "draining" and "Retry-After" in h, (status, body))
        # A retry of the existing call is still answered while draining.
        check(b.json("POST", "/sessions/drain1/webrtc", {"sdpOffer": OFFER})[0] == 200, "retry")
        code = b.proc.wait(timeout=10)
        elapsed = time.time() - start
        check(code == 0, code)
        check(1.8 <= elapsed < 4, elapsed)
    finally:
        code, err = b.stop()
    logs = [json.loads(l) for l in err.splitlines() if l.strip()]
    msgs = [l["msg"] for l in logs]
    check("draining" in msgs and "drain time is up; sessions ended" in msgs and
          "drained; exiting" in msgs, msgs)


@test
def sigterm_when_idle_exits_0_at_once(_):
    b = Bridge()
    start = time.time()
    b.proc.send_signal(signal.SIGTERM)
    code = b.proc.wait(timeout=5)
    b.stop()
    check(code == 0 and time.time() - start < 1.5, (code, time.time() - start))


def main():
    shared = Bridge(DRAIN_SECONDS=1)
    passed = failed = 0
    for fn in TESTS:
        name = fn.__name__.replace("_", " ")
        if run_case(name, fn, shared):
            passed += 1
        else:
            failed += 1
    code, err = shared.stop()
    if code != 0:
        print("not ok - shared bridge exited %s" % code)
        failed += 1
    print("integration: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
