import pytest
import torch as th

from sb3_inril import InRILPPO
from sb3_inril.common.callbacks import BCRegularization

SMALL = dict(n_steps=64, batch_size=16, n_epochs=2, seed=0)


def test_bc_regularization_adds_the_weighted_bc_gradient(pendulum_env, pendulum_demos):
    model = InRILPPO("MlpPolicy", pendulum_env, demonstrations=pendulum_demos, il_interval=None, **SMALL)
    n_hooks = len(model.policy.optimizer._optimizer_step_pre_hooks)  # IN-RIL's own (critic warm-up)
    callback = BCRegularization(weight=0.5)
    callback.init_callback(model)
    assert len(model.policy.optimizer._optimizer_step_pre_hooks) == n_hooks + 1
    params = model.il_parameters()
    rl_grads = [th.randn_like(p) for p in params]
    for p, g in zip(params, rl_grads):
        p.grad = g.clone()
    state = model.demo_buffer._generator.get_state()
    batch = model.demo_buffer.sample(model.il_batch_size)
    model.demo_buffer._generator.set_state(state)
    bc_grads = th.autograd.grad(model.compute_il_loss(batch), params)
    callback._add_bc_gradient(model.policy.optimizer, (), {})
    for p, g, b in zip(params, rl_grads, bc_grads):
        assert th.allclose(p.grad, g + 0.5 * b, atol=1e-6)
    value = model.policy.value_net.weight
    assert value.grad is None  # the value function gets no BC gradient
    callback.on_training_end()
    assert len(model.policy.optimizer._optimizer_step_pre_hooks) == n_hooks


def test_bc_regularization_in_training_and_errors(pendulum_env, pendulum_demos):
    model = InRILPPO("MlpPolicy", pendulum_env, demonstrations=pendulum_demos, il_interval=None, **SMALL)
    model.learn(128, callback=BCRegularization(0.1))
    assert model.interleaving.n_il_updates == 0 and model.interleaving.n_rl_updates == 16
    with pytest.raises(ValueError, match="weight expected > 0"):
        BCRegularization(0.0)
    with pytest.raises(TypeError, match="needs an IN-RIL model with demonstrations"):
        InRILPPO("MlpPolicy", pendulum_env, il_interval=None, **SMALL).learn(64, callback=BCRegularization())
