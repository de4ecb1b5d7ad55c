"""Prometheus metrics of the generation engine (module-level: one registry per process)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

QUEUE_DEPTH = Gauge("kefu_llm_queue_depth", "Requests waiting for a batch slot")
RUNNING = Gauge("kefu_llm_running_requests", "Requests holding a batch slot")
BATCH_SIZE = Histogram("kefu_llm_batch_size", "Sequences per engine step",
                       buckets=(1, 2, 4, 8, 16, 32, 64, 128))
STEP_TOKENS = Histogram("kefu_llm_step_tokens", "Tokens per engine step (prefill + decode)",
                        buckets=(1, 4, 16, 64, 256, 1024, 4096))
GENERATED = Counter("kefu_llm_generated_tokens_total", "Completion tokens generated")
PROMPT = Counter("kefu_llm_prompt_tokens_total", "Prompt tokens prefilled")
TOKENS_PER_S = Gauge("kefu_llm_tokens_per_second", "Completion tokens per second (last ~5 s)")
TTFT = Histogram("kefu_llm_ttft_seconds", "Time to first token",
                 buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
FINISHED = Counter("kefu_llm_requests_total", "Finished requests", ["finish_reason"])
REJECTED = Counter("kefu_llm_rejected_total", "Requests refused because the queue was full")
EXPERT_TOKENS = Counter("kefu_llm_expert_tokens_total", "Tokens routed to each expert", ["layer", "expert"])
EXPERT_IMBALANCE = Gauge("kefu_llm_expert_load_imbalance",
                         "Max/mean tokens per routed expert since start (1.0 = perfectly balanced)", ["layer"])
