#!/usr/bin/env bash
# Builds the Python package from this checkout and runs its tests in a fresh
# virtual environment: what a new user's `pip install` gets, tested against
# the CLI built from the same checkout. Exits non-zero on any failure.
#
#   crates/python/ci.sh [VENV]     (default VENV: target/python-ci-venv)
#
# Needs python3 (>= 3.9, with venv), cargo, and network access to PyPI.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="${1:-$repo/target/python-ci-venv}"
started=$SECONDS

rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet "maturin>=1.5,<2" pytest pyarrow datatrove orjson

# The real dolma mixer, for test_dolma.py: in a venv of its own, as dolma
# pins numpy<2 and an old fsspec that datatrove's do not fit. boto3 is pinned
# to the one s3fs==2023.6.0 (a dolma pin) allows; unpinned, pip backtracks
# through every boto3 release for many minutes.
rm -rf "$venv-dolma"
python3 -m venv "$venv-dolma"
"$venv-dolma/bin/python" -m pip install --quiet --only-binary=:all: "dolma==1.2.1" "boto3==1.26.161"

# The CLI the tests compare against.
(cd "$repo" && nice -n 10 cargo build --release --bin dechaff)

# The Rust equivalence harness's document set, which the package must clean as the CLI does.
documents="$repo/target/python-ci-equivalence-documents"
rm -rf "$documents"
(cd "$repo" && DECHAFF_EQUIVALENCE_DOCS="$documents" nice -n 10 cargo test --test it --quiet \
    -- --ignored --exact equivalence::write_the_document_set)

wheels="$repo/target/python-wheels"
rm -rf "$wheels"
(cd "$here" && nice -n 10 "$venv/bin/maturin" build --release --interpreter "$venv/bin/python" --out "$wheels")
"$venv/bin/python" -m pip install --quiet --force-reinstall "$wheels"/dechaff-*.whl

# Run from outside the source tree, so that the installed wheel is imported.
cd "$here/tests"
DECHAFF_BIN="$repo/target/release/dechaff" DECHAFF_EQUIVALENCE_DOCS="$documents" DOLMA_BIN="$venv-dolma/bin/dolma" "$venv/bin/python" -m pytest -q -p no:cacheprovider "$here/tests"
echo "python tests passed in $((SECONDS - started)) s"
