"""The Syne Tune peers of ``python -m bench.multifidelity`` without Syne Tune installed.

Syne Tune is installed apart from the project's extras, so the usual environment lacks it:
asking for its methods must stop before any run with one line that says what to install, both
on the command line and through the method table.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root holds bench/

from bench.multifidelity.__main__ import main
from bench.multifidelity.methods import METHODS
from bench.multifidelity.problems import crossing
from bench.multifidelity.synetune_methods import SyneTuneMissing

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("syne_tune") is not None, reason="Syne Tune is installed here"
)


def test_command_refuses_syne_tune_methods_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "summary.json"
    with pytest.raises(SystemExit) as exit_info:
        main(
            ["--profile", "tiny", "--methods", "amtune-random,synetune-mobster", "--out", str(out)]
        )
    assert exit_info.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert "syne-tune==0.13.0" in error and "bench/MULTIFIDELITY.md" in error
    assert not out.exists()


@pytest.mark.parametrize("method", ["synetune-asha", "synetune-mobster"])
def test_method_table_raises_missing(method: str) -> None:
    with pytest.raises(SyneTuneMissing, match=r"syne-tune==0\.13\.0"):
        METHODS[method](crossing(9), 0)
