"""The default responder: a small DeepSeek-V3-architecture MoE that kefu trains itself.

`corpus` writes the grounded reply corpus (context -> reply, English and Chinese), `train` trains
the model on it (`tokenizer`, `batches` and `network` are its parts) and saves a Hugging Face
folder, `evaluate` measures fact copying on held-out contexts, `delex` turns facts into
placeholders and back, `grounding` constrains decoded numbers to the context. The serving engine
in `services/llm/` loads the saved folder like any checkpoint.
"""

MODEL_NAME = "kefu-responder"
