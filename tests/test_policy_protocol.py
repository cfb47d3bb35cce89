"""The imitation protocol: a new kind of policy, defined here in the test file alone, runs IN-RIL with
what it says about itself (its own IL loss, parameters, diagnostics, end of pre-training), and the
core asks no policy what it is."""

import ast
import inspect
import pathlib
from typing import Any, ClassVar, cast

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from stable_baselines3.common.distributions import DiagGaussianDistribution, Distribution
from stable_baselines3.common.logger import configure
from stable_baselines3.common.policies import ActorCriticPolicy

from sb3_inril import InRILPPO, InRILSAC
from sb3_inril.common import inril as inril_module
from sb3_inril.common.policy_protocol import PROTOCOL_METHODS, ImitationPolicy, policy_hook
from sb3_inril.hyperparams import INRIL_KEYS

PACKAGE = pathlib.Path(inril_module.__file__).resolve().parents[1]


class HeadImitationPolicy(ActorCriticPolicy):
    """
    A kind of policy the package does not know: imitation trains only the action head, by a
    Huber loss of its own on the mean action (or by the NLL, on request), and reports a diagnostic.
    """

    default_il_loss: ClassVar[str] = "huber"
    il_losses: ClassVar[tuple[str, ...]] = ("huber", "nll")
    pretrain_ends = 0
    huber_calls = 0

    def il_parameters(self) -> list[th.nn.Parameter]:
        return list(self.action_net.parameters())

    def il_loss(self, loss: str, observations: Any, actions: th.Tensor, generator: th.Generator | None = None) -> th.Tensor:
        assert loss == "huber"
        type(self).huber_calls += 1
        mean = cast(th.distributions.Normal, self.get_distribution(observations).distribution).mean
        return th.nn.functional.huber_loss(mean, actions)

    def il_diagnostics(self, observations: Any) -> dict[str, float]:
        return {"mean_abs_action": self._predict(observations, deterministic=True).abs().mean().item()}

    def on_pretrain_end(self) -> None:
        type(self).pretrain_ends += 1


class SplitHeadPolicy(ActorCriticPolicy):
    """A network-separation kind of its own: IL trains the action head, RL everything else of the actor."""

    separates_il_and_rl: ClassVar[bool] = True

    def il_parameters(self) -> list[th.nn.Parameter]:
        return list(self.action_net.parameters())

    def rl_actor_parameters(self) -> list[th.nn.Parameter]:
        return [*self.mlp_extractor.policy_net.parameters(), self.log_std]

    def il_distribution(self, observations: Any) -> Distribution:
        features = cast(th.Tensor, self.extract_features(observations, self.pi_features_extractor))  # one tensor
        mean = self.action_net(self.mlp_extractor.forward_actor(features))
        return DiagGaussianDistribution(mean.shape[-1]).proba_distribution(mean, self.log_std.detach())


def snapshot(params: list[th.nn.Parameter]) -> list[th.Tensor]:
    return [param.detach().clone() for param in params]


def same(before: list[th.Tensor], params: list[th.nn.Parameter]) -> bool:
    return all(th.equal(old, param.detach()) for old, param in zip(before, params))


@pytest.fixture(autouse=True)
def reset_counters():
    HeadImitationPolicy.pretrain_ends = HeadImitationPolicy.huber_calls = 0


def make_model(pendulum_demos, policy=HeadImitationPolicy, **kwargs) -> InRILPPO:
    return InRILPPO(
        policy, "Pendulum-v1", demonstrations=pendulum_demos, n_steps=32, batch_size=16, n_epochs=2, seed=0, **kwargs
    )


def test_a_new_policy_kind_names_its_own_default_loss_and_is_imitated_by_it(pendulum_demos):
    model = make_model(pendulum_demos, il_interval=1)
    assert model.il_loss == "huber"
    assert {id(p) for p in model.il_parameters()} == {id(p) for p in model.policy.action_net.parameters()}
    others = [p for p in model.policy.parameters() if all(p is not q for q in model.il_parameters())]
    before_others = snapshot(others)
    before_head = snapshot(list(model.policy.action_net.parameters()))
    model.il_step()
    assert HeadImitationPolicy.huber_calls == 1
    assert same(before_others, others), "IL moved parameters the policy did not give it"
    assert not same(before_head, list(model.policy.action_net.parameters()))
    # Interleaved with PPO: one IL step after every PPO optimizer step (2 epochs x 2 minibatches per rollout).
    model.learn(64)
    assert model.interleaving.n_rl_updates == 8 and model.interleaving.n_il_updates == 1 + 8


def test_the_policy_diagnostics_are_logged_and_pretraining_end_is_called(pendulum_demos, tmp_path):
    model = make_model(pendulum_demos, il_interval=4)
    stats = model.pretrain(n_epochs=1)
    assert HeadImitationPolicy.pretrain_ends == 1
    assert stats["n_epochs"] == 1
    diagnostics = model.il_diagnostics()
    assert set(diagnostics) == {"il_val_loss", "policy_drift", "mean_abs_action"}
    model.set_logger(configure(str(tmp_path), ["csv"]))
    model.learn(64)
    header = (tmp_path / "progress.csv").read_text().splitlines()[0].split(",")
    assert "train/mean_abs_action" in header


def test_a_generic_loss_the_policy_lists_still_works_and_one_it_does_not_list_is_refused(pendulum_demos):
    model = make_model(pendulum_demos, il_loss="nll")
    model.il_step()
    assert HeadImitationPolicy.huber_calls == 0
    with pytest.raises(
        ValueError, match=r"il_loss: HeadImitationPolicy is imitated by one of \('huber', 'nll'\), found il_loss='mse'"
    ):
        make_model(pendulum_demos, il_loss="mse")
    with pytest.raises(ValueError, match=r"il_loss: expected one of \('nll', 'mse', 'denoising', 'huber'\), found 'flow'"):
        make_model(pendulum_demos, il_loss="flow")
    # A loss of this policy is no loss of SB3's policy.
    with pytest.raises(ValueError, match=r"il_loss: expected one of \('nll', 'mse', 'denoising'\), found 'huber'"):
        make_model(pendulum_demos, policy="MlpPolicy", il_loss="huber")


def test_save_load_round_trip_keeps_the_kind(pendulum_demos, tmp_path):
    model = make_model(pendulum_demos, il_interval=2)
    model.learn(64)
    model.save(tmp_path / "model")
    loaded = InRILPPO.load(tmp_path / "model", env="Pendulum-v1", demonstrations=pendulum_demos)
    assert type(loaded.policy) is HeadImitationPolicy and loaded.il_loss == "huber"
    for key, value in model.policy.state_dict().items():
        assert th.equal(value, loaded.policy.state_dict()[key])
    obs = np.zeros((4, 3), dtype=np.float32)
    np.testing.assert_array_equal(model.predict(obs, deterministic=True)[0], loaded.predict(obs, deterministic=True)[0])
    loaded.learn(32)
    assert loaded.interleaving.n_il_updates > model.interleaving.n_il_updates


def test_a_separating_policy_of_its_own_keeps_il_and_rl_apart(pendulum_demos):
    model = make_model(pendulum_demos, policy=SplitHeadPolicy, gradient_separation="residual", il_interval=1)
    assert model.is_residual and model.gradient_separation == "residual"
    rl_side = model.rl_actor_parameters()
    assert {id(p) for p in rl_side}.isdisjoint({id(p) for p in model.il_parameters()})
    before = snapshot(rl_side)
    model.il_step()
    assert same(before, rl_side), "IL moved the RL side"
    with pytest.raises(ValueError, match="gradient_separation: a residual policy separates IL and RL by construction"):
        make_model(pendulum_demos, policy=SplitHeadPolicy, gradient_separation="surgery")
    with pytest.raises(ValueError, match="gradient_separation: 'residual' needs"):
        make_model(pendulum_demos, policy=HeadImitationPolicy, gradient_separation="residual")


def test_the_critic_warmup_holds_what_the_policy_calls_its_rl_side(pendulum_demos):
    model = make_model(pendulum_demos, policy=SplitHeadPolicy, critic_warmup_steps=100, il_interval=None)
    rl_side = model.rl_actor_parameters()
    before = snapshot(rl_side)
    value_before = snapshot(list(model.policy.value_net.parameters()))
    model.learn(32)
    assert same(before, rl_side)
    assert not same(value_before, list(model.policy.value_net.parameters()))


def test_off_policy_algorithms_ask_the_policy_too(pendulum_demos):
    class FrozenMuSACPolicy(InRILSAC.policy_aliases["MlpPolicy"]):
        """IL trains only SAC's mean head."""

        def il_parameters(self) -> list[th.nn.Parameter]:
            return list(self.actor.mu.parameters())

    model = InRILSAC(FrozenMuSACPolicy, "Pendulum-v1", demonstrations=pendulum_demos, learning_starts=0, batch_size=16, seed=0)
    others = [p for p in model.actor.parameters() if all(p is not q for q in model.actor.mu.parameters())]
    before = snapshot(others)
    model.il_step()
    assert same(before, others)


def test_policy_hook_refuses_a_name_outside_the_protocol():
    with pytest.raises(KeyError, match="il_parameter"):
        policy_hook(object(), "il_parameter")
    assert policy_hook(object(), "il_parameters") is None
    documented = {name for name, _ in inspect.getmembers(ImitationPolicy, inspect.isfunction) if not name.startswith("_")}
    documented |= {"rollout_buffer_class_for"}  # a classmethod
    assert documented == PROTOCOL_METHODS


def test_the_core_asks_no_policy_what_it_is():
    """The mechanism's modules import no policy module and test no policy class."""
    policy_modules = ("sb3_inril.common.diffusion", "sb3_inril.common.residual", "sb3_inril.ppo", "sb3_inril.sac")
    for name in ("inril.py", "on_policy.py", "off_policy.py", "behavior_cloning.py", "attachment.py", "schedule.py"):
        tree = ast.parse((PACKAGE / "common" / name).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith(policy_modules), (name, node.module)
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("isinstance", "issubclass"):
                tested = ast.unparse(node.args[1])
                assert "Residual" not in tested and "Diffusion" not in tested, (name, tested)


def test_the_inril_argument_names_have_one_source():
    names = inril_module.INRIL_ARGUMENTS
    signature = inspect.signature(inril_module.InRILMixin.__init__).parameters
    keyword_only = [n for n, p in signature.items() if p.kind is inspect.Parameter.KEYWORD_ONLY]
    assert list(names) == [n for n in keyword_only if n not in ("demonstrations", "_init_setup_model")]
    assert len(names) == 17
    assert frozenset({"demonstrations", *names}) == INRIL_KEYS
    docstring = inril_module.InRILMixin.__doc__ or ""
    assert all(f":param {name}:" in docstring for name in names)
    model = InRILPPO("MlpPolicy", gym.make("Pendulum-v1"), n_steps=32, batch_size=16)
    assert all(hasattr(model, name) for name in names)
