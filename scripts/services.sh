# Starting and stopping the five services against the local stack. Sourced by up, down and bench.

# The environment one service runs with, one NAME=VALUE per line.
service_env() {
  local name="$1"
  echo "Keyward__BindAddress=127.0.0.1"
  echo "Keyward__Ports__Http=${HTTP_PORT[$name]}"
  echo "Keyward__Ports__Grpc=${GRPC_PORT[$name]}"
  echo "ConnectionStrings__Postgres=$KEYWARD_POSTGRES"
  echo "ConnectionStrings__RabbitMq=$KEYWARD_RABBITMQ"
  echo "Keyward__Tenants__${KEYWARD_DEV_TENANT}__Issuer=$KEYWARD_DEV_ISSUER"
  echo "Keyward__Tenants__${KEYWARD_DEV_TENANT}__SigningKeyFiles__0=$KEYWARD_DEV_JWT_PUBLIC_KEY"
  echo "SOFTHSM2_CONF=$SOFTHSM2_CONF"
  echo "Keyward__Hsm__ModulePath=$KEYWARD_HSM_MODULE"
  echo "Keyward__Hsm__TokenLabel=$KEYWARD_HSM_TOKEN"
  echo "Keyward__Hsm__Pin=$KEYWARD_HSM_PIN"
  echo "Keyward__ServiceIdentity__SigningKeyFiles__0=$KEYWARD_SERVICE_PUBLIC_KEY"
  # Only the audit service mints service tokens (to have checkpoints signed).
  [ "$name" = audit ] && echo "Keyward__ServiceIdentity__PrivateKeyFile=$KEYWARD_SERVICE_KEY"
  local backend
  for backend in "${SERVICES[@]}"; do
    [ "$backend" = gateway ] || echo "Keyward__Services__${backend}=http://127.0.0.1:${GRPC_PORT[$backend]}"
  done
}

service_dir() { echo "$ROOT/services/$1/bin/$CONFIGURATION/net10.0"; }

start_service() {
  local name="$1" dir pidfile="$STACK/pids/$1.pid"
  if alive "$pidfile"; then say "$name already running (pid $(cat "$pidfile"))"; return 0; fi
  dir="$(service_dir "$name")"
  [ -f "$dir/${ASSEMBLY[$name]}.dll" ] || die "$name is not built ($dir); run: dotnet build Services.sln -c $CONFIGURATION"
  local -a vars; mapfile -t vars < <(service_env "$name")
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
