# Starting and stopping the five services against the local stack. Sourced by up, down and bench.

# The environment one service runs with, one NAME=VALUE per line: defined once, in tools/Keyward.LocalServices
# (the tests and the benchmarks use the same definition).
service_env() {
  local name="$1" peer
  local -a ports=()
  for peer in "${SERVICES[@]}"; do ports+=("$peer=${HTTP_PORT[$peer]}:${GRPC_PORT[$peer]}"); done
  dotnet "$ROOT/tools/Keyward.LocalServices/bin/$CONFIGURATION/net10.0/keyward-local-services.dll" env "$name" "${KEYWARD_PURPOSE:-dev}" "${ports[@]}" \
    || die "could not make the environment of $name"
}

service_dir() { echo "$ROOT/services/$1/bin/$CONFIGURATION/net10.0"; }

start_service() {
  local name="$1" dir pidfile="$STACK/pids/$1.pid"
  if alive "$pidfile"; then say "$name already running (pid $(cat "$pidfile"))"; return 0; fi
  dir="$(service_dir "$name")"
  [ -f "$dir/${ASSEMBLY[$name]}.dll" ] || die "$name is not built ($dir); run: dotnet build Services.sln -c $CONFIGURATION"
  local lines; lines="$(service_env "$name")" || exit 1
  local -a vars; mapfile -t vars <<<"$lines"
  (cd "$dir" && exec env "${vars[@]}" dotnet "${ASSEMBLY[$name]}.dll" >>"$STACK/logs/$name.log" 2>&1) &
  echo $! >"$pidfile"
}

ready() { curl -fs -o /dev/null --max-time 3 "http://127.0.0.1:${HTTP_PORT[$1]}/readyz"; }

stop_services() {
  local name
  for name in gateway audit metadata keyserver certificate-authority; do
    if alive "$STACK/pids/$name.pid"; then stop_pid "$STACK/pids/$name.pid" 15; say "$name stopped"; fi
    rm -f "$STACK/pids/$name.pid"
  done
}
