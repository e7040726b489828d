#!/bin/sh
# Install webex-bulk into a new virtual environment from the hashed lock file, nothing unpinned:
# the build stage of the container image, and what tests/test_packaging.py runs in a fresh venv.
# Usage: deploy/install.sh VENV_DIR [SOURCE_DIR]   (PYTHON picks the interpreter, default python3)
set -eu
export PIP_DISABLE_PIP_VERSION_CHECK=1
venv=$1
src=${2:-.}
"${PYTHON:-python3}" -m venv "$venv"
# The lock holds the runtime dependencies and the build backend, every file with its hash.
"$venv/bin/python" -m pip install --quiet --require-hashes -r "$src/requirements.lock"
# The project itself: built with the pinned backend just installed, no dependency resolution.
"$venv/bin/python" -m pip install --quiet --no-deps --no-build-isolation "$src"
# The backend is not needed to run, and the image is smaller without it.
"$venv/bin/python" -m pip uninstall --quiet --yes setuptools
