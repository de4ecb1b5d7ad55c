"""The services of kefu in one table: name, package, port offset, start and build order.

`kefu serve`, `kefu up`, `kefu build` and the tests read ports, app factories and orders from
here, so a new service or a moved port is one edit. It imports nothing of kefu's, which is what
lets `kefu.cli` and `kefu.supervisor` both read it without importing each other.
docker-compose.yml and the settings' default URLs spell the default ports out
(tests/deploy checks the compose file against this table).
"""

from __future__ import annotations

from dataclasses import dataclass

BASE_PORT = 8000  # the gateway's; every other service listens at BASE_PORT + its offset
LOCAL_HOST = "127.0.0.1"


@dataclass(frozen=True)
class Service:
    """One service: a package holding `app.py` (`create_app`), optionally `cli.py` and `bootstrap.py`."""

    name: str
    package: str
    port_offset: int
    build_step: int  # `kefu build` runs the bootstraps in this order

    @property
    def app(self) -> str:
        """The app factory as uvicorn takes it (`module:function`, called with factory=True)."""
        return f"{self.package}.app:create_app"

    @property
    def cli_module(self) -> str:
        return f"{self.package}.cli"

    @property
    def bootstrap_module(self) -> str:
        return f"{self.package}.bootstrap"

    def port(self, base: int = BASE_PORT) -> int:
        return base + self.port_offset

    def url(self, base: int = BASE_PORT, host: str = LOCAL_HOST) -> str:
        return f"http://{host}:{self.port(base)}"


# In start order: what the gateway calls is up before it is. Build order: the catalog
# (retrieval) before anything that reads products, the gateway's demo orders next, the LLM last
# (the longest).
SERVICES: tuple[Service, ...] = (
    Service("intent", "services.intent", port_offset=1, build_step=3),
    Service("dialog", "services.dialog", port_offset=2, build_step=4),
    Service("retrieval", "services.retrieval", port_offset=3, build_step=1),
    Service("llm", "services.llm", port_offset=4, build_step=5),
    Service("gateway", "gateway", port_offset=0, build_step=2),
)

BY_NAME: dict[str, Service] = {s.name: s for s in SERVICES}
START_ORDER: tuple[str, ...] = tuple(s.name for s in SERVICES)
BUILD_ORDER: tuple[str, ...] = tuple(s.name for s in sorted(SERVICES, key=lambda s: s.build_step))
APPS: dict[str, str] = {s.name: s.app for s in SERVICES}
PORT_OFFSETS: dict[str, int] = {s.name: s.port_offset for s in SERVICES}
PORT_SPAN = max(PORT_OFFSETS.values()) + 1  # consecutive ports `kefu up --port P` takes from P


def service(name: str) -> Service:
    """The service called `name` (KeyError for a name not in the table)."""
    return BY_NAME[name]


def port(name: str, base: int = BASE_PORT) -> int:
    """Where `name` listens when the gateway listens at `base` (`kefu up --port base`)."""
    return BY_NAME[name].port(base)


def local_url(name: str, base: int = BASE_PORT) -> str:
    return BY_NAME[name].url(base)
