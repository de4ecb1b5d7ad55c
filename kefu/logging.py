"""JSON logs with the request id of the turn, and PII masked before anything is written."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import time
import uuid

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

REQUEST_ID_HEADER = "X-Request-ID"
# A caller's X-Request-ID is kept only if it is this safe: it goes into every log line and back
# out in a header, so markup, spaces or control characters from a client never travel on.
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_CARD = re.compile(r"\b(?:\d[ -]?){13,19}\b")
_STREET = (r"(?i:street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl"
           r"|terrace|close|square|sq|parkway|pkwy|highway|hwy)")
_ADDRESS = re.compile(
    r"\b\d{1,5}[A-Za-z]?(?:\s+[A-Z][A-Za-z'-]*){1,3}\s+" + _STREET + r"\b\.?"  # 221B Baker Street, 123 Main St
    r"|[\u4e00-\u9fff]{2,12}(?:路|街|道|巷|胡同)\d{1,5}号")  # 建国路88号
# Dates and clock times are kept whole, so "2026-12-03 10:11:12" never reads as a phone number;
# a phone is 7-15 digits in groups split by spaces, dots, dashes or parentheses (415.555.0134).
_TIMESTAMP = r"\d{4}-\d{2}-\d{2}(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)?|\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?"
_PHONE = re.compile(r"(?P<keep>" + _TIMESTAMP + r")|(?<![\w.:])(?P<phone>\+?\(?\d[\d ().-]{5,}\d)(?![\w:])")
_HAS_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _phone(m: re.Match[str]) -> str:
    number = m.group("phone")
    if number is None or _HAS_DATE.search(number) or not 7 <= sum(c.isdigit() for c in number) <= 15:
        return m.group(0)
    return "[phone]"


def mask_pii(text: str) -> str:
    """Mask emails, card numbers, street addresses and phone numbers (order ids like KF123456,
    prices and timestamps survive)."""
    text = _EMAIL.sub("[email]", text)
    text = _CARD.sub("[card]", text)
    text = _ADDRESS.sub("[address]", text)
    return _PHONE.sub(_phone, text)


def new_request_id() -> str:
    return uuid.uuid4().hex[:16]


def accept_request_id(value: str | None) -> str:
    """The caller's request id when it is safe (letters, digits, `._-`, at most 64), else a fresh one."""
    if value and _SAFE_REQUEST_ID.fullmatch(value):
        return value
    return new_request_id()


def current_request_id() -> str | None:
    return request_id_var.get()


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "msg": mask_pii(record.getMessage()),
        }
        rid = request_id_var.get()
        if rid:
            payload["request_id"] = rid
        extra = getattr(record, "fields", None)
        if isinstance(extra, dict):
            payload.update({k: mask_pii(v) if isinstance(v, str) else v for k, v in extra.items()})
        if record.exc_info:
            payload["exc"] = mask_pii(self.formatException(record.exc_info))
        return json.dumps(payload, ensure_ascii=False, default=str)


def configure_logging(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("uvicorn.access", "httpx", "httpcore", "jieba", "faiss", "sentence_transformers"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error"):
        lg = logging.getLogger(name)
        lg.handlers[:] = []
        lg.propagate = True
