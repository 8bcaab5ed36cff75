"""The neuron browser: its data equal the tables', and a real headless browser shows the right words."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from neurosieve.report.browser import browser_payload, layer_rankings, render_browser
from neurosieve.settings import BrowserSettings

SETTINGS = BrowserSettings(sentences=4, tokens=3, context=2, properties=("pos",))


def layer(seed: int = 0) -> tuple[np.ndarray, pd.DataFrame]:
    """Twelve sentences of five tokens; neuron 2 fires on DT tokens; one word would close a script tag."""
    rng = np.random.default_rng(seed)
    n = 60
    pos = rng.choice(["DT", "NN", "VB"], size=n)
    words = [f"{p.lower()}{i}" for i, p in enumerate(pos)]
    words[7] = "</script><b>"
    keys = pd.DataFrame(
        {"sentence": np.repeat(np.arange(12), 5), "position": np.tile(np.arange(5), 12), "word": words, "pos": pos}
    )
    x = rng.normal(size=(n, 6)).astype(np.float32)
    x[:, 2] += 4.0 * (pos == "DT")
    return x, keys


def rankings(width: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    orderings = pd.DataFrame(
        {
            "method": ["lca"] * width + ["random"] * width,
            "rank": [*range(1, width + 1)] * 2,
            "neuron": [*range(width)[::-1], *range(width)],
            "score": [*np.linspace(1, 0, width), *[np.nan] * width],
        }
    )
    return layer_rankings(orderings, None, "seed1", width)


def test_payload_holds_the_tables_numbers() -> None:
    x, keys = layer()
    payload = browser_payload(x, keys, rankings(6), SETTINGS, {"family": "f", "instance": "seed1", "layer": 2})
    assert payload["width"] == 6 and [r["name"] for r in payload["rankings"]] == ["lca", "random"]
    lca = payload["rankings"][0]
    assert lca["order"] == [5, 4, 3, 2, 1, 0] and lca["score"][5] == 1.0 and payload["rankings"][1]["score"][0] is None
    for j in range(6):
        want = np.argsort(-x[:, j], kind="stable")[:3]
        assert [t[4] for t in payload["top"][j]] == want.tolist()
        assert [t[2] for t in payload["top"][j]] == keys["word"].iloc[want].tolist()
        assert [t[4] for t in payload["bottom"][j]] == np.argsort(x[:, j], kind="stable")[:3].tolist()
    # Context stays inside the token's sentence: up to two words each side.
    i = payload["top"][2][0][4]
    sent = keys[keys["sentence"] == keys["sentence"].iat[i]]
    left = sent[(sent["position"] < keys["position"].iat[i]) & (sent["position"] >= keys["position"].iat[i] - 2)]
    assert payload["top"][2][0][0] == " ".join(left["word"])
    assert payload["labels"][2][0][:2] == ["pos", "DT"] and payload["labels"][2][0][2] > 0.7
    assert len(payload["sentences"]) == 4 and all(len(s) == 5 for s in payload["sentences"])
    q = np.frombuffer(base64.b64decode(payload["acts"]), dtype=np.int8).reshape(20, 6)
    scale = np.abs(x[:20]).max(axis=0)
    assert np.abs(q / 127 * scale - x[:20]).max() <= scale.max() / 127
    page = render_browser(payload)
    data = page.split('<script type="application/json" id="data">')[1].split("</script>")[0]
    assert json.loads(data) == json.loads(json.dumps(payload))  # the word "</script><b>" does not end the data


def chromium() -> str:
    """Debian's chromium, installed from Debian's packages when missing (as the SLURM test installs slurm)."""
    found = shutil.which("chromium")
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=True, env=env, capture_output=True)
        found = shutil.which("chromium")
    assert found, "the browser test needs Debian's chromium (apt-get install chromium)"
    return found


def headless(browser: str, url: str, *args: str) -> str:
    out = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=3000", *args, url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


@pytest.mark.slow
def test_headless_chromium_shows_the_chosen_neurons_words(tmp_path: Path) -> None:
    """Load the page in a real headless browser with a neuron and a ranking chosen in its address: the words it
    shows are the table's top and bottom tokens of that neuron; a screenshot is saved beside the page."""
    browser = chromium()
    x, keys = layer(1)
    payload = browser_payload(x, keys, rankings(6), SETTINGS, {"family": "f", "instance": "seed1", "layer": 2})
    page = tmp_path / "browser.html"
    page.write_text(render_browser(payload), encoding="utf-8")
    for j in (2, 4):
        dom = headless(browser, f"{page.as_uri()}#ranking=random&neuron={j}&sentence=1", "--dump-dom")
        shown = {
            part: re.findall(r'<span class="w">(.*?)</span>', dom.split(f'id="{part}-tokens"')[1].split("</ol>")[0])
            for part in ("top", "bottom")
        }
        unescape = {"&lt;": "<", "&gt;": ">", "&amp;": "&"}
        for part in shown:
            shown[part] = [re.sub("&lt;|&gt;|&amp;", lambda m: unescape[m.group()], w) for w in shown[part]]
        assert shown["top"] == keys["word"].iloc[np.argsort(-x[:, j], kind="stable")[:3]].tolist()
        assert shown["bottom"] == keys["word"].iloc[np.argsort(x[:, j], kind="stable")[:3]].tolist()
        assert f"neuron {j}</h2>" in dom and dom.count("<span title=") == 5  # sentence 1 coloured, token by token
        # The neuron list follows the ranking chosen in the address (random: 0, 1, ...; lca would be 5, 4, ...).
        assert re.findall(r'<li data-neuron="(\d+)"', dom) == [str(n) for n in range(6)]
    shot = tmp_path / "browser.png"
    headless(browser, f"{page.as_uri()}#neuron=2", f"--screenshot={shot}", "--window-size=1200,1000")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
