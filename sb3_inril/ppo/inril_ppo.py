from typing import Any, ClassVar, Literal

import torch as th
from stable_baselines3 import PPO
from stable_baselines3.common.buffers import RolloutBuffer
from stable_baselines3.common.distributions import Distribution
from stable_baselines3.common.policies import ActorCriticPolicy, BasePolicy
from stable_baselines3.common.type_aliases import GymEnv, Schedule

from sb3_inril.common.demonstrations import DemonstrationSource
from sb3_inril.common.inril import InRILMixin
from sb3_inril.ppo.policies import CnnPolicy, MlpPolicy


class InRILPPO(InRILMixin, PPO):
    """
    Proximal Policy Optimization with interleaved imitation learning (IN-RIL).

    After every ``il_interval`` optimizer steps of PPO's own update (counted across ``train()``
    calls), ``il_steps`` behaviour-cloning steps are taken on demonstration minibatches with a
    separate optimizer. Only the actor (policy network, action head, ``log_std``) receives IL
    gradients; the value network never does. With ``il_interval=None`` this is plain PPO.

    Paper: https://arxiv.org/abs/2505.10442. PPO's own parameters are documented in SB3
    (https://stable-baselines3.readthedocs.io/en/master/modules/ppo.html).

    :param policy: the policy model to use (MlpPolicy, CnnPolicy, ...)
    :param env: the environment to learn from (if registered in Gym, can be str)
    :param demonstrations: expert demonstrations: path to an ``.npz`` file, dict of arrays,
        imitation ``Transitions`` or sequence of imitation ``Trajectory`` objects
    :param il_interval: ``m``, PPO optimizer steps between two IL injections (None: plain PPO)
    :param il_steps: ``k``, IL gradient steps per injection
    :param il_batch_size: demonstrations per IL minibatch (default: ``batch_size``)
    :param il_learning_rate: IL learning rate, float or schedule (default: ``learning_rate``)
    :param il_loss: ``"nll"`` (default) or ``"mse"``
    :param il_interval_unit: ``"gradient_step"`` (default) or ``"train_call"`` (per rollout)
    :param il_max_grad_norm: clip the IL gradient norm (None: no clipping)
    :param il_share_optimizer: take IL steps with PPO's optimizer instead of a separate Adam
    :param demo_val_fraction: fraction of demonstration episodes held out for diagnostics
    """

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {"MlpPolicy": MlpPolicy, "CnnPolicy": CnnPolicy}
    policy: ActorCriticPolicy

    def __init__(
        self,
        policy: str | type[ActorCriticPolicy],
        env: GymEnv | str,
        demonstrations: DemonstrationSource | None = None,
        il_interval: int | None = 10,
        il_steps: int = 1,
        il_batch_size: int | None = None,
        il_learning_rate: float | Schedule | None = None,
        il_loss: Literal["nll", "mse"] = "nll",
        il_interval_unit: Literal["gradient_step", "train_call"] = "gradient_step",
        il_max_grad_norm: float | None = None,
        il_share_optimizer: bool = False,
        demo_val_fraction: float = 0.1,
        learning_rate: float | Schedule = 3e-4,
        n_steps: int = 2048,
        batch_size: int = 64,
        n_epochs: int = 10,
        gamma: float = 0.99,
        gae_lambda: float = 0.95,
        clip_range: float | Schedule = 0.2,
        clip_range_vf: float | Schedule | None = None,
        normalize_advantage: bool = True,
        ent_coef: float = 0.0,
        vf_coef: float = 0.5,
        max_grad_norm: float = 0.5,
        use_sde: bool = False,
        sde_sample_freq: int = -1,
        rollout_buffer_class: type[RolloutBuffer] | None = None,
        rollout_buffer_kwargs: dict[str, Any] | None = None,
        target_kl: float | None = None,
        stats_window_size: int = 100,
        tensorboard_log: str | None = None,
        policy_kwargs: dict[str, Any] | None = None,
        verbose: int = 0,
        seed: int | None = None,
        device: th.device | str = "auto",
        _init_setup_model: bool = True,
    ):
        super().__init__(
            policy,
            env,
            learning_rate=learning_rate,
            n_steps=n_steps,
            batch_size=batch_size,
            n_epochs=n_epochs,
            gamma=gamma,
            gae_lambda=gae_lambda,
            clip_range=clip_range,
            clip_range_vf=clip_range_vf,
            normalize_advantage=normalize_advantage,
            ent_coef=ent_coef,
            vf_coef=vf_coef,
            max_grad_norm=max_grad_norm,
            use_sde=use_sde,
            sde_sample_freq=sde_sample_freq,
            rollout_buffer_class=rollout_buffer_class,
            rollout_buffer_kwargs=rollout_buffer_kwargs,
            target_kl=target_kl,
            stats_window_size=stats_window_size,
            tensorboard_log=tensorboard_log,
            policy_kwargs=policy_kwargs,
            verbose=verbose,
            seed=seed,
            device=device,
            _init_setup_model=False,
        )
        self._init_inril(
            demonstrations=demonstrations,
            il_interval=il_interval,
            il_steps=il_steps,
            il_batch_size=il_batch_size,
            il_learning_rate=il_learning_rate,
            il_loss=il_loss,
            il_interval_unit=il_interval_unit,
            il_max_grad_norm=il_max_grad_norm,
            il_share_optimizer=il_share_optimizer,
            demo_val_fraction=demo_val_fraction,
        )
        if _init_setup_model:
            self._setup_model()

    def _il_rl_optimizer(self) -> th.optim.Optimizer:
        return self.policy.optimizer

    def _il_parameters(self) -> list[th.nn.Parameter]:
        modules = [self.policy.pi_features_extractor, self.policy.mlp_extractor.policy_net, self.policy.action_net]
        params = {id(param): param for module in modules for param in module.parameters()}
        log_std = getattr(self.policy, "log_std", None)
        if isinstance(log_std, th.nn.Parameter):
            params[id(log_std)] = log_std
        return list(params.values())

    def _il_distribution(self, observations: th.Tensor) -> Distribution:
        return self.policy.get_distribution(observations)
