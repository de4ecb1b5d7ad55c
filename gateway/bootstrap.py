"""Gateway first-run build: load the bundled demo orders into SQL if the table is empty."""

from __future__ import annotations

from kefu.settings import Settings


def build(settings: Settings, *, quick: bool = False, force: bool = False) -> None:
    from gateway.orders.importer import import_orders
    from gateway.orders.sql import SqlOrders

    try:
        from kefu.data import orders_path
    except ImportError:
        print("[gateway] kefu.data not available; no demo orders loaded", flush=True)
        return
    path = orders_path()
    if not path.exists():
        print(f"[gateway] {path} missing; no demo orders loaded", flush=True)
        return
    report = import_orders(settings.sql_url, path, only_if_empty=not force)
    for bad in report.rejected:
        print(f"[gateway] {path.name} line {bad['line']}: {bad['reason']}", flush=True)
    total = SqlOrders(settings.sql_url).count()
    if report.written:
        print(f"[gateway] loaded {report.written} demo orders from {path.name} ({total} in the table)", flush=True)
    else:
        print(f"[gateway] orders table already has {total} orders; kept", flush=True)
