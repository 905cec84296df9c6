# Starting and stopping the five services against the local stack. Sourced by up, down and bench.
# With KEYWARD_REPLICAS=N (scripts/up --replicas N) every service runs N times: instance i listens 1000·(i−1) ports
# above the first, and every service is told all N addresses of each peer (Keyward:Services:<peer>, ';'-separated).

REPLICAS="${KEYWARD_REPLICAS:-1}"

instance_http() { echo $((HTTP_PORT[$1] + 1000 * ($2 - 1))); }
instance_grpc() { echo $((GRPC_PORT[$1] + 1000 * ($2 - 1))); }
instance_name() { if [ "$2" = 1 ]; then echo "$1"; else echo "$1@$2"; fi; }

# The environment one instance runs with, one NAME=VALUE per line: defined once, in tools/Keyward.LocalServices
# (the tests and the benchmarks use the same definition), plus every replica of each peer.
service_env() {
  local name="$1" instance="${2:-1}" peer i list
  local -a ports=()
  for peer in "${SERVICES[@]}"; do
    if [ "$peer" = "$name" ]; then ports+=("$peer=$(instance_http "$peer" "$instance"):$(instance_grpc "$peer" "$instance")")
    else ports+=("$peer=${HTTP_PORT[$peer]}:${GRPC_PORT[$peer]}"); fi
  done
  dotnet "$ROOT/tools/Keyward.LocalServices/bin/$CONFIGURATION/net10.0/keyward-local-services.dll" env "$name" "${KEYWARD_PURPOSE:-dev}" "${ports[@]}" \
    || die "could not make the environment of $name"
  if [ "$name" = gateway ] && [ "${KEYWARD_FRONTDOOR:-0}" = 1 ]; then frontdoor_env; fi
  if [ "$REPLICAS" -gt 1 ]; then
    for peer in "${SERVICES[@]}"; do
      [ "$peer" = gateway ] && continue
      list=""
      for ((i = 1; i <= REPLICAS; i++)); do list+="${list:+;}http://127.0.0.1:$(instance_grpc "$peer" "$i")"; done
      echo "Keyward__Services__$peer=$list"
    done
  fi
}

service_dir() { echo "$ROOT/services/$1/bin/$CONFIGURATION/net10.0"; }

# The local Nextcloud stand-in of scripts/up --frontdoor, and the gateway settings that put the front door before it.
STANDIN_PORT="${KEYWARD_STANDIN_PORT:-18090}"
STANDIN_USERS="alice bob"
frontdoor_env() {
  echo "Keyward__Tenants__${KEYWARD_DEV_TENANT:-dev}__Nextcloud__BaseUrl=http://127.0.0.1:$STANDIN_PORT"
  echo "Keyward__Tenants__${KEYWARD_DEV_TENANT:-dev}__Nextcloud__Hosts__0=localhost"
  echo "Keyward__Tenants__${KEYWARD_DEV_TENANT:-dev}__Nextcloud__DelegationKeyFile=$KEYWARD_DEV_DELEGATION_KEY"
}

start_standin() {
  local pidfile="$STACK/pids/nextcloud-standin.pid" dir="$ROOT/tests/Keyward.NextcloudStandIn/bin/$CONFIGURATION/net10.0"
  if alive "$pidfile"; then say "nextcloud stand-in already running (pid $(cat "$pidfile"))"; return 0; fi
  [ -f "$dir/keyward-nextcloud-standin.dll" ] || die "the Nextcloud stand-in is not built ($dir)"
  mkdir -p "$STACK/frontdoor"
  # One app password per user, made once: .stack/frontdoor/app-password-<user>.
  local users=() i=0 user
  for user in $STANDIN_USERS; do
    [ -s "$STACK/frontdoor/app-password-$user" ] || { openssl rand -hex 16 >"$STACK/frontdoor/app-password-$user"; chmod 600 "$STACK/frontdoor/app-password-$user"; }
    users+=("StandIn__Users__${i}__Login=$user" "StandIn__Users__${i}__DisplayName=${user^}" "StandIn__Users__${i}__AppPasswords__0=$(cat "$STACK/frontdoor/app-password-$user")")
    i=$((i + 1))
  done
  # The stand-in starts empty each time while Keyward's database stays: file ids from the clock never meet an old one.
  (cd "$dir" && exec env Urls="http://127.0.0.1:$STANDIN_PORT" StandIn__DataDirectory="$STACK/frontdoor/files" StandIn__FirstFileId="$(date +%s)000" "${users[@]}" \
    dotnet keyward-nextcloud-standin.dll >>"$STACK/logs/nextcloud-standin.log" 2>&1) &
  echo $! >"$pidfile"
  local deadline=$((SECONDS + 60))
  until curl -fs -o /dev/null --max-time 2 "http://127.0.0.1:$STANDIN_PORT/status.php"; do
    alive "$pidfile" || { tail -20 "$STACK/logs/nextcloud-standin.log" >&2; die "the Nextcloud stand-in exited"; }
    [ $SECONDS -lt $deadline ] || die "the Nextcloud stand-in did not start"
    sleep 0.3
  done
  say "nextcloud stand-in ready (http :$STANDIN_PORT; not a real Nextcloud)"
}

start_service() {
  local name="$1" instance="${2:-1}" dir label
  label="$(instance_name "$name" "$instance")"
  local pidfile="$STACK/pids/$label.pid"
  if alive "$pidfile"; then say "$label already running (pid $(cat "$pidfile"))"; return 0; fi
  dir="$(service_dir "$name")"
  [ -f "$dir/${ASSEMBLY[$name]}.dll" ] || die "$name is not built ($dir); run: dotnet build Services.sln -c $CONFIGURATION"
  local lines; lines="$(service_env "$name" "$instance")" || exit 1
  local -a vars; mapfile -t vars <<<"$lines"
  # env applies its assignments in order: the replica addresses listed last win over the single ones.
  (cd "$dir" && exec env "${vars[@]}" dotnet "${ASSEMBLY[$name]}.dll" >>"$STACK/logs/$label.log" 2>&1) &
  echo $! >"$pidfile"
}

ready() { curl -fs -o /dev/null --max-time 3 "http://127.0.0.1:$(instance_http "$1" "${2:-1}")/readyz"; }

stop_services() {
  local name pidfile
  if [ -e "$STACK/pids/nextcloud-standin.pid" ]; then
    alive "$STACK/pids/nextcloud-standin.pid" && { stop_pid "$STACK/pids/nextcloud-standin.pid" 15; say "nextcloud stand-in stopped"; }
    rm -f "$STACK/pids/nextcloud-standin.pid"
  fi
  for name in gateway audit metadata keyserver certificate-authority; do
    for pidfile in "$STACK/pids/$name.pid" "$STACK/pids/$name@"*.pid; do
      [ -e "$pidfile" ] || continue
      if alive "$pidfile"; then stop_pid "$pidfile" 15; say "$(basename "$pidfile" .pid) stopped"; fi
      rm -f "$pidfile"
    done
  done
}
