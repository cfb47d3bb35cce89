"""The docs' numbers come from the committed results: every table that scripts/docs_tables.py
renders equals what the files under results/ give now, and the results pages hold no table of
numbers that it does not render."""

import os
import pathlib
import re

from scripts import docs_tables

ROOT = pathlib.Path(__file__).resolve().parents[1]

RESULTS_PAGES = [ROOT / "docs" / "results.md", *sorted((ROOT / "docs" / "results").glob("*.md"))]
#: Pages whose every table is generated (the results pages, the benchmarks page).
GENERATED_PAGES = [*RESULTS_PAGES, ROOT / "docs" / "benchmarks.md"]


def test_generated_tables_match_the_committed_results(capsys):
    assert docs_tables.main(["--check"]) == 0, capsys.readouterr().out


def test_results_pages_have_no_hand_written_tables():
    for page in GENERATED_PAGES:
        outside = docs_tables.MARKER.sub("", page.read_text())
        rows = [line for line in outside.splitlines() if line.startswith("|")]
        assert not rows, f"{page.relative_to(ROOT)}: a table outside <!-- table: ... --> markers: {rows[0]}"


def test_the_pages_show_the_generated_tables():
    text = {page: page.read_text() for page in [ROOT / "README.md", ROOT / "docs" / "getting_started.md", *RESULTS_PAGES]}
    specs = [m.group("spec").split()[0] for t in text.values() for m in docs_tables.MARKER.finditer(t)]
    for name in ("settings", "noise", "normalisations", "bar", "quickstart", "readme"):
        assert name in specs, name
    # The README's table and the quickstart's come from committed files, not from a run here.
    assert "<!-- table: readme -->" in text[ROOT / "README.md"]
    assert "<!-- table: quickstart -->" in text[ROOT / "docs" / "getting_started.md"]
    assert os.path.exists(ROOT / "results" / "quickstart" / "results.json")


def test_check_mode_names_a_stale_table(tmp_path, monkeypatch, capsys):
    page = tmp_path / "page.md"
    page.write_text("x\n<!-- table: study results/lift_ppo_scripted_levers_lr -->\n| stale |\n<!-- /table -->\n")
    monkeypatch.setattr(docs_tables, "pages", lambda: [str(page)])
    assert docs_tables.main(["--check"]) == 1
    assert "table 'study results/lift_ppo_scripted_levers_lr'" in capsys.readouterr().out
    assert "| stale |" in page.read_text()  # --check writes nothing
    new, names = docs_tables.render_page(page.read_text())
    assert names == ["study results/lift_ppo_scripted_levers_lr"]
    assert re.search(r"\| `inril_m2` \| 5 \| 0\.52 \[0\.47, 0\.59\]", new)
