#!/usr/bin/env python3
"""WhatsApp Cloud API built in (issue 7), end to end on 127.0.0.1: signed `calls` webhooks into
the bridge, Graph call actions out to the fake Graph API (tests/fakes/whatsapp_graph_fake.py),
signed call events to the fake's /events receiver.

The WhatsApp-shaped pion caller plays Meta's relay with -signal files: the test wraps its offer
in a signed connect webhook (built like Meta's, tests/fakes/whatsapp_webhooks.py) and hands it
the answer the bridge sent in pre_accept. Audio then flows to the fake OpenAI Realtime server.

  tests/integration/whatsapp_webhook_test.py BUILD_DIR/wabridge
"""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "fakes"))
sys.dont_write_bytecode = True
import bridge_process  # noqa: E402
import whatsapp_graph_fake  # noqa: E402
import whatsapp_webhooks as wh  # noqa: E402

BRIDGE = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else os.path.join(REPO, "build", "wabridge")
PION = os.path.join(os.path.dirname(BRIDGE), "pion_caller")
OPENAI_FAKE = os.path.join(REPO, "tests", "fakes", "openai_realtime_fake.py")
APP_SECRET = "test-app-secret"
VERIFY_TOKEN = "test-verify-token"
GRAPH_TOKEN = "test-graph-token"
EVENTS_SECRET = "test-events-secret"


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


class Env:
    """A fake Graph API (+ events receiver) and a bridge pointed at it."""

    def __init__(self, tmp, name, openai=False, **extra):
        self.tmp = os.path.join(tmp, name)
        os.makedirs(self.tmp, exist_ok=True)
        self.graph = whatsapp_graph_fake.GraphFake(token=GRAPH_TOKEN, events_secret=EVENTS_SECRET)
        base = self.graph.start()
        self.openai = None
        settings = {"WHATSAPP_APP_SECRET": APP_SECRET, "WHATSAPP_VERIFY_TOKEN": VERIFY_TOKEN,
                    "WHATSAPP_ACCESS_TOKEN": GRAPH_TOKEN, "WHATSAPP_GRAPH_URL": base + "/v23.0",
                    "CALL_EVENTS_URL": self.graph.events_url(), "CALL_EVENTS_SECRET": EVENTS_SECRET,
                    "RTP_PORT_MIN": 31200, "RTP_PORT_MAX": 31300, "MEDIA_TIMEOUT_SECONDS": 5,
                    "AI_BACKEND": "echo", "LOG_LEVEL": "info"}
        if openai:
            self.openai_log = os.path.join(self.tmp, "openai.jsonl")
            self.openai = subprocess.Popen(
                [OPENAI_FAKE, "--port", "0", "--log", self.openai_log,
                 "--summary", os.path.join(self.tmp, "openai-summary.json")],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            line = self.openai.stdout.readline().split()
            check(line[:1] == ["LISTENING"], "the OpenAI fake did not start: %r" % line)
            settings.update({"AI_BACKEND": "openai", "OPENAI_API_KEY": "sk-test",
                             "OPENAI_REALTIME_URL": "ws://127.0.0.1:%s/v1/realtime" % line[1]})
        settings.update(extra)
        self.proc, self.port = bridge_process.start_bridge(BRIDGE, **settings)
        self.url = "http://127.0.0.1:%d" % self.port
        self.webhook = self.url + "/whatsapp/webhook"

    def stop(self):
        code, err = bridge_process.stop_bridge(self.proc)
        self.graph.stop()
        summary = None
        if self.openai:
            self.openai.send_signal(signal.SIGTERM)
            self.openai.wait(timeout=10)
            with open(os.path.join(self.tmp, "openai-summary.json")) as f:
                summary = json.load(f)
        return code, err, summary

    def get(self, path):
        try:
            with urllib.request.urlopen(self.url + path, timeout=5) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def session(self, call_id):
        status, body = self.get("/sessions/" + urllib.request.quote(call_id, safe=""))
        return json.loads(body)["session"] if status == 200 else None

    def wait_session(self, call_id, pred, timeout=10):
        deadline = time.time() + timeout
        s = self.session(call_id)
        while not (s and pred(s)) and time.time() < deadline:
            time.sleep(0.05)
            s = self.session(call_id)
        return s

    def metric(self, name):
        _, text = self.get("/metrics")
        total = 0.0
        for line in text.splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                total += float(line.rsplit(" ", 1)[1])
        return total

    def deliver(self, hook, secret=APP_SECRET):
        status, _, _ = wh.deliver(self.webhook, hook, secret)
        return status


def sdp_check(offer, answer, tmp):
    o, a = os.path.join(tmp, "check-offer.sdp"), os.path.join(tmp, "check-answer.sdp")
    with open(o, "w", newline="") as f:
        f.write(offer)
    with open(a, "w", newline="") as f:
        f.write(answer)
    p = subprocess.run([BRIDGE, "sdp", "check", o, a], capture_output=True, text=True, timeout=10)
    return p.returncode, p.stdout


def pion_files_call(env, call_id, seconds=3.0, extra=(), during=None):
    """Runs pion with -signal files: returns (offer, answer, result) after the call. `during`
    runs while the call is still up (after the answer was handed over)."""
    d = os.path.join(env.tmp, call_id.replace("=", "_"))
    os.makedirs(d, exist_ok=True)
    offer_path, answer_path, out = (os.path.join(d, n) for n in ("offer.sdp", "answer.sdp", "result.json"))
    proc = subprocess.Popen([PION, "-signal", "files", "-offer-out", offer_path, "-answer-in", answer_path,
                             "-seconds", str(seconds), "-out", out, "-grace", "500ms"] + list(extra),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 10
        while not os.path.exists(offer_path) and time.time() < deadline:
            time.sleep(0.01)
        check(os.path.exists(offer_path), "pion wrote no offer")
        with open(offer_path, newline="") as f:
            offer = f.read()
        check(env.deliver(wh.user_connect(call_id=call_id, sdp=offer, name="Test Caller")) == 200,
              "connect webhook refused")
        pre = env.graph.wait_for_action("pre_accept", call_id=call_id, status=200, timeout=25)[0]
        answer = pre["json"]["session"]["sdp"]
        with open(answer_path + ".tmp", "w", newline="") as f:
            f.write(answer)
        os.rename(answer_path + ".tmp", answer_path)
        if during:
            during()
        proc.wait(timeout=seconds + 30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    with open(out) as f:
        result = json.load(f)
    return offer, answer, result


def case_signed_connect_call_and_terminate(tmp):
    env = Env(tmp, "e2e", openai=True)
    call_id = wh.new_call_id()
    seen = {}

    def mid_call():
        # Media for a while, then WhatsApp's terminate while the caller is still sending.
        accepts = env.graph.wait_for_action("accept", call_id=call_id, status=200, timeout=15)
        seen["accepts"] = accepts
        time.sleep(3.0)
        seen["live"] = env.session(call_id)
        check(env.deliver(wh.terminate(call_id, status="COMPLETED", duration=4)) == 200, "terminate refused")
        seen["ended"] = env.wait_session(call_id, lambda s: s["state"] == "ended")

    try:
        offer, answer, result = pion_files_call(env, call_id, seconds=6.0, during=mid_call)
        check(result["ok"], "pion: %s" % result.get("error"))
        accepts = seen["accepts"]
        pre = env.graph.requests(action="pre_accept", call_id=call_id)
        check(len(pre) == 1 and len(accepts) == 1, (len(pre), len(accepts)))
        check(accepts[0]["json"]["session"]["sdp"] == answer, "accept SDP differs from pre_accept SDP")
        check(accepts[0]["json"]["session"]["sdp_type"] == "answer", accepts[0]["json"])
        code, report = sdp_check(offer, answer, env.tmp)
        check(code == 0, "the answer breaks a WhatsApp rule:\n" + report)
        s = seen["live"]
        w = s["whatsapp"]
        check(s["state"] != "ended" and w["graphState"] == "accepted" and w["from"] == wh.CALLER_NUMBER
              and w["callerName"] == "Test Caller" and w["direction"] == "USER_INITIATED", s)
        # accept only once media was up: DTLS before accept.
        check(s["media"]["dtlsConnectedMs"] is not None and w["acceptedMs"] >= s["media"]["dtlsConnectedMs"],
              (w, s["media"]["dtlsConnectedMs"]))
        check(result["packets_received"] > 100, "the caller received %d packets" % result["packets_received"])
        s = seen["ended"]
        check(s["endReason"] == "whatsapp_terminate", s["endReason"])
        check(s["whatsapp"]["terminateStatus"] == "COMPLETED" and s["whatsapp"]["terminateDurationSeconds"] == 4,
              s["whatsapp"])
        ended = env.graph.wait_for_event(lambda e: (e.get("json") or {}).get("type") == "call.ended", timeout=10)
        events = env.graph.events()
        kinds = [e["json"]["type"] for e in events]
        check("call.started" in kinds and "call.ended" in kinds, kinds)
        check(all(e["signature_valid"] for e in events), [e["signature_problem"] for e in events])
        check(ended[0]["json"]["data"]["reason"] == "whatsapp_terminate", ended[0]["json"])
        check(ended[0]["json"]["callId"] == call_id, ended[0]["json"])
        time.sleep(0.3)
        check(not env.graph.requests(action="terminate", call_id=call_id), "terminate sent back to WhatsApp")
    finally:
        code, err, summary = env.stop()
    check(code == 0, "bridge exit %s: %s" % (code, err[-2000:]))
    n = summary["events_by_type"]
    check(n.get("input_audio_buffer.append", 0) > 50, "appends at the fake OpenAI: %r" % n)
    check(summary["violations"] == [], summary["violations"][:3])
    return "pre_accept %.0f ms, accept %.0f ms after the session (DTLS at %.0f ms); %d appends reached OpenAI" % (
        w["preAcceptedMs"], w["acceptedMs"], seen["live"]["media"]["dtlsConnectedMs"],
        n["input_audio_buffer.append"])


def case_bad_signature_is_refused(tmp):
    env = Env(tmp, "sig")
    try:
        call_id = wh.new_call_id()
        body = wh.dumps(wh.user_connect(call_id=call_id))
        before = env.metric("wabridge_whatsapp_webhook_bad_signatures_total")
        codes = [wh.post(env.webhook, body)[0],
                 wh.post(env.webhook, body, signature=wh.sign(body, "not-the-secret"))[0],
                 wh.post(env.webhook, body, signature="sha256=zz")[0],
                 wh.post(env.webhook, body + b" ", signature=wh.sign(body, APP_SECRET))[0]]
        after = env.metric("wabridge_whatsapp_webhook_bad_signatures_total")
        time.sleep(0.3)
        check(codes == [401, 401, 401, 401], codes)
        check(after - before == 4, (before, after))
        check(env.session(call_id) is None, "a session was created")
        check(not env.graph.requests(), "the Graph API was called")
        ok, challenge = wh.verify_get(env.webhook, token=VERIFY_TOKEN, challenge="1158201444")
        bad, _ = wh.verify_get(env.webhook, token="wrong", challenge="1158201444")
        check((ok, challenge, bad) == (200, "1158201444", 403), (ok, challenge, bad))
    finally:
        env.stop()
    return "4 refused with 401, metric +4, GET verification 200/403"


def case_duplicates_and_terminate_first(tmp):
    env = Env(tmp, "dup")
    try:
        call_id = wh.new_call_id()
        hook = wh.user_connect(call_id=call_id)
        codes = [env.deliver(hook) for _ in range(3)]
        env.graph.wait_for_action("pre_accept", call_id=call_id, timeout=10)
        time.sleep(0.5)
        check(codes == [200, 200, 200], codes)
        check(len(env.graph.requests(action="pre_accept", call_id=call_id)) == 1,
              env.graph.requests(action="pre_accept"))
        _, listing = env.get("/sessions")
        check(json.loads(listing)["activeSessions"] == 1, listing)
        dead = wh.new_call_id()
        check(env.deliver(wh.terminate(dead, status="FAILED")) == 200, "terminate refused")
        check(env.deliver(wh.user_connect(call_id=dead)) == 200, "late connect refused")
        time.sleep(0.5)
        check(env.session(dead) is None, "a session for a call terminated before its connect")
        check(not env.graph.requests(call_id=dead), "Graph called for a dead call")
    finally:
        env.stop()
    return "3 connects -> 1 session, 1 pre_accept; terminate-first -> no session"


def case_graph_500_twice_then_ok(tmp):
    env = Env(tmp, "retry")
    try:
        env.graph.fail_next(status=500, count=2, action="pre_accept")
        call_id = wh.new_call_id()
        _, _, result = pion_files_call(env, call_id, seconds=2.0)
        check(result["ok"], "pion: %s" % result.get("error"))
        pre = env.graph.requests(action="pre_accept", call_id=call_id)
        check([r["status"] for r in pre] == [500, 500, 200], [r["status"] for r in pre])
        env.graph.wait_for_action("accept", call_id=call_id, status=200, timeout=10)
        s = env.session(call_id)
        check(s["whatsapp"]["graphState"] == "accepted", s["whatsapp"])
    finally:
        env.stop()
    return "pre_accept 500, 500, 200 -> accepted, %d packets to the caller" % result["packets_received"]


def case_graph_138008_rejects(tmp):
    env = Env(tmp, "138008")
    try:
        call_id = wh.new_call_id()
        env.graph.fail_call(call_id, action="pre_accept", status=400, graph_code=138008,
                            details="Invalid SDP: more than one fingerprint")
        check(env.deliver(wh.user_connect(call_id=call_id)) == 200, "connect refused")
        env.graph.wait_for_action("reject", call_id=call_id, timeout=10)
        s = env.wait_session(call_id, lambda s: s["state"] == "ended")
        check(s["endReason"] == "graph_error_138008", s["endReason"])
        check("more than one fingerprint" in s["whatsapp"]["graphError"], s["whatsapp"])
        check(len(env.graph.requests(action="pre_accept", call_id=call_id)) == 1, "a 400 was retried")
        check(not env.graph.requests(action="accept", call_id=call_id), "accept after a failed pre_accept")
        errors = env.graph.wait_for_event(lambda e: (e.get("json") or {}).get("type") == "error", timeout=10)
        check(errors[0]["json"]["data"]["code"] == 138008, errors[0]["json"])
    finally:
        env.stop()
    return "reject sent, session ended graph_error_138008"


def case_delete_terminates_an_accepted_call(tmp):
    env = Env(tmp, "delete")
    try:
        call_id = wh.new_call_id()
        d = os.path.join(env.tmp, "c")
        os.makedirs(d)
        # A caller that keeps the call up while the test hangs up from the bridge's side.
        _, _, result = pion_files_call(env, call_id, seconds=1.0, extra=["-no-delete"])
        env.graph.wait_for_action("accept", call_id=call_id, status=200, timeout=10)
        req = urllib.request.Request(env.url + "/sessions/" + urllib.request.quote(call_id, safe=""),
                                     method="DELETE")
        with urllib.request.urlopen(req, timeout=5) as r:
            check(r.status == 200, r.status)
        env.graph.wait_for_action("terminate", call_id=call_id, status=200, timeout=10)
    finally:
        env.stop()
    return "DELETE -> Graph terminate"


def post_json(url, body):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def case_business_initiated_call(tmp):
    """POST /calls -> Graph connect with our offer -> the test plays Meta: pion answers as an
    ICE-lite DTLS client (a=setup:active), the answer comes back in a signed connect webhook ->
    media flows -> statuses recorded -> a terminate webhook ends it."""
    env = Env(tmp, "bic", WHATSAPP_PHONE_NUMBER_ID=wh.PHONE_NUMBER_ID)
    d = os.path.join(env.tmp, "pion")
    os.makedirs(d)
    offer_path, answer_path, out = (os.path.join(d, n) for n in ("offer.sdp", "answer.sdp", "result.json"))
    pion = None
    try:
        bad, _ = post_json(env.url + "/calls", {"to": "+1 555"})
        check(bad == 400, "a bad number got %d" % bad)
        status, reply = post_json(env.url + "/calls", {"to": "15550001111", "bizOpaqueCallbackData": "order-7"})
        check(status == 202 and reply["success"], (status, reply))
        sid = reply["sessionId"]
        connect = env.graph.wait_for_action("connect", status=200, timeout=10)[0]
        body = connect["json"]
        check(body["to"] == "15550001111" and body["session"]["sdp_type"] == "offer"
              and body["biz_opaque_callback_data"] == "order-7", body)
        offer = body["session"]["sdp"]
        check("a=setup:actpass\r\n" in offer and "a=ice-lite" not in offer
              and offer.count("a=fingerprint:sha-256") == 1, offer)
        wacid = next(iter(env.graph.connected_calls()))
        s = env.wait_session(sid, lambda s: s["whatsapp"]["callId"] == wacid)
        check(s["whatsapp"]["graphState"] == "ringing" and s["media"]["state"] == "waiting_answer", s)
        check(env.deliver(wh.status(wacid, "RINGING", biz_opaque_callback_data="order-7")) == 200, "status")
        with open(offer_path, "w", newline="") as f:
            f.write(offer)
        pion = subprocess.Popen([PION, "-answerer", "-offer-in", offer_path, "-answer-out", answer_path,
                                 "-seconds", "5", "-out", out, "-grace", "300ms"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 10
        while not os.path.exists(answer_path) and time.time() < deadline:
            time.sleep(0.01)
        with open(answer_path, newline="") as f:
            answer = f.read()
        check(env.deliver(wh.business_connect(wacid, sdp=answer, biz_opaque_callback_data="order-7")) == 200,
              "answer webhook refused")
        check(env.deliver(wh.status(wacid, "ACCEPTED")) == 200, "status")
        time.sleep(2.5)
        live = env.session(sid)
        check(live["state"] == "answered" and live["whatsapp"]["graphState"] == "answered"
              and live["whatsapp"]["lastStatus"] == "ACCEPTED", live)
        check(live["media"]["state"] == "dtls_connected", live["media"])
        check(env.deliver(wh.terminate(wacid, status="COMPLETED", duration=3)) == 200, "terminate")
        ended = env.wait_session(sid, lambda s: s["state"] == "ended")
        check(ended["endReason"] == "whatsapp_terminate", ended["endReason"])
        pion.wait(timeout=30)
        with open(out) as f:
            result = json.load(f)
        check(result["dtls_role"] == "client" and result["ice_role"] == "controlled", result)
        check(result["packets_received"] > 50, "pion received %d packets" % result["packets_received"])
        started = env.graph.wait_for_event(lambda e: (e.get("json") or {}).get("type") == "call.started", timeout=5)
        check(started[0]["json"]["data"]["whatsappCallId"] == wacid and started[0]["signature_valid"],
              started[0]["json"])
        time.sleep(0.3)
        check(not env.graph.requests(action="terminate"), "terminate sent after WhatsApp's own")
    finally:
        if pion and pion.poll() is None:
            pion.kill()
        env.stop()
    return "connect -> %s, answered, DTLS up in %.0f ms as the server, %d packets to the callee" % (
        wacid[:12] + "...", live["media"]["dtlsConnectedMs"], result["packets_received"])


def main():
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="whatsapp-test.") as tmp:
        for name, fn in (("GET verification and bad signatures", case_bad_signature_is_refused),
                         ("duplicate connects and terminate before connect", case_duplicates_and_terminate_first),
                         ("Graph 400 138008 rejects the call", case_graph_138008_rejects),
                         ("signed connect -> pre_accept -> accept -> media -> terminate",
                          case_signed_connect_call_and_terminate),
                         ("Graph 500 twice then 200 still connects", case_graph_500_twice_then_ok),
                         ("DELETE terminates an accepted call", case_delete_terminates_an_accepted_call),
                         ("business-initiated call: POST /calls, answer by webhook", case_business_initiated_call)):
            if bridge_process.run_case(name, fn, tmp):
                passed += 1
            else:
                failed += 1
    print("whatsapp: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
