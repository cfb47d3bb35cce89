import socket

import gymnasium as gym
import numpy as np
import pytest
import torch as th

# Small networks: one thread is faster, and two threads fight any other process for the 2 cores.
th.set_num_threads(1)


def linear_expert_demos(n_episodes: int = 10, episode_length: int = 50, seed: int = 0) -> dict[str, np.ndarray]:
    """Pendulum-v1 shaped demonstrations from a fixed linear policy (learnable by BC)."""
    rng = np.random.default_rng(seed)
    n = n_episodes * episode_length
    obs = rng.uniform(-1.0, 1.0, size=(n, 3)).astype(np.float32)
    acts = np.clip(obs @ np.array([[1.5], [-0.5], [0.8]], dtype=np.float32), -2.0, 2.0)
    dones = np.zeros(n, dtype=bool)
    dones[episode_length - 1 :: episode_length] = True
    return {"obs": obs, "acts": acts, "dones": dones}


@pytest.fixture
def pendulum_demos() -> dict[str, np.ndarray]:
    return linear_expert_demos()


@pytest.fixture
def pendulum_env() -> gym.Env:
    return gym.make("Pendulum-v1")


@pytest.fixture
def demos_npz(tmp_path, pendulum_demos) -> str:
    path = tmp_path / "demos.npz"
    np.savez(path, **pendulum_demos)
    return str(path)


@pytest.fixture
def free_port() -> int:
    """A TCP port free on 127.0.0.1 now (for the servers the tests start: PostgreSQL, a Ray head)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
