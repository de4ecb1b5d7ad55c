"""Static properties of the front-end files that no browser is needed to check."""

from __future__ import annotations

import re
from pathlib import Path

STATIC = Path(__file__).resolve().parents[2] / "gateway" / "static"


def test_widget_stays_small() -> None:
    size = (STATIC / "widget.js").stat().st_size
    assert size <= 30 * 1024, f"widget.js is {size} bytes; the budget is 30 KB unminified"


def test_no_html_sinks_for_data() -> None:
    """Text reaches the DOM through textContent; the only innerHTML is the widget's constant
    skeleton, built before any data exists."""
    for name in ("widget.js", "agent.js", "shop.js"):
        src = (STATIC / name).read_text(encoding="utf-8")
        sinks = re.findall(r"\.(innerHTML|outerHTML|insertAdjacentHTML)\b|document\.write|\beval\(|new Function", src)
        expected = ["innerHTML"] if name == "widget.js" else []
        assert sinks == expected, (name, sinks)
    skeleton = (STATIC / "widget.js").read_text(encoding="utf-8").split("root.innerHTML = `", 1)[1].split("`;", 1)[0]
    # Only the constant CSS and icons are interpolated into it.
    assert set(re.findall(r"\$\{([^}]+)\}", skeleton)) == {"CSS", "ICON.chat", "ICON.bot", "ICON.person", "ICON.x",
                                                            "ICON.send"}
