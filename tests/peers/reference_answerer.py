#!/usr/bin/python3
"""Reference answerer: a stand-in for wabridge's WebRTC transport, built on aiortc.

It speaks the part of wabridge's HTTP API the test peers use, on 127.0.0.1 only:

    POST   /sessions/{callId}/webrtc   {"sdpOffer"}  -> {"success":true,"sdpAnswer","sessionId"}
    DELETE /sessions/{callId}                        -> {"success":true}
    GET    /sessions/{callId}                        -> {"success":true,"session":{...,"media":{...}}}
    GET    /health                                   -> {"status":"healthy","activeSessions":N}

and answers each offer with an aiortc peer connection that echoes the caller's audio back:

  --echo rtp    (default) byte-exact: every incoming Opus RTP payload is sent back unchanged in
                aiortc's own RTP stream (own SSRC, sequence numbers, timestamps +960 per packet).
                The payload is taken in RTCRtpReceiver._handle_rtp_packet and handed to the sender
                as an av.Packet, which aiortc packs without re-encoding.
  --force-controlling  stay the controlling ICE agent even against a full-ICE offer, like a bridge
                that always controls: the aiortc caller then meets a role conflict (487).
  --echo audio  decoded audio is re-encoded (aiortc decode -> encode); payloads differ, so callers
                can only compare packet counts.

Its answer is shaped like wabridge's: one sha-256 fingerprint, a=setup:active, the offer's mid.
Against an ICE-lite offer (pion_caller) aiortc becomes the controlling agent and nominates;
against a full-ICE offer (aiortc_caller) the offerer controls.

    reference_answerer.py [--port 0] [--port-file F] [--token T] [--echo rtp|audio] [-v]

It prints `LISTENING <port>` on stdout when ready. Every socket is bound to 127.0.0.1 and every
UDP datagram to another address is dropped (and counted in /health as `nonLoopbackDrops`).
"""

import os
import sys

try:
    import aiortc  # noqa: F401
except ImportError:  # Debian's python3-aiortc lives in /usr/bin/python3's dist-packages only
    if os.path.exists("/usr/bin/python3") and not os.environ.get("WABRIDGE_PEERS_REEXEC"):
        os.environ["WABRIDGE_PEERS_REEXEC"] = "1"
        os.execv("/usr/bin/python3", ["/usr/bin/python3", os.path.abspath(__file__)] + sys.argv[1:])
    sys.exit("reference_answerer: aiortc is missing; apt-get install -y python3-aiortc")

import argparse
import asyncio
import fractions
import json
import logging
import re
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import av
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

LOOPBACK = "127.0.0.1"
log = logging.getLogger("reference_answerer")

# --- network rule: loopback only ---------------------------------------------------------------

from loopback_guard import drops as non_loopback_drops, restrict_to_loopback  # noqa: E402


def loopback_candidates_only(sdp):
    """Remove offer candidates that are not UDP on 127.0.0.1 (so no check can leave loopback)."""
    out, dropped = [], []
    for line in sdp.replace("\r\n", "\n").split("\n"):
        if line.startswith("a=candidate:"):
            f = line[len("a=candidate:"):].split()
            if len(f) < 8 or f[2].lower() != "udp" or f[4] != LOOPBACK:
                dropped.append(line)
                continue
        out.append(line)
    return "\r\n".join(out).rstrip("\r\n") + "\r\n", dropped


def shape_answer(sdp):
    """Keep only the sha-256 fingerprint (WhatsApp rejects several), CRLF endings."""
    lines = [l for l in sdp.replace("\r\n", "\n").split("\n") if l]
    out = []
    for l in lines:
        if l.startswith("a=fingerprint:") and not l.lower().startswith("a=fingerprint:sha-256 "):
            continue
        out.append(l)
    return "\r\n".join(out) + "\r\n"


# --- echo tracks -------------------------------------------------------------------------------


class RtpEchoTrack(MediaStreamTrack):
    """Returns the caller's Opus payloads as pre-encoded av.Packets (aiortc packs them as is)."""

    kind = "audio"

    def __init__(self):
        super().__init__()
        self.queue = asyncio.Queue()
        self.count = 0

    def push(self, payload):
        self.queue.put_nowait(payload)

    async def recv(self):
        if self.readyState != "live":
            raise MediaStreamError
        payload = await self.queue.get()
        if payload is None:
            self.stop()
            raise MediaStreamError
        packet = av.Packet(payload)
        packet.pts = self.count * 960
        packet.time_base = fractions.Fraction(1, 48000)
        self.count += 1
        return packet


class AudioEchoTrack(MediaStreamTrack):
    """Returns the caller's decoded audio frames, to be re-encoded by aiortc."""

    kind = "audio"

    def __init__(self):
        super().__init__()
        self.source = None
        self.ready = asyncio.Event()

    def attach(self, track):
        self.source = track
        self.ready.set()

    async def recv(self):
        await self.ready.wait()
        return await self.source.recv()


# --- sessions ----------------------------------------------------------------------------------


class Session:
    def __init__(self, call_id, offer, echo_mode):
        self.call_id = call_id
        self.session_id = str(uuid.uuid4())
        self.offer = offer
        self.answer = None
        self.echo_mode = echo_mode
        self.state = "starting"
        self.created = time.time()
        self.ended = None
        self.pc = None
        self.rtp_in = 0
        self.rtp_in_by_pt = {}
        self.echo_pushed = 0
        self.ice_connected_s = None
        self.dtls_connected_s = None
        self.dropped_offer_candidates = []
        self.tasks = []

    def info(self):
        media = {"echoMode": self.echo_mode, "rtpIn": self.rtp_in,
                 "rtpInByPayloadType": {str(k): v for k, v in self.rtp_in_by_pt.items()},
                 "echoed": self.echo_pushed,
                 "droppedOfferCandidates": self.dropped_offer_candidates}
        if self.pc is not None:
            media["iceConnectionState"] = self.pc.iceConnectionState
            media["connectionState"] = self.pc.connectionState
            try:
                ice = self.pc.getTransceivers()[0].sender.transport.transport
                media["iceRole"] = ice.role
            except Exception:  # noqa: BLE001
                pass
        media["iceConnectedMs"] = None if self.ice_connected_s is None else round(self.ice_connected_s * 1000, 1)
        media["dtlsConnectedMs"] = None if self.dtls_connected_s is None else round(self.dtls_connected_s * 1000, 1)
        return {"callId": self.call_id, "sessionId": self.session_id, "state": self.state,
                "createdAt": self.created, "endedAt": self.ended, "media": media}


class Answerer:
    def __init__(self, echo_mode, force_controlling=False):
        self.echo_mode = echo_mode
        self.force_controlling = force_controlling
        self.sessions = {}
        self.lock = asyncio.Lock()

    async def create(self, call_id, offer):
        async with self.lock:
            existing = self.sessions.get(call_id)
            if existing is not None:
                if existing.state == "ended":
                    return 409, {"success": False, "error": {"code": "session_ended", "message": "session ended"}}
                if existing.offer == offer and existing.answer is not None:
                    return 200, {"success": True, "sdpAnswer": existing.answer, "sessionId": existing.session_id}
                return 409, {"success": False, "error": {"code": "session_conflict",
                                                         "message": "a different offer for this callId"}}
            session = Session(call_id, offer, self.echo_mode)
            self.sessions[call_id] = session
        try:
            answer = await self._answer(session)
        except Exception as exc:  # noqa: BLE001
            log.exception("cannot answer %s", call_id)
            await self._close(session)
            async with self.lock:
                self.sessions.pop(call_id, None)
            return 400, {"success": False, "error": {"code": "invalid_sdp", "message": str(exc)}}
        session.answer = answer
        session.state = "active"
        return 200, {"success": True, "sdpAnswer": answer, "sessionId": session.session_id}

    async def _answer(self, session):
        offer, dropped = loopback_candidates_only(session.offer)
        session.dropped_offer_candidates = dropped
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))  # no STUN: nothing leaves loopback
        session.pc = pc
        t0 = time.monotonic()

        @pc.on("iceconnectionstatechange")
        def _ice():
            log.info("%s ice %s", session.call_id, pc.iceConnectionState)
            if pc.iceConnectionState in ("completed", "connected") and session.ice_connected_s is None:
                session.ice_connected_s = time.monotonic() - t0

        @pc.on("connectionstatechange")
        async def _conn():
            log.info("%s connection %s", session.call_id, pc.connectionState)
            if pc.connectionState == "connected" and session.dtls_connected_s is None:
                session.dtls_connected_s = time.monotonic() - t0

        if self.echo_mode == "rtp":
            echo = RtpEchoTrack()
        else:
            echo = AudioEchoTrack()

        @pc.on("track")
        def _track(track):
            log.info("%s remote %s track", session.call_id, track.kind)
            if isinstance(echo, AudioEchoTrack):
                echo.attach(track)
            else:
                session.tasks.append(asyncio.ensure_future(drain(track)))

        await pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
        transceivers = [t for t in pc.getTransceivers() if t.kind == "audio"]
        if len(transceivers) != 1:
            raise ValueError("expected exactly one audio m= section, got %d" % len(transceivers))
        pc.addTrack(echo)
        transceiver = transceivers[0]
        if self.force_controlling:
            # Emulate a bridge that is a controlling full agent whatever the offer says
            # (docs/whatsapp-calling.md §5.1): a full-ICE offerer then meets a role conflict.
            transceiver.receiver.transport.transport._connection.ice_controlling = True
        receiver = transceiver.receiver
        original = receiver._handle_rtp_packet
        opus_pts = {c.payloadType for c in transceiver._codecs if c.mimeType.lower() == "audio/opus"}

        async def hooked(packet, arrival_time_ms):
            session.rtp_in += 1
            session.rtp_in_by_pt[packet.payload_type] = session.rtp_in_by_pt.get(packet.payload_type, 0) + 1
            if isinstance(echo, RtpEchoTrack) and packet.payload_type in opus_pts and packet.payload:
                echo.push(bytes(packet.payload))
                session.echo_pushed += 1
            await original(packet, arrival_time_ms)

        receiver._handle_rtp_packet = hooked
        session.echo = echo

        answer = await pc.createAnswer()
        await pc.setLocalDescription(answer)  # aiortc gathers fully here (no trickle)
        return shape_answer(pc.localDescription.sdp)

    async def delete(self, call_id):
        async with self.lock:
            session = self.sessions.get(call_id)
        if session is None or session.state == "ended":
            return 404, {"success": False, "error": {"code": "session_not_found", "message": "no such session"}}
        await self._close(session)
        return 200, {"success": True}

    async def _close(self, session):
        session.state = "ended"
        session.ended = time.time()
        echo = getattr(session, "echo", None)
        if isinstance(echo, RtpEchoTrack):
            echo.push(None)
        for t in session.tasks:
            t.cancel()
        if session.pc is not None:
            await session.pc.close()

    async def get(self, call_id):
        session = self.sessions.get(call_id)
        if session is None:
            return 404, {"success": False, "error": {"code": "session_not_found", "message": "no such session"}}
        return 200, {"success": True, "session": session.info()}

    async def health(self):
        active = sum(1 for s in self.sessions.values() if s.state != "ended")
        return 200, {"status": "healthy", "activeSessions": active, "nonLoopbackDrops": non_loopback_drops()}

    async def close_all(self):
        for s in list(self.sessions.values()):
            if s.state != "ended":
                await self._close(s)


async def drain(track):
    try:
        while True:
            await track.recv()
    except (MediaStreamError, asyncio.CancelledError):
        pass


# --- HTTP front end (stdlib server thread -> asyncio loop thread) ------------------------------

SESSION_RE = re.compile(r"^/sessions/([^/]+)(/webrtc)?$")


def make_handler(answerer, loop, token):
    def call(coro, timeout=30):
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            log.debug("http " + fmt, *args)

        def reply(self, status, obj):
            body = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def authorized(self):
            if not token or self.path in ("/health",):
                return True
            if self.headers.get("Authorization", "") == "Bearer " + token:
                return True
            self.reply(401, {"success": False, "error": {"code": "unauthorized", "message": "bad token"}})
            return False

        def route(self):
            path = urllib.parse.urlsplit(self.path).path
            m = SESSION_RE.match(path)
            call_id = urllib.parse.unquote(m.group(1)) if m else None
            return path, m, call_id

        def do_GET(self):  # noqa: N802
            if not self.authorized():
                return
            path, m, call_id = self.route()
            if path == "/health":
                self.reply(*call(answerer.health()))
            elif m and not m.group(2):
                self.reply(*call(answerer.get(call_id)))
            else:
                self.reply(404, {"success": False, "error": {"code": "not_found", "message": path}})

        def do_DELETE(self):  # noqa: N802
            if not self.authorized():
                return
            path, m, call_id = self.route()
            if m and not m.group(2):
                self.reply(*call(answerer.delete(call_id)))
            else:
                self.reply(404, {"success": False, "error": {"code": "not_found", "message": path}})

        def do_POST(self):  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if not self.authorized():
                return
            path, m, call_id = self.route()
            if not (m and m.group(2)):
                self.reply(404, {"success": False, "error": {"code": "not_found", "message": path}})
                return
            try:
                body = json.loads(raw)
            except ValueError:
                self.reply(400, {"success": False, "error": {"code": "invalid_json", "message": "bad JSON"}})
                return
            offer = body.get("sdpOffer") if isinstance(body, dict) else None
            if not isinstance(offer, str) or not offer:
                self.reply(400, {"success": False, "error": {"code": "invalid_request", "message": "sdpOffer"}})
                return
            self.reply(*call(answerer.create(call_id, offer)))

    return Handler


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0, help="HTTP port on 127.0.0.1 (0: any free port)")
    ap.add_argument("--port-file", help="write the chosen port to this file")
    ap.add_argument("--token", default="", help="require Authorization: Bearer TOKEN")
    ap.add_argument("--echo", choices=["rtp", "audio"], default="rtp")
    ap.add_argument("--force-controlling", action="store_true",
                    help="be the controlling ICE agent even when the offerer is full ICE (role-conflict test)")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if args.verbose:
        log.setLevel(logging.INFO)

    restrict_to_loopback()
    loop = asyncio.new_event_loop()
    answerer = Answerer(args.echo, args.force_controlling)
    loop_thread = threading.Thread(target=loop.run_forever, name="aiortc-loop", daemon=True)
    loop_thread.start()

    server = ThreadingHTTPServer((LOOPBACK, args.port), make_handler(answerer, loop, args.token))
    server.daemon_threads = True
    port = server.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, args.port_file)
    print("LISTENING %d" % port, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        try:
            asyncio.run_coroutine_threadsafe(answerer.close_all(), loop).result(10)
        except Exception:  # noqa: BLE001
            pass
        loop.call_soon_threadsafe(loop.stop)


if __name__ == "__main__":
    import signal

    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    main()
