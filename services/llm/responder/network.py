"""The responder network: transformers' own DeepSeek-V3 class (so the saved folder is a genuine
Hugging Face checkpoint any loader reads), its aux-loss-free expert balancing, and the reply loss."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def build_model(model_cfg: dict[str, Any], tok: Any, seed: int) -> Any:
    """A fresh DeepseekV3ForCausalLM of `model_cfg` (TrainConfig.model) sized to the tokenizer."""
    import torch
    from transformers import DeepseekV3Config, DeepseekV3ForCausalLM

    m = dict(model_cfg)
    rope_theta = m.pop("rope_theta", 10000.0)
    mc = DeepseekV3Config(
        vocab_size=len(tok),
        pad_token_id=tok.pad_token_id,
        eos_token_id=tok.eos_token_id,
        bos_token_id=None,
        rope_parameters={"rope_type": "default", "rope_theta": rope_theta},
        num_mtp_layers=0,
        **m,
    )
    torch.manual_seed(seed)
    model = DeepseekV3ForCausalLM(mc)
    model.generation_config.pad_token_id = tok.pad_token_id
    model.generation_config.eos_token_id = tok.eos_token_id
    model.generation_config.bos_token_id = None
    return model


def active_params(model: Any) -> int:
    """Parameters one token touches: all but the routed experts it is not sent to."""
    cfg = model.config
    total = sum(p.numel() for p in model.parameters())
    routed = sum(p.numel() for n, p in model.named_parameters() if ".mlp.experts." in n)
    return int(total - routed + routed * cfg.num_experts_per_tok / cfg.n_routed_experts)


class LoadBalancer:
    """DeepSeek-V3's aux-loss-free balancing: nudge each router's score bias towards idle experts."""

    def __init__(self, model: Any, rate: float) -> None:
        from transformers.models.deepseek_v3.modeling_deepseek_v3 import DeepseekV3TopkRouter

        self.rate = rate
        self.routers = [m for m in model.modules() if isinstance(m, DeepseekV3TopkRouter)]
        self.counts: list[Any] = [None] * len(self.routers)
        for i, r in enumerate(self.routers):
            r.register_forward_hook(self._hook(i))

    def _hook(self, i: int) -> Callable[..., None]:
        def hook(module: Any, _inp: Any, out: Any) -> None:
            import torch

            if module.training:
                c = torch.bincount(out[2].reshape(-1), minlength=module.num_experts).float()
                self.counts[i] = c if self.counts[i] is None else self.counts[i] + c

        return hook

    def step(self) -> float:
        """Apply the bias update; returns the worst max/mean expert load of the step."""
        import torch

        worst = 0.0
        with torch.no_grad():
            for r, c in zip(self.routers, self.counts, strict=True):
                if c is None or c.sum() == 0:
                    continue
                mean = c.mean()
                r.e_score_correction_bias += self.rate * torch.sign(mean - c)
                worst = max(worst, float(c.max() / mean))
        self.counts = [None] * len(self.routers)
        return worst


def reply_loss(model: Any, ids: Any, labels: Any, weights: Any = None) -> Any:
    """Cross-entropy on reply tokens only, computing the LM head only where a label exists.

    The prompt is ~80% of every sequence, so skipping its logits saves most of the vocabulary
    projection. No attention mask: padding is on the right and attention is causal, so pads never
    reach a real position (and SDPA takes its fast causal path).
    """
    import torch.nn.functional as F

    hidden = model.model(input_ids=ids).last_hidden_state[:, :-1]
    target = labels[:, 1:]
    sel = target != -100
    logits = model.lm_head(hidden[sel])
    if weights is None:
        return F.cross_entropy(logits.float(), target[sel])
    w = weights[:, 1:][sel]
    return (F.cross_entropy(logits.float(), target[sel], reduction="none") * w).sum() / w.sum()
