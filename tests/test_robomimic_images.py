"""Image observations: robomimic envs with cameras, image keys read from HDF5 (in memory or per
minibatch through a bounded cache), and IN-RIL with MultiInputPolicy / CnnPolicy on image Lift."""

from typing import cast

import gymnasium as gym
import h5py
import numpy as np
import pytest
import torch as th

from sb3_inril import InRILPPO, load_demonstrations
from sb3_inril.demos.buffer import DemonstrationBuffer
from sb3_inril.demos.hdf5_store import HDF5RowStore, LazyRows

pytest.importorskip("robosuite")
# Camera images render with EGL (Mesa's on a CPU-only machine; .ci/run installs it).
needs_egl = pytest.mark.skipif(
    __import__("ctypes.util").util.find_library("EGL") is None, reason="no EGL library (apt-get install libegl1 libegl-mesa0)"
)

IMAGE = "agentview_image"


def write_image_file(path, lengths=(7, 5, 9), size=6, chunks=None) -> dict[str, np.ndarray]:
    """A robomimic-layout file with an image key whose pixels encode (demo, step), and a low-dim key."""
    images, states = [], []
    with h5py.File(path, "w") as file:
        data = file.create_group("data")
        for demo, length in enumerate(lengths):
            group = data.create_group(f"demo_{demo}")
            image = np.zeros((length, size, size, 3), dtype=np.uint8)
            image[..., 0] = demo
            image[..., 1] = np.arange(length)[:, None, None]
            image[:, 0, 0, 2] = 255
            state = np.stack([np.full(length, demo), np.arange(length)], axis=1).astype(np.float32)
            group.create_dataset(f"obs/{IMAGE}", data=image, chunks=chunks and (chunks, size, size, 3))
            group.create_dataset("obs/state", data=state)
            group.create_dataset("actions", data=np.tanh(state[:, :1].repeat(2, axis=1) * 0.1))
            group.create_dataset("rewards", data=np.zeros(length))
            images.append(image)
            states.append(state)
    return {IMAGE: np.concatenate(images), "state": np.concatenate(states)}


def image_space(size=6) -> gym.spaces.Dict:
    return gym.spaces.Dict(
        {IMAGE: gym.spaces.Box(0, 255, (size, size, 3), np.uint8), "state": gym.spaces.Box(-np.inf, np.inf, (2,), np.float32)}
    )


@pytest.mark.parametrize("chunks", [None, 2])
def test_lazy_rows_read_what_memory_holds_within_the_cache_bound(tmp_path, chunks):
    path = str(tmp_path / "images.hdf5")
    expected = write_image_file(path, chunks=chunks)
    in_memory = load_demonstrations(path, observation_format="dict", obs_keys=[IMAGE, "state"])
    assert in_memory.observations[IMAGE].dtype == np.uint8  # images are never widened
    np.testing.assert_array_equal(in_memory.observations[IMAGE], expected[IMAGE])
    row_bytes = 6 * 6 * 3
    lazy = load_demonstrations(
        path, observation_format="dict", obs_keys=[IMAGE, "state"], lazy=True, cache_bytes=12 * row_bytes
    )
    rows = lazy.observations[IMAGE]
    assert isinstance(rows, LazyRows) and rows.shape == expected[IMAGE].shape and rows.dtype == np.uint8
    assert isinstance(lazy.observations["state"], np.ndarray)  # low-dim keys are read now
    assert (
        lazy.spec.kwargs["lazy"] is True and lazy.spec.kwargs["cache_bytes"] == 12 * row_bytes
    )  # a saved model re-reads lazily
    rng = np.random.default_rng(0)
    for _ in range(20):
        index = rng.integers(0, len(rows), 8)  # unsorted, with repeats, across demos
        np.testing.assert_array_equal(rows[index], expected[IMAGE][index])
        assert rows.store.cached_bytes <= 12 * row_bytes
    assert rows.store.hits > 0
    np.testing.assert_array_equal(rows[3:10], expected[IMAGE][3:10])
    np.testing.assert_array_equal(rows.take(np.arange(4, 12))[[0, 7]], expected[IMAGE][[4, 11]])
    np.testing.assert_array_equal(np.asarray(rows), expected[IMAGE])
    with pytest.raises(IndexError, match="row numbers"):
        rows.store.read(IMAGE, np.array([len(rows)]))
    with pytest.raises(ValueError, match="need observation_format='dict'"):
        load_demonstrations(path, obs_keys=[IMAGE], lazy=True)
    with pytest.raises(ValueError, match="cache_bytes"):
        HDF5RowStore(path, ["demo_0"], [7], [IMAGE], cache_bytes=-1)


def test_buffer_samples_the_same_minibatches_from_memory_and_from_the_file(tmp_path):
    path = str(tmp_path / "images.hdf5")
    write_image_file(path)
    space, actions = image_space(), gym.spaces.Box(-1, 1, (2,), np.float32)
    read = dict(observation_format="dict", obs_keys=[IMAGE, "state"])
    buffers = [
        DemonstrationBuffer(
            load_demonstrations(path, **read, lazy=lazy, cache_bytes=200), space, actions, seed=3, val_fraction=0.34
        )
        for lazy in (False, True)
    ]
    memory, lazy = buffers
    assert memory._all_observations[IMAGE].dtype == th.uint8  # kept as uint8, converted per minibatch by the policy
    assert isinstance(lazy._all_observations[IMAGE], LazyRows)
    for _ in range(5):
        a, b = memory.sample(16), lazy.sample(16)
        assert a.observations[IMAGE].dtype == b.observations[IMAGE].dtype == th.uint8
        for key in (IMAGE, "state"):
            th.testing.assert_close(a.observations[key], b.observations[key])
        th.testing.assert_close(a.actions, b.actions)
        # Rows stay paired: the image's pixels encode the same (demo, step) as the state.
        pixels = b.observations[IMAGE][:, 1, 1, :2].float()
        th.testing.assert_close(pixels, b.observations["state"])
    th.testing.assert_close(memory.validation_batch().observations[IMAGE], lazy.validation_batch().observations[IMAGE])
    epoch = [batch.observations[IMAGE] for batch in lazy.iterate_epoch(4)]
    assert sum(len(batch) for batch in epoch) == len(lazy)


def test_in_memory_images_are_not_copied_by_validation(tmp_path):
    path = str(tmp_path / "images.hdf5")
    write_image_file(path)
    demonstrations = load_demonstrations(path, observation_format="dict", obs_keys=[IMAGE, "state"])
    buffer = DemonstrationBuffer(demonstrations, image_space(), gym.spaces.Box(-1, 1, (2,), np.float32), val_fraction=0.0)
    # The buffer's tensor shares the loader's array: one copy of the images in memory.
    assert buffer._all_observations[IMAGE].data_ptr() == demonstrations.observations[IMAGE].ctypes.data


@pytest.fixture(scope="module")
def camera_env():
    from sb3_inril.envs import RobomimicEnv

    env = RobomimicEnv(
        "Lift",
        obs_keys=["object", IMAGE, "robot0_eye_in_hand_image"],
        observation_format="dict",
        camera_height=24,
        camera_width=32,
        horizon=5,
    )
    yield env
    env.close()


@needs_egl
def test_env_returns_upright_uint8_camera_images(camera_env):
    import os

    assert os.environ.get("MUJOCO_GL")  # set (egl) unless the user chose a backend
    space = camera_env.observation_space
    assert list(space.spaces) == ["object", IMAGE, "robot0_eye_in_hand_image"]
    assert space[IMAGE] == gym.spaces.Box(0, 255, (24, 32, 3), np.uint8)
    assert camera_env.obs_key_sizes[IMAGE] == 24 * 32 * 3
    obs, _ = camera_env.reset(seed=0)
    assert obs[IMAGE].dtype == np.uint8 and obs[IMAGE].shape == (24, 32, 3) and obs[IMAGE].std() > 0
    # robosuite renders upside down (its "opengl" convention); robomimic's files hold images flipped upright.
    np.testing.assert_array_equal(obs[IMAGE], camera_env._last_raw[IMAGE][::-1])
    obs, *_ = camera_env.step(np.zeros(7, dtype=np.float32))
    assert space.contains(obs)
    raw = camera_env.raw_observation(camera_env._last_raw)
    assert raw[IMAGE].dtype == np.uint8 and "object" in raw


def test_camera_arguments_are_checked():
    from sb3_inril.envs import RobomimicEnv

    with pytest.raises(ValueError, match="need observation_format='dict'"):
        RobomimicEnv("Lift", obs_keys=["object", IMAGE])
    with pytest.raises(ValueError, match="nocam_image"):
        RobomimicEnv("Lift", obs_keys=["object", "nocam_image"], observation_format="dict", camera_height=8, camera_width=8)


@pytest.fixture(scope="module")
def image_lift_file(tmp_path_factory):
    from sb3_inril.envs.scripted import collect_robomimic_demos

    path = str(tmp_path_factory.mktemp("image_lift") / "lift_images.hdf5")
    collect_robomimic_demos(
        "Lift", 3, path, seed=0, progress=False, camera_names=["agentview"], camera_size=40
    )  # NatureCNN needs >= 36 x 36
    return path


@needs_egl
@pytest.mark.parametrize("lazy", [False, True])
def test_inril_ppo_multi_input_policy_on_image_lift(image_lift_file, lazy, tmp_path):
    from sb3_inril.envs import make_robomimic_env

    keys = ["object", "robot0_eef_pos", IMAGE]
    env = make_robomimic_env(image_lift_file, obs_keys=keys, observation_format="dict", horizon=40)
    assert env.observation_space[IMAGE].shape == (40, 40, 3)  # the file's image size, from its env_args
    demos = load_demonstrations(image_lift_file, obs_keys=keys, observation_format="dict", lazy=lazy, cache_bytes=2**20)
    assert demos.observations[IMAGE].dtype == np.uint8
    model = InRILPPO(
        "MultiInputPolicy", env, demonstrations=demos, il_interval=2, il_batch_size=16, n_steps=64, batch_size=32,
        n_epochs=1, demo_val_fraction=0.0, seed=0,
    )  # fmt: skip
    assert isinstance(model.demo_buffer._all_observations[IMAGE], LazyRows) == lazy
    model.pretrain(n_epochs=1, batch_size=32)
    model.learn(128)
    assert model.interleaving.n_il_updates > 0
    model.save(tmp_path / "model")
    env.close()


@needs_egl
def test_inril_ppo_cnn_policy_on_image_lift(image_lift_file):
    from sb3_inril.envs import make_robomimic_env

    class ImageOnly(gym.ObservationWrapper):
        def __init__(self, env: gym.Env) -> None:
            super().__init__(env)
            self.observation_space = cast(gym.spaces.Dict, env.observation_space)[IMAGE]

        def observation(self, observation: dict) -> np.ndarray:
            return observation[IMAGE]

    env = ImageOnly(make_robomimic_env(image_lift_file, obs_keys=[IMAGE], observation_format="dict", horizon=40))
    read = load_demonstrations(image_lift_file, obs_keys=[IMAGE], observation_format="dict")
    demos = {"obs": read.observations[IMAGE], "acts": read.actions, "episode_starts": read.episode_starts}
    model = InRILPPO(
        "CnnPolicy", env, demonstrations=demos, il_interval=2, il_batch_size=16, n_steps=64, batch_size=32, n_epochs=1,
        demo_val_fraction=0.0, seed=0, policy_kwargs=dict(normalize_images=True),
    )  # fmt: skip
    assert model.demo_buffer.sample(4).observations.shape == (4, 3, 40, 40)  # transposed per minibatch, as SB3 does
    model.learn(128)
    assert model.interleaving.n_il_updates > 0
    env.close()
