"""lark-oapi as the adapter uses it, without the package-wide import.

`lark_oapi/__init__.py` imports every API the SDK has (`from .api import *`: 10,624 modules, about 174 MB
and 2.8 s of CPU), and Python runs a package's `__init__` before any module inside it, so even
`from lark_oapi.core.enum import HttpMethod` pays for all of it. The adapter needs a few pieces: the core
(`HttpMethod`, `AccessTokenType`, `BaseRequest`, `JSON`, `AESCipher`, the user agent), the card callback's
response and, for the long connection, `ws.Client` with its `EventDispatcherHandler` (which imports one
event processor module per API, and those import only their event models).

So the `__init__` of `lark_oapi` and of every package under `lark_oapi.api` runs when the package itself
is asked for a name it does not have yet, not when a module inside it is imported (`_Finder` below, the
same idea as `importlib.util.LazyLoader`, which cannot serve here: it runs a package's `__init__` as soon
as the import system reads its `__path__` to find a submodule). Nothing of lark-oapi's is copied or
rewritten: every name below is lark-oapi's own, imported from the module that defines it. Anyone asking
`lark_oapi` or an API package for more still gets it, after its `__init__` runs. The core, event, ws and
card packages load as usual (their `__init__`s are small, and `lark_oapi.core` relies on its own order).

Measured (resource.getrusage, one interpreter each): the HTTP callback's pieces 33 modules, +12 MB; with
the long connection's 535 modules, +41 MB; `import lark_oapi` 10,624 modules, +165 MB.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import threading
import types
from collections.abc import Sequence
from typing import Any


class _LazyPackage(types.ModuleType):
    """A package whose `__init__` runs on the first name asked of it that it does not have."""

    _deferred_init: importlib.abc.Loader | None
    _deferred_lock: threading.RLock

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._deferred_lock = threading.RLock()
        self._deferred_init = None  # set once the import system has filled in __path__ and __spec__

    def __getattr__(self, name: str) -> Any:
        # Called only for names not in the module's dict (https://peps.python.org/pep-0562/).
        with self._deferred_lock:  # another thread asking meanwhile waits for the whole `__init__`
            init, self._deferred_init = self._deferred_init, None
            if init is None:  # ran already, or is running on this thread (its own `from . import x`)
                raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
            init.exec_module(self)
        return getattr(self, name)


class _DeferredInit(importlib.abc.Loader):
    def __init__(self, loader: importlib.abc.Loader) -> None:
        self.loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        return _LazyPackage(spec.name)

    def exec_module(self, module: types.ModuleType) -> None:
        assert isinstance(module, _LazyPackage)
        module._deferred_init = self.loader


def _deferred(name: str) -> bool:
    return name in ("lark_oapi", "lark_oapi.api") or name.startswith("lark_oapi.api.")


class _Finder(importlib.abc.MetaPathFinder):
    """Finds `lark_oapi` and the packages under `lark_oapi.api` as the path finder does, with their
    `__init__` deferred; every other module is left to the usual finders."""

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: types.ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if not _deferred(fullname):
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None or spec.submodule_search_locations is None:
            return spec  # a plain module: loaded as usual
        spec.loader = _DeferredInit(spec.loader)
        return spec


# Before the imports below; a process that imported lark_oapi already keeps it as it is.
if not any(isinstance(finder, _Finder) for finder in sys.meta_path):
    sys.meta_path.insert(0, _Finder())

from lark_oapi.core.enum import AccessTokenType, HttpMethod, LogLevel  # noqa: E402
from lark_oapi.core.json import JSON  # noqa: E402
from lark_oapi.core.model.base_request import BaseRequest  # noqa: E402
from lark_oapi.core.utils.decryptor import AESCipher  # noqa: E402
from lark_oapi.core.utils.user_agent import build_user_agent  # noqa: E402
from lark_oapi.event.callback.model.p2_card_action_trigger import P2CardActionTriggerResponse  # noqa: E402

__all__ = ["JSON", "AESCipher", "AccessTokenType", "BaseRequest", "HttpMethod", "LogLevel",
           "P2CardActionTriggerResponse", "build_user_agent"]
