"""The neuron browser: one self-contained HTML page per family to look at single neurons.

Pick a ranking and a neuron (or type a neuron's index): the page shows the neuron's rank and score under
every ranking, the property labels it is most associated with (Pearson r, as in the neuron descriptions),
its highest and lowest activating test tokens with their context, and any embedded test sentence coloured
by its activation (red positive, blue negative, scaled by the neuron's largest |activation| there). The data
sit in the page as JSON (activations as base64 int8), so it needs no server and works offline; the state is
in the URL (``#neuron=17&ranking=lca&sentence=3``), so a view can be linked. Written by hand: no
neuron-viewer library renders a table-driven page that works from a file without a server.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from neurosieve.analysis.describe import extreme_tokens, strongest_labels
from neurosieve.analysis.overlap import correlation_orderings
from neurosieve.core.registry import CORRELATION_RANKINGS, RANKING_NAMES, ranking
from neurosieve.settings import BrowserSettings
from neurosieve.store.activations import read_keys, read_layer
from neurosieve.store.io import atomic_path, read_table

#: Rankings are given as (neurons best first, each neuron's score or NaN, indexed by neuron).
RankingTable = Mapping[str, tuple[np.ndarray, np.ndarray]]


def _context(words: np.ndarray, sentence: np.ndarray, row: int, width: int) -> tuple[str, str]:
    """Up to ``width`` words left and right of token ``row`` within its sentence."""
    lo, hi = row, row
    while lo > 0 and row - lo < width and sentence[lo - 1] == sentence[row]:
        lo -= 1
    while hi + 1 < len(words) and hi - row < width and sentence[hi + 1] == sentence[row]:
        hi += 1
    return " ".join(words[lo:row]), " ".join(words[row + 1 : hi + 1])


def _rounded(v: float) -> float | None:
    return None if not np.isfinite(v) else float(f"{v:.4g}")


def browser_payload(
    x: np.ndarray,
    keys: pd.DataFrame,
    rankings: RankingTable,
    settings: BrowserSettings,
    meta: Mapping[str, Any],
) -> dict[str, Any]:
    """Everything the page shows, as plain JSON-ready data (the tests read it back).

    ``x`` is the layer's test activations (tokens × neurons) and ``keys`` their token table (word, sentence,
    position and the property columns); ``meta`` names the family, instance, layer and property.
    """
    x = np.asarray(x, dtype=np.float32)
    words = keys["word"].astype(str).to_numpy()
    sentence = keys["sentence"].to_numpy()
    top, bottom = extreme_tokens(x, settings.tokens)

    def tokens(rows: np.ndarray, j: int) -> list[list[Any]]:
        return [
            [*_context(words, sentence, int(i), settings.context), words[i], _rounded(x[i, j]), int(i)] for i in rows
        ]

    labels = strongest_labels(x, keys, [p for p in settings.properties if p in keys], 3)
    by_neuron = {j: g for j, g in labels.groupby("neuron")}
    first = np.unique(sentence)[: settings.sentences]
    rows = np.flatnonzero(np.isin(sentence, first))
    shown = x[rows]
    scale = np.abs(shown).max(axis=0)
    q = np.round(127 * shown / np.where(scale > 0, scale, 1.0)).astype(np.int8)
    starts = np.flatnonzero(np.r_[True, sentence[rows][1:] != sentence[rows][:-1]])
    return {
        **meta,
        "width": int(x.shape[1]),
        "rankings": [
            {
                "name": name,
                "label": ranking(name).label if name in RANKING_NAMES else name,
                "order": [int(j) for j in order],
                "score": [_rounded(v) for v in score],
            }
            for name, (order, score) in rankings.items()
        ],
        "labels": [
            [[g["property"].iat[i], g["label"].iat[i], _rounded(g["r"].iat[i])] for i in range(len(g))]
            for g in (by_neuron[j] for j in range(x.shape[1]))
        ],
        "top": [tokens(top[j], j) for j in range(x.shape[1])],
        "bottom": [tokens(bottom[j], j) for j in range(x.shape[1])],
        "sentences": [words[rows][s:e].tolist() for s, e in zip(starts, [*starts[1:], len(rows)])],
        "scale": [_rounded(v) for v in scale],
        "acts": base64.b64encode(q.tobytes()).decode("ascii"),
    }


def render_browser(payload: Mapping[str, Any]) -> str:
    """The page: the payload embedded as JSON beside the script that renders it."""
    data = json.dumps(payload, separators=(",", ":")).replace("</", "<\\/")
    title = html.escape(
        f"neurosieve neuron browser: {payload.get('family', '')} {payload.get('instance', '')} "
        f"layer {payload.get('layer', '')}"
    )
    return PAGE.replace("__TITLE__", title).replace("__DATA__", data)


def layer_rankings(
    orderings: pd.DataFrame, scores: pd.DataFrame | None, instance: str, width: int
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Every ranking of a probe job's orderings table (registry order) and of the layer's correlation scores."""
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name in [r for r in RANKING_NAMES if r in set(orderings["method"])]:
        o = orderings[orderings["method"] == name].sort_values("rank")
        score = np.full(width, np.nan)
        if "score" in o:
            score[o["neuron"].to_numpy()] = o["score"].to_numpy(dtype=np.float64)
        out[name] = (o["neuron"].to_numpy(), score)
    if scores is not None:
        mine = scores[scores["instance"] == instance]
        for name, order in correlation_orderings(scores, instance, CORRELATION_RANKINGS).items():
            score = np.full(width, np.nan)
            if name in mine:
                score[mine["neuron"].to_numpy()] = mine[name].to_numpy(dtype=np.float64)
            out[name] = (np.asarray(order), score)
    return out


def run_browser(
    activations_path: str,
    layer: int,
    orderings_path: str,
    scores_path: str | None,
    family: str,
    instance: str,
    prop: str,
    out_path: str,
    settings: BrowserSettings,
) -> dict[str, Any]:
    """Write the neuron browser of one family's instance and layer (workflow edge); returns its payload."""
    x = read_layer(activations_path, layer)
    rankings = layer_rankings(
        read_table(orderings_path), read_table(scores_path) if scores_path else None, instance, x.shape[1]
    )
    meta = {"family": family, "instance": instance, "layer": int(layer), "property": prop}
    payload = browser_payload(x, read_keys(activations_path), rankings, settings, meta)
    with atomic_path(out_path) as tmp:
        tmp.write_text(render_browser(payload), encoding="utf-8")
    return payload


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>__TITLE__</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:1.2em;color:#222;max-width:1200px}
h1{font-size:1.25em;margin:0 0 .4em} h2{font-size:1.05em;margin:1em 0 .3em}
.bar{display:flex;gap:1em;align-items:center;flex-wrap:wrap;margin-bottom:.6em}
.cols{display:grid;grid-template-columns:220px 1fr;gap:1.2em}
#neuron-list{list-style:none;padding:0;margin:0;max-height:70vh;overflow:auto;border:1px solid #ddd}
#neuron-list li{padding:2px 6px;cursor:pointer} #neuron-list li:hover,#neuron-list li.on{background:#e8eef8}
table{border-collapse:collapse} td,th{padding:1px 8px;border-bottom:1px solid #eee;text-align:left}
ol.tok{margin:0;padding-left:1.6em} .w{font-weight:700} .ctx{color:#777}
#sentence span{padding:1px 3px;margin:1px;border-radius:3px;display:inline-block}
.note{color:#666;font-size:.9em}
</style></head><body>
<h1 id="title"></h1>
<div class="note" id="about"></div>
<div class="bar">
 <label>ranking <select id="ranking"></select></label>
 <label>neuron <input id="neuron" type="number" min="0" style="width:6em"></label>
 <button id="go">show</button>
</div>
<div class="cols">
 <div><h2>top neurons</h2><ol id="neuron-list" start="1"></ol></div>
 <div>
  <h2 id="neuron-title"></h2>
  <h2>rank under every ranking</h2><table id="ranks"><thead><tr><th>ranking</th><th>rank</th><th>score</th></tr></thead><tbody></tbody></table>
  <h2>most associated labels (Pearson r over the test tokens)</h2><ul id="labels"></ul>
  <h2>highest activating test tokens</h2><ol class="tok" id="top-tokens"></ol>
  <h2>lowest activating test tokens</h2><ol class="tok" id="bottom-tokens"></ol>
  <h2>a test sentence coloured by this neuron</h2>
  <label>sentence <select id="sentence-select"></select></label>
  <p id="sentence"></p>
  <div class="note">red: positive, blue: negative activation, opacity scaled by the neuron's largest |activation| over the embedded sentences</div>
 </div>
</div>
<script type="application/json" id="data">__DATA__</script>
<script>
"use strict";
const D = JSON.parse(document.getElementById("data").textContent);
const raw = atob(D.acts), acts = new Int8Array(raw.length);
for (let i = 0; i < raw.length; i++) acts[i] = (raw.charCodeAt(i) << 24) >> 24;
const starts = []; { let s = 0; for (const sent of D.sentences) { starts.push(s); s += sent.length; } }
const $ = id => document.getElementById(id);
const state = {ranking: D.rankings.length ? D.rankings[0].name : "", neuron: null, sentence: 0};
function el(tag, text, cls) { const e = document.createElement(tag); if (text !== undefined) e.textContent = text; if (cls) e.className = cls; return e; }
function fmt(v) { return v === null || v === undefined ? "" : String(v); }
function rankingOf(name) { return D.rankings.find(r => r.name === name) || D.rankings[0]; }
function readHash() {
  const h = new URLSearchParams(location.hash.slice(1));
  if (h.has("ranking") && D.rankings.some(r => r.name === h.get("ranking"))) state.ranking = h.get("ranking");
  if (h.has("neuron")) state.neuron = parseInt(h.get("neuron"), 10);
  if (h.has("sentence")) state.sentence = parseInt(h.get("sentence"), 10);
}
function writeHash() { history.replaceState(null, "", "#ranking=" + state.ranking + "&neuron=" + state.neuron + "&sentence=" + state.sentence); }
function tokenItem(t) {
  const li = el("li"); li.append(el("span", t[0] + " ", "ctx"), el("span", t[2], "w"), el("span", " " + t[1], "ctx"), el("span", "  (" + fmt(t[3]) + ")", "ctx"));
  return li;
}
function renderList() {
  const r = rankingOf(state.ranking), list = $("neuron-list"); list.replaceChildren();
  r.order.slice(0, 50).forEach(j => { const li = el("li", "neuron " + j); li.dataset.neuron = j; if (j === state.neuron) li.className = "on"; li.onclick = () => show(j); list.append(li); });
}
function renderSentence() {
  const p = $("sentence"); p.replaceChildren(); const j = state.neuron, s = state.sentence;
  if (j === null || !D.sentences[s]) return;
  D.sentences[s].forEach((w, i) => {
    const v = acts[(starts[s] + i) * D.width + j] / 127, span = el("span", w);
    span.style.background = v >= 0 ? "rgba(214,39,40," + v.toFixed(3) + ")" : "rgba(31,119,180," + (-v).toFixed(3) + ")";
    span.title = (v * (D.scale[j] || 0)).toFixed(3); p.append(span);
  });
}
function show(j) {
  if (!Number.isInteger(j) || j < 0 || j >= D.width) { $("neuron-title").textContent = "no neuron " + j + " (0-" + (D.width - 1) + ")"; return; }
  state.neuron = j; $("neuron").value = j;
  $("neuron-title").textContent = "neuron " + j;
  const body = $("ranks").tBodies[0]; body.replaceChildren();
  D.rankings.forEach(r => { const tr = el("tr"); tr.append(el("td", r.label), el("td", String(r.order.indexOf(j) + 1) + " / " + D.width), el("td", fmt(r.score[j]))); body.append(tr); });
  const labels = $("labels"); labels.replaceChildren();
  D.labels[j].forEach(l => labels.append(el("li", l[0] + (l[1] ? "=" + l[1] : "") + "  r = " + fmt(l[2]))));
  $("top-tokens").replaceChildren(...D.top[j].map(tokenItem));
  $("bottom-tokens").replaceChildren(...D.bottom[j].map(tokenItem));
  renderList(); renderSentence(); writeHash();
}
function init() {
  $("title").textContent = "Neuron browser: " + D.family + ", " + D.instance + ", layer " + D.layer + " (" + D.width + " neurons)";
  $("about").textContent = "Rankings of the " + D.property + " probe and the correlation rankings; tokens and sentences from the test split.";
  D.rankings.forEach(r => { const o = el("option", r.label); o.value = r.name; $("ranking").append(o); });
  D.sentences.forEach((s, i) => { const o = el("option", i + ": " + s.slice(0, 8).join(" ")); o.value = i; $("sentence-select").append(o); });
  readHash();
  $("ranking").value = state.ranking; $("sentence-select").value = state.sentence;
  $("ranking").onchange = e => { state.ranking = e.target.value; renderList(); writeHash(); };
  $("sentence-select").onchange = e => { state.sentence = parseInt(e.target.value, 10); renderSentence(); writeHash(); };
  $("go").onclick = () => show(parseInt($("neuron").value, 10));
  $("neuron").onkeydown = e => { if (e.key === "Enter") show(parseInt($("neuron").value, 10)); };
  show(state.neuron === null ? rankingOf(state.ranking).order[0] : state.neuron);
}
init();
</script></body></html>
"""

__all__ = ["browser_payload", "layer_rankings", "render_browser", "run_browser"]
