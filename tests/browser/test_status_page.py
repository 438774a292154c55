"""The status page in a real headless Chromium (Debian ``chromium`` + ``chromium-driver``).

The page is served by a ``WebSink`` fed synthetic orange frames with one face; the test reads
the live DOM (labels, backend, fps, captures) and checks a screenshot for the preview: orange
frame pixels and the green face box inside the ``<img id=preview>`` rectangle.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.labels import EMOTIONS
from edge.types import Box, Face, Frame, FrameResult
from tests.fakes import one_hot

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
pytest.importorskip("prometheus_client")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from edge.sinks.http import HttpConfig, WebSink  # noqa: E402
from edge.sinks.metrics import Metrics  # noqa: E402

SHOT_DIR = os.environ.get("EDGE_SCREENSHOT_DIR", "")  # keep the screenshot for a look
CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
TOKEN = "browser-test-token-0123"
ORANGE = (0, 160, 255)  # BGR
BOX = Box(200, 120, 200, 200)


@pytest.fixture
def browser(tmp_path):
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip(
            "chromium/chromedriver not installed (apt-get install -y chromium chromium-driver)"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-dev-shm-usage",
        "--window-size=1280,900",
        "--force-device-scale-factor=1",
        f"--user-data-dir={tmp_path / 'profile'}",
    ):
        options.add_argument(flag)
    service = webdriver.ChromeService(executable_path=CHROMEDRIVER)
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


@pytest.fixture
def served():
    sink = WebSink(
        HttpConfig(enabled=True, port=0, token=TOKEN, preview=True),
        EMOTIONS,
        Metrics(),
        backend=lambda: "edgetpu",
    )
    stop = threading.Event()

    def feed() -> None:
        n = 0
        bgr = np.full((480, 640, 3), ORANGE, np.uint8)
        s = one_hot("happy", 0.85)
        while not stop.is_set():
            capture = (
                {"image": "/var/lib/emotion-edge/smile-20260101-120000-000.jpg"} if n == 5 else None
            )
            result = FrameResult(n, time.time(), (Face(4, BOX, "happy", "happy", s, s),), capture)
            sink.metrics.handle(Frame(bgr), result)
            sink.handle(Frame(bgr), result)
            n += 1
            stop.wait(0.04)

    thread = threading.Thread(target=feed, daemon=True)
    thread.start()
    yield sink
    stop.set()
    thread.join(5)
    sink.close()


def text(driver, element_id: str) -> str:
    return driver.find_element(By.ID, element_id).text


def test_status_page_shows_live_preview_faces_and_captures(browser, served):
    host, port = served.address
    browser.get(f"http://{host}:{port}/?token={TOKEN}")
    wait = WebDriverWait(browser, 20, poll_frequency=0.2)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#faces tr.face"))
    wait.until(lambda d: text(d, "fps") not in ("?", "0.0"))  # the 2 s fps window filled
    wait.until(
        lambda d: d.execute_script(
            "const i = document.getElementById('preview'); return i.complete && i.naturalWidth > 0"
        )
    )
    wait.until(
        lambda d: d.execute_script(
            "return [...document.querySelectorAll('#captures img')].some(i => i.naturalWidth > 0)"
        )
    )
    assert text(browser, "health") == "healthy"
    assert text(browser, "backend") == "edgetpu"
    assert 5 < float(text(browser, "fps")) < 40
    row = browser.find_element(By.CSS_SELECTOR, "#faces tr.face").text.split()
    assert row[:3] == ["#4", "happy", "0.85"]
    assert "smile-20260101-120000-000.jpg" in text(browser, "captures")

    png = browser.get_screenshot_as_png()
    if SHOT_DIR:
        (Path(SHOT_DIR) / "status_page.png").write_bytes(png)
    shot = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    r = browser.find_element(By.ID, "preview").rect
    x, y, w, h = (int(r[k]) for k in ("x", "y", "width", "height"))
    assert w >= 320 and h >= 240
    preview = shot[y : y + h, x : x + w]
    orange = np.all(np.abs(preview.astype(int) - ORANGE) < 40, axis=2).mean()
    green = np.all(np.abs(preview.astype(int) - (0, 255, 0)) < 60, axis=2).mean()
    assert orange > 0.6, f"preview area is {orange:.0%} frame-orange"
    assert green > 0.002, f"no face box drawn ({green:.3%} green)"


def test_status_page_without_token_is_refused(browser, served):
    host, port = served.address
    browser.get(f"http://{host}:{port}/")
    assert browser.find_element(By.TAG_NAME, "body").text == "unauthorized"
    assert not browser.find_elements(By.ID, "preview")
