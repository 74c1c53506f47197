"""A file registry of no-show models and the promotion rule.

Layout under the root the caller gives (the pipelines use `<data dir>/artifacts/models`):

    no_show/<run_id>/model.joblib   the fitted NoShowModel
    no_show/<run_id>/run.json       parameters, feature list, data windows, metrics
    no_show/champion.json           {"run_id": ...}: the model used for scoring

Promotion rule: a new model becomes the champion only if it is at least as good as the current
champion on the latest window, both evaluated on the same rows: its log loss (the probabilities
are used as probabilities) is not higher and its ROC AUC is not lower. The first model is
promoted. The only I/O of the models package is here, on a folder the caller chooses.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib  # type: ignore[import-untyped]

from models.no_show.train import NoShowModel

KIND = "no_show"


@dataclass(frozen=True)
class Decision:
    promote: bool
    reason: str


def promotion(new: dict[str, Any], champion: dict[str, Any] | None) -> Decision:
    """`new` and `champion`: metrics (`log_loss`, `roc_auc`) on the same latest window."""
    if champion is None:
        return Decision(True, "no current model")
    worse = []
    if new["log_loss"] > champion["log_loss"]:
        worse.append(f"log loss {new['log_loss']:.5f} > {champion['log_loss']:.5f}")
    if (new["roc_auc"] or 0.0) < (champion["roc_auc"] or 0.0):
        worse.append(f"ROC AUC {new['roc_auc']:.5f} < {champion['roc_auc']:.5f}")
    if worse:
        return Decision(False, "worse than the current model: " + "; ".join(worse))
    return Decision(True, "at least as good as the current model on the latest window")


class Registry:
    def __init__(self, root: Path) -> None:
        self.folder = root / KIND

    def save(self, run_id: str, model: NoShowModel, record: dict[str, Any]) -> Path:
        run = self.folder / run_id
        if run.exists():
            raise FileExistsError(f"model run {run_id} is registered already")
        run.mkdir(parents=True)
        joblib.dump(model, run / "model.joblib")
        (run / "run.json").write_text(json.dumps({"run_id": run_id, **record}, indent=2))
        return run

    def runs(self) -> list[str]:
        if not self.folder.exists():
            return []
        return sorted(p.name for p in self.folder.iterdir() if (p / "run.json").exists())

    def record(self, run_id: str) -> dict[str, Any]:
        result: dict[str, Any] = json.loads((self.folder / run_id / "run.json").read_text())
        return result

    def load(self, run_id: str) -> NoShowModel:
        model: NoShowModel = joblib.load(self.folder / run_id / "model.joblib")
        return model

    def champion(self) -> str | None:
        pointer = self.folder / "champion.json"
        if not pointer.exists():
            return None
        run_id: str = json.loads(pointer.read_text())["run_id"]
        return run_id

    def promote(self, run_id: str) -> None:
        if run_id not in self.runs():
            raise KeyError(f"no model run {run_id}")
        pointer = self.folder / "champion.json"
        staging = pointer.with_suffix(".tmp")
        staging.write_text(json.dumps({"run_id": run_id}))
        staging.replace(pointer)  # atomic: a reader sees the old or the new champion
