"""`kefu llm …` commands: `serve` here; `train` comes from services.llm.responder.cli when present."""

from __future__ import annotations

import argparse
import importlib
import os


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from kefu.logging import configure_logging
    from kefu.settings import get_settings

    os.environ["KEFU_LLM_MODEL"] = args.model  # the app factory reads it through Settings
    for flag, env in (("max_batch", "KEFU_LLM_MAX_BATCH"), ("max_len", "KEFU_LLM_MAX_LEN"),
                      ("dtype", "KEFU_LLM_DTYPE"), ("upstream", "KEFU_LLM_UPSTREAM")):
        if getattr(args, flag, None) is not None:
            os.environ[env] = str(getattr(args, flag))
    if args.int8:
        os.environ["KEFU_LLM_INT8"] = "1"
    get_settings.cache_clear()
    configure_logging("llm", get_settings().log_level)
    uvicorn.run("services.llm.app:create_app", factory=True, host=args.host, port=args.port, log_config=None,
                access_log=False, timeout_graceful_shutdown=5)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    from kefu.cli import add_data_dir

    llm = subparsers.add_parser("llm", help="generation service: serve a model (and train the default one)")
    llm_sub = llm.add_subparsers(dest="llm_command", required=True)
    serve = llm_sub.add_parser("serve", help="serve one model alone with the OpenAI-compatible API")
    add_data_dir(serve)
    serve.add_argument("--model", required=True,
                       help="Hugging Face folder, .gguf file, 'kefu-responder' or 'smollm2'")
    serve.add_argument("--port", type=int, default=8004)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--max-batch", dest="max_batch", type=int, default=None)
    serve.add_argument("--max-len", dest="max_len", type=int, default=None, help="context window cap")
    serve.add_argument("--dtype", choices=["float32", "bfloat16", "float16"], default=None)
    serve.add_argument("--int8", action="store_true", help="weight-only INT8 linear layers")
    serve.add_argument("--upstream", default=None, help="proxy to this OpenAI-compatible base URL instead")
    serve.set_defaults(func=_serve)
    try:
        responder_cli = importlib.import_module("services.llm.responder.cli")
    except ModuleNotFoundError as exc:
        if exc.name not in {"services.llm.responder", "services.llm.responder.cli"}:
            raise
    else:
        responder_cli.register(llm_sub)
