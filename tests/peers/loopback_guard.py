"""The network rule for the Python peers: ICE on 127.0.0.1 only, and no UDP datagram to any
other address (such a datagram is dropped and counted instead of sent)."""
import logging

LOOPBACK = "127.0.0.1"
_drops = 0
_log = logging.getLogger("loopback_guard")


def drops():
    """How many datagrams to non-loopback addresses were dropped."""
    return _drops


def restrict_to_loopback():
    """ICE host candidates on 127.0.0.1 only; drop any UDP datagram to another address."""
    import aioice.ice

    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: [LOOPBACK] if use_ipv4 else []

    from asyncio import selector_events

    transport_cls = selector_events._SelectorDatagramTransport
    if getattr(transport_cls, "_wabridge_guarded", False):
        return
    original_sendto = transport_cls.sendto

    def guarded_sendto(self, data, addr=None):
        global _drops
        dest = addr if addr is not None else getattr(self, "_address", None)
        if dest is not None and dest[0] != LOOPBACK:
            _drops += 1
            _log.error("dropped a datagram to non-loopback %s", dest)
            return
        return original_sendto(self, data, addr)

    transport_cls.sendto = guarded_sendto
    transport_cls._wabridge_guarded = True
