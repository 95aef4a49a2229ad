"""whatsapp_webhooks: build and deliver WhatsApp `calls` webhooks the way Meta does, for the
bridge's tests (../../../shared/docs/whatsapp-calling.md §2.1-2.7). Stdlib only; loopback only.

Builders return the webhook as a dict (the whole envelope); `dumps()` turns one into the bytes
to send, `sign()` computes X-Hub-Signature-256, `post()` delivers, `verify_get()` performs the
GET verification handshake:

    hook = user_connect(call_id, offer_sdp, from_="15551234567", name="Ada")
    body = dumps(hook)
    status, text = post(url, body, signature=sign(body, APP_SECRET))

Every builder takes `timestamp` (int or str; default now) and `waba_id`, `phone_number_id`,
`display_phone_number` for the envelope. Timestamps are UNIX seconds as strings, like Meta's.
"""

import base64
import hashlib
import hmac
import http.client
import json
import os
import secrets
import socket
import ssl
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
SDP_DIR = os.path.normpath(os.path.join(HERE, "..", "data", "sdp", "whatsapp"))
LOOPBACKS = ("127.0.0.1", "::1")

# Made-up ids for tests (digits only, as Meta's are).
WABA_ID = "100000000000001"
PHONE_NUMBER_ID = "123456789012345"
BUSINESS_NUMBER = "15550001234"        # display_phone_number, and `to` of user-initiated calls
CALLER_NUMBER = "15557654321"
CALLER_NAME = "Test Caller"

# Terminate errors seen on the calling leg (§6.1), with titles written for these tests.
CALL_ERRORS = {
    138019: "Call setup failed on the WhatsApp client",
    138020: "WhatsApp client could not reach the relay",
    138021: "WhatsApp client terminated the call because it received no media for a long time",
    138022: "WhatsApp client could not send media for a long time",
    138023: "The call was accepted but no media connection was signalled",
    131044: "No valid payment method",
}


# --------------------------------------------------------------------------------------------
# Small helpers

def new_call_id():
    """A call id shaped like Meta's: `wacid.` + URL-safe base64 with `_` and `=` padding."""
    while True:
        tail = base64.urlsafe_b64encode(os.urandom(43)).decode("ascii")
        if "_" in tail:
            return "wacid.HBgL" + tail


def load_sdp(name="wa-offer-01.sdp"):
    """An SDP sample from tests/data/sdp/whatsapp (CRLF line endings) as a str."""
    with open(os.path.join(SDP_DIR, name), "rb") as f:
        return f.read().decode("ascii")


def _ts(timestamp):
    return str(int(time.time()) if timestamp is None else int(timestamp))


def call_error(code, message=None, details=None, title=None):
    """One `errors[]` element: {code, title, message, error_data: {details}}."""
    title = title or CALL_ERRORS.get(code, "Call error")
    return {"code": int(code), "title": title, "message": message or title,
            "error_data": {"details": details or message or title}}


def _errors(errors):
    if errors is None:
        return None
    return [call_error(e) if isinstance(e, int) else dict(e) for e in errors]


# --------------------------------------------------------------------------------------------
# Envelope

def value(calls=None, statuses=None, errors=None, contacts=None, phone_number_id=PHONE_NUMBER_ID,
          display_phone_number=BUSINESS_NUMBER):
    """One change's `value` object (§2.3)."""
    v = {"messaging_product": "whatsapp",
         "metadata": {"display_phone_number": display_phone_number,
                      "phone_number_id": phone_number_id}}
    if contacts is not None:
        v["contacts"] = contacts
    if calls is not None:
        v["calls"] = calls
    if statuses is not None:
        v["statuses"] = statuses
    if errors is not None:
        v["errors"] = _errors(errors)
    return v


def envelope(*values, waba_id=WABA_ID, field="calls"):
    """The webhook: one entry for `waba_id` holding one change per value."""
    return {"object": "whatsapp_business_account",
            "entry": [{"id": waba_id,
                       "changes": [{"value": v, "field": field} for v in values]}]}


def batch(*webhooks, mode="entries"):
    """Several webhooks delivered as one POST (Meta batches updates). mode "entries": every
    webhook's entries side by side; "changes": all changes inside the first webhook's entry."""
    if not webhooks:
        raise ValueError("nothing to batch")
    if mode == "entries":
        return {"object": "whatsapp_business_account",
                "entry": [e for w in webhooks for e in w["entry"]]}
    if mode == "changes":
        first = webhooks[0]["entry"][0]
        return {"object": "whatsapp_business_account",
                "entry": [{"id": first["id"],
                           "changes": [c for w in webhooks for e in w["entry"] for c in e["changes"]]}]}
    raise ValueError("mode must be entries or changes")


# --------------------------------------------------------------------------------------------
# Builders (§2.4-2.7)

def user_connect(call_id=None, sdp=None, from_=CALLER_NUMBER, to=BUSINESS_NUMBER,
                 name=CALLER_NAME, phone_number_id=PHONE_NUMBER_ID, timestamp=None,
                 waba_id=WABA_ID, display_phone_number=None, deeplink_payload=None,
                 cta_payload=None, extra=None):
    """A user-initiated `connect` carrying WhatsApp's SDP offer (default: wa-offer-01.sdp) and
    the caller in contacts[]. `extra` adds/overrides fields of the call object."""
    call = {"id": call_id or new_call_id(), "to": to, "from": from_, "event": "connect",
            "timestamp": _ts(timestamp), "direction": "USER_INITIATED",
            "session": {"sdp_type": "offer", "sdp": sdp if sdp is not None else load_sdp()}}
    if deeplink_payload is not None:
        call["deeplink_payload"] = deeplink_payload
    if cta_payload is not None:
        call["cta_payload"] = cta_payload
    call.update(extra or {})
    contacts = [{"profile": {"name": name}, "wa_id": from_}]
    return envelope(value(calls=[call], contacts=contacts, phone_number_id=phone_number_id,
                          display_phone_number=display_phone_number or to), waba_id=waba_id)


def business_connect(call_id, sdp=None, to=CALLER_NUMBER, from_=BUSINESS_NUMBER,
                     biz_opaque_callback_data=None, phone_number_id=PHONE_NUMBER_ID,
                     timestamp=None, waba_id=WABA_ID, extra=None):
    """A business-initiated `connect` carrying Meta's SDP answer (default:
    wa-doc-answer-bic-from-meta.sdp); no contacts; biz_opaque_callback_data echoed."""
    call = {"id": call_id, "to": to, "from": from_, "event": "connect",
            "timestamp": _ts(timestamp), "direction": "BUSINESS_INITIATED",
            "session": {"sdp_type": "answer",
                        "sdp": sdp if sdp is not None else load_sdp("wa-doc-answer-bic-from-meta.sdp")}}
    if biz_opaque_callback_data is not None:
        call["biz_opaque_callback_data"] = biz_opaque_callback_data
    call.update(extra or {})
    return envelope(value(calls=[call], phone_number_id=phone_number_id,
                          display_phone_number=from_), waba_id=waba_id)


def terminate(call_id, status="COMPLETED", duration=None, start_time=None, end_time=None,
              from_=CALLER_NUMBER, to=BUSINESS_NUMBER, direction="USER_INITIATED", errors=None,
              errors_in="call", biz_opaque_callback_data=None, phone_number_id=PHONE_NUMBER_ID,
              timestamp=None, waba_id=WABA_ID, extra=None):
    """A `terminate`. With `duration` (int seconds) the call counts as picked up: start_time
    and end_time (strings) are filled in around `timestamp` unless given. `errors` is a list of
    codes (e.g. [138021]) or call_error() dicts, placed in the call object, the value, or both
    (errors_in "call" | "value" | "both")."""
    ts = _ts(timestamp)
    call = {"id": call_id, "to": to, "from": from_, "event": "terminate", "direction": direction,
            "timestamp": ts, "status": status}
    if duration is not None:
        end = int(end_time) if end_time is not None else int(ts)
        start = int(start_time) if start_time is not None else end - int(duration)
        call.update(start_time=str(start), end_time=str(end), duration=int(duration))
    else:
        if start_time is not None:
            call["start_time"] = str(start_time)
        if end_time is not None:
            call["end_time"] = str(end_time)
    if biz_opaque_callback_data is not None:
        call["biz_opaque_callback_data"] = biz_opaque_callback_data
    value_errors = None
    if errors is not None:
        if errors_in not in ("call", "value", "both"):
            raise ValueError("errors_in must be call, value or both")
        if errors_in in ("call", "both"):
            call["errors"] = _errors(errors)
        if errors_in in ("value", "both"):
            value_errors = errors
    call.update(extra or {})
    display = to if direction == "USER_INITIATED" else from_
    return envelope(value(calls=[call], errors=value_errors, phone_number_id=phone_number_id,
                          display_phone_number=display), waba_id=waba_id)


def status(call_id, status="RINGING", recipient_id=CALLER_NUMBER, biz_opaque_callback_data=None,
           phone_number_id=PHONE_NUMBER_ID, display_phone_number=BUSINESS_NUMBER, timestamp=None,
           waba_id=WABA_ID, extra=None):
    """A `statuses` webhook of a business-initiated call: RINGING, ACCEPTED or REJECTED."""
    st = {"id": call_id, "timestamp": _ts(timestamp), "type": "call", "status": status,
          "recipient_id": recipient_id}
    if biz_opaque_callback_data is not None:
        st["biz_opaque_callback_data"] = biz_opaque_callback_data
    st.update(extra or {})
    return envelope(value(statuses=[st], phone_number_id=phone_number_id,
                          display_phone_number=display_phone_number), waba_id=waba_id)


statuses = status     # alias matching the payload's field name


# --------------------------------------------------------------------------------------------
# Bytes and signatures

def dumps(webhook, escape_slashes=False):
    """The bytes Meta would send: compact JSON, non-ASCII as lower-case \\uXXXX escapes (Meta
    signs that escaped form). escape_slashes writes "/" as "\\/" (PHP style), which catches a
    receiver that re-serialises before checking the signature."""
    text = json.dumps(webhook, separators=(",", ":"), ensure_ascii=True)
    if escape_slashes:
        text = text.replace("/", "\\/")
    return text.encode("ascii")


def sign(body_bytes, app_secret):
    """X-Hub-Signature-256 value: "sha256=" + lower-case hex HMAC-SHA256(raw body, app secret)."""
    if isinstance(app_secret, str):
        app_secret = app_secret.encode("utf-8")
    if isinstance(body_bytes, str):
        body_bytes = body_bytes.encode("utf-8")
    return "sha256=" + hmac.new(app_secret, body_bytes, hashlib.sha256).hexdigest()


# --------------------------------------------------------------------------------------------
# Delivery (loopback only)

def _target(url):
    """(scheme, host, port, path+query) of a loopback URL; ValueError for anything else."""
    u = urllib.parse.urlsplit(url)
    if u.scheme not in ("http", "https"):
        raise ValueError("only http:// and https:// URLs: %r" % url)
    host = u.hostname or ""
    if host == "localhost":
        addrs = {ai[4][0] for ai in socket.getaddrinfo(host, u.port or 80, proto=socket.IPPROTO_TCP)}
        if not addrs or not addrs <= set(LOOPBACKS):
            raise ValueError("localhost resolves to non-loopback addresses %s" % sorted(addrs))
    elif host not in LOOPBACKS:
        raise ValueError("webhooks go to loopback only (127.0.0.1, ::1, localhost), not %r" % host)
    port = u.port or (443 if u.scheme == "https" else 80)
    path = (u.path or "/") + ("?" + u.query if u.query else "")
    return u.scheme, host, port, path


def _connection(scheme, host, port, timeout, context, ca_file):
    if scheme == "https":
        if context is None:
            context = ssl.create_default_context(cafile=ca_file)
        return http.client.HTTPSConnection(host, port, timeout=timeout, context=context)
    return http.client.HTTPConnection(host, port, timeout=timeout)


def post(url, body_bytes, signature=None, timeout=5.0, app_secret=None, headers=None,
         signature_header="X-Hub-Signature-256", context=None, ca_file=None):
    """POSTs `body_bytes` (a dict is dumps()-ed first) to a loopback URL like Meta does:
    Content-Type application/json, User-Agent facebookexternalua, and the signature header
    (given, or computed from app_secret; none when both are None). Returns (status, body text).
    https:// uses `context`, or a default context trusting `ca_file`."""
    if isinstance(body_bytes, dict):
        body_bytes = dumps(body_bytes)
    if signature is None and app_secret is not None:
        signature = sign(body_bytes, app_secret)
    scheme, host, port, path = _target(url)
    hdrs = {"Content-Type": "application/json", "User-Agent": "facebookexternalua",
            "Accept": "*/*"}
    if signature is not None:
        hdrs[signature_header] = signature
    hdrs.update(headers or {})
    conn = _connection(scheme, host, port, timeout, context, ca_file)
    try:
        conn.request("POST", path, body=body_bytes, headers=hdrs)
        resp = conn.getresponse()
        return resp.status, resp.read().decode("utf-8", "replace")
    finally:
        conn.close()


def deliver(url, webhook, app_secret, timeout=5.0, escape_slashes=False, **kw):
    """dumps() + sign() + post() in one go. Returns (status, body text, the bytes sent)."""
    body = dumps(webhook, escape_slashes=escape_slashes)
    st, text = post(url, body, signature=sign(body, app_secret), timeout=timeout, **kw)
    return st, text, body


def verify_get(url, mode="subscribe", token="", challenge=None, timeout=5.0, context=None,
               ca_file=None):
    """Meta's endpoint verification: GET url?hub.mode=..&hub.challenge=..&hub.verify_token=..
    Returns (status, body text); a receiver that accepts echoes the challenge (default: a random
    number, as Meta sends)."""
    if challenge is None:
        challenge = str(secrets.randbelow(10 ** 9) + 10 ** 9)
    scheme, host, port, path = _target(url)
    query = urllib.parse.urlencode([("hub.mode", mode), ("hub.challenge", challenge),
                                    ("hub.verify_token", token)])
    path += ("&" if "?" in path else "?") + query
    conn = _connection(scheme, host, port, timeout, context, ca_file)
    try:
        conn.request("GET", path, headers={"User-Agent": "facebookplatform/1.0"})
        resp = conn.getresponse()
        return resp.status, resp.read().decode("utf-8", "replace")
    finally:
        conn.close()
