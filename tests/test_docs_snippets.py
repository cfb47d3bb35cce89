"""Every Python snippet of README.md and docs/*.md runs as written (with the training budgets
capped, so that the suite stays fast: ``learn`` runs at most one short rollout, ``pretrain`` a
few steps). A snippet that a reader copies must not fail on a name it forgot to define."""

import pathlib
import re
from typing import Any

import pytest
from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm

from sb3_inril.common.inril import InRILMixin

ROOT = pathlib.Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)
SNIPPETS = [
    pytest.param(code, id=f"{page.name}-{index}")
    for page in PAGES
    for index, code in enumerate(BLOCK.findall(page.read_text()))
]


def test_there_are_snippets():
    assert len(SNIPPETS) >= 5


@pytest.mark.parametrize("code", SNIPPETS)
def test_snippet_runs(code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    real_pretrain = InRILMixin.pretrain

    def shorten(real_learn: Any) -> Any:
        def short_learn(self: Any, total_timesteps: int, *args: Any, **kwargs: Any) -> Any:
            # One rollout / a few gradient steps: the snippet's budget is the reader's, not CI's.
            budget = getattr(self, "n_steps", 0) * getattr(self, "n_envs", 1) or 2 * getattr(self, "learning_starts", 100) + 64
            return real_learn(self, min(total_timesteps, budget), *args, **kwargs)

        return short_learn

    def short_pretrain(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.pop("n_epochs", None)
        kwargs["n_steps"] = 3
        return real_pretrain(self, *args, **kwargs)

    for algorithm in (OnPolicyAlgorithm, OffPolicyAlgorithm):  # what every IN-RIL class's learn() calls
        monkeypatch.setattr(algorithm, "learn", shorten(algorithm.learn))
    monkeypatch.setattr(InRILMixin, "pretrain", short_pretrain)
    exec(compile(code, "<snippet>", "exec"), {"__name__": "__snippet__"})
