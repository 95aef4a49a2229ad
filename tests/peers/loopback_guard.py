"""The network rule for the Python peers: ICE on one loopback address only (127.0.0.1, or ::1
for IPv6 tests), and no UDP datagram to any non-loopback address (such a datagram is dropped and
counted instead of sent)."""
import logging

LOOPBACK = "127.0.0.1"
LOOPBACKS = ("127.0.0.1", "::1")
_drops = 0
_log = logging.getLogger("loopback_guard")


def drops():
    """How many datagrams to non-loopback addresses were dropped."""
    return _drops


def restrict_to_loopback(address=LOOPBACK):
    """ICE host candidates on `address` (127.0.0.1 or ::1) only; drop any UDP datagram to a
    non-loopback address."""
    import aioice.ice

    if address not in LOOPBACKS:
        raise ValueError("not a loopback address: %r" % address)
    v6 = ":" in address
    aioice.ice.get_host_addresses = (
        lambda use_ipv4, use_ipv6: [address] if (use_ipv6 if v6 else use_ipv4) else [])

    from asyncio import selector_events

    transport_cls = selector_events._SelectorDatagramTransport
    if getattr(transport_cls, "_wabridge_guarded", False):
        return
    original_sendto = transport_cls.sendto

    def guarded_sendto(self, data, addr=None):
        global _drops
        dest = addr if addr is not None else getattr(self, "_address", None)
        if dest is not None and dest[0] not in LOOPBACKS:
            _drops += 1
            _log.error("dropped a datagram to non-loopback %s", dest)
            return
        return original_sendto(self, data, addr)

    transport_cls.sendto = guarded_sendto
    transport_cls._wabridge_guarded = True
