"""Nothing the user has is lost: saving never overwrites the demonstrations, a loaded model says when
its demonstrations file changed, and inference never needs the demonstrations."""

import os

import gymnasium as gym
import numpy as np
import pytest

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
