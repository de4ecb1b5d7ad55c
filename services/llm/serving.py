"""OpenAI chat/completions logic over the engine (no routes here: app.py only wires them).

Chat template: the tokenizer's own `chat_template` when it has one (SmolLM2, kefu-responder);
otherwise kefu's documented fallback::

    <|system|>\n{system}\n<|user|>\n{user}\n<|assistant|>\n{assistant}\n ... <|assistant|>\n

Post-processing: a model folder whose meta.json says `"kefu_delexicalised": true` (the default
kefu-responder) writes placeholders such as `[order.tracking]`; its replies are relexicalised from
the prompt's FACTS block (`services/llm/responder/delex.py`) — whole text when not streaming,
clause by clause when streaming. Every other model's text passes through untouched.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import AsyncIterator
from typing import Any

import orjson
from fastapi.responses import JSONResponse, StreamingResponse

from kefu import tracing
from kefu.errors import APIError
from services.llm.engine import Engine, EngineStopped, GenerationEvent, PromptTooLong, QueueFull
from services.llm.protocol import (
    ChatChoice,
    ChatChoiceMessage,
    ChatCompletionRequest,
    ChatCompletionResponse,
    CompletionChoice,
    CompletionRequest,
    CompletionResponse,
    ModelCard,
    ModelList,
    Usage,
    chat_chunk,
    completion_chunk,
    new_id,
)
from services.llm.responder.delex import (
    StreamRelexer,
    facts_of_messages,
    is_delexicalised,
    parse_facts,
    relexicalise,
)
from services.llm.sampling import SamplingParams

FALLBACK_TEMPLATE_DOC = "<|system|>/<|user|>/<|assistant|> blocks, one per message, then '<|assistant|>\\n'"
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def render_chat(tokenizer: Any, messages: list[dict[str, str]]) -> str:
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    parts = [f"<|{m['role']}|>\n{m['content']}\n" for m in messages]
    return "".join(parts) + "<|assistant|>\n"


def sse(obj: Any) -> bytes:
    return b"data: " + (obj if isinstance(obj, bytes) else orjson.dumps(obj)) + b"\n\n"


class OpenAIServing:
    def __init__(self, engine: Engine, model_name: str, aliases: set[str]) -> None:
        self.engine = engine
        self.model_name = model_name
        self.aliases = {model_name, *aliases}
        self.tokenizer = engine.tokenizer
        self.delexicalised = is_delexicalised(getattr(engine.loaded, "path", None))

    # ------------------------------------------------------------------ helpers
    def models(self) -> ModelList:
        return ModelList(data=[ModelCard(id=self.model_name, max_model_len=self.engine.max_len,
                                         root=self.engine.loaded.path)])

    def check_model(self, name: str | None) -> None:
        if name and name not in self.aliases:
            raise APIError(404, "model_not_found",
                           f"model {name!r} is not served here; available: {self.model_name!r}")

    def _params(self, req: ChatCompletionRequest | CompletionRequest, default_max: int | None) -> SamplingParams:
        max_tokens = getattr(req, "max_completion_tokens", None) or req.max_tokens
        return SamplingParams(max_tokens=max_tokens or default_max or 16, temperature=req.temperature,
                              top_p=req.top_p, stop=req.stop_list(), seed=req.seed)

    def _submit(self, prompt: str, params: SamplingParams, explicit_max: bool) -> Any:
        ids = self.tokenizer.encode(prompt, add_special_tokens=False)
        bos = self.engine.loaded.config.bos_token_id
        if (bos is not None and getattr(self.tokenizer, "add_bos_token", False)
                and (not ids or ids[0] != bos)):
            ids = [bos, *ids]
        if not ids:
            raise APIError(400, "empty_prompt", "the prompt is empty after tokenization")
        room = self.engine.max_len - len(ids)
        if room <= 0:
            raise APIError(400, "context_length_exceeded",
                           f"prompt is {len(ids)} tokens but this model's context window is "
                           f"{self.engine.max_len} tokens; shorten the prompt")
        if not explicit_max:
            params.max_tokens = min(params.max_tokens, room)
        try:
            return self.engine.submit(ids, params)
        except PromptTooLong as exc:
            raise APIError(400, "context_length_exceeded", str(exc)) from exc
        except QueueFull as exc:
            raise APIError(429, "overloaded", str(exc), headers={"Retry-After": str(exc.retry_after_s)}) from exc
        except EngineStopped as exc:
            raise APIError(503, "unavailable", str(exc), headers={"Retry-After": "5"}) from exc

    def _submit_n(self, prompt: str, params: SamplingParams, explicit_max: bool, n: int) -> list[Any]:
        """n choices = n sequences in the batch (a seed gives choice i the seed + i); if the queue
        fills part way, the ones already queued are cancelled and the request gets the 429."""
        handles: list[Any] = []
        try:
            for i in range(n):
                p = params if i == 0 else dataclasses.replace(
                    params, seed=None if params.seed is None else params.seed + i, stop=list(params.stop))
                handles.append(self._submit(prompt, p, explicit_max))
        except APIError:
            for h in handles:
                h.cancel()
            raise
        return handles

    @staticmethod
    async def _merged(handles: list[Any]) -> AsyncIterator[tuple[int, GenerationEvent]]:
        """(choice index, event) from every handle as they come; leaving early cancels them all."""
        if len(handles) == 1:
            async for ev in handles[0].stream():
                yield 0, ev
            return
        queue: asyncio.Queue[tuple[int, GenerationEvent | None]] = asyncio.Queue()

        async def pump(i: int, h: Any) -> None:
            try:
                async for ev in h.stream():
                    await queue.put((i, ev))
            finally:
                await queue.put((i, None))

        tasks = [asyncio.create_task(pump(i, h)) for i, h in enumerate(handles)]
        try:
            open_ = len(handles)
            while open_:
                i, ev = await queue.get()
                if ev is None:
                    open_ -= 1
                else:
                    yield i, ev
        finally:
            for t in tasks:
                t.cancel()
            for h in handles:
                h.cancel()
            for t in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await t

    async def _replies(self, handles: list[Any], facts: dict[str, str] | None) -> list[tuple[str, GenerationEvent]]:
        """Every choice's whole text (placeholders filled from `facts` when given) and final event."""
        try:
            results = list(await asyncio.gather(*(self._drain(h) for h in handles)))
        except BaseException:  # one failed or the client left: stop the others too
            for h in handles:
                h.cancel()
            raise
        for _, ev in results:
            self._raise_for(ev)
        return [(relexicalise(text, facts)[0] if facts is not None else text, ev) for text, ev in results]

    async def _pieces(self, handles: list[Any], facts: dict[str, str] | None
                      ) -> AsyncIterator[tuple[int, str, GenerationEvent]]:
        """(choice, text to send, event) as generation goes, relexicalised clause by clause."""
        relex = [StreamRelexer(facts) if facts is not None else None for _ in handles]
        async for i, ev in self._merged(handles):
            r = relex[i]
            text = r.feed(ev.text) if r is not None and ev.text else ev.text
            if ev.finished and r is not None:
                text += r.finish()
            yield i, text, ev

    @staticmethod
    def _usage(events: list[GenerationEvent]) -> Usage:
        done = sum(ev.completion_tokens for ev in events)
        tracing.annotate(**{"gen_ai.usage.input_tokens": events[0].prompt_tokens,
                            "gen_ai.usage.output_tokens": done})
        return Usage(prompt_tokens=events[0].prompt_tokens, completion_tokens=done,
                     total_tokens=events[0].prompt_tokens + done)

    @staticmethod
    async def _drain(handle: Any) -> tuple[str, GenerationEvent]:
        text = ""
        async for ev in handle.stream():
            text += ev.text
            if ev.finished:
                return text, ev
        raise APIError(503, "generation_failed", "generation ended without a result")

    @staticmethod
    def _raise_for(ev: GenerationEvent) -> None:
        if ev.finish_reason == "timeout":
            raise APIError(504, "timeout", ev.error or "generation timed out")
        if ev.finish_reason == "error":
            raise APIError(503, "generation_failed", ev.error or "generation failed", headers={"Retry-After": "5"})

    @staticmethod
    def _finish(ev: GenerationEvent) -> str:
        return ev.finish_reason if ev.finish_reason in {"stop", "length"} else (ev.finish_reason or "stop")

    # ------------------------------------------------------------------ endpoints
    async def chat(self, req: ChatCompletionRequest) -> JSONResponse | StreamingResponse:
        self.check_model(req.model)
        if req.wants_json():  # a schema the sampler does not enforce would be a promise it cannot keep
            raise APIError(400, "unsupported_response_format",
                           "kefu's own engine does not constrain output to JSON; serve the model through vLLM or "
                           "SGLang (kefu serve llm --upstream URL) for response_format json_schema/json_object")
        try:
            messages = [{"role": "system" if m.role == "developer" else m.role, "content": m.text()}
                        for m in req.messages]
        except ValueError as exc:
            raise APIError(400, "invalid_request", str(exc)) from exc
        if not any(m["role"] == "user" and m["content"].strip() for m in messages):
            raise APIError(400, "invalid_request", "messages must contain a non-empty user message")
        prompt = render_chat(self.tokenizer, messages)
        explicit = (req.max_completion_tokens or req.max_tokens) is not None
        handles = self._submit_n(prompt, self._params(req, 256), explicit, req.n)
        rid, created, model = new_id("chatcmpl"), int(time.time()), self.model_name
        facts = facts_of_messages(messages) if self.delexicalised else None
        if not req.stream:
            results = await self._replies(handles, facts)
            choices = [ChatChoice(index=i, message=ChatChoiceMessage(content=text), finish_reason=self._finish(ev))
                       for i, (text, ev) in enumerate(results)]
            body = ChatCompletionResponse(id=rid, created=created, model=model, choices=choices,
                                          usage=self._usage([ev for _, ev in results]))
            return JSONResponse(body.model_dump())

        async def events() -> AsyncIterator[bytes]:
            finished: list[GenerationEvent] = []
            for i in range(len(handles)):
                yield sse(chat_chunk(rid, model, created, {"role": "assistant", "content": ""}, None, index=i))
            async for i, text, ev in self._pieces(handles, facts):
                if text:
                    yield sse(chat_chunk(rid, model, created, {"content": text}, None, index=i))
                if ev.finished:
                    finished.append(ev)
                    if ev.finish_reason in {"timeout", "error"}:
                        yield sse({"error": {"code": ev.finish_reason, "message": ev.error or ev.finish_reason}})
                    # usage rides on the last choice's final chunk: the whole request's tokens
                    usage = self._usage(finished).model_dump() if len(finished) == len(handles) else None
                    yield sse(chat_chunk(rid, model, created, {}, self._finish(ev), usage, index=i))
            yield b"data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream", headers=SSE_HEADERS)

    async def completion(self, req: CompletionRequest) -> JSONResponse | StreamingResponse:
        self.check_model(req.model)
        prompt = req.prompt_text()
        if not prompt:
            raise APIError(400, "invalid_request", "prompt must not be empty")
        handles = self._submit_n(prompt, self._params(req, 16), req.max_tokens is not None, req.n)
        rid, created, model = new_id("cmpl"), int(time.time()), self.model_name
        facts = parse_facts(prompt) if self.delexicalised else None
        if not req.stream:
            results = await self._replies(handles, facts)
            choices = [CompletionChoice(index=i, text=text, finish_reason=self._finish(ev))
                       for i, (text, ev) in enumerate(results)]
            body = CompletionResponse(id=rid, created=created, model=model, choices=choices,
                                      usage=self._usage([ev for _, ev in results]))
            return JSONResponse(body.model_dump())

        async def events() -> AsyncIterator[bytes]:
            async for i, text, ev in self._pieces(handles, facts):
                if text:
                    yield sse(completion_chunk(rid, model, created, text, None, index=i))
                if ev.finished:
                    if ev.finish_reason in {"timeout", "error"}:
                        yield sse({"error": {"code": ev.finish_reason, "message": ev.error or ev.finish_reason}})
                    yield sse(completion_chunk(rid, model, created, "", self._finish(ev), index=i))
            yield b"data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream", headers=SSE_HEADERS)
