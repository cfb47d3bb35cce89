"""Every Python snippet of README.md and of every page under docs/ (subfolders included) runs as
written, with the training budgets capped so that the suite stays fast: ``learn`` runs at most one
short rollout, ``pretrain`` a few steps. A snippet that a reader copies must not fail on a name it
forgot to define.

A snippet is left out only where its page says so, visibly, on the line right above its fence:

    <!-- snippet: skip: why it can not run in the tests -->
    <!-- snippet: slow: why it takes longer than 15 s -->

``skip`` does not run it (the test shows as skipped, with the reason); ``slow`` runs it under
``@pytest.mark.slow`` (``make test`` runs it, ``make test-fast`` does not). A reason is required.
"""

import pathlib
import re
import textwrap
from typing import Any, NamedTuple

import pytest
from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm

from sb3_inril.common.inril import InRILMixin

ROOT = pathlib.Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
# A fenced Python block, possibly indented (inside a list item), with the line above it.
FENCE = re.compile(
    r"(?P<above>^[^\n]*\n)?(?P<indent>^[ \t]*)```(?:python|py)[ \t]*\n(?P<code>.*?)^(?P=indent)```[ \t]*$",
    re.DOTALL | re.MULTILINE,
)
MARKER = re.compile(r"^\s*<!--\s*snippet:\s*(?P<kind>[\w-]+)\s*:?\s*(?P<reason>.*?)\s*-->\s*$")
ANY_MARKER = re.compile(r"<!--\s*snippet\b")
KINDS = ("skip", "slow")


class Snippet(NamedTuple):
    page: str
    number: int  # its place on the page (`index` would shadow tuple.index)
    code: str
    kind: str | None
    reason: str


def snippets_of(text: str, page: str) -> list[Snippet]:
    found = []
    for index, match in enumerate(FENCE.finditer(text)):
        marker = MARKER.match(match["above"] or "")
        kind, reason = (marker["kind"], marker["reason"]) if marker else (None, "")
        code = textwrap.dedent("".join(line[len(match["indent"]) :] for line in match["code"].splitlines(True)))
        found.append(Snippet(page, index, code, kind, reason))
    return found


def relative(page: pathlib.Path) -> str:
    return page.relative_to(ROOT).as_posix()


ALL = [snippet for page in PAGES for snippet in snippets_of(page.read_text(encoding="utf-8"), relative(page))]


def param(snippet: Snippet) -> Any:
    marks: list[Any] = []
    if snippet.kind == "skip":
        marks.append(pytest.mark.skip(reason=f"{snippet.page}: {snippet.reason}"))
    elif snippet.kind == "slow":
        marks.append(pytest.mark.slow)
    return pytest.param(snippet.code, id=f"{snippet.page}-{snippet.number}", marks=marks)


def test_there_are_snippets():
    assert len(ALL) >= 15
    # Pages in subfolders of docs/ are covered, not only docs/*.md.
    assert any(snippet.page.startswith("docs/modules/") for snippet in ALL)


def test_snippet_markers_are_well_formed():
    """Every marker names a known kind and a reason, and sits right above a Python fence (a marker
    anywhere else would exclude nothing, silently)."""
    problems = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        attached = {snippet.number for snippet in snippets_of(text, relative(page)) if snippet.kind is not None}
        n_markers = len(ANY_MARKER.findall(text))
        if n_markers != len(attached):
            problems.append(f"{relative(page)}: {n_markers} snippet marker(s), {len(attached)} right above a ```python fence")
        for snippet in snippets_of(text, relative(page)):
            if snippet.kind is not None and (snippet.kind not in KINDS or not snippet.reason):
                problems.append(
                    f"{snippet.page} snippet {snippet.number}: marker {snippet.kind!r} needs one of {KINDS} and a reason"
                )
    assert not problems, problems


def test_marker_parsing():
    text = (
        "Intro.\n\n<!-- snippet: skip: needs a GPU -->\n```python\nimport torch\n```\n\n"
        "- a list item:\n\n    ```python\n    x = 1\n    ```\n\n<!-- snippet: slow: renders images -->\n```py\ny = 2\n```\n"
    )
    found = snippets_of(text, "page.md")
    assert [(s.kind, s.reason) for s in found] == [("skip", "needs a GPU"), (None, ""), ("slow", "renders images")]
    assert found[1].code == "x = 1\n"


@pytest.mark.parametrize("code", [param(snippet) for snippet in ALL])
def test_snippet_runs(code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    real_pretrain = InRILMixin.pretrain

    def shorten(real_learn: Any) -> Any:
        def short_learn(self: Any, total_timesteps: int, *args: Any, **kwargs: Any) -> Any:
            # One rollout / a few gradient steps: the snippet's budget is the reader's, not CI's.
            if isinstance(self, OnPolicyAlgorithm):  # one rollout; A2C's are 5 steps: a dozen of them
                budget = max(self.n_steps * self.n_envs, 64)
            else:  # past learning_starts, then 64 steps of training (SB3's off-policy n_steps is its n-step return)
                budget = self.learning_starts + 64 * self.n_envs
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
