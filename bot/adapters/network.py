"""Why a platform could not be reached, in a few plain words (shared by the adapters' doctors)."""

from __future__ import annotations

import socket
import ssl


def _causes(exc: BaseException) -> list[BaseException]:
    """The exception and what it wraps: __cause__/__context__, URLError.reason, requests' nested args."""
    seen: list[BaseException] = []
    todo: list[BaseException] = [exc]
    while todo and len(seen) < 20:
        e = todo.pop(0)
        if any(e is s for s in seen):
            continue
        seen.append(e)
        reason = getattr(e, "reason", None)
        todo += [x for x in (e.__cause__, e.__context__, reason, *e.args) if isinstance(x, BaseException)]
    return seen


def network_reason(exc: BaseException) -> str | None:
    """'connection refused', 'name not found', 'timed out', 'TLS failed' … or None when `exc` is no
    network failure (so the caller reports it as something else)."""
    chain = _causes(exc)
    for e in chain:
        if isinstance(e, ConnectionRefusedError):
            return "connection refused: nothing is listening there"
        if isinstance(e, socket.gaierror):
            return "host name not found (DNS)"
        if isinstance(e, TimeoutError | socket.timeout):
            return "timed out"
        if isinstance(e, ssl.SSLError):
            return f"TLS failed ({e.reason or e})"
        if isinstance(e, ConnectionResetError):
            return "connection reset"
    text = " ".join(str(e) for e in chain)
    for needle, reason in (("Connection refused", "connection refused: nothing is listening there"),
                           ("Name or service not known", "host name not found (DNS)"),
                           ("Temporary failure in name resolution", "host name not found (DNS)"),
                           ("timed out", "timed out")):
        if needle in text:
            return reason
    if any(isinstance(e, OSError) for e in chain):
        return next(str(e) for e in chain if isinstance(e, OSError)) or type(exc).__name__
    return None
