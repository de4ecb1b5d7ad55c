"""kefu's own PyTorch decoder for DeepSeek-V3 (MLA + MoE) and Llama (GQA) checkpoints."""

from services.llm.model.batch import StepBatch
from services.llm.model.config import ModelConfig
from services.llm.model.transformer import CausalLM

__all__ = ["CausalLM", "ModelConfig", "StepBatch"]
