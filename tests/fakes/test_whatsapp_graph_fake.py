#!/usr/bin/env python3
"""Self-test of the fake WhatsApp Graph API (tests/fakes/whatsapp_graph_fake.py) and of the
webhook builder (tests/fakes/whatsapp_webhooks.py).

    tests/fakes/test_whatsapp_graph_fake.py [path of wabridge, ignored]

Starts the fake in-process over http:// and https:// (test CA from openssl, made by
openai_realtime_fake.make_test_ca) and once as a process, and checks each rule with real HTTP
requests on 127.0.0.1. Prints `ok - name` / `not ok - name` lines and
`graph fake: N passed, M failed`; exits 1 if anything failed. About 2 s.
"""

import hashlib
import hmac
import http.client
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True     # no __pycache__ in the source tree
sys.path.insert(0, HERE)
import openai_realtime_fake  # noqa: E402  (make_test_ca only)
import whatsapp_graph_fake as gf  # noqa: E402
import whatsapp_webhooks as wh  # noqa: E402

FAKE = os.path.join(HERE, "whatsapp_graph_fake.py")
TOKEN = "EAAG-test-token-0123456789"
EVENTS_SECRET = "events-secret-for-tests"
APP_SECRET = "app-secret-for-webhooks"
PNID = "123456789012345"
ANSWER = wh.load_sdp("wa-answer-accepted-01.sdp")      # a live answer Meta accepted
ANSWER_2 = wh.load_sdp("wa-answer-accepted-02.sdp")
DOC_ANSWER = wh.load_sdp("wa-doc-answer-uic.sdp")
OFFER = wh.load_sdp("wa-offer-01.sdp")


class Env:
    pass


def check(cond, what):
    if not cond:
        raise AssertionError(what)


# --------------------------------------------------------------------------------------------
# HTTP helpers

def request(base, method, path, body=None, headers=None, context=None, conn=None):
    """(status, parsed JSON or text, headers dict) of one request; `conn` is reused if given."""
    host_port = base.split("://", 1)[1]
    own = conn is None
    if own:
        host, port = host_port.rsplit(":", 1)
        if base.startswith("https"):
            conn = http.client.HTTPSConnection(host.strip("[]"), int(port), timeout=5, context=context)
        else:
            conn = http.client.HTTPConnection(host.strip("[]"), int(port), timeout=5)
    try:
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read().decode("utf-8", "replace")
        try:
            parsed = json.loads(data)
        except ValueError:
            parsed = data
        return resp.status, parsed, {k.lower(): v for k, v in resp.getheaders()}
    finally:
        if own:
            conn.close()


def graph(env, body, token=TOKEN, ctype="application/json", base=None, context=None, conn=None,
          pnid=PNID, version="v23.0"):
    headers = {}
    if ctype:
        headers["Content-Type"] = ctype
    if token is not None:
        headers["Authorization"] = "Bearer " + token
    return request(base or env.base, "POST", "/%s/%s/calls" % (version, pnid), body, headers,
                   context=context, conn=conn)


def action(act, call_id=None, sdp=None, sdp_type="answer", **extra):
    body = {"messaging_product": "whatsapp", "action": act}
    if call_id is not None:
        body["call_id"] = call_id
    if sdp is not None:
        body["session"] = {"sdp_type": sdp_type, "sdp": sdp}
    body.update(extra)
    return body


def graph_error_of(resp, status, code):
    """Checks a Graph error body; returns its details."""
    check(isinstance(resp, dict) and "error" in resp, "not a Graph error body: %r" % (resp,))
    err = resp["error"]
    for k in ("message", "type", "code", "fbtrace_id"):
        check(k in err, "error lacks %s: %r" % (k, err))
    check(err["type"] == "OAuthException", "type %r" % err["type"])
    check(err["code"] == code, "code %r, expected %r (%r)" % (err["code"], code, err))
    if code != 190:
        ed = err.get("error_data") or {}
        check(ed.get("messaging_product") == "whatsapp" and ed.get("details"),
              "error_data %r" % (ed,))
        return ed["details"]
    return err["message"]


def expect_error(env, body, status, code, needle, **kw):
    st, resp, _ = graph(env, body, **kw)
    check(st == status, "HTTP %s, expected %s: %r" % (st, status, resp))
    details = graph_error_of(resp, status, code)
    check(needle.lower() in details.lower(), "details %r lack %r" % (details, needle))
    return details


OK_BODY = {"messaging_product": "whatsapp", "success": True}


# --------------------------------------------------------------------------------------------
# Cases

def case_pre_accept_accept(env):
    cid = wh.new_call_id()
    t0 = time.monotonic()
    st1, r1, h1 = graph(env, action("pre_accept", cid, ANSWER))
    st2, r2, _ = graph(env, action("accept", cid, ANSWER, biz_opaque_callback_data="x" * 512))
    check((st1, r1) == (200, OK_BODY), "pre_accept: %s %r" % (st1, r1))
    check((st2, r2) == (200, OK_BODY), "accept: %s %r" % (st2, r2))
    check(h1.get("content-type", "").startswith("application/json"), "content-type %r" % h1)
    recs = env.fake.requests(call_id=cid)
    check([(r["action"], r["status"]) for r in recs] == [("pre_accept", 200), ("accept", 200)],
          "records %r" % [(r["action"], r["status"]) for r in recs])
    r = recs[0]
    check(r["raw"] == json.dumps(action("pre_accept", cid, ANSWER)).encode(), "raw body differs")
    check(r["json"]["session"]["sdp"] == ANSWER and r["headers"]["authorization"] == "Bearer " + TOKEN,
          "parsed body/headers")
    check(r["path"] == "/v23.0/%s/calls" % PNID and r["version"] == "v23.0"
          and r["phone_number_id"] == PNID, "path fields %r" % r["path"])
    check(t0 <= r["t_mono"] <= recs[1]["t_mono"] <= time.monotonic(), "t_mono order")
    check(abs(r["t_wall"] - time.time()) < 5, "t_wall")
    check(env.fake.pre_accept_sdp(cid) == ANSWER, "pre_accept SDP remembered")
    # the other accepted live answer and Meta's doc answer pass too; reject/terminate; accept
    # without a pre_accept; `to` is tolerated (pipecat sends it)
    for sdp in (ANSWER_2, DOC_ANSWER):
        c = wh.new_call_id()
        st, resp, _ = graph(env, action("accept", c, sdp, to=wh.CALLER_NUMBER))
        check(st == 200, "accept of a sample answer: %s %r" % (st, resp))
    for act in ("reject", "terminate"):
        st, resp, _ = graph(env, action(act, wh.new_call_id()))
        check((st, resp) == (200, OK_BODY), "%s: %s %r" % (act, st, resp))
    return "2 + 4 requests, all 200"


def case_accept_sdp_differs(env):
    cid = wh.new_call_id()
    st, _, _ = graph(env, action("pre_accept", cid, ANSWER))
    check(st == 200, "pre_accept %s" % st)
    changed = ANSWER.replace("a=setup:active", "a=setup:active\r\na=ptime:20")
    d = expect_error(env, action("accept", cid, changed), 400, 138008, "differs from the pre_accept")
    rec = env.fake.requests(call_id=cid, action="accept")[0]
    check(rec["status"] == 400 and rec["error_code"] == 138008 and rec["details"] == d, "record %r" % rec)
    st, _, _ = graph(env, action("accept", cid, ANSWER))
    check(st == 200, "accept with the same SDP afterwards: %s" % st)
    return d


def case_sdp_type_offer(env):
    cid = wh.new_call_id()
    d = expect_error(env, action("pre_accept", cid, ANSWER, sdp_type="offer"), 400, 100, "sdp_type")
    expect_error(env, action("accept", cid, ANSWER, sdp_type="offer"), 400, 100, "sdp_type")
    expect_error(env, action("pre_accept", cid), 400, 100, "session is required")
    expect_error(env, action("accept", cid, ""), 400, 100, "non-empty")
    body = action("pre_accept", cid, ANSWER)
    body["session"]["type"] = "answer"
    expect_error(env, body, 400, 100, "unknown parameter(s) in session: type")
    return d


def case_sdp_sanity(env):
    bad = {
        "LF line endings": (ANSWER.replace("\r\n", "\n"), "CRLF"),
        "double-encoded": (ANSWER.replace("\r\n", "\\r\\n"), "escaped"),
        "two fingerprints": (ANSWER.replace("a=setup:active", "a=fingerprint:sha-384 AA:BB\r\na=setup:active"),
                             "2 a=fingerprint"),
        "no fingerprint": ("".join(l + "\r\n" for l in ANSWER.split("\r\n")[:-1]
                                   if not l.startswith("a=fingerprint")), "No fingerprint found"),
        "sha-1 fingerprint": (ANSWER.replace("a=fingerprint:SHA-256", "a=fingerprint:sha-1"), "sha-256"),
        "setup:actpass": (ANSWER.replace("a=setup:active", "a=setup:actpass"), "a=setup must be active"),
        "setup missing": (ANSWER.replace("a=setup:active\r\n", ""), "a=setup is missing"),
        "no ice-pwd": ("".join(l + "\r\n" for l in ANSWER.split("\r\n")[:-1]
                               if not l.startswith("a=ice-pwd")), "a=ice-pwd is missing"),
        "no ice-ufrag": (ANSWER.replace("a=ice-ufrag:TJvS", "a=ice-ufrag:"), "a=ice-ufrag is missing"),
        "two m= sections": (ANSWER + "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n", "exactly one m=audio"),
    }
    for name, (sdp, needle) in bad.items():
        for act in ("pre_accept", "accept"):
            try:
                expect_error(env, action(act, wh.new_call_id(), sdp), 400, 138008, needle)
            except AssertionError as e:
                raise AssertionError("%s (%s): %s" % (name, act, e))
    check(gf.sdp_problems(ANSWER) == [] and gf.sdp_problems(DOC_ANSWER) == [], "samples are clean")
    # --no-sdp-check equivalent
    lax = gf.GraphFake(token=TOKEN, sdp_check=False)
    base = lax.start()
    try:
        st, resp, _ = graph(env, action("pre_accept", wh.new_call_id(), bad["two fingerprints"][0]), base=base)
        check(st == 200, "sdp_check=False still refused: %r" % resp)
    finally:
        lax.stop()
    return "%d broken answers x 2 actions" % len(bad)


def case_token(env):
    body = action("pre_accept", wh.new_call_id(), ANSWER)
    for token in ("wrong", None, ""):
        st, resp, hdrs = graph(env, body, token=token)
        check(st == 401, "token %r: HTTP %s" % (token, st))
        msg = graph_error_of(resp, 401, 190)
        check("www-authenticate" in hdrs, "no WWW-Authenticate")
    st, resp, _ = request(env.base, "POST", "/v23.0/%s/calls" % PNID, body,
                          {"Content-Type": "application/json", "Authorization": "OAuth " + TOKEN})
    check(st == 401, "non-Bearer scheme: %s" % st)
    recs = env.fake.requests(status=401)
    check(len(recs) >= 4 and all(r["error_code"] == 190 for r in recs), "401s recorded")
    return msg


def case_fail_next_500_twice(env):
    cid = wh.new_call_id()
    st, resp, _ = request(env.base, "POST", "/_fake/faults",
                          {"fail_next": [{"status": 500, "count": 2, "action": "pre_accept"}]},
                          {"Content-Type": "application/json"})
    check(st == 200 and resp["ok"], "POST /_fake/faults: %s %r" % (st, resp))
    # a terminate is not matched by an action-filtered entry
    st, _, _ = graph(env, action("terminate", wh.new_call_id()))
    check(st == 200, "terminate hit the pre_accept fault")
    got = []
    for _ in range(3):
        st, resp, _ = graph(env, action("pre_accept", cid, ANSWER))
        got.append(st)
        if st == 500:
            graph_error_of(resp, 500, 1)
    check(got == [500, 500, 200], "statuses %r" % got)
    recs = env.fake.requests(call_id=cid)
    check([r["status"] for r in recs] == [500, 500, 200], "recorded %r" % [r["status"] for r in recs])
    check(recs[0]["fault"]["source"] == "fail_next" and recs[2]["fault"] is None, "fault marks")
    check(env.fake.faults()["fail_next"] == [], "fault queue not emptied")
    # in-process: 503 once for any action, graph code 2
    env.fake.fail_next(503, 1)
    st, resp, _ = graph(env, action("reject", wh.new_call_id()))
    check(st == 503 and graph_error_of(resp, 503, 2), "503 %s" % st)
    return "500, 500, 200"


def case_fail_call_138008(env):
    cid, other = wh.new_call_id(), wh.new_call_id()
    env.fake.set_faults(fail_call={cid: {"action": "pre_accept", "status": 400, "graph_code": 138008,
                                         "details": "Invalid SDP: fingerprint"}})
    for _ in range(2):   # every time (no count)
        d = expect_error(env, action("pre_accept", cid, ANSWER), 400, 138008, "Invalid SDP: fingerprint")
    st, _, _ = graph(env, action("accept", cid, ANSWER))
    check(st == 200, "accept of that call should pass: %s" % st)
    st, _, _ = graph(env, action("pre_accept", other, ANSWER))
    check(st == 200, "another call should pass: %s" % st)
    # count=1 via the method, any action
    c2 = wh.new_call_id()
    env.fake.fail_call(c2, status=500, graph_code=131000, count=1)
    st1, r1, _ = graph(env, action("terminate", c2))
    st2, _, _ = graph(env, action("terminate", c2))
    check((st1, st2) == (500, 200) and graph_error_of(r1, 500, 131000), "count=1: %s %s" % (st1, st2))
    env.fake.set_faults(clear=True)
    return d


def case_connect(env):
    offer = wh.load_sdp("wa-doc-offer-bic.sdp")
    st, resp, _ = graph(env, action("connect", sdp=offer, sdp_type="offer", to=wh.CALLER_NUMBER,
                                    biz_opaque_callback_data="ticket-42"))
    check(st == 200, "connect: %s %r" % (st, resp))
    check(set(resp) == {"messaging_product", "calls"} and resp["messaging_product"] == "whatsapp",
          "body %r" % resp)
    wacid = resp["calls"][0]["id"]
    check(wacid.startswith("wacid.") and "=" in wacid and "_" in wacid, "wacid %r" % wacid)
    check(env.fake.connected_calls().get(wacid) == wh.CALLER_NUMBER, "connect remembered")
    check(env.fake.requests(action="connect")[-1]["call_id"] == wacid, "record carries the wacid")
    expect_error(env, action("connect", sdp=offer, sdp_type="offer"), 400, 100, "to is required")
    expect_error(env, action("connect", sdp=offer, sdp_type="answer", to="1555"), 400, 100, "sdp_type")
    expect_error(env, action("connect", "wacid.x", offer, "offer", to="1555"), 400, 100, "call_id is not allowed")
    return wacid


def case_field_rules(env):
    cid = wh.new_call_id()
    expect_error(env, action("terminate", cid, foo=1), 400, 100, "unknown parameter(s): foo")
    expect_error(env, dict(action("terminate", cid), messaging_product="sms"), 400, 100, "messaging_product")
    expect_error(env, {"messaging_product": "whatsapp", "call_id": cid}, 400, 100, "action is required")
    expect_error(env, action("hold", cid), 400, 100, "action must be one of")
    expect_error(env, action("terminate"), 400, 100, "call_id is required")
    expect_error(env, action("terminate", ""), 400, 100, "call_id must be")
    expect_error(env, action("reject", cid, ANSWER), 400, 100, "session is not allowed")
    expect_error(env, action("accept", cid, ANSWER, biz_opaque_callback_data="x" * 513), 400, 100, "513")
    expect_error(env, action("accept", cid, ANSWER, biz_opaque_callback_data=5), 400, 100, "must be a string")
    expect_error(env, action("terminate", cid), 400, 100, "Content-Type", ctype="text/plain")
    expect_error(env, action("terminate", cid), 400, 100, "Content-Type", ctype=None)
    st, _, _ = graph(env, action("terminate", cid), ctype="application/json; charset=utf-8")
    check(st == 200, "charset parameter refused")
    expect_error(env, action("terminate", cid), 400, 100, "unknown phone number id", pnid="999")
    st, resp, _ = request(env.base, "POST", "/v23.0/%s/messages" % PNID, b"{}",
                          {"Authorization": "Bearer " + TOKEN, "Content-Type": "application/json"})
    check(st == 400 and resp["error"]["code"] == 2500, "unknown Graph path: %s %r" % (st, resp))
    st, _, _ = request(env.base, "GET", "/nothing")
    check(st == 404, "unknown path: %s" % st)
    return "13 refusals"


def case_malformed_json(env):
    for raw, needle in ((b'{"messaging_product": "whatsapp", ', "not valid JSON"),
                        (b"\xff\xfe", "not valid JSON"),
                        (b"[1, 2]", "JSON object"),
                        (b"", "not valid JSON")):
        st, resp, _ = graph(env, raw)
        check(st == 400, "%r: HTTP %s" % (raw, st))
        d = graph_error_of(resp, 400, 100)
        check(needle in d, "%r: details %r" % (raw, d))
    rec = env.fake.requests()[-4]
    check(rec["raw"] == b'{"messaging_product": "whatsapp", ' and rec["json"] is None
          and rec["status"] == 400, "malformed body recorded")
    return "4 bodies"


def case_events(env):
    body = json.dumps({"type": "call.ended", "call_id": "wacid.x", "n": 1}).encode()
    good = "sha256=" + hmac.new(EVENTS_SECRET.encode(), body, hashlib.sha256).hexdigest()
    hdr = {"Content-Type": "application/json"}
    s1, r1, _ = request(env.base, "POST", "/events", body, dict(hdr, **{"X-Wabridge-Signature": good}))
    s2, _, _ = request(env.base, "POST", "/events", body, dict(hdr, **{"X-Wabridge-Signature": "sha256=" + "0" * 64}))
    s3, _, _ = request(env.base, "POST", "/events", body, hdr)
    s4, _, _ = request(env.base, "POST", "/events", body, dict(hdr, **{"X-Wabridge-Signature": "sha256=" + good[7:].upper()}))
    check((s1, s2, s3, s4) == (200, 401, 401, 401), "statuses %r" % ((s1, s2, s3, s4),))
    evs = env.fake.events()
    check([e["signature_valid"] for e in evs] == [True, False, False, False], "signature_valid %r"
          % [e["signature_valid"] for e in evs])
    check(evs[0]["json"]["type"] == "call.ended" and evs[0]["raw"] == body, "event body recorded")
    check(evs[2]["signature_problem"].startswith("no X-Wabridge-Signature")
          and evs[1]["signature_problem"] == "signature mismatch"
          and "lower-case" in evs[3]["signature_problem"], "problem texts")
    # 500 to the first 2 events, over HTTP control
    st, _, _ = request(env.base, "POST", "/_fake/faults", {"fail_events": 2}, hdr)
    check(st == 200, "faults")
    got = [request(env.base, "POST", "/events", body, dict(hdr, **{"X-Wabridge-Signature": good}))[0]
           for _ in range(3)]
    check(got == [500, 500, 200], "fail_events: %r" % got)
    evs = env.fake.events()
    check(len(evs) == 7 and evs[4]["fault"]["source"] == "fail_events" and evs[4]["signature_valid"],
          "failed events recorded")
    st, listed, _ = request(env.base, "GET", "/_fake/events")
    check(st == 200 and len(listed) == 7 and listed[0]["json"] == evs[0]["json"]
          and "raw" not in listed[0] and listed[0]["body_base64"], "GET /_fake/events")
    # wait_for_event
    def later():
        time.sleep(0.2)
        request(env.base, "POST", "/events", b'{"type":"late"}',
                dict(hdr, **{"X-Wabridge-Signature": wh.sign(b'{"type":"late"}', EVENTS_SECRET)}))
    threading.Thread(target=later, daemon=True).start()
    hit = env.fake.wait_for_event(lambda e: (e["json"] or {}).get("type") == "late", timeout=3)
    check(hit[0]["signature_valid"] is True and hit[0]["status"] == 200, "late event")
    # a fake without a secret accepts everything, signature_valid None
    open_fake = gf.GraphFake(token=TOKEN)
    base = open_fake.start()
    try:
        st, _, _ = request(base, "POST", "/events", body, hdr)
        check(st == 200 and open_fake.events()[0]["signature_valid"] is None, "no-secret mode")
    finally:
        open_fake.stop()
    return "valid 200, invalid/missing/uppercase 401, 500 x2 then 200"


def case_control_endpoints(env):
    st, listed, _ = request(env.base, "GET", "/_fake/requests")
    check(st == 200 and isinstance(listed, list) and len(listed) == len(env.fake.requests()),
          "GET /_fake/requests: %s" % st)
    check(all("raw" not in r and "body_base64" in r for r in listed), "exported form")
    pre = [r for r in listed if r["action"] == "pre_accept" and r["status"] == 200]
    check(pre and pre[0]["json"]["session"]["sdp_type"] == "answer", "parsed JSON exported")
    st, some, _ = request(env.base, "GET", "/_fake/requests?action=connect")
    check(st == 200 and some and all(r["action"] == "connect" for r in some), "filter by action")
    st, faults, _ = request(env.base, "GET", "/_fake/faults")
    check(st == 200 and set(faults) >= {"fail_next", "fail_call", "delay_ms", "fail_events"}, "GET faults")
    st, resp, _ = request(env.base, "POST", "/_fake/faults", {"bogus": 1}, {"Content-Type": "application/json"})
    check(st == 400 and "bogus" in resp["error"], "unknown fault key accepted")
    st, health, _ = request(env.base, "GET", "/_fake/health")
    check(st == 200 and health["ok"] and health["port"] == env.fake.port, "health")
    st, _, _ = request(env.base, "POST", "/_fake/reset", b"")
    check(st == 200 and env.fake.requests() == [] and env.fake.events() == [], "reset")
    st, listed, _ = request(env.base, "GET", "/_fake/requests")
    check(listed == [], "GET after reset: %r" % listed)
    return "requests, events, faults, health, reset"


def case_wait_for_and_delay(env):
    cid = wh.new_call_id()
    since = env.fake.last_seq()

    def later():
        time.sleep(0.2)
        graph(env, action("pre_accept", cid, ANSWER))
        graph(env, action("accept", cid, ANSWER))
    threading.Thread(target=later, daemon=True).start()
    t0 = time.monotonic()
    hits = env.fake.wait_for_action("accept", call_id=cid, status=200, timeout=3, since=since)
    waited = time.monotonic() - t0
    check(len(hits) == 1 and 0.15 < waited < 2.5, "wait_for_action: %d hits after %.2f s" % (len(hits), waited))
    both = env.fake.wait_for(lambda r: r["call_id"] == cid, count=2, timeout=1)
    check([r["action"] for r in both] == ["pre_accept", "accept"], "wait_for order")
    t0 = time.monotonic()
    try:
        env.fake.wait_for_action("terminate", call_id=cid, timeout=0.3)
        raise AssertionError("wait_for did not time out")
    except TimeoutError as e:
        check(0.25 < time.monotonic() - t0 < 1.5 and "got 0" in str(e), "timeout: %s" % e)
    # delay_ms: the request is recorded on arrival, answered later
    env.fake.set_delay(300)
    t0 = time.monotonic()
    st, _, _ = graph(env, action("terminate", cid))
    took = time.monotonic() - t0
    env.fake.set_delay(0)
    rec = env.fake.requests(action="terminate", call_id=cid)[0]
    check(st == 200 and took >= 0.29 and rec["delay_ms"] == 300
          and rec["t_answer_mono"] - rec["t_mono"] >= 0.29, "delay: %.3f s" % took)
    # drop: the connection closes with no answer
    env.fake.fail_next(500, 1, drop=True)
    try:
        st, _, _ = graph(env, action("terminate", cid))
        raise AssertionError("dropped request got HTTP %s" % st)
    except (http.client.HTTPException, ConnectionError, OSError):
        pass
    check(env.fake.requests(call_id=cid)[-1]["fault"]["drop"], "drop recorded")
    return "waited %.2f s; delay %.2f s" % (waited, took)


def case_keep_alive(env):
    conn = http.client.HTTPConnection("127.0.0.1", env.fake.port, timeout=5)
    try:
        cid = wh.new_call_id()
        st1, _, _ = graph(env, action("pre_accept", cid, ANSWER), conn=conn)
        st2, _, _ = graph(env, action("accept", cid, ANSWER), conn=conn)
        st3, _, _ = graph(env, b"{oops", conn=conn)
        st4, _, _ = graph(env, action("terminate", cid), conn=conn)
        # a chunked body, with Expect: 100-continue
        conn.putrequest("POST", "/v23.0/%s/calls" % PNID)
        for k, v in (("Authorization", "Bearer " + TOKEN), ("Content-Type", "application/json"),
                     ("Transfer-Encoding", "chunked"), ("Expect", "100-continue")):
            conn.putheader(k, v)
        conn.endheaders()
        data = json.dumps(action("reject", cid)).encode()
        for piece in (data[:10], data[10:]):
            conn.send(b"%x\r\n%s\r\n" % (len(piece), piece))
        conn.send(b"0\r\n\r\n")
        resp = conn.getresponse()
        st5, body5 = resp.status, json.loads(resp.read())
    finally:
        conn.close()
    check((st1, st2, st3, st4, st5) == (200, 200, 400, 200, 200),
          "statuses %r %r" % ((st1, st2, st3, st4, st5), body5))
    recs = env.fake.requests(call_id=cid)
    check(recs[-1]["raw"] == data and recs[-1]["action"] == "reject", "chunked body recorded")
    ports = {tuple(r["client"]) for r in recs}
    check(len(ports) == 1, "requests came over %d connections" % len(ports))
    return "5 requests on one connection, one chunked"


def case_https(env):
    ctx = ssl.create_default_context(cafile=env.ca)
    cid = wh.new_call_id()
    for host in ("127.0.0.1", "localhost"):
        base = "https://%s:%d" % (host, env.tls_fake.port)
        st, resp, _ = graph(env, action("pre_accept", cid, ANSWER), base=base, context=ctx)
        check(st == 200, "https %s: %s %r" % (host, st, resp))
    st, resp, _ = graph(env, action("accept", cid, ANSWER.replace("\r\n", "\n")),
                        base=env.tls_fake.url, context=ctx)
    check(st == 400 and resp["error"]["code"] == 138008, "https validation")
    check(all(r["tls"] for r in env.tls_fake.requests()), "records say tls")
    try:
        graph(env, action("terminate", cid), base=env.tls_fake.url, context=ssl.create_default_context())
        raise AssertionError("a client without the test CA connected")
    except ssl.SSLCertVerificationError:
        pass
    deadline = time.monotonic() + 2
    while not env.tls_fake.tls_errors() and time.monotonic() < deadline:
        time.sleep(0.02)
    check(env.tls_fake.tls_errors(), "the failed handshake was not noted")
    st, _, _ = graph(env, action("terminate", cid), base=env.tls_fake.url, context=ctx)
    check(st == 200, "still serving after a failed handshake")
    return env.tls_fake.url


def case_process(env):
    log = os.path.join(env.workdir, "proc.log.jsonl")
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, FAKE, "--port", "0", "--token", TOKEN, "--events-secret",
                             EVENTS_SECRET, "--cert", env.crt, "--key", env.key, "--log", log,
                             "--faults", '{"fail_next": [{"status": 500, "count": 1}]}'],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = [None]
        th = threading.Thread(target=lambda: line.__setitem__(0, proc.stdout.readline()), daemon=True)
        th.start()
        th.join(10)
        check(line[0], "no start line; stderr %r" % (proc.stderr.read() if proc.poll() is not None else ""))
        info = json.loads(line[0])
        startup = time.monotonic() - t0
        check(isinstance(info["port"], int) and info["port"] > 0
              and info["url"] == "https://127.0.0.1:%d" % info["port"], "start line %r" % line[0])
        ctx = ssl.create_default_context(cafile=env.ca)
        base = info["url"]
        cid = wh.new_call_id()
        sts = [graph(env, action("terminate", cid), base=base, context=ctx)[0] for _ in range(2)]
        check(sts == [500, 200], "--faults: %r" % sts)
        st, listed, _ = request(base, "GET", "/_fake/requests", context=ctx)
        check(st == 200 and [r["status"] for r in listed] == [500, 200], "GET /_fake/requests")
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(5)
        check(rc == 0, "exit code %s" % rc)
        with open(log) as f:
            logged = [json.loads(x) for x in f]
        check([r["status"] for r in logged] == [500, 200] and logged[0]["call_id"] == cid, "log %r" % logged)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    # refusals at start: a non-loopback host
    r = subprocess.run([sys.executable, FAKE, "--host", "0.0.0.0"], capture_output=True, text=True, timeout=10)
    check(r.returncode == 2 and "loopback" in r.stderr, "non-loopback host: rc %s %r" % (r.returncode, r.stderr))
    return "started in %.2f s, SIGTERM exit 0" % startup


def case_loopback_only(env):
    for host in ("0.0.0.0", "192.168.1.10", "::"):
        try:
            gf.GraphFake(host=host)
            raise AssertionError("GraphFake accepted host %s" % host)
        except ValueError:
            pass
    for url in ("http://10.0.0.1/webhook", "https://graph.facebook.com/v23.0/", "http://[::]/x",
                "ftp://127.0.0.1/"):
        try:
            wh.post(url, b"{}", timeout=0.1)
            raise AssertionError("post() accepted %s" % url)
        except ValueError:
            pass
        try:
            wh.verify_get(url, token="t", timeout=0.1)
            raise AssertionError("verify_get() accepted %s" % url)
        except ValueError:
            pass
    v6 = gf.GraphFake(token=TOKEN, host="::1")
    try:
        base = v6.start()
    except OSError:
        return "refusals only (no ::1 here)"
    try:
        st, _, _ = graph(env, action("terminate", wh.new_call_id()), base=base)
        check(st == 200 and base.startswith("http://[::1]:"), "::1: %s %s" % (st, base))
    finally:
        v6.stop()
    return "non-loopback refused; ::1 works"


# ---- the webhook builder

class _Receiver:
    """A tiny webhook endpoint on 127.0.0.1 for post()/verify_get(): checks X-Hub-Signature-256
    on the raw body like the bridge must, echoes hub.challenge for the right token."""

    def __init__(self, secret, verify_token):
        import http.server

        outer = self
        self.got = []

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                import urllib.parse
                q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
                ok = q.get("hub.mode") == "subscribe" and q.get("hub.verify_token") == verify_token
                body = q.get("hub.challenge", "").encode() if ok else b"forbidden"
                self.send_response(200 if ok else 403)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                sig = self.headers.get("X-Hub-Signature-256", "")
                want = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
                ok = hmac.compare_digest(sig, want)
                outer.got.append((raw, dict(self.headers), ok))
                body = b"EVENT_RECEIVED" if ok else b"bad signature"
                self.send_response(200 if ok else 401)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = "http://127.0.0.1:%d/webhook" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def case_webhook_builders(env):
    cid = wh.new_call_id()
    check(cid.startswith("wacid.") and "=" in cid and "_" in cid, "call id %r" % cid)
    uc = wh.user_connect(cid, OFFER, from_="15551112222", name="Zoë Test", timestamp=1760681506)
    check(uc["object"] == "whatsapp_business_account", "object")
    ch = uc["entry"][0]["changes"][0]
    check(ch["field"] == "calls" and uc["entry"][0]["id"] == wh.WABA_ID, "field/entry id")
    v = ch["value"]
    call = v["calls"][0]
    check(v["messaging_product"] == "whatsapp" and v["metadata"]["phone_number_id"] == wh.PHONE_NUMBER_ID
          and v["metadata"]["display_phone_number"] == wh.BUSINESS_NUMBER, "metadata %r" % v["metadata"])
    check(v["contacts"] == [{"profile": {"name": "Zoë Test"}, "wa_id": "15551112222"}], "contacts")
    check(call == {"id": cid, "to": wh.BUSINESS_NUMBER, "from": "15551112222", "event": "connect",
                   "timestamp": "1760681506", "direction": "USER_INITIATED",
                   "session": {"sdp_type": "offer", "sdp": OFFER}}, "connect call %r" % call)
    body = wh.dumps(uc)
    check(b"\\r\\n" in body and b"\r\n" not in body and b"Zo\\u00eb" in body, "Meta-style escapes")
    check(json.loads(body) == uc, "dumps round trip")
    sig = wh.sign(body, APP_SECRET)
    want = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    check(sig == want and len(sig) == 71 and sig == sig.lower(), "signature %r" % sig)
    check(hmac.compare_digest(wh.sign(body.decode(), APP_SECRET.encode()), want), "str/bytes inputs")
    slashed = wh.dumps(uc, escape_slashes=True)
    check(b"\\/" in slashed and json.loads(slashed) == uc and wh.sign(slashed, APP_SECRET) != sig,
          "escape_slashes")
    # business-initiated connect: answer, opaque data, no contacts
    bc = wh.business_connect(cid, biz_opaque_callback_data="ticket-42")
    bv = bc["entry"][0]["changes"][0]["value"]
    bcall = bv["calls"][0]
    check("contacts" not in bv and bcall["direction"] == "BUSINESS_INITIATED"
          and bcall["session"]["sdp_type"] == "answer" and "a=setup:active" in bcall["session"]["sdp"]
          and bcall["biz_opaque_callback_data"] == "ticket-42" and bcall["event"] == "connect", "bic connect")
    # terminate: picked up, and failed with 138021 in both places
    t = wh.terminate(cid, "COMPLETED", duration=42, timestamp=1760681600)["entry"][0]["changes"][0]["value"]["calls"][0]
    check(t["event"] == "terminate" and t["duration"] == 42 and t["start_time"] == "1760681558"
          and t["end_time"] == "1760681600" and t["status"] == "COMPLETED", "terminate %r" % t)
    tf = wh.terminate(cid, "FAILED", errors=[138021], errors_in="both", duration=20)
    tv = tf["entry"][0]["changes"][0]["value"]
    check(tv["calls"][0]["errors"][0]["code"] == 138021 and tv["errors"][0]["code"] == 138021
          and tv["calls"][0]["errors"][0]["error_data"]["details"], "terminate errors %r" % tv)
    unanswered = wh.terminate(cid, "FAILED")["entry"][0]["changes"][0]["value"]["calls"][0]
    check("duration" not in unanswered and "start_time" not in unanswered, "not picked up")
    # statuses
    for s in ("RINGING", "ACCEPTED", "REJECTED"):
        sv = wh.status(cid, s, biz_opaque_callback_data="o")["entry"][0]["changes"][0]["value"]
        st = sv["statuses"][0]
        check(st["status"] == s and st["type"] == "call" and st["id"] == cid
              and isinstance(st["timestamp"], str) and "calls" not in sv, "status %r" % st)
    # batches
    b1 = wh.batch(uc, wh.status(cid, "RINGING"), wh.terminate(cid, "COMPLETED", duration=3))
    check(len(b1["entry"]) == 3 and all(e["changes"][0]["field"] == "calls" for e in b1["entry"]), "entries batch")
    b2 = wh.batch(uc, wh.terminate(cid), mode="changes")
    check(len(b2["entry"]) == 1 and len(b2["entry"][0]["changes"]) == 2, "changes batch")
    # delivery to a loopback receiver that checks signatures on the raw body
    rx = _Receiver(APP_SECRET, "verify-me")
    try:
        st, text = wh.post(rx.url, body, signature=sig)
        check((st, text) == (200, "EVENT_RECEIVED"), "post: %s %r" % (st, text))
        check(rx.got[0][0] == body and rx.got[0][1]["Content-Type"] == "application/json"
              and rx.got[0][1]["X-Hub-Signature-256"] == sig, "bytes on the wire")
        st, _ = wh.post(rx.url, body, signature="sha256=" + "0" * 64)
        check(st == 401, "bad signature accepted by receiver")
        st, _, sent = wh.deliver(rx.url, b1, APP_SECRET, escape_slashes=True)
        check(st == 200 and rx.got[-1][0] == sent, "deliver")
        st, text = wh.post(rx.url, uc, app_secret=APP_SECRET)
        check(st == 200, "post(dict, app_secret)")
        st, text = wh.verify_get(rx.url, "subscribe", "verify-me", "1158201444")
        check((st, text) == (200, "1158201444"), "verify_get: %s %r" % (st, text))
        st, _ = wh.verify_get(rx.url, "subscribe", "wrong")
        check(st == 403, "verify_get with a wrong token: %s" % st)
    finally:
        rx.close()
    # and a webhook into the fake's events receiver with its header name
    st, _ = wh.post(env.base + "/events", body, signature=wh.sign(body, EVENTS_SECRET),
                    signature_header="X-Wabridge-Signature")
    check(st == 200 and env.fake.events()[-1]["signature_valid"], "post to /events")
    return "connect/bic connect/terminate/statuses/batch built, signed, delivered"


# --------------------------------------------------------------------------------------------

def run(name, fn, env, counts):
    try:
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
    workdir = tempfile.mkdtemp(prefix="graph_fake_test.")
    env = Env()
    env.workdir = workdir
    counts = [0, 0]
    fakes = []
    try:
        env.ca, env.crt, env.key = openai_realtime_fake.make_test_ca(os.path.join(workdir, "ca"))
        env.fake = gf.GraphFake(token=TOKEN, events_secret=EVENTS_SECRET, phone_number_id=PNID)
        env.base = env.fake.start()
        fakes.append(env.fake)
        env.tls_fake = gf.GraphFake(token=TOKEN, events_secret=EVENTS_SECRET, certfile=env.crt,
                                    keyfile=env.key)
        env.tls_fake.start()
        fakes.append(env.tls_fake)
    except Exception:
        print("not ok - setup (openssl test CA, the fake)")
        traceback.print_exc(file=sys.stdout)
        for f in fakes:
            f.stop()
        print("graph fake: 0 passed, 1 failed")
        return 1
    cases = [
        ("good pre_accept/accept pair: 200 both, recorded; sample answers, reject, terminate", case_pre_accept_accept),
        ("accept with a different SDP than pre_accept: 400 138008", case_accept_sdp_differs),
        ("sdp_type offer in pre_accept/accept, missing or bad session: 400 code 100 with details", case_sdp_type_offer),
        ("SDP sanity (CRLF, one sha-256 fingerprint, setup:active, ICE credentials, one m=audio): 400 138008", case_sdp_sanity),
        ("wrong, missing or non-Bearer token: 401 code 190", case_token),
        ("fault fail_next 500 twice: 500, 500, 200, all recorded", case_fail_next_500_twice),
        ("fault fail_call: 400 138008 for that call's pre_accept only", case_fail_call_138008),
        ("connect returns a wacid; connect rules", case_connect),
        ("field rules: unknown fields, product, action, call_id, opaque data, Content-Type, path", case_field_rules),
        ("malformed JSON: 400 code 100", case_malformed_json),
        ("events: signature valid 200 / invalid 401, fail_events, wait_for_event", case_events),
        ("control endpoints: GET requests/events/faults/health, POST faults/reset", case_control_endpoints),
        ("wait_for, delay_ms, drop", case_wait_for_and_delay),
        ("keep-alive: several requests on one connection", case_keep_alive),
        ("https:// with the test CA (127.0.0.1 and localhost); no CA fails", case_https),
        ("as a process: JSON start line, --faults, --log, SIGTERM", case_process),
        ("loopback only: fake and webhook delivery refuse other hosts; ::1", case_loopback_only),
        ("webhook builders: shapes, Meta-style bytes, hmac signature, post and verify_get", case_webhook_builders),
    ]
    for name, fn in cases:
        run(name, fn, env, counts)
    for f in fakes:
        f.stop()
    shutil.rmtree(workdir, ignore_errors=True)
    print("# %.1f s" % (time.monotonic() - t_start))
    print("graph fake: %d passed, %d failed" % tuple(counts))
    return 1 if counts[1] else 0


if __name__ == "__main__":
    sys.exit(main())
