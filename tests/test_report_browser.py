"""The report in a real browser: headless Chromium (Debian's ``chromium``) with the network off,
driven over the DevTools protocol on a pipe (no client library). Checks: no console errors or
exceptions, every figure decoded, no request left the file, and the page text holds the
headline numbers of summary.csv.

Skips only when no Chromium is installed; ``.ci/run`` installs it and sets
``REPATSIM_REQUIRE_BROWSER=1``, which turns that skip into a failure. Screenshots go to
``$REPATSIM_SCREENSHOTS`` if set (never into the repository), else into pytest's tmp_path.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from simulation.report import write_report
from tests.test_report import fmt, make_compare_folder, make_run_folder

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
TIMEOUT_SECONDS = 60.0
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe", "--no-first-run",
    "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
    "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",  # network off
]  # fmt: skip


def _chromium() -> str:
    found = next((path for name in BROWSERS if (path := shutil.which(name))), None)
    if found is None:
        why = "no chromium installed (apt-get install chromium; .ci/run installs it)"
        if os.environ.get("REPATSIM_REQUIRE_BROWSER"):
            pytest.fail(why + ", and REPATSIM_REQUIRE_BROWSER is set")
        pytest.skip(why)
    return found


class Browser:
    """A headless Chromium spoken to over ``--remote-debugging-pipe`` (fd 3 in, fd 4 out:
    JSON messages ending in NUL)."""

    def __init__(self, executable: str, profile: Path) -> None:
        to_child, self._write = os.pipe()
        self._read, from_child = os.pipe()

        def wire() -> None:  # in the child: its fds 3 and 4 are the pipe ends
            os.dup2(to_child, 3)
            os.dup2(from_child, 4)

        self.process = subprocess.Popen(
            [executable, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            preexec_fn=wire, close_fds=False,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        os.close(to_child)
        os.close(from_child)
        self._buffer, self._id, self.events = b"", 0, []  # type: ignore[var-annotated]

    def send(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        """Call ``method`` and wait for its result; events meanwhile go to ``self.events``."""
        self._id += 1
        message: dict[str, Any] = {"id": self._id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._write, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._next()
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return dict(reply.get("result", {}))
            self.events.append(reply)

    def wait_for(self, method: str) -> dict[str, Any]:
        """The first event ``method`` (already received or still to come)."""
        while True:
            for event in self.events:
                if event.get("method") == method:
                    return event
            self.events.append(self._next())

    def _next(self) -> dict[str, Any]:
        deadline = time.monotonic() + TIMEOUT_SECONDS
        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._read], [], [], max(deadline - time.monotonic(), 0))
            chunk = os.read(self._read, 1 << 20) if ready else b""
            if not chunk:
                raise RuntimeError("chromium did not answer (timed out or exited)")
            self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        return dict(json.loads(message))

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, OSError):
            self.send("Browser.close")
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._read)
        os.close(self._write)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    chromium = Browser(_chromium(), tmp_path_factory.mktemp("chromium-profile"))
    yield chromium
    chromium.close()


def visit(browser: Browser, page: Path, screenshot: Path | None = None) -> dict[str, Any]:
    """Load ``page`` offline in a new tab; what it logged, requested and shows."""
    target = browser.send("Target.createTarget", url="about:blank")["targetId"]
    session = browser.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
    browser.events.clear()
    for domain in ("Page", "Runtime", "Log", "Network"):
        browser.send(f"{domain}.enable", session)
    browser.send("Network.emulateNetworkConditions", session, offline=True, latency=0,
                 downloadThroughput=-1, uploadThroughput=-1)  # fmt: skip
    browser.send("Page.navigate", session, url=page.resolve().as_uri())
    browser.wait_for("Page.loadEventFired")
    shown = browser.send("Runtime.evaluate", session, returnByValue=True, expression="""({
        text: document.body.innerText,
        images: Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.naturalHeight]),
        pwned: typeof window.pwned !== 'undefined',
    })""")["result"]["value"]  # fmt: skip
    if screenshot is not None:
        shot = browser.send("Page.captureScreenshot", session, format="png",
                            captureBeyondViewport=True)  # fmt: skip
        import base64

        screenshot.write_bytes(base64.b64decode(shot["data"]))
    browser.send("Target.closeTarget", targetId=target)
    return {**shown, **_logged(browser.events)}


def _logged(events: list[dict[str, Any]]) -> dict[str, Any]:
    """Errors and requests among the events of one page."""
    errors, requests = [], []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            errors.append(f"console: {params.get('args')}")
        elif method == "Runtime.exceptionThrown":
            errors.append(f"exception: {params.get('exceptionDetails')}")
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            errors.append(f"log: {params['entry'].get('text')} {params['entry'].get('url', '')}")
        elif method == "Network.requestWillBeSent":
            requests.append(params["request"]["url"])
    return {"errors": errors, "requests": requests}


def _screenshot(tmp_path: Path, name: str) -> Path:
    folder = Path(os.environ.get("REPATSIM_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{name}.png"


def _left_the_file(requests: list[str]) -> list[str]:
    return [url for url in requests if not url.startswith(("file:", "data:"))]


# ---------------------------------------------------------------- the harness can fail
def test_the_harness_sees_errors_requests_and_broken_images(browser, tmp_path):
    page = tmp_path / "bad.html"
    page.write_text(
        '<p>x</p><img src="http://example.com/a.png"><img src="data:image/png;base64,AAAA">'
        '<script>console.error("boom")</script>'
    )
    seen = visit(browser, page)
    assert "http://example.com/a.png" in _left_the_file(seen["requests"])
    assert any("boom" in error for error in seen["errors"])
    assert len(seen["images"]) == 2
    assert [width for _, width, _ in seen["images"]] == [0, 0]  # neither could be shown


# ---------------------------------------------------------------- the reports
@pytest.fixture(scope="module")
def run_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = make_run_folder(tmp_path_factory.mktemp("browser") / "run")
    return write_report(folder)


def test_a_run_report_renders_offline_with_its_numbers(browser, run_report, tmp_path):
    seen = visit(browser, run_report, _screenshot(tmp_path, "report-run"))
    assert seen["errors"] == []
    assert _left_the_file(seen["requests"]) == []
    assert len(seen["images"]) == 4  # queues, returns, stocks, who waits
    assert all(complete and width > 100 and height > 100
               for complete, width, height in seen["images"])  # fmt: skip
    assert not seen["pwned"]  # the description's <script> stayed text
    text = seen["text"]
    assert "<script>window.pwned=1</script> & <b>bold</b>" in text
    summary = pd.read_csv(run_report.parent / "summary.csv", keep_default_na=False, na_values=[""])
    total = summary[(summary["outcome"] == "persons_returned") & (summary["group"] == "all")
                    & (summary["mode"] == "all")].iloc[0]  # fmt: skip
    assert f"{fmt(total['mean'])} persons" in text
    assert f"95% CI {fmt(total['ci_low'])} to {fmt(total['ci_high'])}" in text
    for outcome in ("peak_daily_crossings", "worst_day_p95_wait_hours",
                    "persons_stranded_by_closures", "persons_queued_overnight"):  # fmt: skip
        rows = summary[summary["outcome"] == outcome]
        assert fmt(rows["mean"].max()) in text, outcome


def test_a_comparison_report_renders_offline(browser, tmp_path):
    folder = make_compare_folder(tmp_path / "compare")
    seen = visit(browser, write_report(folder), _screenshot(tmp_path, "report-compare"))
    assert seen["errors"] == [] and _left_the_file(seen["requests"]) == []
    assert all(complete and width > 0 for complete, width, _ in seen["images"])
    differences = pd.read_csv(folder / "differences.csv")
    assert f"All {len(differences):,} differences" in seen["text"]
