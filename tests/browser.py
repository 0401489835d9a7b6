"""A small client of headless Chromium's DevTools protocol over --remote-debugging-pipe (no
package, no network port): open a page at a viewport, evaluate JavaScript, take screenshots,
print to PDF, and collect console errors and every request the page makes.

The protocol: JSON messages ended by a NUL byte, read by Chromium from file descriptor 3 and
written to 4 (chromedevtools.github.io/devtools-protocol).
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from typing import Any

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "chrome")
TIMEOUT_S = 60.0  # a cold start on a busy 2-core machine takes seconds, not a minute


def find_chromium() -> str | None:
    """The Chromium (or Chrome) binary on PATH, or None."""
    return next((path for name in CANDIDATES if (path := shutil.which(name))), None)


@dataclass
class PageLog:
    """What a page did: console errors and uncaught exceptions, and every URL it requested."""

    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


class Chromium:
    """One headless Chromium with one page; use as a context manager."""

    def __init__(self, binary: str) -> None:
        self._profile = tempfile.TemporaryDirectory(prefix="kbtool-chromium-")
        to_browser, self._commands = os.pipe()
        self._replies, from_browser = os.pipe()

        def pipes_at_3_and_4() -> None:  # in the child, before exec
            # out of the way of 3 and 4 first; dup2's copies are inherited, the rest (Python
            # opens files close-on-exec) close at exec
            high_in = fcntl.fcntl(to_browser, fcntl.F_DUPFD_CLOEXEC, 10)
            high_out = fcntl.fcntl(from_browser, fcntl.F_DUPFD_CLOEXEC, 10)
            os.dup2(high_in, 3)
            os.dup2(high_out, 4)

        arguments = [
            binary,
            "--headless",
            "--remote-debugging-pipe",
            f"--user-data-dir={self._profile.name}",
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            # a request that does leave the page finds no host: it is logged, never sent
            "--host-resolver-rules=MAP * ~NOTFOUND",
            *(["--no-sandbox"] if os.geteuid() == 0 else []),  # root cannot use the sandbox
            "about:blank",
        ]
        self._process = subprocess.Popen(
            arguments,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            close_fds=False,  # 3 and 4 must survive; everything else is close-on-exec
            preexec_fn=pipes_at_3_and_4,
        )
        os.close(to_browser)
        os.close(from_browser)
        self._buffer = b""
        self._next_id = 0
        self._events: list[dict[str, Any]] = []
        self.log = PageLog()
        target = self._call("Target.createTarget", {"url": "about:blank"})["targetId"]
        attached = self._call("Target.attachToTarget", {"targetId": target, "flatten": True})
        self._session = attached["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable")

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        try:
            self._call("Browser.close")
        except (OSError, TimeoutError, RuntimeError):
            self._process.kill()
        self._process.wait(timeout=TIMEOUT_S)
        os.close(self._commands)
        os.close(self._replies)
        self._profile.cleanup()

    # --- the protocol

    def _send(self, method: str, params: dict[str, Any] | None, session: str | None) -> int:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        return self._next_id

    def _receive(self) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._replies], [], [], TIMEOUT_S)
            if not ready:
                raise TimeoutError("Chromium did not answer")
            chunk = os.read(self._replies, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed its pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        parsed: dict[str, Any] = json.loads(message)
        return parsed

    def _call(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None
    ) -> dict[str, Any]:
        number = self._send(method, params, session)
        while True:
            message = self._receive()
            if message.get("id") == number:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result
            self._note(message)

    def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """A command to the page."""
        return self._call(method, params, self._session)

    def _note(self, event: dict[str, Any]) -> None:
        method, params = event.get("method"), event.get("params", {})
        self._events.append(event)
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            self.log.errors.append(" ".join(str(a.get("value")) for a in params.get("args", [])))
        elif method == "Runtime.exceptionThrown":
            self.log.errors.append(str(params.get("exceptionDetails", {}).get("text")))
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            self.log.errors.append(str(params["entry"].get("text")))
        elif method == "Network.requestWillBeSent":
            self.log.requests.append(str(params.get("request", {}).get("url")))

    def _wait_for(self, method: str) -> None:
        while not any(e.get("method") == method for e in self._events):
            self._note(self._receive())
        self._events.clear()

    # --- what the tests do

    def open(self, url: str, width: int, height: int, *, mobile: bool) -> None:
        """Load `url` in a viewport of `width` x `height` CSS pixels (a phone's when
        `mobile`: the page's viewport meta applies, touch on)."""
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile},
        )
        self.call("Emulation.setTouchEmulationEnabled", {"enabled": mobile})
        self._events.clear()
        self.call("Page.navigate", {"url": url})
        self._wait_for("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (JSON-able)."""
        reply = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in reply:
            raise RuntimeError(f"{expression}: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    def screenshot(self, clip: dict[str, float] | None = None) -> bytes:
        """A PNG of the viewport, or of `clip` (x, y, width, height in page pixels)."""
        params: dict[str, Any] = {"format": "png"}
        if clip is not None:
            params.update(clip={**clip, "scale": 1}, captureBeyondViewport=True)
        return base64.b64decode(self.call("Page.captureScreenshot", params)["data"])

    def pdf(self) -> bytes:
        """The page printed to PDF as its print CSS asks (A4)."""
        params = {"printBackground": True, "preferCSSPageSize": True}
        return base64.b64decode(self.call("Page.printToPDF", params)["data"])
