"""Attaching demonstrations to a model: how a source is recorded (path, shipped name, spec or data),
read and validated against the env's own spaces (per-step actions cut into the chunks of an
``ActionChunkWrapper`` env), saved with the model with a fingerprint of its
file, and re-attached on ``load`` (read only when ``learn``/``pretrain`` needs them).
"""

import hashlib
import os
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.preprocessing import is_image_space
from stable_baselines3.common.type_aliases import GymEnv
from stable_baselines3.common.vec_env import VecEnv, VecNormalize, VecTransposeImage, unwrap_vec_wrapper

from sb3_inril.data import is_shipped_name, resolve_shipped
from sb3_inril.demos.buffer import DemonstrationBuffer, TensorObservations
from sb3_inril.demos.chunking import chunk_demonstrations
from sb3_inril.demos.demonstrations import Demonstrations, DemonstrationSource, DemonstrationSpec
from sb3_inril.demos.loading import check_observation_layout, detect_format, load_demonstrations


def file_fingerprint(path: str) -> dict[str, Any]:
    """Size and SHA-256 of a file, or of every file of a directory (sorted by relative path)."""
    digest, size = hashlib.sha256(), 0
    files = [path]
    if os.path.isdir(path):
        files = sorted(os.path.join(root, name) for root, _, names in os.walk(path) for name in names)
    for name in files:
        if os.path.isdir(path):
            digest.update(os.path.relpath(name, path).encode())
        with open(name, "rb") as file:
            for chunk in iter(lambda: file.read(1 << 20), b""):
                digest.update(chunk)
                size += len(chunk)
    return {"size": size, "sha256": digest.hexdigest()}


def demonstrations_env_id(metadata: dict[str, Any]) -> str | None:
    """The env id demonstrations were recorded on, when their metadata says (collection scripts, Minari)."""
    collection = metadata.get("collection")
    if isinstance(collection, dict) and isinstance(collection.get("env"), str):
        return collection["env"]
    env_id = metadata.get("env_id")
    return env_id if isinstance(env_id, str) else None


class DemonstrationAttachmentMixin:
    """
    The demonstrations of an IN-RIL model (part of :class:`sb3_inril.common.inril.InRILMixin`).

    ``demonstrations`` is what the model records and saves: a path, a ``shipped:`` name, a
    :class:`DemonstrationSpec` (how a file is read) or in-memory data (not saved);
    ``demo_buffer`` the validated data on the device, made when first needed.
    """

    # Set by the SB3 algorithm and by InRILMixin.
    env: VecEnv | None
    policy: BasePolicy
    observation_space: spaces.Space
    action_space: spaces.Space
    device: th.device
    seed: int | None
    verbose: int
    demonstrations: Any
    demo_val_fraction: float
    il_batch_size: int
    _preloaded_demonstrations: Demonstrations | None
    _demonstrations_fingerprint: dict[str, Any] | None
    _demonstrations_left_out: bool
    _demo_buffer: DemonstrationBuffer | None

    # Provided by SB3's BaseAlgorithm and by InRILMixin (declared, not defined: a definition here
    # would come before theirs in the method resolution order).
    get_vec_normalize_env: Callable[[], VecNormalize | None]
    _il_transform_actions: Callable[[np.ndarray], np.ndarray]

    def _recordable(self, demonstrations: Any) -> Any:
        """What the model keeps (and saves) of a demonstration source: a path, a spec, or the data."""
        if isinstance(demonstrations, Demonstrations) and demonstrations.spec is not None:
            # Read from a file: keep the data for now, record how to read it again.
            self._preloaded_demonstrations = demonstrations
            return demonstrations.spec
        if is_shipped_name(demonstrations):  # recorded by name: found in the package on any machine
            robomimic = detect_format(demonstrations) == "robomimic"
            return DemonstrationSpec(demonstrations, self._robomimic_read_options()) if robomimic else demonstrations
        if isinstance(demonstrations, (str, os.PathLike)) and os.path.exists(demonstrations):
            # An absolute path survives a change of working directory.
            path = os.path.abspath(os.fspath(demonstrations))
            if detect_format(path) == "robomimic":
                return DemonstrationSpec(path, self._robomimic_read_options())
            return path
        return demonstrations

    def _env_observation_space(self) -> spaces.Space:
        """The observation space as the env returns observations (before SB3 transposes images)."""
        env = getattr(self, "env", None)
        transposer = unwrap_vec_wrapper(env, VecTransposeImage) if env is not None else None
        if isinstance(transposer, VecTransposeImage) and not transposer.skip:
            return transposer.venv.observation_space
        return self.observation_space

    def _observation_transform(self) -> Callable[[TensorObservations], TensorObservations] | None:
        """SB3's channel-last to channel-first transposition of image observations, per minibatch."""
        env_space = self._env_observation_space()
        if env_space is self.observation_space:
            return None

        def channels_first(observations: TensorObservations) -> TensorObservations:
            if isinstance(observations, dict):
                transposed = dict(observations)
                for key, space in env_space.spaces.items():  # type: ignore[attr-defined]  # both spaces are Dict spaces here
                    if is_image_space(space) and space.shape != self.observation_space[key].shape:  # type: ignore[index]  # both spaces are Dict spaces here
                        transposed[key] = observations[key].permute(0, 3, 1, 2)
                return transposed
            return observations.permute(0, 3, 1, 2)

        return channels_first

    def _env_observation_layout(self) -> dict[str, int] | None:
        """The env's observation keys and sizes (``obs_key_sizes`` of a robomimic env), if it has them."""
        env = getattr(self, "env", None)
        if env is None or not env.has_attr("obs_key_sizes"):
            return None
        return dict(env.get_attr("obs_key_sizes", indices=[0])[0])

    def _robomimic_read_options(self) -> dict[str, Any]:
        """How a robomimic file is read for this env: its keys, in its order, flat or as a dict."""
        options: dict[str, Any] = {}
        layout = self._env_observation_layout()
        env_space = self._env_observation_space()
        if isinstance(env_space, spaces.Dict):
            options = {"obs_keys": list(env_space.spaces), "observation_format": "dict"}
        elif layout is not None:
            options = {"obs_keys": list(layout)}
        return options

    def _env_id(self) -> str | None:
        env = getattr(self, "env", None)
        if env is None:
            return None
        try:
            spec = env.get_attr("spec", indices=[0])[0]
        except Exception:  # an env without a spec attribute
            return None
        return getattr(spec, "id", None)

    @property
    def demo_buffer(self) -> DemonstrationBuffer | None:
        """The demonstrations, read and validated when first needed (a loaded model reads them only
        when ``learn``/``pretrain`` needs them, so that inference never does)."""
        if self._demo_buffer is None and self.demonstrations is not None:
            self._demo_buffer = self._make_demo_buffer(self.demonstrations)
        return self._demo_buffer

    def _make_demo_buffer(self, source: Any) -> DemonstrationBuffer:
        preloaded = self._preloaded_demonstrations
        env_layout = self._env_observation_layout()
        try:
            if preloaded is not None and preloaded.spec == source:
                demonstrations = preloaded
            elif isinstance(source, DemonstrationSpec):
                demonstrations = load_demonstrations(source.source, **source.kwargs)
            else:
                demonstrations = load_demonstrations(source)
        except FileNotFoundError as error:
            raise FileNotFoundError(
                f"{error}. A loaded model re-attaches the demonstrations recorded when it was saved: pass "
                "demonstrations=PATH to load() (or call set_demonstrations(PATH)) to point at them."
            ) from error
        except ValueError as error:
            if env_layout is not None and "observation keys" in str(error):
                raise ValueError(f"{error}; the env observes: {env_layout}") from error
            raise
        demo_layout = demonstrations.metadata.get("obs_key_sizes")
        if env_layout is not None and demo_layout and not demonstrations.is_dict:  # dicts: checked key by key
            check_observation_layout(demo_layout, env_layout, demonstrations.metadata.get("source", "demonstrations"))
        recorded_env, env_id = demonstrations_env_id(demonstrations.metadata), self._env_id()
        if recorded_env is not None and env_id is not None and recorded_env != env_id:
            warnings.warn(
                f"demonstrations: {demonstrations.metadata.get('source', 'the demonstrations')} were recorded on "
                f"{recorded_env!r}, the model's env is {env_id!r}",
                stacklevel=3,
            )
        self._preloaded_demonstrations = None  # the buffer holds the data now
        demonstrations = self._chunk_for_env(demonstrations)
        try:
            return DemonstrationBuffer(
                demonstrations,
                self._env_observation_space(),
                self._il_action_space(),
                device=self.device,
                val_fraction=self.demo_val_fraction,
                seed=self.seed,
                action_transform=self._il_transform_actions,
                vec_normalize_getter=self.get_vec_normalize_env,
                observation_transform=self._observation_transform(),
                min_train_pairs=self.il_batch_size,
            )
        except ValueError as error:
            layout = demonstrations.describe_observation()
            if layout and "'obs" in str(error):
                raise ValueError(f"{error}; the demonstrations' observation keys and sizes: {layout}") from error
            raise

    def _env_action_chunk_size(self) -> int | None:
        """The ``action_chunk_size`` of the env's :class:`sb3_inril.demos.chunking.ActionChunkWrapper`, if any
        (VecEnv wrappers such as VecNormalize forward ``get_attr`` to the envs)."""
        env = getattr(self, "env", None)
        if env is None or not env.has_attr("action_chunk_size"):
            return None
        return int(env.get_attr("action_chunk_size", indices=[0])[0])

    def _policy_action_chunk_size(self) -> int:
        """The imitation protocol's ``il_action_chunk_size``: chunks of H env actions IL imitates (default 1)."""
        horizon = getattr(getattr(self, "policy", None), "il_action_chunk_size", 1)
        return int(horizon) if isinstance(horizon, (int, np.integer)) and horizon >= 1 else 1

    def _il_action_space(self) -> spaces.Space:
        """
        The space demonstration actions are validated in: the env's, or ``(H, *A)`` chunks of its
        actions (bounds repeated) when the policy imitates chunks of H the env does not act in.
        """
        horizon = self._policy_action_chunk_size()
        space = self.action_space
        if horizon == 1 or not isinstance(space, spaces.Box):
            return space
        shape = (horizon, *space.shape)
        return spaces.Box(np.broadcast_to(space.low, shape), np.broadcast_to(space.high, shape), dtype=space.dtype)

    def _chunk_for_env(self, demonstrations: Demonstrations) -> Demonstrations:
        """
        Per-step demonstrations cut into the chunks of an env wrapped in ``ActionChunkWrapper``, or
        into the chunks the policy imitates (its ``il_action_chunk_size``).

        Only when the chunk size ``H`` is known and the space IL validates actions in is ``(H, *A)``
        for the demonstrations' per-step shape ``A``; demonstrations already of that shape, and those
        of neither shape (the buffer names the mismatch), are left alone.
        """
        env_horizon = self._env_action_chunk_size()
        horizon = env_horizon or self._policy_action_chunk_size()
        space = self._il_action_space()
        if horizon == 1 or not isinstance(space, spaces.Box):
            return demonstrations
        demo_shape = demonstrations.actions.shape[1:]
        if demo_shape == space.shape or (horizon, *demo_shape) != space.shape:
            return demonstrations
        if self.verbose >= 1:  # once per attachment, as SB3 reports its device
            owner = "the env's ActionChunkWrapper" if env_horizon else f"the chunks {type(self.policy).__name__} plans"
            print(
                f"demonstrations: per-step actions of shape {demo_shape} cut into chunks of {horizon} for {owner} "
                f"(IL actions {space}); episode tails padded with the last action"
            )
        return chunk_demonstrations(demonstrations, horizon)

    def set_demonstrations(self, demonstrations: DemonstrationSource | None) -> None:
        """
        Attach (or detach, with None) demonstrations, read and validated against the model's spaces now.

        :param demonstrations: see the class docstring
        """
        recordable = self._recordable(demonstrations)
        self._demo_buffer = None if recordable is None else self._make_demo_buffer(recordable)
        self.demonstrations = recordable
        self._demonstrations_fingerprint = None
        self._demonstrations_left_out = False  # detached on purpose (None), or attached again

    def _demonstrations_path(self) -> str | None:
        """The file or directory the demonstrations are read from (None for in-memory data)."""
        source = self._demonstrations_path_recorded()
        if is_shipped_name(source):
            try:
                source = resolve_shipped(source)  # type: ignore[arg-type]  # a shipped name is a str
            except FileNotFoundError:
                return None
        return source if isinstance(source, str) and os.path.exists(source) else None

    def _demonstrations_path_recorded(self) -> str | None:
        source = self.demonstrations.source if isinstance(self.demonstrations, DemonstrationSpec) else self.demonstrations
        return source if isinstance(source, str) else None

    def save(self, path: Any, exclude: Any = None, include: Any = None) -> None:
        """
        Save the model (see SB3's ``save``), with how to read its demonstrations again and a
        fingerprint (size, SHA-256) of their file, so that ``load`` can tell when it changed.

        :raises ValueError: when ``path`` is the demonstrations file itself
        """
        demo_path = self._demonstrations_path()
        if demo_path is not None and isinstance(path, (str, os.PathLike)):
            target = os.fspath(path)
            candidates = {os.path.realpath(target)}
            if not os.path.splitext(target)[1]:
                candidates.add(os.path.realpath(target + ".zip"))  # SB3 appends .zip to a path without suffix
            if os.path.realpath(demo_path) in candidates:
                raise ValueError(
                    f"path: {target!r} is the model's demonstrations file; saving there would overwrite it. Choose another path"
                )
        # In-memory demonstrations are not saved (``_excluded_save_params``): recorded, so that learn() on the
        # loaded model says they must be passed again rather than going on as plain RL.
        self._demonstrations_left_out = self.demonstrations is not None and not isinstance(
            self.demonstrations, (str, DemonstrationSpec)
        )
        if demo_path is not None:
            stat = os.stat(demo_path)
            cached = self._demonstrations_fingerprint
            key = {
                "source": self._demonstrations_path_recorded(),
                "path": demo_path,
                "mtime_ns": stat.st_mtime_ns,
                "stat_size": stat.st_size,
            }
            if cached is None or any(cached.get(name) != value for name, value in key.items()):
                self._demonstrations_fingerprint = {**key, **file_fingerprint(demo_path)}
        super().save(path, exclude=exclude, include=include)  # type: ignore[misc]  # the mixin's parent is the SB3 class it goes in front of

    def _check_demonstrations_fingerprint(self) -> None:
        """Warn when the demonstrations recorded at save time have changed since, or are gone."""
        recorded = self._demonstrations_fingerprint
        if recorded is None or recorded.get("source") != self._demonstrations_path_recorded():
            return  # nothing recorded, or other demonstrations were given to load()
        path = self._demonstrations_path()
        if path is None:
            warnings.warn(
                f"demonstrations: {recorded['source']!r}, recorded when the model was saved, is gone; the model "
                "predicts without it, learn()/pretrain() need demonstrations=PATH",
                stacklevel=3,
            )
            return
        current = file_fingerprint(path)
        changes = [
            f"{key} {recorded[key]} -> {current[key]}" for key in ("size", "sha256") if recorded.get(key) != current[key]
        ]
        if changes:
            warnings.warn(
                f"demonstrations: {path!r} has changed since the model was saved ({'; '.join(changes)})", stacklevel=3
            )

    @classmethod
    def load(cls, path: Any, env: GymEnv | str | None = None, *args: Any, **kwargs: Any) -> Any:
        """
        Load a model (see SB3's ``load``). ``env`` may also be an env id, made with ``gym.make`` as
        the constructor does. The demonstrations recorded at save time (or ``demonstrations=PATH``)
        are read only when ``learn``/``pretrain`` needs them; a warning says when their file has
        changed since the model was saved, or is gone.
        """
        if isinstance(env, str):
            import gymnasium as gym

            env = gym.make(env)
        try:
            model = super().load(path, env, *args, **kwargs)  # type: ignore[misc]  # the mixin's parent is the SB3 class it goes in front of
        except KeyError as error:
            # SB3's load retries a ValueError of set_parameters as a DQN model saved before SB3 2.4, reading
            # params["policy.optimizer"], which SAC, TD3, TQC and IDQL have not: the KeyError hid the ValueError
            # that names the parameters that do not match.
            if error.args == ("policy.optimizer",) and isinstance(error.__context__, ValueError):
                raise error.__context__ from None
            raise
        model._check_demonstrations_fingerprint()
        return model
