#!/usr/bin/env bash
# Start, stop or query the project's own Label Studio server (tests, CI, local review).
#
# Label Studio pins dependencies that clash with factsep's, so it lives in its own virtualenv,
# installed on first use. It listens on 127.0.0.1 only, keeps its SQLite data under the ignored
# project folder .factsep-services/, and creates an admin whose legacy API token is fixed from the
# environment, so tests and `factsep route` can connect without any manual step.
#
# usage: scripts/label-studio.sh start|stop|status|install|env
#
# Environment (all optional; test defaults are used otherwise):
#   LABEL_STUDIO_URL          http://127.0.0.1:PORT (port taken from it, default 8080)
#   LABEL_STUDIO_USERNAME     admin e-mail          (default admin@factsep.local)
#   LABEL_STUDIO_PASSWORD     admin password        (default factsep-admin-password)
#   LABEL_STUDIO_API_KEY      the admin's token     (default a fixed 40-hex test token)
#   FACTSEP_LS_VENV           virtualenv            (default ~/.cache/factsep-ls-venv)
#   FACTSEP_LS_DATA           data folder           (default <repo>/.factsep-services/label-studio)
#   FACTSEP_LS_TIMEOUT        seconds to wait for /health (default 240)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LS_VERSION="1.23.2"
VENV="${FACTSEP_LS_VENV:-$HOME/.cache/factsep-ls-venv}"
DATA="${FACTSEP_LS_DATA:-$ROOT/.factsep-services/label-studio}"
URL="${LABEL_STUDIO_URL:-http://127.0.0.1:8080}"
URL="${URL%/}"
PORT="$(printf '%s' "$URL" | sed -E 's#^[a-z]+://[^:/]+:?([0-9]*).*$#\1#')"
PORT="${PORT:-8080}"
TIMEOUT="${FACTSEP_LS_TIMEOUT:-240}"
PIDFILE="$DATA/server-$PORT.pid"
LOG="$DATA/server-$PORT.log"

export LABEL_STUDIO_USERNAME="${LABEL_STUDIO_USERNAME:-admin@factsep.local}"
export LABEL_STUDIO_PASSWORD="${LABEL_STUDIO_PASSWORD:-factsep-admin-password}"
export LABEL_STUDIO_USER_TOKEN="${LABEL_STUDIO_API_KEY:-${LABEL_STUDIO_USER_TOKEN:-fac75e9000000000000000000000000000000001}}"
export LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN=true
export LABEL_STUDIO_BASE_DATA_DIR="$DATA"
export LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK=true
export LABEL_STUDIO_LATEST_VERSION_CHECK=false
export SENTRY_DSN="" FRONTEND_SENTRY_DSN=""
# The server listens on loopback only, and so does its ML backend (`factsep ml-backend`): let it
# call the backend and post webhooks to 127.0.0.1 (Label Studio blocks local addresses by default).
export ML_BLOCK_LOCAL_IP="${ML_BLOCK_LOCAL_IP:-false}"
export SSRF_PROTECTION_ENABLED="${SSRF_PROTECTION_ENABLED:-false}"

log() { printf 'label-studio: %s\n' "$*" >&2; }

healthy() {
    curl -fsS --max-time 3 "$URL/health" 2>/dev/null | grep -q '"UP"'
}

installed() {
    [ -x "$VENV/bin/label-studio" ] &&
        [ "$("$VENV/bin/python" -c 'import label_studio; print(label_studio.__version__)' 2>/dev/null)" = "$LS_VERSION" ]
}

install() {
    if installed; then
        return 0
    fi
    log "installing label-studio==$LS_VERSION into $VENV (one time, a few minutes)"
    python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet "label-studio==$LS_VERSION"
    installed || { log "install failed"; exit 1; }
}

running_pid() {
    [ -f "$PIDFILE" ] || return 1
    local pid
    pid="$(cat "$PIDFILE")"
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && { printf '%s' "$pid"; return 0; }
    return 1
}

start() {
    if healthy; then
        log "already up at $URL"
        return 0
    fi
    install
    mkdir -p "$DATA"
    if ! running_pid >/dev/null; then
        log "starting on $URL (data in $DATA; a fresh data folder takes about a minute)"
        # setsid: the server gets its own process group, so stop ends exactly what start began.
        setsid "$VENV/bin/label-studio" start --no-browser --internal-host 127.0.0.1 -p "$PORT" \
            >"$LOG" 2>&1 </dev/null &
        echo $! >"$PIDFILE"
    fi
    local waited=0
    until healthy; do
        if ! running_pid >/dev/null; then
            log "server exited during startup; last lines of $LOG:"
            tail -n 20 "$LOG" >&2 || true
            exit 1
        fi
        if [ "$waited" -ge "$TIMEOUT" ]; then
            log "no /health after ${TIMEOUT}s; see $LOG"
            exit 1
        fi
        sleep 2
        waited=$((waited + 2))
    done
    log "up at $URL after ${waited}s"
}

stop() {
    local pid
    if pid="$(running_pid)"; then
        kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 30); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.5
        done
        kill -KILL -- "-$pid" 2>/dev/null || true
        log "stopped (pid $pid)"
    else
        log "not running (no live pid in $PIDFILE)"
    fi
    rm -f "$PIDFILE"
}

status() {
    local pid=""
    pid="$(running_pid || true)"
    if healthy; then
        echo "up $URL pid=${pid:-external}"
    else
        echo "down $URL${pid:+ (pid $pid starting)}"
        return 1
    fi
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    install) install ;;
    env) printf 'export LABEL_STUDIO_URL=%s\n' "$URL" ;;
    *)
        echo "usage: $0 start|stop|status|install|env" >&2
        exit 2
        ;;
esac
