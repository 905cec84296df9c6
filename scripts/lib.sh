# Shared by the scripts in this folder: paths, ports and small helpers. Sourced, never run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STACK="${KEYWARD_STACK_DIR:-$ROOT/.stack}"
PG_BIN=/usr/lib/postgresql/15/bin
# The /usr/sbin wrapper switches to the rabbitmq user (another HOME, another Erlang cookie): call the real one.
RABBITMQCTL=/usr/lib/rabbitmq/bin/rabbitmqctl

# Loopback ports of the local stack (override with the environment when they clash).
PG_PORT="${KEYWARD_PG_PORT:-55432}"
RABBIT_PORT="${KEYWARD_RABBIT_PORT:-55672}"
RABBIT_DIST_PORT="${KEYWARD_RABBIT_DIST_PORT:-55673}"
EPMD_PORT="${KEYWARD_EPMD_PORT:-55674}"

# Ports of the services started by scripts/up: HTTP/1.1 (REST, OCS, probes) and HTTP/2 (gRPC).
GATEWAY_HTTP_PORT="${KEYWARD_GATEWAY_HTTP_PORT:-18080}"
GATEWAY_GRPC_PORT="${KEYWARD_GATEWAY_GRPC_PORT:-18081}"
SERVICES=(certificate-authority keyserver metadata audit gateway)
declare -A HTTP_PORT=([certificate-authority]=18110 [keyserver]=18120 [metadata]=18130 [audit]=18140 [gateway]=$GATEWAY_HTTP_PORT)
declare -A GRPC_PORT=([certificate-authority]=18111 [keyserver]=18121 [metadata]=18131 [audit]=18141 [gateway]=$GATEWAY_GRPC_PORT)
declare -A ASSEMBLY=([certificate-authority]=Keyward.CertificateAuthority [keyserver]=Keyward.Keyserver [metadata]=Keyward.Metadata [audit]=Keyward.Audit [gateway]=Keyward.Gateway)
CONFIGURATION="${KEYWARD_CONFIGURATION:-Release}"
# No MSBuild node or build server may outlive a script: nothing of ours stays running.
export MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_USE_MSBUILD_SERVER=0 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

say() { printf '%s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Is the process in this pid file alive?
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# Stop the process in a pid file: TERM, wait up to $2 seconds, then KILL.
stop_pid() {
  local pidfile="$1" wait="${2:-15}" pid
  [ -f "$pidfile" ] || return 0
  pid="$(cat "$pidfile")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 $((wait * 10))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

# Wait until a command succeeds, at most $1 seconds.
wait_for() {
  local seconds="$1"; shift
  for _ in $(seq 1 $((seconds * 4))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.25; done
  return 1
}

load_env() {
  [ -f "$STACK/env" ] || die "no $STACK/env: start the stack first with scripts/stack up"
  set -a; . "$STACK/env"; set +a
}
