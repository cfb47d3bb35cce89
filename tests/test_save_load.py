"""Nothing the user has is lost: saving never overwrites the demonstrations, a loaded model says when
its demonstrations file changed, and inference never needs the demonstrations."""

import os

import gymnasium as gym
import numpy as np
import pytest
import sb3_contrib
import stable_baselines3
import torch as th

import sb3_inril
from sb3_inril import InRILPPO, InRILSAC

SMALL = dict(n_steps=32, batch_size=16, seed=0)


@pytest.fixture
def model_with_file(tmp_path, demos_npz, pendulum_env):
    return InRILPPO("MlpPolicy", pendulum_env, demonstrations=demos_npz, **SMALL)


def test_save_refuses_the_demonstrations_file(model_with_file, demos_npz, tmp_path):
    before = open(demos_npz, "rb").read()
    for target in (demos_npz, os.path.join(os.path.dirname(demos_npz), ".", os.path.basename(demos_npz))):
        with pytest.raises(ValueError, match="is the model's demonstrations file"):
            model_with_file.save(target)
    os.symlink(demos_npz, tmp_path / "link.npz")
    with pytest.raises(ValueError, match="demonstrations file"):
        model_with_file.save(tmp_path / "link.npz")
    assert open(demos_npz, "rb").read() == before
    model_with_file.save(tmp_path / "model")  # anywhere else is fine


def test_save_refuses_the_path_that_gains_zip(tmp_path, pendulum_demos, pendulum_env):
    np.savez(tmp_path / "demos.npz", **pendulum_demos)
    model = InRILPPO("MlpPolicy", pendulum_env, demonstrations=str(tmp_path / "demos.npz"), **SMALL)
    os.symlink(tmp_path / "demos.npz", tmp_path / "demos_alias.zip")
    with pytest.raises(ValueError, match="demonstrations file"):
        model.save(tmp_path / "demos_alias")  # SB3 would write demos_alias.zip, the demonstrations


def test_load_warns_when_the_demonstrations_changed(model_with_file, demos_npz, pendulum_demos, tmp_path, pendulum_env):
    model_with_file.save(tmp_path / "model")
    fingerprint = model_with_file._demonstrations_fingerprint
    assert fingerprint["size"] == os.path.getsize(demos_npz) and len(fingerprint["sha256"]) == 64
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # unchanged: no warning
        InRILPPO.load(tmp_path / "model", env=pendulum_env)
    changed = dict(pendulum_demos, acts=np.clip(pendulum_demos["acts"] * 0.5, -2, 2))
    np.savez(demos_npz, **changed)
    with pytest.warns(UserWarning, match=r"has changed since the model was saved \(.*sha256"):
        InRILPPO.load(tmp_path / "model", env=pendulum_env)


def test_a_model_travels_without_its_demonstrations(model_with_file, demos_npz, tmp_path):
    model_with_file.learn(32)
    model_with_file.save(tmp_path / "model")
    obs = np.linspace(-1, 1, 3).astype(np.float32)
    expected = model_with_file.predict(obs, deterministic=True)[0]
    os.remove(demos_npz)
    with pytest.warns(UserWarning, match="is gone"):
        loaded = InRILPPO.load(tmp_path / "model", env="Pendulum-v1")  # an env id, as the constructor takes
    np.testing.assert_array_equal(loaded.predict(obs, deterministic=True)[0], expected)
    from stable_baselines3.common.evaluation import evaluate_policy

    evaluate_policy(loaded, gym.make("Pendulum-v1"), n_eval_episodes=1)
    with pytest.raises(FileNotFoundError, match="demonstrations=PATH"):
        loaded.learn(32)


def test_shipped_sets_are_recorded_by_name(tmp_path):
    from sb3_inril import load_demonstrations
    from sb3_inril.data import demonstration_path

    demos = load_demonstrations("shipped:Pendulum-v1/medium")
    assert demos.spec.source == "shipped:Pendulum-v1/medium"
    assert demos.metadata["source"] == demonstration_path("Pendulum-v1", "medium")
    model = InRILSAC("MlpPolicy", "Pendulum-v1", demonstrations="shipped:Pendulum-v1/medium", learning_starts=8)
    assert model.demonstrations == "shipped:Pendulum-v1/medium"  # found in the package on any machine
    model.save(tmp_path / "model")
    assert model._demonstrations_fingerprint["source"] == "shipped:Pendulum-v1/medium"
    loaded = InRILSAC.load(tmp_path / "model", env="Pendulum-v1")
    assert loaded.demonstrations == "shipped:Pendulum-v1/medium" and len(loaded.demo_buffer) > 0
    with pytest.raises(FileNotFoundError, match="no shipped demonstrations for env 'Pendulum-v1', flavour 'expart'"):
        load_demonstrations("shipped:Pendulum-v1/expart")
    with pytest.raises(ValueError, match="expected 'shipped:<env id>/<flavour>'"):
        load_demonstrations("shipped:Pendulum-v1")


# -- one round trip and one identity test for every IN-RIL class (sb3-contrib's model-list style) ---
MODELS = {
    "InRILPPO": (dict(n_steps=32, batch_size=16, n_epochs=2), "PPO"),
    "InRILA2C": (dict(n_steps=8), "A2C"),
    "InRILSAC": (dict(learning_starts=16, batch_size=16), "SAC"),
    "InRILTQC": (dict(learning_starts=16, batch_size=16), "TQC"),
    "InRILTD3": (dict(learning_starts=16, batch_size=16), "TD3"),
}


def model_class(name: str) -> type:
    return getattr(sb3_inril, name)


def parent_class(name: str) -> type:
    parent = MODELS[name][1]
    return getattr(stable_baselines3, parent, None) or getattr(sb3_contrib, parent)


def same_parameters(first, second) -> bool:
    return all(th.equal(a, b) for a, b in zip(first.state_dict().values(), second.state_dict().values()))


@pytest.mark.parametrize("name", sorted(MODELS))
def test_save_load_round_trip(tmp_path, pendulum_env, demos_npz, name):
    cls, kwargs = model_class(name), MODELS[name][0]
    model = cls("MlpPolicy", pendulum_env, demonstrations=demos_npz, il_interval=3, il_steps=2, seed=0, **kwargs)
    model.pretrain(n_steps=10)
    model.learn(64)
    n_rl, n_il = model.interleaving.n_rl_updates, model.interleaving.n_il_updates
    assert n_rl > 0 and n_il == (n_rl // 3) * 2
    model.save(tmp_path / "model")
    loaded = cls.load(tmp_path / "model", env=pendulum_env)
    assert (loaded.il_interval, loaded.il_steps, loaded.demonstrations) == (3, 2, demos_npz)
    assert (loaded.interleaving.n_rl_updates, loaded.interleaving.n_il_updates) == (n_rl, n_il)
    assert same_parameters(loaded.policy, model.policy) and same_parameters(loaded.pretrained_policy, model.pretrained_policy)
    saved, restored = model.il_optimizer.state_dict()["state"], loaded.il_optimizer.state_dict()["state"]
    assert saved.keys() == restored.keys() and all(th.equal(saved[k]["exp_avg_sq"], restored[k]["exp_avg_sq"]) for k in saved)
    # The hooks are on the new optimizer after load, and training goes on counting.
    # (Two where the actor's optimizer is also the critic's, as PPO's: the warm-up's learning-rate hook.)
    expected_hooks = 1 + (loaded.rl_actor_optimizer() in loaded._critic_optimizers())
    assert len(loaded.rl_actor_optimizer()._optimizer_step_post_hooks) == expected_hooks
    assert len(model.rl_actor_optimizer()._optimizer_step_post_hooks) == expected_hooks
    if hasattr(model, "replay_buffer"):
        model.save_replay_buffer(tmp_path / "buffer")
        loaded.load_replay_buffer(tmp_path / "buffer")
    loaded.learn(32, reset_num_timesteps=False)
    assert loaded.interleaving.n_rl_updates > n_rl
    assert loaded.interleaving.n_il_updates == (loaded.interleaving.n_rl_updates // 3) * 2


@pytest.mark.parametrize("name", sorted(MODELS))
def test_identical_to_the_parent_when_interleaving_is_off(pendulum_demos, name):
    cls, kwargs = model_class(name), MODELS[name][0]
    plain = parent_class(name)("MlpPolicy", "Pendulum-v1", seed=0, **kwargs)
    plain.learn(64)
    off = cls("MlpPolicy", "Pendulum-v1", demonstrations=pendulum_demos, il_interval=None, seed=0, **kwargs)
    off.learn(64)
    assert off.interleaving.n_il_updates == 0 and off.interleaving.n_rl_updates > 0
    assert same_parameters(plain.policy, off.policy)
    # The comparison can fail: with interleaving on, the parameters differ.
    on = cls("MlpPolicy", "Pendulum-v1", demonstrations=pendulum_demos, il_interval=2, seed=0, **kwargs)
    on.learn(64)
    assert on.interleaving.n_il_updates > 0 and not same_parameters(plain.policy, on.policy)


def test_a_model_saved_with_the_old_counters_keeps_them(tmp_path, pendulum_env, pendulum_demos):
    from stable_baselines3.common.save_util import load_from_zip_file, save_to_zip_file

    model = sb3_inril.InRILPPO("MlpPolicy", pendulum_env, demonstrations=pendulum_demos, il_interval=3, **SMALL)
    model.learn(64)
    model.save(tmp_path / "model")
    data, params, _ = load_from_zip_file(tmp_path / "model.zip")
    state = data.pop("interleaving")  # the layout of models saved before InterleavingState
    data.update(_n_rl_updates=state.n_rl_updates, _n_il_updates=state.n_il_updates, _rl_units_since_il=state.units_since_il)
    save_to_zip_file(tmp_path / "old.zip", data=data, params=params)
    loaded = sb3_inril.InRILPPO.load(tmp_path / "old.zip", env=pendulum_env, demonstrations=pendulum_demos)
    assert (loaded.interleaving.n_rl_updates, loaded.interleaving.n_il_updates) == (state.n_rl_updates, state.n_il_updates)
    assert "_n_rl_updates" not in loaded.__dict__


def test_load_checks_and_follows_the_inril_arguments_it_is_given(tmp_path, pendulum_env, pendulum_demos):
    """load(path, il_interval=...) sets the attribute without the constructor: 'adaptive' failed with a
    TypeError at the first RL step, a fixed interval given to an adaptive model was ignored, 0 was taken."""
    fixed = InRILSAC("MlpPolicy", pendulum_env, demonstrations=pendulum_demos, il_interval=3, learning_starts=16, seed=0)
    fixed.learn(32)
    fixed.save(tmp_path / "fixed")
    fixed.save_replay_buffer(tmp_path / "buffer")
    adaptive = InRILSAC.load(tmp_path / "fixed", env=pendulum_env, demonstrations=pendulum_demos, il_interval="adaptive")
    assert adaptive.adaptive_interval is not None and adaptive.gradient_surgery is not None
    adaptive.load_replay_buffer(tmp_path / "buffer")
    adaptive.learn(32, reset_num_timesteps=False)
    assert adaptive.adaptive_interval.n_updates == adaptive.interleaving.n_il_updates - fixed.interleaving.n_il_updates > 0
    adaptive.save(tmp_path / "adaptive")
    kept = InRILSAC.load(tmp_path / "adaptive", env=pendulum_env, demonstrations=pendulum_demos)
    assert kept.adaptive_interval is not None and kept.adaptive_interval.cos_ema == adaptive.adaptive_interval.cos_ema
    back = InRILSAC.load(tmp_path / "adaptive", env=pendulum_env, demonstrations=pendulum_demos, il_interval=5)
    assert back.adaptive_interval is None and back.current_il_interval == 5 and back.gradient_surgery is None
    with pytest.raises(ValueError, match="il_interval: expected a positive int or None, found 0"):
        InRILSAC.load(tmp_path / "fixed", env=pendulum_env, il_interval=0)
    with pytest.raises(ValueError, match="il_steps"):
        InRILSAC.load(tmp_path / "fixed", env=pendulum_env, il_steps=-1)


def test_learn_says_when_in_memory_demonstrations_were_left_out(tmp_path, pendulum_env, pendulum_demos):
    """With the default IN-RIL arguments a model that interleaved with in-memory demonstrations, loaded
    without them, went on as plain PPO without a word."""
    model = InRILPPO("MlpPolicy", pendulum_env, demonstrations=pendulum_demos, **SMALL)
    model.learn(32)
    model.save(tmp_path / "model")
    loaded = InRILPPO.load(tmp_path / "model", env=pendulum_env)
    with pytest.warns(UserWarning, match="saved with in-memory demonstrations, which are not saved with it"):
        loaded.learn(32, reset_num_timesteps=False)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # given again: no warning
        InRILPPO.load(tmp_path / "model", env=pendulum_env, demonstrations=pendulum_demos).learn(32)


@pytest.mark.parametrize("name", ["InRILPPO", "InRILSAC"])
def test_the_parents_model_loads_as_one_that_has_not_interleaved(tmp_path, pendulum_env, pendulum_demos, name):
    """A plain PPO/SAC zip failed in load on the names of the parameters (SAC's as KeyError('policy.optimizer'),
    SB3's retry of old DQN models); a damaged IN-RIL zip now names what does not match."""
    import zipfile

    cls, kwargs = model_class(name), MODELS[name][0]
    parent = parent_class(name)("MlpPolicy", pendulum_env, seed=0, **kwargs)
    parent.learn(32)
    parent.save(tmp_path / "parent.zip")
    with pytest.warns(UserWarning, match=f"the parameters of a {MODELS[name][1]} model, without IN-RIL's"):
        model = cls.load(tmp_path / "parent.zip", env=pendulum_env, demonstrations=pendulum_demos, il_interval=2)
    assert same_parameters(model.policy, parent.policy) and same_parameters(model.pretrained_policy, parent.policy)
    assert model.il_optimizer.state_dict()["state"] == {}
    if hasattr(parent, "replay_buffer"):
        parent.save_replay_buffer(tmp_path / "buffer")
        model.load_replay_buffer(tmp_path / "buffer")
    model.learn(32, reset_num_timesteps=False)
    assert model.interleaving.n_il_updates > 0
    model.save(tmp_path / "model.zip")
    with zipfile.ZipFile(tmp_path / "model.zip") as source, zipfile.ZipFile(tmp_path / "damaged.zip", "w") as target:
        for item in source.infolist():
            if item.filename != "il_optimizer.pth":
                target.writestr(item, source.read(item.filename))
    with pytest.raises(ValueError, match="Names of parameters do not match"):
        cls.load(tmp_path / "damaged.zip", env=pendulum_env)


def test_an_interrupted_save_keeps_the_previous_checkpoint(tmp_path, pendulum_env, pendulum_demos, monkeypatch):
    """SB3 writes in place: a save interrupted halfway (an exception, KeyboardInterrupt, a full disk) left a
    truncated zip or pickle where the previous checkpoint had been."""
    import pickle

    model = InRILSAC("MlpPolicy", pendulum_env, demonstrations=pendulum_demos, learning_starts=16, buffer_size=200, seed=0)
    model.learn(32)
    model.save(tmp_path / "model")
    model.save_replay_buffer(tmp_path / "buffer")
    saved = {name: (tmp_path / name).read_bytes() for name in ("model.zip", "buffer.pkl")}
    model.learn(16, reset_num_timesteps=False)

    def interrupted(obj, file, *args, **kwargs):
        file.write(b"half a file")
        raise KeyboardInterrupt

    monkeypatch.setattr(th, "save", interrupted)
    monkeypatch.setattr(pickle, "dump", interrupted)
    with pytest.raises(KeyboardInterrupt):
        model.save(tmp_path / "model")
    with pytest.raises(KeyboardInterrupt):
        model.save_replay_buffer(tmp_path / "buffer")
    monkeypatch.undo()
    assert {name: (tmp_path / name).read_bytes() for name in saved} == saved
    assert sorted(os.listdir(tmp_path)) == ["buffer.pkl", "model.zip"]  # no temporary left behind
    model.save(tmp_path / "model")
    model.save_replay_buffer(tmp_path / "buffer")
    loaded = InRILSAC.load(tmp_path / "model", env=pendulum_env, demonstrations=pendulum_demos)
    loaded.load_replay_buffer(tmp_path / "buffer")
    assert loaded.num_timesteps == 48 and loaded.replay_buffer.pos == 48
