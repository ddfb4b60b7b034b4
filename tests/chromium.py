"""One headless Chromium tab driven over the DevTools protocol, shared by the tests that open
our pages and outputs in a real browser (HTML event pages, the gallery, Phoenix, SVG, axe-core).

WebGL runs through SwiftShader. The flags are those that keep Chromium off the network: this
machine's network is closed and Chromium's background services would try to reach Google."""

from __future__ import annotations

import base64
import io
import json
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--remote-debugging-port=0",
]


class Browser:
    """One headless Chromium with one tab, spoken to over its DevTools websocket."""

    def __init__(self, profile: Path, width: int = 800, height: int = 600) -> None:
        if not Path(CHROMIUM).exists():
            pytest.fail(f"{CHROMIUM} not found: apt-get install chromium (.ci/run does)")
        import websocket

        size = f"--window-size={width},{height}"
        self.proc = subprocess.Popen(
            [CHROMIUM, *FLAGS, size, f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stderr is not None
        url = None
        deadline = time.monotonic() + 30
        while url is None and time.monotonic() < deadline:
            line = self.proc.stderr.readline()
            if not line and self.proc.poll() is not None:
                break
            found = re.search(r"DevTools listening on (ws://\S+)", line)
            url = found.group(1) if found else None
        assert url, "chromium did not open its DevTools port"
        # Chromium refuses websocket clients that send an Origin it was not told to allow.
        self.ws = websocket.create_connection(url, timeout=60, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict[str, Any]] = []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        for domain in ("Runtime", "Log", "Page", "Network"):
            self.call(f"{domain}.enable", session=True)
        # A new tab's viewport is the window less the browser's frame: fix it.
        self.call(
            "Emulation.setDeviceMetricsOverride",
            session=True,
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )

    def call(self, method: str, session: bool = False, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        self.ws.send(json.dumps(message))
        while True:
            reply = json.loads(self.ws.recv())
            if reply.get("id") == self.next_id:
                assert "error" not in reply, reply["error"]
                return dict(reply["result"])
            self.events.append(reply)  # console messages, exceptions, page events

    def navigate(self, url: str | Path) -> None:
        """Start loading ``url`` (a path or URL) with a clean record of events."""
        self.events.clear()
        target = url.as_uri() if isinstance(url, Path) else url
        self.call("Page.navigate", session=True, url=target)

    def open(self, url: str | Path, timeout: float = 20) -> None:
        """Load ``url`` and wait until the document says it is complete."""
        self.navigate(url)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.js("document.readyState") == "complete":
                return
            time.sleep(0.1)
        pytest.fail(f"{url} did not finish loading")

    def js(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (promises are awaited)."""
        reply = self.call(
            "Runtime.evaluate",
            session=True,
            expression=expression,
            returnByValue=True,
            awaitPromise=True,
        )
        assert "exceptionDetails" not in reply, json.dumps(reply["exceptionDetails"])[:2000]
        return reply["result"].get("value")

    def errors(self) -> list[str]:
        """Uncaught exceptions, console errors and failed loads since the last navigation."""
        found = []
        for event in self.events:
            params = event.get("params", {})
            method = event.get("method")
            if method == "Runtime.exceptionThrown":
                found.append(json.dumps(params["exceptionDetails"])[:300])
            elif method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
                found.append(" ".join(str(a.get("value")) for a in params["args"]))
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                found.append(params["entry"]["text"])
        return found

    def console(self, kind: str = "warning") -> list[str]:
        """Console messages of one kind (``warning``, ``log``...) since the last navigation."""
        return [
            " ".join(str(a.get("value", a.get("description"))) for a in e["params"]["args"])
            for e in self.events
            if e.get("method") == "Runtime.consoleAPICalled" and e["params"]["type"] == kind
        ]

    def requests(self) -> list[str]:
        """The URLs the page asked for since the last navigation."""
        return [
            e["params"]["request"]["url"]
            for e in self.events
            if e.get("method") == "Network.requestWillBeSent"
        ]

    def screenshot(self, path: Path | None = None) -> np.ndarray:
        """The viewport as RGB pixels, also written to ``path`` for a person to look at."""
        from PIL import Image

        data = base64.b64decode(
            self.call("Page.captureScreenshot", session=True, format="png")["data"]
        )
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))

    def close(self) -> None:
        try:
            self.ws.close()
        finally:
            self.proc.kill()
            self.proc.wait()


def axe_violations(browser: Browser, axe_script: str) -> list[str]:
    """The axe-core rules that the page in ``browser`` breaks, one line per rule with the first
    elements that break it ([] when it passes every rule). ``axe_script`` is axe.min.js."""
    browser.js(axe_script + ";0")
    found = browser.js(
        """axe.run(document, {resultTypes: ['violations']}).then(r => r.violations.map(
             v => v.id + ' (' + v.impact + '): ' +
                  v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')))"""
    )
    return list(found)
