#!/usr/bin/python3
"""aiortc caller: a full-ICE WebRTC caller for wabridge's HTTP API, on 127.0.0.1 only.

    aiortc_caller.py --url http://127.0.0.1:PORT --call-id ID --seconds 10 --out result.json
                     [--token T] [--connect-timeout 15] [--raw-offer] [--mid audio]
                     [--play speech.wav] [--record received.wav]

Unlike pion_caller (ICE-lite, like WhatsApp), this caller runs aiortc's full ICE agent: it sends
connectivity checks itself and, as the offerer, starts in the controlling role. Against a bridge
that is also a controlling full agent this exercises role-conflict resolution (487); the result
records the initial and final roles.

It offers Opus only, reshaped to look like WhatsApp's media line (PT 111, WhatsApp's fmtp, mid
"audio", a=ptime:20) unless --raw-offer. It sends real Opus: aiortc encodes a 440 Hz tone, or
with --play the audio of a file (aiortc's MediaPlayer, paced in real time; the media ends with the
file, --seconds still caps it). --record writes the decoded received audio to a WAV file (aiortc's
MediaRecorder; frames as the jitter buffer delivers them, so lost packets shorten it). Every
RTP payload it sends is recorded (hooking the DTLS transport just before SRTP protection), and
every payload that comes back (hooking the RTP receiver) is matched byte for byte; the returned
stream is checked for one SSRC, contiguous sequence numbers and a timestamp step of 960.

Network rule: only 127.0.0.1. ICE gathers host candidates on 127.0.0.1 only (aioice's interface
enumeration is replaced), no STUN/TURN server is configured (aiortc's default would be Google's
STUN server), answer candidates not on 127.0.0.1 are dropped before they are applied, and every
UDP datagram to another address is dropped by a guard on asyncio's datagram transport.

The JSON result has the keys of pion_caller's where they make sense. Exit 0 when the call was
set up and media ran (no thresholds judged), 1 otherwise.
"""

import os
import sys

try:
    import aiortc  # noqa: F401
except ImportError:  # Debian's python3-aiortc lives in /usr/bin/python3's dist-packages only
    if os.path.exists("/usr/bin/python3") and not os.environ.get("WABRIDGE_PEERS_REEXEC"):
        os.environ["WABRIDGE_PEERS_REEXEC"] = "1"
        os.execv("/usr/bin/python3", ["/usr/bin/python3", os.path.abspath(__file__)] + sys.argv[1:])
    sys.exit("aiortc_caller: aiortc is missing; apt-get install -y python3-aiortc")

import argparse
import asyncio
import collections
import fractions
import ipaddress
import json
import logging
import math
import re
import struct
import time
import urllib.error
import urllib.parse
import urllib.request

from av import AudioFrame
from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from aiortc.contrib.media import MediaPlayer, MediaRecorder
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.rtp import RtpPacket, is_rtcp

LOOPBACK = "127.0.0.1"  # the bridge's HTTP API
MEDIA_IP = {"address": LOOPBACK}  # where ICE runs: 127.0.0.1, or ::1 with --ipv6
WA_OPUS_FMTP = ("maxaveragebitrate=20000;maxplaybackrate=16000;minptime=20;"
                "sprop-maxcapturerate=16000;useinbandfec=1")
log = logging.getLogger("aiortc_caller")

# --- network rule: loopback only ---------------------------------------------------------------

from loopback_guard import drops as non_loopback_drops, restrict_to_loopback  # noqa: E402


def loopback_candidates_only(sdp):
    kept, dropped, out = [], [], []
    for line in sdp.replace("\r\n", "\n").split("\n"):
        if line.startswith("a=candidate:"):
            f = line[len("a=candidate:"):].split()
            if len(f) < 8 or f[2].lower() != "udp" or f[4] != MEDIA_IP["address"]:
                dropped.append(line)
                continue
            kept.append(line)
        out.append(line)
    return "\r\n".join(out).rstrip("\r\n") + "\r\n", kept, dropped


# --- offer shaping ------------------------------------------------------------------------------


def shape_offer(sdp, opus_pt, keep_extmaps=False):
    """Make aiortc's offer's media line look like WhatsApp's.

    Renames aiortc's dynamic Opus PT to opus_pt, sets WhatsApp's Opus fmtp, adds a=ptime:20 and
    a=maxptime:20, and drops the a=extmap lines (live WhatsApp offers have none; without them in
    the offer, the answer has none and aiortc sends no header extensions). aiortc takes the
    payload type and extensions from the answer (find_common_codecs), so this stays consistent
    with what it sends and accepts. ICE credentials, fingerprints, SSRC and candidates are
    untouched."""
    lines = [l for l in sdp.replace("\r\n", "\n").split("\n") if l]
    old_pt = None
    for l in lines:
        m = re.match(r"^a=rtpmap:(\d+) opus/48000/2$", l, re.I)
        if m:
            old_pt = m.group(1)
    if old_pt is None:
        raise ValueError("aiortc's offer has no opus/48000/2")
    notes = []
    if old_pt != str(opus_pt):
        notes.append("Opus PT %s -> %d" % (old_pt, opus_pt))
    fmtp = "a=fmtp:%d %s" % (opus_pt, WA_OPUS_FMTP)
    out = []
    for l in lines:
        if l.startswith("m=audio "):
            f = l.split()
            l = " ".join(f[:3] + [str(opus_pt) if x == old_pt else x for x in f[3:]])
        elif l.startswith("a=extmap:") and not keep_extmaps:
            notes.append("removed " + l)
            continue
        elif l.startswith("a=fmtp:%s " % old_pt):
            if l.split(" ", 1)[1] != WA_OPUS_FMTP:
                notes.append("Opus fmtp %r -> WhatsApp's" % l.split(" ", 1)[1])
            continue  # written after the rtpmap line below
        elif l.startswith("a=rtcp-fb:%s " % old_pt):
            l = "a=rtcp-fb:%d %s" % (opus_pt, l.split(" ", 1)[1])
        elif l.startswith("a=rtpmap:%s " % old_pt):
            out += ["a=rtpmap:%d %s" % (opus_pt, l.split(" ", 1)[1]), fmtp]
            if not any(x.startswith("a=fmtp:%s " % old_pt) for x in lines):
                notes.append("added WhatsApp's Opus fmtp")
            continue
        out.append(l)
    idx = max(i for i, l in enumerate(out) if l.startswith(("a=rtpmap:", "a=fmtp:", "a=rtcp-fb:"))) + 1
    extra = [x for x in ("a=maxptime:20", "a=ptime:20") if x not in out]
    out[idx:idx] = extra
    notes += ["added " + x for x in extra]
    return "\r\n".join(out) + "\r\n", notes


def check_offer_candidates(sdp):
    cands = [l for l in sdp.split("\r\n") if l.startswith("a=candidate:")]
    if not cands:
        raise ValueError("no ICE candidate was gathered on " + MEDIA_IP["address"])
    for l in cands:
        f = l.split()
        if len(f) < 8 or f[4] != MEDIA_IP["address"]:
            raise ValueError("candidate not on %s: %s" % (MEDIA_IP["address"], l))
    return cands


# --- media --------------------------------------------------------------------------------------


class ToneTrack(MediaStreamTrack):
    """440 Hz mono tone, 20 ms frames at 48 kHz, paced in real time; pauses when disabled."""

    kind = "audio"

    def __init__(self, freq=440.0, amplitude=8000):
        super().__init__()
        self.freq = freq
        self.amplitude = amplitude
        self.start = None
        self.pts = 0
        self.enabled = asyncio.Event()
        self.enabled.set()

    async def recv(self):
        if self.readyState != "live":
            raise MediaStreamError
        await self.enabled.wait()
        if self.start is None:
            self.start = time.monotonic()
            self.pts = 0
        else:
            self.pts += 960
            delay = self.start + self.pts / 48000 - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -0.2:  # resumed after a pause: restart the clock
                self.start = time.monotonic() - self.pts / 48000
        w = 2 * math.pi * self.freq / 48000
        samples = [int(self.amplitude * math.sin(w * (self.pts + i))) for i in range(960)]
        frame = AudioFrame(format="s16", layout="mono", samples=960)
        frame.planes[0].update(struct.pack("<960h", *samples))
        frame.pts = self.pts
        frame.sample_rate = 48000
        frame.time_base = fractions.Fraction(1, 48000)
        return frame


class StreamCheck:
    """Echo matching and returned-stream continuity checks."""

    def __init__(self, opus_pt):
        self.opus_pt = opus_pt
        self.sent = 0
        self.sent_payloads = collections.defaultdict(collections.deque)  # payload -> send times
        self.media_start = None
        self.echoed = 0
        self.latencies = []
        self.first_echo = None
        self.received = 0
        self.non_echo = 0
        self.ssrcs = []
        self.pts = []
        self.prev = None  # (ssrc, seq, ts)
        self.pairs = 0
        self.seq_gaps = 0
        self.seq_reorders = 0
        self.ts_bad = 0

    def on_sent(self, packet):
        if packet.payload_type != self.opus_pt:
            return
        now = time.monotonic()
        if self.media_start is None:
            self.media_start = now
        self.sent += 1
        self.sent_payloads[bytes(packet.payload)].append(now)

    def on_received(self, packet):
        now = time.monotonic()
        self.received += 1
        if packet.ssrc not in self.ssrcs:
            self.ssrcs.append(packet.ssrc)
        if packet.payload_type not in self.pts:
            self.pts.append(packet.payload_type)
        if packet.payload_type == self.opus_pt:
            advance = True
            if self.prev is not None and self.prev[0] == packet.ssrc:
                self.pairs += 1
                d = (packet.sequence_number - self.prev[1]) & 0xFFFF
                dts = (packet.timestamp - self.prev[2]) & 0xFFFFFFFF
                if d == 1:
                    if dts != 960:
                        self.ts_bad += 1
                elif d == 0 or d >= 0x8000:
                    self.seq_reorders += 1
                    advance = False
                else:
                    self.seq_gaps += 1
                    if dts != (960 * d) & 0xFFFFFFFF:
                        self.ts_bad += 1
            if advance:
                self.prev = (packet.ssrc, packet.sequence_number, packet.timestamp)
        q = self.sent_payloads.get(bytes(packet.payload))
        if q:
            sent_at = q.popleft()
            self.echoed += 1
            self.latencies.append((now - sent_at) * 1000)
            if self.first_echo is None and self.media_start is not None:
                self.first_echo = (now - self.media_start) * 1000
        else:
            self.non_echo += 1

    def fill(self, res):
        res["packets_sent"] = self.sent
        res["packets_echoed"] = self.echoed
        res["echo_ratio"] = round(self.echoed / self.sent, 4) if self.sent else 0
        res["packets_received"] = self.received
        res["received_ratio"] = round(self.received / self.sent, 4) if self.sent else 0
        res["non_echo_packets"] = self.non_echo
        res["first_echo_ms"] = None if self.first_echo is None else round(self.first_echo, 3)
        lat = sorted(self.latencies)
        res["echo_latency_p50_ms"] = round(lat[len(lat) // 2], 3) if lat else None
        res["echo_latency_p95_ms"] = round(lat[min(len(lat) - 1, len(lat) * 95 // 100)], 3) if lat else None
        res["returned_ssrcs"] = list(self.ssrcs)
        res["returned_payload_types"] = list(self.pts)
        constant = self.received > 0 and len(self.ssrcs) == 1
        audio = self.received > 1 and self.pairs > 0 and constant
        res["returned_ssrc_constant"] = constant
        res["returned_seq_contiguous"] = audio and self.seq_gaps == 0 and self.seq_reorders == 0
        res["returned_ts_step_960"] = audio and self.ts_bad == 0
        res["seq_gaps"] = self.seq_gaps
        res["seq_reorders_or_duplicates"] = self.seq_reorders
        res["ts_bad_steps"] = self.ts_bad


# --- HTTP ---------------------------------------------------------------------------------------


def http(method, url, token, body=None, timeout=15):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    # No proxies: a proxy from the environment would take the request off loopback.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def check_loopback_url(url):
    u = urllib.parse.urlsplit(url)
    if u.scheme != "http":
        raise ValueError("--url must be http://")
    try:
        ok = ipaddress.ip_address(u.hostname or "") == ipaddress.ip_address(LOOPBACK)
    except ValueError:
        ok = False
    if not ok:
        raise ValueError("--url host must be 127.0.0.1, got %r" % u.hostname)
    return url.rstrip("/")


# --- the call -----------------------------------------------------------------------------------


async def run(args, res):
    base = check_loopback_url(args.url)
    restrict_to_loopback(MEDIA_IP["address"])

    if not args.raw_offer:
        import aiortc.rtcpeerconnection as rpc

        original_allocate = rpc.allocate_mid

        def allocate_mid(mids):
            return args.mid if args.mid not in mids else original_allocate(mids)

        rpc.allocate_mid = allocate_mid
    res["mid"] = args.mid if not args.raw_offer else None

    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))  # no STUN/TURN
    loop = asyncio.get_running_loop()
    session_url = base + "/sessions/" + urllib.parse.quote(args.call_id, safe="")
    deleted = False
    recorder = None
    try:
        if args.play:
            if not os.path.isfile(args.play):
                raise RuntimeError("--play: no such file: %s" % args.play)
            player = MediaPlayer(args.play)
            if player.audio is None:
                raise RuntimeError("--play: no audio in %s" % args.play)
            source = player.audio
            res["play_file"] = args.play
        else:
            source = tone = ToneTrack()
        if args.record:
            recorder = MediaRecorder(args.record)
            res["record_file"] = args.record
        transceiver = pc.addTransceiver(source, direction="sendrecv")
        if not args.raw_offer:
            caps = RTCRtpSender.getCapabilities("audio")
            transceiver.setCodecPreferences([c for c in caps.codecs if c.mimeType.lower() == "audio/opus"])

        t0 = None
        events = {"ice": None, "dtls": None}
        connected = asyncio.Event()
        failed = asyncio.Event()

        @pc.on("iceconnectionstatechange")
        def _ice():
            log.info("ice %s", pc.iceConnectionState)
            if pc.iceConnectionState in ("completed", "connected") and events["ice"] is None and t0:
                events["ice"] = time.monotonic() - t0
            if pc.iceConnectionState == "failed":
                failed.set()

        @pc.on("connectionstatechange")
        async def _conn():
            log.info("connection %s", pc.connectionState)
            if pc.connectionState == "connected" and events["dtls"] is None and t0:
                events["dtls"] = time.monotonic() - t0
                connected.set()
            if pc.connectionState == "failed":
                failed.set()

        @pc.on("track")
        def _track(track):
            if recorder is not None and track.kind == "audio":
                recorder.addTrack(track)
                asyncio.ensure_future(recorder.start())
                return

            async def drain():
                try:
                    while True:
                        await track.recv()
                except MediaStreamError:
                    pass
            asyncio.ensure_future(drain())

        offer = await pc.createOffer()
        await pc.setLocalDescription(offer)  # gathers all candidates (no trickle)
        offer_sdp = pc.localDescription.sdp
        notes = []
        if not args.raw_offer:
            offer_sdp, notes = shape_offer(offer_sdp, args.opus_pt, args.keep_extmaps)
        res["offer_munging"] = notes
        check_offer_candidates(offer_sdp)
        if args.offer_out:
            with open(args.offer_out, "w") as f:
                f.write(offer_sdp)

        # The negotiated Opus PT is the one we offered (the answer mirrors it).
        m = re.search(r"^a=rtpmap:(\d+) opus/48000/2", offer_sdp, re.M | re.I)
        check = StreamCheck(int(m.group(1)))

        ice = transceiver.sender.transport.transport  # RTCIceTransport
        dtls = transceiver.sender.transport  # RTCDtlsTransport
        original_send = dtls._send_rtp

        async def send_hook(data):
            if not is_rtcp(data):
                try:
                    check.on_sent(RtpPacket.parse(data))
                except ValueError:
                    pass
            await original_send(data)

        dtls._send_rtp = send_hook
        receiver = transceiver.receiver
        original_handle = receiver._handle_rtp_packet

        async def recv_hook(packet, arrival_time_ms):
            check.on_received(packet)
            await original_handle(packet, arrival_time_ms)

        receiver._handle_rtp_packet = recv_hook

        # Signalling. (The role is read before the POST: a controlling bridge may start checks,
        # and win a role conflict, before its answer arrives.)
        res["ice_role_initial"] = ice.role
        t0 = time.monotonic()
        status, body = await loop.run_in_executor(
            None, http, "POST", session_url + "/webrtc", args.token, {"sdpOffer": offer_sdp})
        res["http_status"] = status
        try:
            answer = json.loads(body)
        except ValueError:
            raise RuntimeError("POST answered %d with non-JSON body %r" % (status, body[:200]))
        if status != 200 or not answer.get("success") or not answer.get("sdpAnswer"):
            raise RuntimeError("POST answered %d: %s" % (status, body.decode(errors="replace").strip()))
        answer_sdp = answer["sdpAnswer"]
        if args.answer_out:
            with open(args.answer_out, "w") as f:
                f.write(answer_sdp)
        answer_sdp, kept, dropped = loopback_candidates_only(answer_sdp)
        res["answer_candidates"], res["answer_candidates_dropped"] = kept, dropped
        m = re.search(r"^a=setup:(\S+)", answer_sdp, re.M)
        res["answer_setup"] = m.group(1) if m else None
        await pc.setRemoteDescription(RTCSessionDescription(sdp=answer_sdp, type="answer"))

        # Wait for ICE + DTLS.
        done, _ = await asyncio.wait(
            [asyncio.ensure_future(connected.wait()), asyncio.ensure_future(failed.wait())],
            timeout=args.connect_timeout, return_when=asyncio.FIRST_COMPLETED)
        res["ice_connected_ms"] = None if events["ice"] is None else round(events["ice"] * 1000, 3)
        res["dtls_connected_ms"] = None if events["dtls"] is None else round(events["dtls"] * 1000, 3)
        conn = ice._connection
        res["ice_role"] = ice.role
        res["remote_nominated"] = any(getattr(p, "remote_nominated", False) for p in conn._check_list)
        res["selected_pair"] = ", ".join(
            "%s:%d <-> %s:%d" % (p.local_candidate.host, p.local_candidate.port,
                                 p.remote_addr[0], p.remote_addr[1]) for p in conn._nominated.values())
        if not connected.is_set():
            raise RuntimeError("not connected after %.1f s (ICE %s, connection %s)" % (
                args.connect_timeout, pc.iceConnectionState, pc.connectionState))

        # Media: aiortc started sending when DTLS came up; let it run for --seconds (or, with
        # --play, until the file ends).
        media_start = time.monotonic()
        if args.play:
            while source.readyState == "live" and time.monotonic() - media_start < args.seconds:
                await asyncio.sleep(0.02)
            source.stop()
            res["play_seconds"] = round(time.monotonic() - media_start, 3)
        else:
            await asyncio.sleep(args.seconds)
            tone.enabled.clear()
        await asyncio.sleep(args.grace)
        check.fill(res)
        if pc.connectionState != "connected":
            raise RuntimeError("connection %s during media" % pc.connectionState)
    finally:
        if recorder is not None:
            try:
                await recorder.stop()
            except Exception as exc:  # noqa: BLE001
                log.warning("recorder stop failed: %s", exc)
        if not args.no_delete:
            try:
                status, _ = await loop.run_in_executor(None, http, "DELETE", session_url, args.token, None)
                res["delete_status"] = status
                deleted = True
            except Exception as exc:  # noqa: BLE001
                log.warning("DELETE failed: %s", exc)
        await pc.close()
        res["non_loopback_drops"] = non_loopback_drops()
    return deleted


def main():
    ap = argparse.ArgumentParser(description="full-ICE aiortc caller for wabridge (127.0.0.1 only)")
    ap.add_argument("--url", default="http://127.0.0.1:8080")
    ap.add_argument("--call-id", required=True)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--out", help="JSON result file (default stdout)")
    ap.add_argument("--token", default="")
    ap.add_argument("--connect-timeout", type=float, default=15)
    ap.add_argument("--grace", type=float, default=1.5, help="wait for echoes after the last packet")
    ap.add_argument("--mid", default="audio", help="mid to offer (ignored with --raw-offer)")
    ap.add_argument("--opus-pt", type=int, default=111, help="Opus PT to offer (ignored with --raw-offer)")
    ap.add_argument("--raw-offer", action="store_true", help="send aiortc's offer unmodified")
    ap.add_argument("--keep-extmaps", action="store_true", help="keep aiortc's a=extmap lines (mid, audio level)")
    ap.add_argument("--offer-out")
    ap.add_argument("--answer-out")
    ap.add_argument("--no-delete", action="store_true")
    ap.add_argument("--play", help="send this audio file (WAV or anything FFmpeg reads) instead of the tone")
    ap.add_argument("--record", help="write the decoded received audio to this WAV file")
    ap.add_argument("--ipv6", action="store_true", help="ICE on ::1 instead of 127.0.0.1 (the API stays on 127.0.0.1)")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    if args.ipv6:
        MEDIA_IP["address"] = "::1"
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")

    res = {"ok": False, "ice_connected_ms": None, "dtls_connected_ms": None, "ice_role": None,
           "ice_role_initial": None, "remote_nominated": False, "packets_sent": 0, "packets_echoed": 0,
           "echo_ratio": 0, "returned_ssrc_constant": False, "returned_seq_contiguous": False,
           "returned_ts_step_960": False, "error": ""}
    code = 0
    try:
        asyncio.run(run(args, res))
        res["ok"] = True
    except Exception as exc:  # noqa: BLE001
        res["error"] = "%s: %s" % (type(exc).__name__, exc) if not str(exc) else str(exc)
        code = 1
    text = json.dumps(res, indent=2) + "\n"
    if args.out:
        tmp = args.out + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, args.out)
    else:
        sys.stdout.write(text)
    if code:
        print("aiortc_caller: " + res["error"], file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
