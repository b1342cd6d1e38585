#!/usr/bin/env bash
# Wrote portal-data-2026-12-01.tar.gz with that day's release (run from the workspace
# root after `cargo build`; needs swaks and python3): a two-portal devnet, then
# portalctl and swaks touch most tables; the archive is the `db` folder of each portal.
set -euo pipefail
B=${B:-target/debug}
D=${D:-/tmp/fx/dn}
$B/portald devnet --dir $D --portals 2 --base-port 27800 --activation-delay-secs 0 > "$D.log" 2>&1 &
PID=$!
for i in $(seq 1 100); do grep -q "devnet ready" "$D.log" && break; sleep 0.2; done
A() { PORTALCTL_ENDPOINT=https://127.0.0.1:27800 PORTALCTL_CA=$D/alpha.test/tls/cert.pem PORTALCTL_TOKEN=$(cat $D/alpha.test/tokens/$1.token) $B/portalctl --language en "${@:2}"; }
Bt() { PORTALCTL_ENDPOINT=https://127.0.0.1:27801 PORTALCTL_CA=$D/beta.test/tls/cert.pem PORTALCTL_TOKEN=$(cat $D/beta.test/tokens/$1.token) $B/portalctl --language en "${@:2}"; }
AD() { PORTALCTL_ENDPOINT=https://127.0.0.1:27800 PORTALCTL_CA=$D/alpha.test/tls/cert.pem PORTALCTL_TOKEN=$(cat $D/alpha.test/admin.token) $B/portalctl --language en "${@:2}"; }
ls $D/beta.test/tokens
BETA_USER=$(ls $D/beta.test/tokens | head -1 | sed 's/.token//')
echo "beta user: $BETA_USER"
T=$(A anna --json task create "Format fixture" --responsible "$BETA_USER@beta.test" --observer "mailto:joe@example.org" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
echo "task $T"
A anna task comment $T "From alpha"
echo "hello" > "$D.hello.txt"
A anna task attach $T "$D.hello.txt"
sleep 2
BT=$(Bt $BETA_USER --json task list | python3 -c 'import json,sys; d=json.load(sys.stdin); t=[x for x in d if x["title"]=="Format fixture"]; print(t[0]["id"])')
Bt $BETA_USER task comment $BT "From beta"
G=$(AD x --json group create "Contractors" --extranet | python3 -c 'import json,sys; print(json.load(sys.stdin)["group"]["id"])')
AD x group invite $G --email guest@ext.test --invitee-language pl
ADDR=$(A anna --json mail address show | python3 -c 'import json,sys; print(json.load(sys.stdin)["address"])')
echo "address $ADDR"
swaks --server 127.0.0.1:28100 --to "$ADDR" --from joe@example.org --header "Subject: Mailed task" --body "Body" >/dev/null
AD x user add olga --name "Olga" --email olga@alpha.test --user-language ru
sleep 2
A anna task history $T
kill -TERM $PID; wait $PID || true
out=$(mktemp -d)
for p in alpha.test beta.test; do mkdir -p "$out/$p" && cp -a "$D/$p/db" "$out/$p/"; done
tar --sort=name --owner=0 --group=0 --mtime='2026-12-01 00:00Z' -czf portal-data-2026-12-01.tar.gz -C "$out" alpha.test beta.test
