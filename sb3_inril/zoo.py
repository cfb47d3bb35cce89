"""rl-zoo integration: the IN-RIL algorithms, their hyperparameter samplers and YAML files.

rl_zoo3 has no plugin mechanism. ``register()`` adds our algorithms to rl_zoo3's tables **in
memory** (nothing on disk changes) and swaps in an ``ExperimentManager`` subclass that:

- uses this project's ``zoo_hyperparams/<algo>.yml`` (shipped inside the package) when ``-conf`` is
  not given: always for the IN-RIL algorithms, for the plain ``ppo``/``sac`` baselines when the file
  has an entry for the env (rl_zoo3's own file otherwise);
- checks every hyperparameter key (YAML and ``-params``) against the algorithm's arguments and
  every demonstration source, before any env is built, with a clear error;
- reads ``demonstrations: shipped:<env id>/<flavour>`` from the package, and resolves other
  relative paths against the working directory (as rl_zoo3 resolves ``-i``, ``-conf``, ``-f``);
- gives the plain ``ppo`` / ``sac`` / ``tqc`` baselines the same BC start as IN-RIL when their
  entry has ``demonstrations`` and ``pretrain_kwargs`` (the model stays a plain SB3 model).
"""

import inspect
import os
from typing import Any

import optuna
import rl_zoo3.hyperparams_opt as hyperparams_opt
import rl_zoo3.train as zoo_train
import yaml
from rl_zoo3.exp_manager import ExperimentManager
from rl_zoo3.utils import ALGOS
from stable_baselines3.common.base_class import BaseAlgorithm

from sb3_inril import IDQL, InRILIDQL, InRILPPO, InRILSAC, InRILTQC
from sb3_inril.common.inril import PRETRAIN_ARGUMENTS, InRILMixin
from sb3_inril.data import is_shipped_name, resolve_shipped
from sb3_inril.demos.loading import MINARI_ID
from sb3_inril.hyperparams import ZOO_KEYS, hyperparams_dir

# inril_dppo is InRILPPO with its own hyperparameters file: a diffusion policy fine-tuned over its
# denoising chain (zoo_hyperparams/inril_dppo.yml).
INRIL_ALGOS: dict[str, type[BaseAlgorithm]] = {
    "inril_ppo": InRILPPO,
    "inril_dppo": InRILPPO,
    "inril_sac": InRILSAC,
    "inril_tqc": InRILTQC,
    "inril_idql": InRILIDQL,
}
# Plain algorithms of the package that rl_zoo3 does not have.
PLAIN_ALGOS: dict[str, type[BaseAlgorithm]] = {"idql": IDQL}
# IN-RIL class of each plain algorithm, used for the BC start of the plain baselines.
BC_TWINS = {"ppo": InRILPPO, "sac": InRILSAC, "tqc": InRILTQC, "idql": InRILIDQL}
BASE_SAMPLERS = {"inril_ppo": "ppo", "inril_dppo": "ppo", "inril_sac": "sac", "inril_tqc": "tqc", "inril_idql": "idql"}
BC_KEYS = {"demonstrations", "pretrain_kwargs"}


HYPERPARAMS_DIR = hyperparams_dir()


def _has_entry(config: str, env_id: str) -> bool:
    with open(config) as file:
        return env_id in (yaml.load(file, Loader=yaml.UnsafeLoader) or {})


def constructor_arguments(algo_class: type[BaseAlgorithm]) -> set[str]:
    """Every keyword the class accepts, following ``**kwargs`` up the MRO (as InRILMixin passes them on)."""
    names: set[str] = set()
    for klass in algo_class.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        parameters = inspect.signature(init).parameters
        names |= {name for name, p in parameters.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
        if not any(p.kind == p.VAR_KEYWORD for p in parameters.values()):
            break
    return names - {"self", "env", "_init_setup_model"}


def sample_inril_params(trial: optuna.Trial, residual: bool = True) -> dict[str, Any]:
    """
    The IN-RIL hyperparameters (added on top of the base algorithm's sampler).

    :param residual: whether ``gradient_separation="residual"`` is among the choices (an algorithm
        with a residual policy)
    """
    separations = ["none", "surgery", "residual"] if residual else ["none", "surgery"]
    separation = trial.suggest_categorical("gradient_separation", separations)
    return {
        "il_interval": trial.suggest_categorical("il_interval", [2, 5, 10, 20, None]),
        "il_steps": trial.suggest_categorical("il_steps", [1, 2, 4]),
        "il_learning_rate": trial.suggest_float("il_learning_rate", 1e-5, 1e-3, log=True),
        "il_batch_size": trial.suggest_categorical("il_batch_size", [64, 128, 256]),
        "gradient_separation": None if separation == "none" else separation,
    }


def sample_idql_params(trial: optuna.Trial, n_actions: int, n_envs: int, additional_args: dict) -> dict[str, Any]:
    """
    IDQL's hyperparameters (rl_zoo3 has no IDQL): rates, batch, discount, target rate, V's expectile,
    training frequency. The policy's (``n_action_samples``, the denoiser) stay those of the YAML entry:
    rl_zoo3 replaces ``policy_kwargs`` whole with what a sampler returns.
    """
    return {
        "gamma": trial.suggest_categorical("gamma", [0.95, 0.98, 0.99, 0.995, 0.999]),
        "learning_rate": trial.suggest_float("learning_rate", 1e-4, 3e-3, log=True),
        "actor_learning_rate": trial.suggest_float("actor_learning_rate", 1e-5, 1e-3, log=True),
        "batch_size": trial.suggest_categorical("batch_size", [128, 256, 512]),
        "tau": trial.suggest_categorical("tau", [0.001, 0.005, 0.01]),
        "expectile": trial.suggest_categorical("expectile", [0.7, 0.8, 0.9]),
        "train_freq": trial.suggest_categorical("train_freq", [1, 4, 16]),
    }


def convert_idql_params(sampled_params: dict[str, Any]) -> dict[str, Any]:
    """Trial parameters of :func:`sample_idql_params` -> hyperparameters (the same names)."""
    return dict(sampled_params)


def _sampler_for(algo: str) -> Any:
    base_sampler = hyperparams_opt.HYPERPARAMS_SAMPLER[BASE_SAMPLERS[algo]]
    residual = "ResidualMlpPolicy" in INRIL_ALGOS[algo].policy_aliases

    def sampler(trial: optuna.Trial, n_actions: int, n_envs: int, additional_args: dict) -> dict[str, Any]:
        return {**base_sampler(trial, n_actions, n_envs, additional_args), **sample_inril_params(trial, residual)}

    sampler.__name__ = f"sample_{algo}_params"
    return sampler


INRIL_SAMPLED = ("il_interval", "il_steps", "il_learning_rate", "il_batch_size", "gradient_separation")


def _converter_for(algo: str) -> Any:
    """Trial parameters -> hyperparameters (for ``--trial-id`` and ``load_trial``)."""
    base_converter = hyperparams_opt.HYPERPARAMS_CONVERTER[BASE_SAMPLERS[algo]]

    def converter(sampled_params: dict[str, Any]) -> dict[str, Any]:
        base = base_converter({key: value for key, value in sampled_params.items() if key not in INRIL_SAMPLED})
        inril = {key: sampled_params[key] for key in INRIL_SAMPLED if key in sampled_params}
        if inril.get("gradient_separation") == "none":
            inril["gradient_separation"] = None
        return {**base, **inril}

    return converter


class InRILExperimentManager(ExperimentManager):
    """rl_zoo3's ExperimentManager with IN-RIL's checks, paths and BC start (see the module docstring)."""

    def __init__(self, args: Any, algo: str, env_id: str, *positional: Any, config: str | None = None, **kwargs: Any) -> None:
        own = os.path.join(HYPERPARAMS_DIR, f"{algo}.yml")
        if config is None and os.path.exists(own) and (algo in INRIL_ALGOS or algo in PLAIN_ALGOS or _has_entry(own, env_id)):
            config = own
        super().__init__(args, algo, env_id, *positional, config=config, **kwargs)  # type: ignore[misc]  # rl_zoo3 passes the rest by keyword
        self._bc_start: dict[str, Any] | None = None

    def read_hyperparameters(self) -> tuple[dict[str, Any], dict[str, Any]]:
        hyperparams, saved_hyperparams = super().read_hyperparameters()
        self._check_hyperparameters(hyperparams)
        for mapping in (hyperparams, saved_hyperparams):
            if isinstance(mapping.get("demonstrations"), str):
                mapping["demonstrations"] = self._resolve_path(mapping["demonstrations"])
        return hyperparams, saved_hyperparams

    def _resolve_path(self, path: str) -> str:
        """A shipped name stays a name (the saved model finds it in the package anywhere); a relative
        path is resolved against the working directory."""
        where = f"hyperparameters ({self.config}, {self.env_name.gym_id})"
        if not path.strip():
            # os.path.abspath("") is the working directory, read as a dataset directory: a puzzling message.
            raise ValueError(
                f"{where}: demonstrations: expected a file, a dataset directory or a shipped name, found {path!r}"
            )
        if is_shipped_name(path):
            try:
                resolve_shipped(path)
            except (ValueError, FileNotFoundError) as error:
                raise FileNotFoundError(f"{where}: {error}") from error
            return path
        resolved = os.path.abspath(path)
        if not os.path.exists(resolved) and not MINARI_ID.match(path):
            raise FileNotFoundError(
                f"{where}: demonstrations file not found: {resolved!r} (relative paths are resolved against the "
                f"working directory {os.getcwd()!r}; shipped sets are named like 'shipped:Pendulum-v1/medium')"
            )
        return resolved if os.path.exists(resolved) else path

    def _check_hyperparameters(self, hyperparams: dict[str, Any]) -> None:
        algo_class = ALGOS[self.algo]
        valid = constructor_arguments(algo_class) | ZOO_KEYS
        if self.algo in BC_TWINS:
            valid |= BC_KEYS
        unknown = sorted(set(hyperparams) - valid)
        if unknown:
            raise ValueError(
                f"hyperparameters ({self.config}, {self.env_name.gym_id}): unknown keys {unknown} for {algo_class.__name__}; "
                f"expected some of {sorted(valid)}"
            )
        pretrain_kwargs = hyperparams.get("pretrain_kwargs")
        if pretrain_kwargs is not None and not isinstance(pretrain_kwargs, dict):
            # Checked before the keys: a string's keys were its characters, a number's a TypeError from set().
            raise TypeError(
                f"hyperparameters ({self.config}, {self.env_name.gym_id}): pretrain_kwargs: expected a mapping of "
                f"pretrain() arguments (e.g. {{n_epochs: 30}}) or null, found {type(pretrain_kwargs).__name__} {pretrain_kwargs!r}"
            )
        bad = sorted(set(pretrain_kwargs or {}) - PRETRAIN_ARGUMENTS, key=str)
        if bad:
            raise ValueError(
                f"hyperparameters: pretrain_kwargs has unknown keys {bad}, expected some of {sorted(PRETRAIN_ARGUMENTS)}"
            )
        if self.algo in BC_TWINS and ("pretrain_kwargs" in hyperparams) != ("demonstrations" in hyperparams):
            raise ValueError(f"hyperparameters: the BC start of {self.algo} needs both 'demonstrations' and 'pretrain_kwargs'")
        if (
            self.algo in INRIL_ALGOS
            and hyperparams.get("demonstrations") is None
            and hyperparams.get("il_interval", 10) is not None
        ):
            raise ValueError(
                f"hyperparameters ({self.config}, {self.env_name.gym_id}): {algo_class.__name__} interleaves IL steps on "
                "demonstrations and none are given for this env: pass -params demonstrations:\"'my_demos.npz'\" (a file, "
                "or a shipped set such as \"'shipped:Pendulum-v1/medium'\"), or il_interval:None for plain RL"
            )
        if "n_timesteps" not in hyperparams and not self.n_timesteps:
            raise ValueError(f"hyperparameters ({self.config}, {self.env_name.gym_id}): no n_timesteps; pass -n N")

    def _preprocess_hyperparams(self, hyperparams: dict[str, Any]) -> Any:
        if self.algo in BC_TWINS and "demonstrations" in hyperparams:
            if self.optimize_hyperparameters:
                raise ValueError(
                    f"-optimize: the BC start of plain {self.algo} is not supported; use inril_{self.algo} with il_interval: null"
                )
            self._bc_start = {key: hyperparams.pop(key) for key in BC_KEYS}
        return super()._preprocess_hyperparams(hyperparams)

    def setup_experiment(self) -> Any:
        result = super().setup_experiment()
        if result is not None and self._bc_start is not None and not self.continue_training:
            stats = bc_pretrain_plain_model(result[0], **self._bc_start)
            print(
                f"BC start of {self.algo}: {stats['n_steps']} steps, validation loss "
                f"{stats['initial_val_loss']} -> {stats['final_val_loss']}"
            )
        return result


def bc_pretrain_plain_model(model: BaseAlgorithm, demonstrations: Any, pretrain_kwargs: dict[str, Any]) -> dict[str, Any]:
    """
    BC pre-training of a plain SB3 model, with exactly the code IN-RIL uses.

    An IN-RIL twin with the same policy class and arguments (and interleaving off) takes the
    model's weights, pre-trains, and gives them back: the model stays a plain SB3 model.
    """
    twin_class = next(
        twin for name, twin in BC_TWINS.items() if isinstance(model, ALGOS[name]) and not isinstance(model, InRILMixin)
    )
    twin = twin_class(
        type(model.policy),
        model.get_env(),
        demonstrations=demonstrations,
        il_interval=None,
        # Checked when the twin is made (not only when pretrain() runs), with errors that name pretrain_kwargs.
        pretrain_kwargs=pretrain_kwargs,
        policy_kwargs=model.policy_kwargs,
        device=model.device,
        seed=model.seed,
    )
    twin.policy.load_state_dict(model.policy.state_dict())
    stats = twin.pretrain(**pretrain_kwargs)
    model.policy.load_state_dict(twin.policy.state_dict())
    return stats


def register() -> None:
    """Add the IN-RIL algorithms, samplers and experiment manager to rl_zoo3 (in memory only)."""
    ALGOS.update(PLAIN_ALGOS)
    ALGOS.update(INRIL_ALGOS)
    hyperparams_opt.HYPERPARAMS_SAMPLER["idql"] = sample_idql_params
    hyperparams_opt.HYPERPARAMS_CONVERTER["idql"] = convert_idql_params
    for algo in INRIL_ALGOS:
        hyperparams_opt.HYPERPARAMS_SAMPLER[algo] = _sampler_for(algo)
        hyperparams_opt.HYPERPARAMS_CONVERTER[algo] = _converter_for(algo)
    zoo_train.ExperimentManager = InRILExperimentManager  # type: ignore[misc]  # rl_zoo3 has no plugin mechanism: its module attribute is the seam
