"""Shared fixtures: the repository, the CLI binary built from it, and runs of it.

The tests compare the package with `dechaff clean` run on the same inputs.
The binary is `$DECHAFF_BIN`, or `target/release/dechaff` of this checkout,
built here when missing.
"""

import json
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
SHARED = REPO.parent / "shared"


def _binary() -> Path:
    given = os.environ.get("DECHAFF_BIN")
    if given:
        return Path(given)
    path = REPO / "target" / "release" / "dechaff"
    if not path.exists():
        subprocess.run(
            ["cargo", "build", "--release", "--bin", "dechaff"], cwd=REPO, check=True
        )
    return path


@pytest.fixture(scope="session")
def dechaff_bin() -> Path:
    return _binary()


@pytest.fixture(scope="session")
def run_cli(dechaff_bin):
    """Runs `dechaff clean INPUTS --out OUT FLAGS`; returns ({source: record}, OUT)."""

    def run(inputs, out, *flags, check=True):
        args = [str(dechaff_bin), "clean", *map(str, inputs), "--out", str(out), "-q", *flags]
        done = subprocess.run(args, capture_output=True, text=True)
        if check and done.returncode not in (0,):
            raise AssertionError(f"{args} exited {done.returncode}: {done.stderr}")
        records = {}
        provenance = Path(out) / "provenance.jsonl"
        if provenance.exists():
            manifest, *lines = provenance.read_text(encoding="utf-8").splitlines()
            assert json.loads(manifest)["schema"] == "dechaff.manifest/2"
            for line in lines:
                record = json.loads(line)
                records[record["source"]] = record
        return records, done

    return run


@pytest.fixture(scope="session")
def seeds() -> Path:
    return REPO / "seeds"


@pytest.fixture(scope="session")
def devset_input() -> Path:
    path = Path(os.environ.get("DECHAFF_DEVSET", SHARED / "devset" / "input"))
    if not path.is_dir():
        pytest.skip(f"no dev set at {path} (set DECHAFF_DEVSET)")
    return path
