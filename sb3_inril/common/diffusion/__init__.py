"""Diffusion policies fine-tuned over their denoising chain (DPPO), with IN-RIL's denoising IL loss."""

from sb3_inril.common.diffusion.buffers import DenoisingChainRolloutBuffer, DictDenoisingChainRolloutBuffer
from sb3_inril.common.diffusion.denoiser import DiffusionSchedule, MlpDenoiser
from sb3_inril.common.diffusion.policies import (
    DiffusionActorCriticPolicy,
    DiffusionPolicy,
    MultiInputDiffusionActorCriticPolicy,
    MultiInputDiffusionPolicy,
)
from sb3_inril.common.diffusion.residual import (
    DictResidualBaseRolloutBuffer,
    MultiInputResidualDiffusionActorCriticPolicy,
    MultiInputResidualDiffusionPolicy,
    ResidualBaseRolloutBuffer,
    ResidualDiffusionActorCriticPolicy,
    ResidualDiffusionPolicy,
)

__all__ = [
    "DenoisingChainRolloutBuffer",
    "DictDenoisingChainRolloutBuffer",
    "DictResidualBaseRolloutBuffer",
    "DiffusionActorCriticPolicy",
    "DiffusionPolicy",
    "DiffusionSchedule",
    "MlpDenoiser",
    "MultiInputDiffusionActorCriticPolicy",
    "MultiInputDiffusionPolicy",
    "MultiInputResidualDiffusionActorCriticPolicy",
    "MultiInputResidualDiffusionPolicy",
    "ResidualBaseRolloutBuffer",
    "ResidualDiffusionActorCriticPolicy",
    "ResidualDiffusionPolicy",
]
