"""One small real model per test session (bundled en+zh intents, a subset of labels)."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from kefu.data import intents_path
from services.intent import registry
from services.intent.train import TrainConfig, train

LABELS = ("greeting", "order_status", "cancel_order", "refund_status", "product_search", "out_of_scope")


def write_subset(path: Path, every: int = 1) -> Path:
    """A CSV with the chosen labels only (every `every`-th row of each, so en and zh both stay)."""
    seen: dict[str, int] = {}
    with intents_path().open(encoding="utf-8") as src, path.open("w", encoding="utf-8", newline="") as dst:
        writer = csv.writer(dst)
        writer.writerow(["text", "label", "lang"])
        for row in csv.DictReader(src):
            if row["label"] not in LABELS:
                continue
            seen[row["label"]] = seen.get(row["label"], 0) + 1
            if (seen[row["label"]] - 1) % every == 0:
                writer.writerow([row["text"], row["label"], row["lang"]])
    return path


@pytest.fixture(scope="session")
def subset_csv():
    """`subset_csv(path, every=1)` writes a CSV of the test labels."""
    return write_subset


@pytest.fixture(scope="session")
def intent_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Data dir with a trained model `v1` (current) and a copy `v2` (for reload tests)."""
    root = tmp_path_factory.mktemp("intent-data")
    csv_path = write_subset(root / "subset.csv")
    models = root / "models"
    v1 = registry.intent_root(models) / "v1"
    train(csv_path, v1, models, "text", "label", TrainConfig(quick=True, seed=0))
    registry.set_current(registry.intent_root(models), v1)
    v2 = v1.parent / "v2"
    shutil.copytree(v1, v2)
    meta = json.loads((v2 / "meta.json").read_text())
    meta["version"] = "v2"
    (v2 / "meta.json").write_text(json.dumps(meta))
    return root


@pytest.fixture(scope="session")
def intent_model(intent_data_dir: Path):
    from services.intent.model import IntentModel

    folder = registry.current_dir(registry.intent_root(intent_data_dir / "models"))
    assert folder is not None
    return IntentModel(folder, intent_data_dir / "models")
