#!/usr/bin/env bash
# Dolma in its own virtualenv, with what factsep's detector needs beside it.
#
# Dolma 1.2.1 pins numpy<2, fsspec==2023.6.0, s3fs==2023.6.0 and tokenizers<=0.19.1, which clash
# with factsep's own dependencies, so `dolma tag` with the factsep tagger runs from this venv. It
# holds dolma and the detector's libraries only (spaCy, phonenumbers, python-stdnum, google-re2,
# pyarrow<21, the last built for numpy 1); factsep itself comes from the checkout on PYTHONPATH:
#
#   PYTHONPATH=/path/to/factsep "$(scripts/dolma-venv.sh path)/bin/dolma" tag \
#       --tagger_modules factsep.adapters.dolma --taggers factsep --documents 'data/documents/*.gz'
#
# usage: scripts/dolma-venv.sh install|path|status
#
# Environment: FACTSEP_DOLMA_VENV  the virtualenv (default ~/.cache/factsep-dolma-venv)
set -euo pipefail

DOLMA_VERSION="1.2.1"
VENV="${FACTSEP_DOLMA_VENV:-$HOME/.cache/factsep-dolma-venv}"

log() { printf 'dolma-venv: %s\n' "$*" >&2; }

installed() {
    [ -x "$VENV/bin/dolma" ] &&
        "$VENV/bin/python" - "$DOLMA_VERSION" <<'EOF' 2>/dev/null
import importlib.metadata as m, sys
import phonenumbers, pyarrow, re2, spacy, stdnum  # noqa: F401  the detector's libraries
sys.exit(0 if m.version("dolma") == sys.argv[1] else 1)
EOF
}

install() {
    if installed; then
        return 0
    fi
    log "installing dolma==$DOLMA_VERSION into $VENV (one time, about two minutes)"
    python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    # Pins that keep pip from backtracking through hundreds of boto3 releases (dolma's s3fs pin
    # fixes botocore) and keep the detector's libraries on dolma's numpy 1.
    local constraints
    constraints="$(mktemp)"
    printf '%s\n' "boto3==1.26.76" "botocore==1.29.76" "numpy<2" "fsspec==2023.6.0" "pyarrow<21" >"$constraints"
    "$VENV/bin/python" -m pip install --quiet -c "$constraints" "dolma==$DOLMA_VERSION" \
        "spacy>=3.7" "phonenumbers>=8.13" "python-stdnum>=1.20" "google-re2>=1.1" "pyarrow>=15.0"
    rm -f "$constraints"
    installed || { log "install failed: $VENV has no working dolma $DOLMA_VERSION"; exit 1; }
}

case "${1:-}" in
    install) install ;;
    path) printf '%s\n' "$VENV" ;;
    status) if installed; then echo "installed $VENV"; else echo "missing $VENV"; exit 1; fi ;;
    *)
        echo "usage: $0 install|path|status" >&2
        exit 2
        ;;
esac
