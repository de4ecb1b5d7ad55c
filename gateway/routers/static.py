"""The demo shop page, the embeddable widget, the agent dashboard and their assets."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from kefu.errors import APIError

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"
HTML = "text/html; charset=utf-8"
router = APIRouter(include_in_schema=False)


def static_file(name: str, media_type: str | None = None) -> FileResponse:
    if "\x00" in name or len(name) > 256:  # Path.resolve() raises on a NUL: a 404, not a 500
        raise APIError(404, "not_found", "no such static file")
    path = (STATIC_DIR / name).resolve()
    if not path.is_relative_to(STATIC_DIR) or not path.is_file():
        raise APIError(404, "not_found", "no such static file")
    return FileResponse(path, media_type=media_type)


@router.get("/")
async def index() -> FileResponse:
    return static_file("shop.html", HTML)


@router.get("/p/{product_id}")
async def product_page(product_id: str) -> FileResponse:
    """The catalog's product URLs (/p/P00001): shop.js renders the product for that path."""
    return static_file("shop.html", HTML)


@router.get("/widget.js")
async def widget() -> FileResponse:
    resp = static_file("widget.js", "application/javascript; charset=utf-8")
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp


@router.get("/agent")
async def agent_page() -> FileResponse:
    return static_file("agent.html", HTML)


@router.get("/static/{path:path}")
async def static(path: str) -> FileResponse:
    return static_file(path)
