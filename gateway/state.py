"""The gateway's parts, built once per process in the lifespan and kept on `app.state.gw`
(routes reach them through `gateway.deps`, never through module globals)."""

from __future__ import annotations

import contextlib

from redis.asyncio import Redis

from gateway.cache import ResponseCache
from gateway.clients import Dependencies
from gateway.config import GatewaySettings
from gateway.conversation.agents import AgentDesk
from gateway.conversation.locks import LocalLocks
from gateway.conversation.parking import ParkedTurns
from gateway.conversation.recording import Recorder
from gateway.conversation.replay import Replays
from gateway.events import EventHub
from gateway.orders import make_source
from gateway.orders.rules import load_rules
from gateway.orders.verify import Attempts
from gateway.security import AgentAuth, AgentLockout, RateLimiter
from gateway.shop import CategoryIndex
from gateway.store import ConversationStore
from gateway.transcripts import Transcripts
from gateway.turn.act import Actor
from gateway.turn.phrase import Phraser
from gateway.turn.pipeline import TurnPipeline
from gateway.turn.tools import ServiceCatalog, ServiceKnowledge
from gateway.turn.understand import Understander, Versions
from kefu.db import get_engine
from kefu.redis_conn import async_client


class Gateway:
    """Everything the routes need."""

    def __init__(self, settings: GatewaySettings) -> None:
        s = settings
        self.s = s
        # one node, a Cluster or a Sentinel primary (REDIS_URL's scheme): the gateway's pipelines
        # are never transactions and its keys are single-key, so all three serve it unchanged
        self.redis: Redis = async_client(s.redis_url, decode_responses=True, socket_timeout=2.0,
                                         socket_connect_timeout=1.0, health_check_interval=30)
        self.deps = Dependencies(s)
        get_engine(s.sql_url)  # creates tables if missing
        self.store = ConversationStore(self.redis, s.redis_prefix, s.sql_url)
        self.hub = EventHub(self.redis, s.redis_prefix)
        self.cache = ResponseCache(self.redis, s.redis_prefix, s.cache_ttl_s)
        self.orders = make_source(s)
        self.categories = CategoryIndex(self.deps)
        self.parked = ParkedTurns(self.redis, s.redis_prefix, self.deps, s.sql_url)
        self.transcripts = Transcripts(self.deps, s.sql_url)
        self.agents = AgentAuth(s.sql_url, s.agent_key, AgentLockout(
            self.redis, s.redis_prefix, s.agent_key_max_failures, s.agent_lockout_s))
        self.limiter = RateLimiter(self.redis, s.redis_prefix, s.rate_limits_enabled)
        self._build_turns(s)

    def _build_turns(self, s: GatewaySettings) -> None:
        versions = Versions()
        locks = self.locks = LocalLocks()
        recorder = Recorder(self.deps, self.redis, self.store, self.hub, self.parked)
        self.phraser = Phraser(s.llm_enabled, s.llm_model, self.deps, self.cache, versions)
        attempts = Attempts(self.redis, s.redis_prefix, s.verify_max_failures, s.verify_max_per_order_hour)
        actor = Actor(ServiceCatalog(self.deps), self.orders, ServiceKnowledge(self.deps), versions, attempts,
                      s.budget_orders_s)
        understander = Understander(self.deps, versions, s.verify_factor)
        self.turns = TurnPipeline(self.deps, self.redis, self.store, understander, actor,
                                  self.phraser, recorder, self.parked, Replays(self.redis, s.redis_prefix), locks,
                                  s.verify_factor, load_rules(s.policy_rules or None))
        self.desk = AgentDesk(self.deps, locks, recorder, self.store, self.hub)

    async def start(self) -> None:
        with contextlib.suppress(Exception):
            await self.hub.start()
        self.parked.start(self.locks)  # turns spooled before a restart are replayed at once


    async def stop(self) -> None:
        await self.parked.stop()
        await self.hub.stop()
        await self.deps.aclose()
        with contextlib.suppress(Exception):
            await self.redis.aclose()
