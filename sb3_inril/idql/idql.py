"""IDQL: Implicit Diffusion Q-Learning (Hansen-Estruch et al. 2023, https://arxiv.org/abs/2304.10573),
online, as DPPO fine-tunes diffusion policies with it (Ren et al. 2024; the paper's off-policy arm)."""

from typing import Any, ClassVar, TypeVar

import torch as th
from gymnasium import spaces
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.noise import ActionNoise
from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm
from stable_baselines3.common.policies import BasePolicy, ContinuousCritic
from stable_baselines3.common.type_aliases import GymEnv, MaybeCallback, ReplayBufferSamples, Schedule
from stable_baselines3.common.utils import get_parameters_by_name, polyak_update, update_learning_rate
from torch.nn import functional as F

try:
    from stable_baselines3.common.utils import FloatSchedule
except ImportError:  # stable-baselines3 < 2.7: the same conversion under its older name
    from stable_baselines3.common.utils import get_schedule_fn as FloatSchedule  # type: ignore[assignment]  # the older name of the same conversion

from sb3_inril.common.saving import AtomicReplayBufferSaveMixin
from sb3_inril.idql.policies import CnnPolicy, DiffusionActor, IDQLPolicy, MlpPolicy, MultiInputPolicy, ValueNetwork
from sb3_inril.validation import check_float, check_non_negative_int, check_positive_int, check_rate

SelfIDQL = TypeVar("SelfIDQL", bound="IDQL")


def expectile_loss(difference: th.Tensor, expectile: float) -> th.Tensor:
    """
    IQL's expectile regression loss ``|tau - 1(u < 0)| u^2`` of ``u = Q - V``, element-wise: its
    minimiser over ``V`` is the ``tau``-expectile of ``Q`` (0.5: the mean; towards 1: the maximum).
    """
    weight = th.where(difference > 0, expectile, 1.0 - expectile)
    return weight * difference**2


class IDQL(AtomicReplayBufferSaveMixin, OffPolicyAlgorithm):
    """
    Implicit Diffusion Q-Learning, online (IDQL; the off-policy arm of DPPO and of IN-RIL).

    Critics as in IQL: twin Q critics with a Polyak-averaged target, and a state value ``V`` fitted
    by the expectile loss to ``min(Q1, Q2)`` of the target critics on replayed actions; the Q
    target is ``r + gamma V(s')``, masked by termination only (SB3's replay buffer records a time
    limit's truncation as no termination). The actor is a diffusion model (the package's denoiser,
    shared with DPPO) trained by the plain denoising loss on replayed actions, not weighted by any
    return: the RL signal reaches the behaviour only through the action selection of the policy,
    which draws ``n_action_samples`` candidates and picks by the critics (see
    :class:`sb3_inril.idql.policies.IDQLPolicy`).

    Per gradient step: V (expectile loss), then the Q critics (against the V just updated), then
    the actor (denoising loss), then the target critics (every ``target_update_interval`` steps).

    Action chunks: wrap the env in :class:`sb3_inril.demos.chunking.ActionChunkWrapper`; a
    transition is then a chunk, its reward the chunk's, discounted once per chunk by ``gamma`` as
    DPPO does. Dict observations take ``"MultiInputPolicy"``. gSDE is refused (the denoising noise
    is the exploration).

    :param policy: the policy model to use (``MlpPolicy``, ``CnnPolicy``, ``MultiInputPolicy``)
    :param env: the environment to learn from (if registered in Gym, can be str)
    :param learning_rate: learning rate of the critics and the value (DPPO's robomimic configs:
        1e-3), float or schedule of the remaining progress
    :param actor_learning_rate: learning rate of the diffusion actor (DPPO's robomimic configs:
        1e-5); default: ``learning_rate``
    :param buffer_size: size of the replay buffer
    :param learning_starts: how many steps of the model to collect transitions for before learning starts
    :param batch_size: minibatch size of each gradient step
    :param tau: the Polyak coefficient of the target critics (DPPO: 0.001; SB3's SAC: 0.005)
    :param gamma: the discount factor (per transition: per chunk with action chunks)
    :param train_freq: update the model every ``train_freq`` steps (an int, or a tuple with the unit)
    :param gradient_steps: how many gradient steps after each rollout (-1: as many as env steps)
    :param action_noise: an action noise added to the selected action (rarely wanted: the
        denoising noise and the candidate draw are the exploration)
    :param replay_buffer_class: the replay buffer class (e.g. ``HerReplayBuffer``,
        :class:`sb3_inril.demos.replay.DemonstrationReplayBuffer`); default: SB3's choice
    :param replay_buffer_kwargs: keyword arguments of the replay buffer
    :param optimize_memory_usage: SB3's memory-efficient replay buffer
    :param n_steps: n-step returns (SB3's ``NStepReplayBuffer``), 1: one-step
    :param expectile: tau of V's expectile loss, in (0, 1) (IQL/IDQL: 0.8 for these tasks; 0.5
        fits V to the mean Q under the replayed actions, towards 1 to their best)
    :param critic_warmup_steps: for the first N gradient steps, only V and the Q critics learn; the
        actor is held (DPPO: the first 5 iterations), so that the first candidates are ranked by a
        critic that has seen returns
    :param target_update_interval: update the target critics every this many gradient steps
    :param stats_window_size: window size of the rollout logging (episodes)
    :param tensorboard_log: the log location for TensorBoard (None: no logging)
    :param policy_kwargs: additional arguments of the policy (see :class:`sb3_inril.idql.policies.IDQLPolicy`)
    :param verbose: 0 no output, 1 info messages, 2 debug messages
    :param seed: seed of the pseudo random generators
    :param device: device (cpu, cuda, ...) on which the code should run ("auto": CUDA when available)
    :param use_sde: must be False (a ``ValueError`` otherwise): gSDE has no meaning for a diffusion actor
    :param _init_setup_model: whether or not to build the network at the creation of the instance
    """

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {
        "MlpPolicy": MlpPolicy,
        "CnnPolicy": CnnPolicy,
        "MultiInputPolicy": MultiInputPolicy,
    }
    #: Whether ``train()`` itself holds the actor during the critic warm-up (IN-RIL's classes hold it
    #: with their optimizer hooks instead, which also count the warm-up steps).
    holds_actor_in_warmup: ClassVar[bool] = True

    policy: IDQLPolicy
    actor: DiffusionActor
    critic: ContinuousCritic
    critic_target: ContinuousCritic
    value_net: ValueNetwork

    def __init__(
        self,
        policy: str | type[IDQLPolicy],
        env: GymEnv | str,
        learning_rate: float | Schedule = 3e-4,
        actor_learning_rate: float | Schedule | None = None,
        buffer_size: int = 1_000_000,
        learning_starts: int = 100,
        batch_size: int = 256,
        tau: float = 0.005,
        gamma: float = 0.99,
        train_freq: int | tuple[int, str] = 1,
        gradient_steps: int = 1,
        action_noise: ActionNoise | None = None,
        replay_buffer_class: type[ReplayBuffer] | None = None,
        replay_buffer_kwargs: dict[str, Any] | None = None,
        optimize_memory_usage: bool = False,
        n_steps: int = 1,
        expectile: float = 0.8,
        critic_warmup_steps: int = 0,
        target_update_interval: int = 1,
        stats_window_size: int = 100,
        tensorboard_log: str | None = None,
        policy_kwargs: dict[str, Any] | None = None,
        verbose: int = 0,
        seed: int | None = None,
        device: th.device | str = "auto",
        use_sde: bool = False,
        _init_setup_model: bool = True,
    ) -> None:
        # Checked before anything is built: a bad value must not surface mid-run.
        if use_sde:
            raise ValueError("use_sde: IDQL explores through its denoising noise and candidate draw, found use_sde=True")
        check_float("expectile", expectile, 0.0, 1.0, low_open=True, high_open=True)
        check_float("tau", tau, 0.0, 1.0)
        check_non_negative_int("critic_warmup_steps", critic_warmup_steps)
        check_positive_int("target_update_interval", target_update_interval, allow_none=False)
        check_rate("actor_learning_rate", actor_learning_rate)
        super().__init__(
            policy,
            env,
            learning_rate,
            buffer_size,
            learning_starts,
            batch_size,
            tau,
            gamma,
            train_freq,
            gradient_steps,
            action_noise,
            replay_buffer_class=replay_buffer_class,
            replay_buffer_kwargs=replay_buffer_kwargs,
            optimize_memory_usage=optimize_memory_usage,
            n_steps=n_steps,
            policy_kwargs=policy_kwargs,
            stats_window_size=stats_window_size,
            tensorboard_log=tensorboard_log,
            verbose=verbose,
            device=device,
            seed=seed,
            use_sde=False,
            supported_action_spaces=(spaces.Box,),
            support_multi_env=True,
            sde_support=False,
        )
        self.actor_learning_rate = actor_learning_rate
        self.expectile = float(expectile)
        self.critic_warmup_steps = int(critic_warmup_steps)
        self.target_update_interval = int(target_update_interval)
        if _init_setup_model:
            self._setup_model()

    def _setup_model(self) -> None:
        super()._setup_model()
        self._create_aliases()
        update_learning_rate(self.actor.optimizer, self.actor_lr_schedule(1.0))
        # BatchNorm statistics of the critics (none with SB3's MLPs), copied to the target as SAC does.
        self.batch_norm_stats = get_parameters_by_name(self.critic, ["running_"])
        self.batch_norm_stats_target = get_parameters_by_name(self.critic_target, ["running_"])

    def _create_aliases(self) -> None:
        self.actor = self.policy.actor
        self.critic = self.policy.critic
        self.critic_target = self.policy.critic_target
        self.value_net = self.policy.value_net

    @property
    def actor_lr_schedule(self) -> Schedule:
        """The actor's learning-rate schedule: ``actor_learning_rate``'s, or the critics' ``lr_schedule``."""
        if self.actor_learning_rate is None:
            return self.lr_schedule
        return FloatSchedule(self.actor_learning_rate)

    # ------------------------------------------------------------------------------------------
    # The losses (public: the tests and extensions compute them on their own batches)
    # ------------------------------------------------------------------------------------------
    def value_loss(self, replay_data: ReplayBufferSamples) -> th.Tensor:
        """V's expectile loss against ``min(Q1, Q2)`` of the target critics at the replayed actions."""
        with th.no_grad():
            target_q = self.policy.target_q_min(replay_data.observations, replay_data.actions)
        return expectile_loss(target_q - self.value_net(replay_data.observations), self.expectile).mean()

    def q_target(self, replay_data: ReplayBufferSamples) -> th.Tensor:
        """``r + gamma V(s') (1 - terminated)`` (n-step: the buffer's discount), shape (batch, 1), no gradient."""
        discounts = replay_data.discounts if replay_data.discounts is not None else self.gamma
        with th.no_grad():
            next_values = self.value_net(replay_data.next_observations)
            return replay_data.rewards + (1 - replay_data.dones) * discounts * next_values

    def critic_loss(self, replay_data: ReplayBufferSamples, target: th.Tensor | None = None) -> th.Tensor:
        """The sum over the Q critics of their mean squared error to ``target`` (default :meth:`q_target`; IQL's, DPPO's)."""
        target = self.q_target(replay_data) if target is None else target
        current = self.critic(replay_data.observations, replay_data.actions)
        return sum(F.mse_loss(q_values, target) for q_values in current)  # type: ignore[return-value]  # a tensor: the critics are at least one

    def actor_loss(self, replay_data: ReplayBufferSamples) -> th.Tensor:
        """The denoising loss of the replayed actions (in ``[-1, 1]``): behaviour cloning of the replay buffer."""
        return self.actor.denoising_loss(replay_data.observations, replay_data.actions)

    # ------------------------------------------------------------------------------------------
    # Training
    # ------------------------------------------------------------------------------------------
    def train(self, gradient_steps: int, batch_size: int = 64) -> None:
        self.policy.set_training_mode(True)
        self._update_learning_rate([self.critic.optimizer, self.value_net.optimizer])
        actor_learning_rate = self.actor_lr_schedule(self._current_progress_remaining)
        update_learning_rate(self.actor.optimizer, actor_learning_rate)

        value_losses, critic_losses, actor_losses, q_means = [], [], [], []
        for _ in range(gradient_steps):
            self._n_updates += 1
            replay_data = self.replay_buffer.sample(batch_size, env=self._vec_normalize_env)  # type: ignore[union-attr]  # made by _setup_model

            value_loss = self.value_loss(replay_data)
            self.value_net.optimizer.zero_grad()
            value_loss.backward()
            self.value_net.optimizer.step()

            q_target = self.q_target(replay_data)  # with the V just updated
            critic_loss = self.critic_loss(replay_data, q_target)
            self.critic.optimizer.zero_grad()
            critic_loss.backward()
            self.critic.optimizer.step()

            # The actor's loss is computed in the warm-up too (the same random draws with and
            # without it), but not applied.
            actor_loss = self.actor_loss(replay_data)
            self.actor.optimizer.zero_grad()
            if not (self.holds_actor_in_warmup and self._n_updates <= self.critic_warmup_steps):
                actor_loss.backward()
                self.actor.optimizer.step()

            if self._n_updates % self.target_update_interval == 0:
                polyak_update(self.critic.parameters(), self.critic_target.parameters(), self.tau)
                polyak_update(self.batch_norm_stats, self.batch_norm_stats_target, 1.0)

            value_losses.append(value_loss.detach())
            critic_losses.append(critic_loss.detach())
            actor_losses.append(actor_loss.detach())
            q_means.append(q_target.mean())

        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        if gradient_steps > 0:  # one device sync per train() call, not per gradient step
            self.logger.record("train/value_loss", th.stack(value_losses).mean().item())
            self.logger.record("train/critic_loss", th.stack(critic_losses).mean().item())
            self.logger.record("train/actor_loss", th.stack(actor_losses).mean().item())
            self.logger.record("train/q_target_mean", th.stack(q_means).mean().item())
        self.logger.record("train/actor_learning_rate", actor_learning_rate)

    def learn(
        self: SelfIDQL,
        total_timesteps: int,
        callback: MaybeCallback = None,
        log_interval: int = 4,
        tb_log_name: str = "IDQL",
        reset_num_timesteps: bool = True,
        progress_bar: bool = False,
    ) -> SelfIDQL:
        return super().learn(
            total_timesteps=total_timesteps,
            callback=callback,
            log_interval=log_interval,
            tb_log_name=tb_log_name,
            reset_num_timesteps=reset_num_timesteps,
            progress_bar=progress_bar,
        )

    def _excluded_save_params(self) -> list[str]:
        return [*super()._excluded_save_params(), "actor", "critic", "critic_target", "value_net"]

    def _get_torch_save_params(self) -> tuple[list[str], list[str]]:
        return ["policy", "actor.optimizer", "critic.optimizer", "value_net.optimizer"], []
