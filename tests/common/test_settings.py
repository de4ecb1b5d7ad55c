from __future__ import annotations

from pathlib import Path

from kefu.settings import Settings


def test_contract_env_names(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KEFU_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6390/3")
    monkeypatch.setenv("KEFU_LLM_URL", "off")
    monkeypatch.setenv("KEFU_RATE_LIMITS", "off")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    s = Settings()
    assert s.data_dir == tmp_path and s.redis_url.endswith("/3")
    assert not s.llm_enabled and not s.rate_limits_enabled
    assert s.sql_url == f"sqlite:///{(tmp_path / 'kefu.db').resolve()}"
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/x")
    assert Settings().sql_url == "postgresql://postgres@127.0.0.1:5432/x"
