"""The HTML report: self-contained, complete, and working in a real (headless) Chromium."""

from __future__ import annotations

import json
import os
import re
import shutil
from html.parser import HTMLParser

import pytest

import hyperknob as hk
from hyperknob.report.html import render_report, write_report

ARTEFACTS = os.environ.get("HYPERKNOB_TEST_ARTEFACTS", os.path.join(os.path.dirname(__file__), "..", "test-artefacts"))


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    def objective(hp, trial):
        x = hp.Float("x", -2.0, 2.0)
        units = hp.Int("units", 8, 64, step=8)
        if x > 1.5:
            raise RuntimeError("<b>diverged</b> & stopped")  # markup in an error must stay text
        for epoch in range(4):
            trial.report(epoch, (x - 0.3) ** 2 + 1.0 / units + 1.0 / (1 + epoch))
        return (x - 0.3) ** 2 + 1.0 / units + 0.25

    directory = tmp_path_factory.mktemp("report")
    return hk.optimize(objective, n_trials=25, directory=str(directory), project_name="r", seed=2, verbose=0,
                       max_consecutive_failed_trials=None)


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.external, self.rows, self.tags = [], 0, []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href") and value and not value.startswith(("#", "data:")):
                self.external.append(value)
        if tag == "tr":
            self.rows += 1


def test_the_report_is_self_contained_and_complete(study):
    text = render_report(study)
    parsed = _Collector()
    parsed.feed(text)
    assert parsed.external == []  # nothing loaded from elsewhere
    # Namespace names (xmlns="http://www.w3.org/...") are identifiers, never fetched; nothing else names a URL.
    assert re.findall(r"https?://(?!www\.w3\.org/)", text) == []
    assert "@import" not in text and "url(http" not in text
    assert parsed.rows >= 1 + len(study.trials)  # the trials table (plus the summary's rows)
    best = json.loads(re.search(r"<pre id='best'>(.*?)</pre>", text, re.S).group(1).replace("&quot;", '"'))
    assert best == study.best_params
    assert "&lt;b&gt;diverged&lt;/b&gt; &amp; stopped" in text and "<b>diverged</b>" not in text
    assert text.count("<svg") >= 4  # history, over time, curves, importance, parallel coordinates
    assert "<meta http-equiv='refresh'" not in text and "content='5'" in render_report(study, refresh_seconds=5)


def test_the_report_works_in_headless_chromium(study, tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if not (browser and driver_path):
        if os.environ.get("HYPERKNOB_REQUIRE_CHROMIUM"):
            pytest.fail("Chromium and chromedriver are required (HYPERKNOB_REQUIRE_CHROMIUM) but not installed.")
        pytest.skip("Chromium/chromedriver not installed (Debian: apt-get install chromium chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.common.by import By

    path = write_report(study, str(tmp_path / "report.html"))
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--window-size=1280,2000"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=driver_path))
    try:
        driver.get(f"file://{path}")
        headers = driver.find_elements(By.CSS_SELECTOR, "#trials th")
        names = [h.text.strip() for h in headers]
        score = headers[names.index("score")]
        score.click()

        def column(name):
            index = names.index(name) + 1
            return [c.get_attribute("data-value") for c in driver.find_elements(By.CSS_SELECTOR, f"#trials tbody td:nth-child({index})")]

        scores = [float(v) for v in column("score") if v]
        assert scores == sorted(scores) and scores[0] == pytest.approx(study.best_value)
        assert column("score")[-1] == ""  # failed trials (no score) last
        score.click()
        descending = [float(v) for v in column("score") if v]
        assert descending == sorted(descending, reverse=True)
        os.makedirs(ARTEFACTS, exist_ok=True)
        driver.save_screenshot(os.path.join(ARTEFACTS, "report.png"))
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert errors == []
    finally:
        driver.quit()
