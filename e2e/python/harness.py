"""A tiny check runner for the Python-client suites (no pytest needed: the machines are offline).

Each check is a function registered with @check("name"); run() calls them in order and prints one result line
per check, which the jest spec (e2e/test/python-client.e2e-spec.ts) reads:

    CHECK <name> ok
    CHECK <name> FAIL <ExceptionClass>: <message on one line>

The process exits 0 only when every check passed. Checks run in order and may rely on what earlier ones did
(an index created by one is used by the next), as a user's script would.
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from typing import Callable, TypeVar

T = TypeVar("T")

_checks: list[tuple[str, Callable[[], None]]] = []


def check(name: str) -> Callable[[Callable[[], None]], Callable[[], None]]:
    def register(fn: Callable[[], None]) -> Callable[[], None]:
        if any(existing == name for existing, _ in _checks):
            raise ValueError(f"duplicate check name {name!r}")
        _checks.append((name, fn))
        return fn

    return register


def env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"{name} is not set (the jest spec passes it)")
    return value


def expect_raises(exception: type[BaseException], fn: Callable[[], object], status: int | None = None) -> BaseException:
    """Calls fn and returns the exception it raised; fails unless it is an instance of `exception` (with `status`)."""
    try:
        result = fn()
    except exception as error:
        if status is not None and getattr(error, "status_code", None) != status:
            raise AssertionError(f"expected status {status}, got {getattr(error, 'status_code', None)}: {error}") from error
        return error
    except Exception as error:  # noqa: BLE001 - the wrong class is the failure being reported
        raise AssertionError(f"expected {exception.__name__}, got {type(error).__name__}: {error}") from error
    raise AssertionError(f"expected {exception.__name__}, got a result: {result!r}")


def eventually(probe: Callable[[], T], accept: Callable[[T], bool], timeout: float = 10.0) -> T:
    """Polls probe() until accept(value) (for effects the API documents as asynchronous, e.g. namespace deletion)."""
    deadline = time.monotonic() + timeout
    value = probe()
    while not accept(value) and time.monotonic() < deadline:
        time.sleep(0.1)
        value = probe()
    return value


def _one_line(text: str) -> str:
    return " ".join(text.split())[:2000]


def run() -> None:
    failed = 0
    for name, fn in _checks:
        started = time.monotonic()
        try:
            fn()
        except Exception as error:  # noqa: BLE001 - every failure becomes a result line
            failed += 1
            print(f"CHECK {name} FAIL {type(error).__name__}: {_one_line(str(error))}", flush=True)
            traceback.print_exc(file=sys.stderr)
        else:
            print(f"CHECK {name} ok", flush=True)
        print(f"# {name}: {(time.monotonic() - started) * 1000:.0f} ms", file=sys.stderr, flush=True)
    sys.exit(1 if failed else 0)
