"""The web page of ``medlab serve`` (/webui): its headers and the guard's findings over HTTP,
then the page itself in a real headless Chromium (the system browser, driven by Selenium).

The browser tests run the real server (FastAPI + uvicorn + the chatbot pipeline): once over a
scripted backend, which can be made to name drugs and return an ``<img onerror>`` answer, and
once as ``medlab serve --model qwen2.5-0.5b`` in a subprocess. Screenshots go to
``$MEDLAB_TEST_ARTEFACTS`` (default ``runs/test-artefacts``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from fastapi.testclient import TestClient
from helpers import Scripted, Served

from medlab import webui
from medlab.chatbot import MedicalChatbot
from medlab.prompts import load_prompt
from medlab.serve import create_app
from medlab.types import GenerationParams

ROOT = Path(__file__).resolve().parents[1]
ARTEFACTS = Path(os.environ.get("MEDLAB_TEST_ARTEFACTS", ROOT / "runs" / "test-artefacts"))
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
needs_browser = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="no system Chromium + chromedriver (apt-get install chromium chromium-driver; "
    ".ci/run installs them)",
)
KEY = "webui-test-key"
# $MEDLAB_WEBUI_SCREENSHOT=docs/webui.png refreshes the README's picture: the structured answer
# then gets room to finish (with 48 tokens the real model's JSON is cut off and the guard's
# safe fallback answers, which also has the three sections)
SCREENSHOT = os.environ.get("MEDLAB_WEBUI_SCREENSHOT")
STATIC = Path(webui.__file__).parent / "static"


# --- the page and the findings over HTTP (no browser) ------------------------------------


def test_root_redirects_and_the_page_sets_a_strict_csp():
    client = TestClient(create_app(Scripted(), api_key=KEY))
    root = client.get("/", follow_redirects=False)
    assert root.status_code in (302, 307) and root.headers["location"] == "/webui"
    for path in ("/webui", "/webui/static/app.js", "/webui/static/style.css"):
        r = client.get(path)  # the page and its assets need no key: the API does
        assert r.status_code == 200, path
        assert r.headers["content-security-policy"] == webui.CSP
        assert r.headers["x-content-type-options"] == "nosniff"
    csp = dict(part.strip().split(" ", 1) for part in webui.CSP.split(";"))
    assert csp["script-src"] == "'self'" and csp["default-src"] == "'none'"
    assert csp["frame-ancestors"] == "'none'"
    html = client.get("/webui").text
    # every script comes from a file (CSP forbids inline ones), no inline event handlers
    assert re.findall(r"<script[^>]*>(.*?)</script>", html, re.S) == [""]
    assert not re.search(r"\son[a-z]+\s*=", html)
    assert "http://" not in html and "https://" not in html  # no CDN
    assert client.get("/v1/models").status_code == 401


def test_the_script_never_inserts_html():
    script = (STATIC / "app.js").read_text()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in script, sink


@pytest.mark.parametrize(
    ("text", "question", "expected"),
    [
        ("可以服用布洛芬缓解", None, [("布洛芬", "specific")]),
        ("可以吃对乙酰氨基酚", None, [("对乙酰氨基酚", "specific")]),
        ("可以考虑非甾体抗炎药", None, [("非甾体抗炎药", "class")]),
        (
            "您提到的布洛芬属于非甾体抗炎药",
            "我吃了布洛芬还是头痛",
            [("布洛芬", "echoed"), ("非甾体抗炎药", "class")],
        ),
        ("可以试试卡美拉唑", None, [("卡美拉唑", "invented")]),
        ("Take fantoprazole or an NSAID", None, [("fantoprazole", "invented"), ("NSAID", "class")]),
        ("多喝水，注意休息", None, []),
    ],
)
def test_mentions_in_the_page_kinds(text, question, expected):
    found = webui.mentions(text, question)
    assert [(m["text"], m["kind"]) for m in found] == expected
    assert all(text[m["start"] : m["end"]] == m["text"] for m in found)


def test_prompt_variant_and_findings_reach_the_response():
    model = Scripted("可以吃布洛芬。", "可以考虑非甾体抗炎药，如症状持续超过3天请就医。", "好的")
    client = TestClient(create_app(MedicalChatbot(model, mode="normal")))
    body = {
        "messages": [{"role": "user", "content": "头痛怎么办？"}],
        "temperature": 0.7,
        "top_p": 0.8,
        "max_tokens": 48,
        "medlab": {"prompt": "gp_assistant@v1"},
    }
    r = client.post("/v1/chat/completions", json=body)
    assert r.status_code == 200, r.text
    system = model.calls[0][0][0][0]
    assert system.role == "system" and system.content == load_prompt("gp_assistant@v1").text
    assert model.calls[0][1].temperature == 0.7 and model.calls[0][1].max_new_tokens == 48
    found = r.json()["medlab"]
    assert found["prompt"] == "gp_assistant@v1" and found["repaired"] is True
    assert [v["code"] for v in found["violation_details"]] == found["violations"] != []
    assert [(m["text"], m["kind"]) for m in found["drug_mentions"]] == [("非甾体抗炎药", "class")]
    assert found["referral_level"] == "conditional"
    assert found["params"] == {"temperature": 0.7, "top_p": 0.8, "max_new_tokens": 48, "seed": 0}

    # streamed: the last chunk with a finish_reason carries the same findings
    r = client.post("/v1/chat/completions", json=body | {"stream": True})
    chunks = [json.loads(x[6:]) for x in r.text.split("\n\n") if x.startswith("data: {")]
    last = [c for c in chunks if c["choices"] and c["choices"][0]["finish_reason"]][0]
    assert last["medlab"]["drug_mentions"] == [] and last["medlab"]["prompt"] == "gp_assistant@v1"

    bad = client.post("/v1/chat/completions", json=body | {"medlab": {"prompt": "nope@v9"}})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "medlab"
    assert "nope" in bad.json()["error"]["message"]
    raw = TestClient(create_app(Scripted("x")))
    bad = raw.post("/v1/chat/completions", json=body)
    assert bad.status_code == 400 and "--raw" in bad.json()["error"]["message"]


# --- the page in a real browser -----------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip("no system Chromium + chromedriver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1400,1000",
        "--lang=zh-CN",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(120)  # a loaded CI machine can be slow to answer
    yield driver
    driver.quit()


class Page:
    """The /webui page as a user drives it."""

    def __init__(self, driver, url: str):
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import WebDriverWait

        self.d, self.By, self.Wait = driver, By, WebDriverWait
        driver.get("about:blank")
        driver.get(url + "/")
        assert driver.current_url == url + "/webui"

    def find(self, selector: str, root=None):
        return (root or self.d).find_element(self.By.CSS_SELECTOR, selector)

    def find_all(self, selector: str, root=None):
        return (root or self.d).find_elements(self.By.CSS_SELECTOR, selector)

    def wait(self, condition, timeout: float = 30):
        return self.Wait(self.d, timeout, poll_frequency=0.1).until(lambda _: condition())

    def enter_key(self, key: str) -> None:
        self.wait(lambda: self.find("#key-dialog").get_attribute("open") is not None)
        self.find("#key-input").send_keys(key)
        self.find("#key-save").click()
        self.wait(lambda: self.find("#status").get_attribute("data-state") == "ready")

    def set_params(self, temperature: float, top_p: float, max_new_tokens: int) -> None:
        for id_, value in (("temperature", temperature), ("top-p", top_p)):
            self.d.execute_script(  # a range slider moved to a value
                "const e = document.getElementById(arguments[0]); e.value = arguments[1];"
                "e.dispatchEvent(new Event('input'));",
                id_,
                value,
            )
        box = self.find("#max-new-tokens")
        box.clear()
        box.send_keys(str(max_new_tokens))

    def mode(self, name: str) -> None:
        self.find(f"label:has(#mode-{name})").click()

    def ask(self, text: str, timeout: float = 30):
        from selenium.webdriver.common.keys import Keys

        before = len(self.find_all(".message.assistant"))
        self.find("#input").send_keys(text, Keys.ENTER)
        self.wait(lambda: len(self.find_all(".message.assistant")) == before + 1, 10)
        card = self.find_all(".message.assistant")[-1]
        self.wait(lambda: card.get_attribute("data-state") in ("done", "error"), timeout)
        assert card.get_attribute("data-state") == "done", card.text
        return card

    def errors(self) -> list[str]:
        """Script errors and CSP violations logged by the page (the key probe's 401 is not)."""
        logs = self.d.get_log("browser")
        expected = "/v1/models - Failed to load resource: the server responded with a status of 401"
        return [
            e["message"] for e in logs if e["level"] == "SEVERE" and expected not in e["message"]
        ]

    def screenshot(self, name: str) -> Path:
        """The window, made tall enough for the whole conversation (up to 2000 px)."""
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTEFACTS / name
        height = self.d.execute_script(
            "const c = document.getElementById('conversation');"
            "return c.scrollHeight + window.innerHeight - c.clientHeight;"
        )
        metrics = {"width": 1400, "deviceScaleFactor": 1, "mobile": False}
        tall = max(1000, min(int(height) + 8, 2000))
        self.d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics | {"height": tall})
        self.d.save_screenshot(str(path))
        self.d.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        assert path.stat().st_size > 10_000
        return path


XSS = "<img src=x onerror=\"window.__pwned=1;document.title='pwned'\">"


@needs_browser
def test_page_over_the_guarded_pipeline(browser):
    model = Scripted(
        "可以继续吃布洛芬，或换成对乙酰氨基酚、卡美拉唑。",  # names drugs: a repair follows
        f"可以考虑非甾体抗炎药。{XSS} 如症状持续超过3天请就医。",
        {
            "summary": "疑似紧张性头痛，可能与睡眠不足有关。",
            "analysis": ["睡眠不足可能诱发头痛。", "如伴有发热、呕吐需警惕其他原因。"],
            "suggestions": ["规律作息。", "可在药师指导下使用非甾体抗炎药。"],
        },
        "明白。",
    )
    bot = MedicalChatbot(model, mode="structured", params=GenerationParams(max_new_tokens=64))
    served = Served(create_app(bot, api_key=KEY))
    try:
        page = Page(browser, served.url)
        page.enter_key(KEY)
        assert page.find("#model").text.startswith("qwen2.5-7b-chat")
        assert page.find("#mode-structured").is_selected()  # the chatbot's own mode
        page.mode("normal")
        page.find("#prompt option[value='gp_assistant@v1']").click()
        page.set_params(0.7, 0.8, 48)

        # Shift+Enter is a new line, Enter sends
        from selenium.webdriver.common.keys import Keys

        page.find("#input").send_keys("我吃了布洛芬", Keys.SHIFT, Keys.ENTER, Keys.SHIFT)
        assert page.find("#input").get_attribute("value") == "我吃了布洛芬\n"
        assert page.find_all(".message.assistant") == []
        card = page.ask("还是头痛，怎么办？")

        # the parameters, the mode and the prompt reached the model, in the server
        conversations, params, schema = model.calls[0]
        assert (params.temperature, params.top_p, params.max_new_tokens) == (0.7, 0.8, 48)
        assert schema is None
        assert conversations[0][0].content == load_prompt("gp_assistant@v1").text
        assert conversations[0][-1].content == "我吃了布洛芬\n还是头痛，怎么办？"

        # the model's <img onerror> is shown as text, never run
        answer = page.find(".plain", card)
        assert XSS in answer.text
        assert page.find_all("#conversation img") == []
        assert browser.execute_script("return window.__pwned") is None
        assert browser.title != "pwned"
        marks = [(m.text, m.get_attribute("data-kind")) for m in page.find_all("mark", answer)]
        assert marks == [("非甾体抗炎药", "class")]
        assert page.find(".referral", card).get_attribute("data-level") == "conditional"
        assert page.find(".outcome", card).text.startswith("Repaired")
        assert "对乙酰氨基酚" in page.find(".violations", card).text
        rejected = page.find(".rejected", card)  # what the guard turned down, one click away
        rejected.click()
        marks = [(m.text, m.get_attribute("data-kind")) for m in page.find_all("mark", rejected)]
        assert marks == [
            ("布洛芬", "echoed"),
            ("对乙酰氨基酚", "specific"),
            ("卡美拉唑", "invented"),
        ]
        timings = page.find(".timings", card).text
        assert "first text" in timings and "total" in timings
        assert "T 0.7 · top_p 0.8 · max 48 · gp_assistant@v1" in timings

        # structured: three sections, the raw JSON one click away; the history goes along
        page.mode("structured")
        card = page.ask("需要做检查吗？")
        conversations, params, schema = model.calls[-1]
        assert schema is not None and [m.role for m in conversations[0]] == [
            "system",
            "user",
            "assistant",
            "user",
        ]
        sections = page.find_all(".section", card)
        assert [s.get_attribute("data-section") for s in sections] == [
            "summary",
            "analysis",
            "suggestions",
        ]
        assert "疑似紧张性头痛" in sections[0].text
        assert len(page.find_all("li", sections[2])) == 2
        assert [m.text for m in page.find_all("mark.drug-class", card)] == ["非甾体抗炎药"]
        raw = page.find(".raw pre", card)
        assert not raw.is_displayed()
        page.find(".raw summary", card).click()
        assert json.loads(raw.text)["summary"].startswith("疑似")
        assert page.find(".outcome", card).text.startswith("Passed")
        page.screenshot("webui-scripted.png")

        # a new conversation starts empty and sends no history
        page.find("#new-conversation").click()
        assert page.find_all(".message") == []
        page.mode("normal")
        page.ask("你好")
        assert [m.role for m in model.calls[-1][0][0]] == ["system", "user"]
        assert browser.execute_script("return sessionStorage.getItem('medlab.apiKey')") == KEY
        assert page.errors() == []  # no CSP violation, no script error
    finally:
        served.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def real_server(tmp_path_factory):
    port = _free_port()
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    cmd = [sys.executable, "-m", "medlab", "serve", "--model", "qwen2.5-0.5b"]
    cmd += ["--port", str(port), "--api-key", KEY]
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 180
        while True:
            assert proc.poll() is None, log.read_text()[-3000:]
            assert time.time() < deadline, "medlab serve did not start\n" + log.read_text()[-3000:]
            try:
                if requests.get(url + "/health", timeout=2).ok:
                    break
            except requests.ConnectionError:
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()


@needs_browser
@pytest.mark.slow
def test_page_with_the_real_qwen_model(browser, real_server):
    page = Page(browser, real_server)
    page.enter_key(KEY)
    page.mode("normal")
    page.set_params(0.3, 0.9, 48)
    card = page.ask("我最近头痛，晚上睡不好，怎么办？", timeout=180)
    answer = page.find(".plain", card).text
    assert re.search(r"[\u4e00-\u9fff]", answer), answer  # a Chinese answer was streamed in
    assert int(card.get_attribute("data-chunks")) > 1  # read chunk by chunk from the stream
    timings = page.find(".timings", card).text
    assert re.search(r"first text \d+\.\d\d s · total \d+\.\d\d s", timings), timings
    assert "T 0.3 · top_p 0.9 · max 48" in timings  # as the server applied them
    tokens = int(re.search(r"(\d+) tokens", timings).group(1))
    assert 0 < tokens <= 2 * 48  # at most the answer and one repair, each within the cap
    assert page.find(".referral", card).get_attribute("data-level") in webui_levels()

    page.mode("structured")
    page.set_params(0.3, 0.9, 200 if SCREENSHOT else 48)
    card = page.ask("孩子发烧38度，精神还好，需要去医院吗？", timeout=300)
    sections = page.find_all(".section", card)
    assert [s.get_attribute("data-section") for s in sections] == [
        "summary",
        "analysis",
        "suggestions",
    ]
    assert all(s.text.strip() for s in sections)
    path = page.screenshot("webui.png")
    if SCREENSHOT:
        shutil.copy(path, SCREENSHOT)
    assert page.errors() == []


def webui_levels() -> tuple[str, ...]:
    return ("emergency", "routine", "conditional", "none")
