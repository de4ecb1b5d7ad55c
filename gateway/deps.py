"""FastAPI dependencies of the gateway's routes: the gateway's parts, the conversation a
shopper's token opens, the agent a key names, and per-address rate limits."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Path, Request

from gateway.forwarded import client_address, parse_trusted
from gateway.security import bearer, token_matches
from gateway.state import Gateway
from kefu.errors import APIError

CID_MAX = 64


def get_gateway(request: Request) -> Gateway:
    return request.app.state.gw


GatewayDep = Annotated[Gateway, Depends(get_gateway)]
ConversationId = Annotated[str, Path(description="conversation id from POST /v1/conversations")]


def _valid_cid(cid: str) -> None:
    if len(cid) > CID_MAX or not cid.replace("-", "").replace("_", "").isalnum():
        raise APIError(404, "not_found", "unknown conversation")


async def _owned(cid: str, token: str | None, gw: Gateway) -> dict[str, Any]:
    """The conversation's record, if the caller holds its token (401 none, 403 wrong, 404 unknown)."""
    _valid_cid(cid)
    rec = await gw.store.get(cid)
    if rec is None:
        raise APIError(404, "not_found", "unknown conversation")
    if token is None:
        raise APIError(401, "unauthorized", "conversation token required (Authorization: Bearer TOKEN)",
                       headers={"WWW-Authenticate": "Bearer"})
    if not token_matches(token, rec.get("th", "")):
        raise APIError(403, "forbidden", "this token does not belong to the conversation")
    return rec


async def owned_conversation(cid: ConversationId, request: Request, gw: GatewayDep) -> dict[str, Any]:
    return await _owned(cid, bearer(request.headers.get("authorization")), gw)


async def owned_conversation_or_query(cid: ConversationId, request: Request, gw: GatewayDep) -> dict[str, Any]:
    """As `owned_conversation`, also taking ?token= (EventSource cannot send headers)."""
    token = bearer(request.headers.get("authorization")) or request.query_params.get("token")
    return await _owned(cid, token, gw)


OwnedConversation = Annotated[dict[str, Any], Depends(owned_conversation)]
OwnedConversationOrQuery = Annotated[dict[str, Any], Depends(owned_conversation_or_query)]


async def agent_name(request: Request, gw: GatewayDep) -> str:
    return await gw.agents.check(bearer(request.headers.get("authorization")), client_ip(request))


async def agent_name_or_query(request: Request, gw: GatewayDep) -> str:
    """As `agent_name`, also taking ?key= (the dashboard's EventSource)."""
    key = bearer(request.headers.get("authorization")) or request.query_params.get("key")
    return await gw.agents.check(key, client_ip(request))


Agent = Annotated[str, Depends(agent_name)]
AgentOrQuery = Annotated[str, Depends(agent_name_or_query)]


async def agent_conversation(cid: ConversationId, gw: GatewayDep) -> dict[str, Any]:
    """Any conversation, for an agent (the route's `Agent` dependency checks the key first)."""
    rec = await gw.store.get(cid) if len(cid) <= CID_MAX else None
    if rec is None:
        raise APIError(404, "not_found", "unknown conversation")
    return rec


def client_ip(request: Request) -> str:
    """The peer, or the client a trusted proxy names in X-Forwarded-For (gateway/forwarded.py)."""
    peer = request.client.host if request.client else "unknown"
    trusted = request.app.state.gw.s.trusted_proxies
    if not trusted:
        return peer
    # Every X-Forwarded-For line, joined: HAProxy's `option forwardfor` appends a header line of
    # its own after the one the shopper sent, and the first line alone is the shopper's word.
    forwarded = ",".join(request.headers.getlist("x-forwarded-for")) or None
    return client_address(peer, forwarded, parse_trusted(trusted))


async def limit_ip(request: Request, gw: GatewayDep) -> None:
    """Shopper requests per address and minute (429 + Retry-After)."""
    await gw.limiter.hit("ip", client_ip(request), gw.s.rate_limit_ip_per_min)


# Reads are cheaper than turns but not free (each catalog page is a retrieval call): a client may
# read this many times its per-address message budget per minute, then gets 429 like a writer.
READS_PER_WRITE = 4


async def limit_reads(request: Request, gw: GatewayDep) -> None:
    """GETs per address and minute (the catalog, transcripts, conversation status)."""
    await gw.limiter.hit("read", client_ip(request), gw.s.rate_limit_ip_per_min * READS_PER_WRITE)


async def limit_new_conversations(request: Request, gw: GatewayDep) -> None:
    await gw.limiter.hit("newconv", client_ip(request), gw.s.rate_limit_new_conv_per_min)
