"""Linguistic correlation analysis (LCA): elastic-net linear probes and the neuron orderings they give.

The probe is softmax regression from one layer's activations to a property's
labels, with an elastic-net penalty on the weights only:
``loss = mean cross-entropy + l1 * sum|W| + l2 * ||W||_2`` (the unsquared L2
norm, as in NeuroX). It is fitted with large mini-batches on the whole
training set (vectorised steps, not batches of 32), and follows the
scikit-learn estimator API.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import accuracy_score
from sklearn.utils.validation import check_is_fitted

from .io import atomic_path
from .properties import open_class_mask

#: Penn Treebank tags of open word classes (nouns, verbs, adjectives, adverbs, numbers, foreign words).
OPEN_CLASS_POS = frozenset(
    "NN NNS NNP NNPS VB VBD VBG VBN VBP VBZ JJ JJR JJS RB RBR RBS CD FW".split()
)


def is_open_class(pos: Sequence[str]) -> np.ndarray:
    """Whether each token's POS tag is an open word class (see :data:`OPEN_CLASS_POS`)."""
    return np.isin(np.asarray(pos, dtype=object), list(OPEN_CLASS_POS))


class ElasticNetProbe(ClassifierMixin, BaseEstimator):
    """Softmax-regression probe with an elastic-net penalty on its weights.

    Parameters follow scikit-learn conventions: ``random_state`` fixes the
    initialisation and batch order, ``warm_start`` continues from the current
    weights when the classes and width are unchanged.
    """

    def __init__(
        self,
        l1: float = 1e-5,
        l2: float = 1e-5,
        epochs: int = 4,
        batch_size: int = 512,
        lr: float = 3e-2,
        random_state: int | None = 0,
        warm_start: bool = False,
        device: str = "cpu",
    ):
        self.l1 = l1
        self.l2 = l2
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.random_state = random_state
        self.warm_start = warm_start
        self.device = device

    def fit(self, X: np.ndarray, y: Sequence[Any]) -> "ElasticNetProbe":
        """Fit on (tokens × neurons) activations and one label per token."""
        X = np.require(X, dtype=np.float32, requirements=["C", "W"])
        y = np.asarray(y)
        classes, target = np.unique(y, return_inverse=True)
        n, d = X.shape
        seed = 0 if self.random_state is None else int(self.random_state)
        gen = torch.Generator().manual_seed(seed)
        warm = self.warm_start and hasattr(self, "coef_") and list(self.classes_) == list(classes) and self.coef_.shape[1] == d
        if warm:
            w = torch.tensor(self.coef_.T, dtype=torch.float32)
            b = torch.tensor(self.intercept_, dtype=torch.float32)
        else:
            w = torch.randn(d, len(classes), generator=gen) * (0.01 / np.sqrt(max(d, 1)))
            b = torch.zeros(len(classes))
        dev = torch.device(self.device)
        w = w.to(dev).requires_grad_(True)
        b = b.to(dev).requires_grad_(True)
        xt = torch.from_numpy(X).to(dev)
        yt = torch.from_numpy(target.astype(np.int64)).to(dev)
        opt = torch.optim.Adam([w, b], lr=self.lr)
        steps = max(1, -(-n // self.batch_size))
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=self.epochs * steps)
        self.loss_curve_ = []
        for _ in range(self.epochs):
            perm = torch.randperm(n, generator=gen).to(dev)
            total = 0.0
            for s in range(steps):
                idx = perm[s * self.batch_size : (s + 1) * self.batch_size]
                loss = torch.nn.functional.cross_entropy(xt[idx] @ w + b, yt[idx])
                if self.l1:
                    loss = loss + self.l1 * w.abs().sum()
                if self.l2:
                    loss = loss + self.l2 * torch.linalg.vector_norm(w)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
                total += float(loss.detach()) * len(idx)
            self.loss_curve_.append(total / n)
        self.classes_ = classes
        self.coef_ = w.detach().cpu().numpy().T.copy()
        self.intercept_ = b.detach().cpu().numpy().copy()
        self.n_features_in_ = d
        return self

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        check_is_fitted(self, "coef_")
        return np.asarray(X, dtype=np.float32) @ self.coef_.T + self.intercept_

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        z = self.decision_function(X)
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.classes_[self.decision_function(X).argmax(axis=1)]

    def score(self, X: np.ndarray, y: Sequence[Any], sample_weight: np.ndarray | None = None) -> float:
        """Accuracy (a fraction); labels the probe never saw count as errors."""
        return float(accuracy_score(np.asarray(y), self.predict(X), sample_weight=sample_weight))

    def save(self, path: str | os.PathLike[str]) -> None:
        """Save parameters and weights to one ``.npz`` file (atomically)."""
        check_is_fitted(self, "coef_")
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as fh:
                np.savez(
                    fh,
                    coef=self.coef_,
                    intercept=self.intercept_,
                    classes=np.asarray(self.classes_, dtype=str),
                    params=np.asarray(json.dumps(self.get_params())),
                )

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> "ElasticNetProbe":
        """Load a probe saved by :meth:`save`."""
        with np.load(Path(path), allow_pickle=False) as f:
            probe = cls(**json.loads(str(f["params"])))
            probe.coef_ = f["coef"]
            probe.intercept_ = f["intercept"]
            probe.classes_ = f["classes"]
        probe.n_features_in_ = probe.coef_.shape[1]
        return probe


def top_neurons_per_label(coef: np.ndarray, fraction: float) -> list[np.ndarray]:
    """For each label, the shortest prefix of its neurons sorted by |w| whose |w| sum reaches ``fraction`` of its total."""
    out = []
    for row in np.abs(coef):
        order = np.lexsort((np.arange(len(row)), -row))  # by |w| descending, ties by index
        total = row.sum()
        if total == 0 or fraction <= 0:
            out.append(order[:0])
            continue
        cum = np.cumsum(row[order])
        k = int(np.searchsorted(cum, fraction * total * (1 - 1e-12))) + 1
        out.append(order[: min(k, len(order))])
    return out


def neuron_ordering(coef: np.ndarray, step: float = 0.01) -> np.ndarray:
    """NeuroX's neuron ordering: sweep the weight-mass fraction p from 0 to 1 and append neurons as they enter.

    Neurons entering at the same p are ordered by their largest |w| over
    labels (then by index); neurons with zero weight everywhere come last.
    """
    d = coef.shape[1]
    strength = np.abs(coef).max(axis=0)
    seen = np.zeros(d, bool)
    order: list[int] = []
    for p in np.linspace(0.0, 1.0, int(round(1 / step)) + 1):
        entered = np.unique(np.concatenate([np.asarray(t, dtype=np.int64) for t in top_neurons_per_label(coef, p)]))
        new = entered[~seen[entered]]
        if len(new):
            new = new[np.lexsort((new, -strength[new]))]
            order.extend(new.tolist())
            seen[new] = True
    rest = np.flatnonzero(~seen)
    return np.concatenate([np.asarray(order, dtype=np.int64), rest])


def probeless_scores(X: np.ndarray, y: Sequence[Any]) -> np.ndarray:
    """Antverg & Belinkov's probeless ranking score: sum over label pairs of |mean_a - mean_b| per neuron."""
    y = np.asarray(y)
    classes, inv = np.unique(y, return_inverse=True)
    sums = np.zeros((len(classes), X.shape[1]))
    np.add.at(sums, inv, X)
    means = np.sort(sums / np.bincount(inv)[:, None], axis=0)
    k = np.arange(1, len(classes) + 1)[:, None]
    return (means * (2 * k - len(classes) - 1)).sum(axis=0)


def order_by_score(score: np.ndarray) -> np.ndarray:
    """Neuron indices by score descending, ties by index."""
    return np.lexsort((np.arange(len(score)), -score))


def control_labels(words: Sequence[str], train_labels: Sequence[Any], seed: int) -> dict[str, Any]:
    """Hewitt & Liang's control task: each word type gets a fixed label drawn from the training label distribution."""
    types = sorted(set(map(str, words)))
    values, counts = np.unique(np.asarray(train_labels), return_counts=True)
    rng = np.random.default_rng(seed)
    drawn = rng.choice(values, size=len(types), p=counts / counts.sum())
    return dict(zip(types, drawn))


def weight_concentration(coef: np.ndarray, top: float = 0.1) -> float:
    """Share of the total |W| mass held by the top ``top`` fraction of neurons (by their summed |w|)."""
    mass = np.sort(np.abs(coef).sum(axis=0))[::-1]
    k = max(1, int(round(top * len(mass))))
    return float(mass[:k].sum() / mass.sum()) if mass.sum() > 0 else 0.0


def grouped_accuracy(y_true: np.ndarray, y_pred: np.ndarray, open_mask: np.ndarray) -> dict[str, float]:
    """Accuracy overall, on open-class tokens and on closed-class tokens (fractions)."""
    right = np.asarray(y_true) == np.asarray(y_pred)
    return {
        "overall": float(right.mean()),
        "open": float(right[open_mask].mean()) if open_mask.any() else float("nan"),
        "closed": float(right[~open_mask].mean()) if (~open_mask).any() else float("nan"),
    }


def per_label_accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> pd.DataFrame:
    """Accuracy and support per gold label."""
    df = pd.DataFrame({"label": np.asarray(y_true, dtype=str), "right": np.asarray(y_true) == np.asarray(y_pred)})
    g = df.groupby("label")["right"]
    return pd.DataFrame({"accuracy": g.mean(), "support": g.size()}).reset_index()


def select_lambdas(
    X: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    grid: Sequence[tuple[float, float]],
    tolerance: float,
    probe_params: dict[str, Any],
    held_out: float = 0.1,
    random_state: int = 0,
) -> tuple[tuple[float, float], pd.DataFrame]:
    """The paper's lambda choice: among (l1, l2) pairs whose held-out accuracy is within ``tolerance`` of the
    unregularised probe's, the one that concentrates weight most. Held-out data are whole sentences of train.
    """
    from sklearn.model_selection import GroupShuffleSplit

    fit_idx, val_idx = next(GroupShuffleSplit(1, test_size=held_out, random_state=random_state).split(X, y, groups))
    rows = []
    for l1, l2 in dict.fromkeys([(0.0, 0.0), *grid]):
        probe = ElasticNetProbe(l1=l1, l2=l2, random_state=random_state, **probe_params).fit(X[fit_idx], y[fit_idx])
        rows.append({"l1": l1, "l2": l2, "accuracy": probe.score(X[val_idx], y[val_idx]), "concentration": weight_concentration(probe.coef_)})
    table = pd.DataFrame(rows)
    base = table.loc[(table["l1"] == 0) & (table["l2"] == 0), "accuracy"].item()
    ok = table[table["accuracy"] >= base - tolerance]
    best = ok.sort_values(["concentration", "accuracy"], ascending=False).iloc[0]
    table["chosen"] = (table["l1"] == best["l1"]) & (table["l2"] == best["l2"])
    return (float(best["l1"]), float(best["l2"])), table


def probe_layer(
    X_train: np.ndarray,
    train_keys: pd.DataFrame,
    X_test: np.ndarray,
    test_keys: pd.DataFrame,
    prop: str,
    *,
    l1: float,
    l2: float,
    probe_params: dict[str, Any],
    salient_fraction: float,
    seed: int,
) -> dict[str, Any]:
    """Everything LCA says about one layer and one property: probe, metrics, orderings, per-label neurons, baselines."""
    import time

    y_train = train_keys[prop].astype(str).to_numpy()
    y_test = test_keys[prop].astype(str).to_numpy()
    open_mask = open_class_mask(test_keys)
    start = time.perf_counter()
    probe = ElasticNetProbe(l1=l1, l2=l2, random_state=seed, **probe_params).fit(X_train, y_train)
    fit_seconds = time.perf_counter() - start
    pred = probe.predict(X_test)
    acc = grouped_accuracy(y_test, pred, open_mask)

    control = control_labels(np.concatenate([train_keys["word"].astype(str), test_keys["word"].astype(str)]), y_train, seed)
    c_train = np.array([control[w] for w in train_keys["word"].astype(str)])
    c_test = np.array([control[w] for w in test_keys["word"].astype(str)])
    c_probe = ElasticNetProbe(l1=l1, l2=l2, random_state=seed, **probe_params).fit(X_train, c_train)
    c_acc = grouped_accuracy(c_test, c_probe.predict(X_test), open_mask)

    train_labels, test_labels = set(y_train), set(y_test)
    unseen = ~np.isin(y_test, list(train_labels))
    metrics = [{"metric": "accuracy", "group": g, "value": v} for g, v in acc.items()]
    metrics += [{"metric": "control_accuracy", "group": g, "value": v} for g, v in c_acc.items()]
    metrics += [{"metric": "selectivity", "group": g, "value": acc[g] - c_acc[g]} for g in acc]
    metrics += [
        {"metric": "l1", "group": "", "value": l1},
        {"metric": "l2", "group": "", "value": l2},
        {"metric": "fit_seconds", "group": "", "value": fit_seconds},
        {"metric": "test_tokens_with_label_unseen_in_train", "group": "", "value": float(unseen.sum())},
        {"metric": "labels_only_in_test", "group": ",".join(sorted(test_labels - train_labels)), "value": float(len(test_labels - train_labels))},
        {"metric": "labels_only_in_train", "group": ",".join(sorted(train_labels - test_labels)), "value": float(len(train_labels - test_labels))},
        {"metric": "weight_concentration_top10pct", "group": "", "value": weight_concentration(probe.coef_)},
    ]

    d = X_train.shape[1]
    lca = neuron_ordering(probe.coef_)
    mass = np.abs(probe.coef_).sum(axis=0)
    pl = probeless_scores(X_train, y_train)
    rnd = np.random.default_rng([seed, 7]).permutation(d)
    orderings = pd.concat(
        [
            pd.DataFrame({"method": "lca", "rank": np.arange(1, d + 1), "neuron": lca, "score": mass[lca]}),
            pd.DataFrame({"method": "probeless", "rank": np.arange(1, d + 1), "neuron": order_by_score(pl), "score": np.sort(pl)[::-1]}),
            pd.DataFrame({"method": "random", "rank": np.arange(1, d + 1), "neuron": rnd, "score": np.nan}),
        ],
        ignore_index=True,
    )
    weights = pd.DataFrame(
        {
            "label": np.repeat(probe.classes_.astype(str), d),
            "neuron": np.tile(np.arange(d), len(probe.classes_)),
            "weight": probe.coef_.reshape(-1),
        }
    )
    freq = pd.Series(y_train).value_counts()
    per_label = per_label_accuracy(y_test, pred).set_index("label")
    salient = top_neurons_per_label(probe.coef_, salient_fraction)
    labels = pd.DataFrame(
        {
            "label": probe.classes_.astype(str),
            "train_count": [int(freq.get(c, 0)) for c in probe.classes_],
            "test_count": [int(per_label["support"].get(c, 0)) for c in probe.classes_],
            "accuracy": [float(per_label["accuracy"].get(c, np.nan)) for c in probe.classes_],
            "open_class": [c in OPEN_CLASS_POS for c in probe.classes_] if prop == "pos" else None,
            "neurons_needed": [len(s) for s in salient],
            "salient_neurons": [s.tolist() for s in salient],
        }
    )
    return {
        "probe": probe,
        "metrics": pd.DataFrame(metrics),
        "orderings": orderings,
        "weights": weights,
        "labels": labels,
    }


def chosen_lambdas(grid_path: str) -> tuple[float, float]:
    """The (l1, l2) pair a lambda-selection table marks as chosen."""
    grid = pd.read_parquet(grid_path)
    row = grid[grid["chosen"]].iloc[0]
    return float(row["l1"]), float(row["l2"])


def run_lambda_selection(
    train_path: str,
    layer: int,
    prop: str,
    out_path: str,
    *,
    grid: Sequence[Sequence[float]],
    tolerance: float,
    probe_params: dict[str, Any],
    seed: int,
) -> pd.DataFrame:
    """Grid search of (l1, l2) on held-out train sentences for one reference instance and layer (workflow edge)."""
    from .activations import read_keys, read_layer
    from .io import provenance, write_parquet

    keys = read_keys(train_path)
    _, table = select_lambdas(
        read_layer(train_path, layer), keys[prop].astype(str).to_numpy(), keys["sentence"].to_numpy(),
        [tuple(g) for g in grid], tolerance, probe_params, random_state=seed,
    )
    settings = {"layer": layer, "property": prop, "grid": grid, "tolerance": tolerance, "probe": probe_params, "train": train_path}
    write_parquet(table, out_path, provenance(settings, seed))
    return table


def run_probing(
    train_path: str,
    test_path: str,
    layer: int,
    prop: str,
    outputs: dict[str, str],
    *,
    lambdas: str | Sequence[float],
    probe_params: dict[str, Any],
    salient_fraction: float,
    seed: int,
) -> dict[str, Any]:
    """Probing stage for one (instance, layer, property) (workflow edge): reads activations, writes every table.

    ``lambdas`` is an (l1, l2) pair or the path of a lambda-selection table.
    """
    from .activations import read_keys, read_layer
    from .io import provenance, write_parquet

    l1, l2 = chosen_lambdas(lambdas) if isinstance(lambdas, str) else (float(lambdas[0]), float(lambdas[1]))
    settings = {
        "layer": layer, "property": prop, "l1": l1, "l2": l2, "probe": probe_params,
        "salient_fraction": salient_fraction, "train": train_path, "test": test_path,
    }
    out = probe_layer(
        read_layer(train_path, layer), read_keys(train_path), read_layer(test_path, layer), read_keys(test_path), prop,
        l1=l1, l2=l2, probe_params=probe_params, salient_fraction=salient_fraction, seed=seed,
    )
    meta = provenance(settings, seed)
    out["probe"].save(outputs["probe"])
    for key in ("metrics", "orderings", "weights", "labels"):
        write_parquet(out[key], outputs[key], meta)
    return out


def run_probing_summary(paths: Sequence[str], keys: Sequence[Sequence[Any]], out_path: str) -> pd.DataFrame:
    """All probe metrics of a family in one table, keyed by instance, layer and property (workflow edge)."""
    from .io import provenance, write_parquet

    frames = [pd.read_parquet(p).assign(instance=k[0], layer=int(k[1]), property=k[2]) for p, k in zip(paths, keys)]
    table = pd.concat(frames, ignore_index=True)
    write_parquet(table, out_path, provenance({"inputs": list(paths)}))
    return table
