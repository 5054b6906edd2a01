#!/usr/bin/env bash
# Drives both simulators with schemathesis from the vendors' own OpenAPI specs
# (tests/simulators/specs/, with the errata of tests/simulators/src/spec/mod.rs applied).
#
# Every answer must conform: no 5xx (`not_a_server_error`), the body matches the schema the
# spec gives its status (`conforms_to_spec_with_errata`, hooks.py), and no request goes
# unanswered (schemathesis counts a dropped connection or a timeout as an error and fails).
# Afterwards the simulators' own check of every answer against the same specs
# (`GET /_sim/spec`) must have found nothing either.
#
# Needs cargo, python3 and schemathesis 4.32.5 (`st`; ST names another path to it). Bounded: a
# fixed number of examples per operation and a fixed seed (SCHEMATHESIS_MAX_EXAMPLES,
# SCHEMATHESIS_SEED), so a run is repeatable; it takes two to three minutes on two cores once
# the example is built.
set -euo pipefail
cd "$(dirname "$0")/../.."

here=tests/schemathesis
st=${ST:-st}
max_examples=${SCHEMATHESIS_MAX_EXAMPLES:-50}
seed=${SCHEMATHESIS_SEED:-13}

if ! command -v "$st" >/dev/null 2>&1; then
  echo "schemathesis ($st) is not installed: pip install 'schemathesis==4.32.5'" >&2
  exit 2
fi
"$st" --version

echo "== build the simulators' serve example"
cargo build --locked -p nzsync-sim --example serve
target_dir=$(cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
serve="$target_dir/debug/examples/serve"

work=$(mktemp -d)
serve_pid=
cleanup() {
  if [ -n "$serve_pid" ]; then
    kill "$serve_pid" 2>/dev/null || true
    wait "$serve_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "== start both simulators (demo data) and write the specs with the errata applied"
"$serve" --seed demo --spec-check --write-specs "$work/specs" >"$work/urls" 2>"$work/serve.log" &
serve_pid=$!
for _ in $(seq 1 100); do
  grep -q '^ZOHO_URL=' "$work/urls" 2>/dev/null && break
  if ! kill -0 "$serve_pid" 2>/dev/null; then
    cat "$work/serve.log" >&2
    echo "the simulators did not start" >&2
    exit 1
  fi
  sleep 0.1
done
domino_url=$(sed -n 's/^DOMINO_URL=//p' "$work/urls")
zoho_url=$(sed -n 's/^ZOHO_URL=//p' "$work/urls")
if [ -z "$domino_url" ] || [ -z "$zoho_url" ]; then
  echo "the simulators did not report their addresses" >&2
  exit 1
fi
echo "Domino: $domino_url  Zoho: $zoho_url"

# An access token for the demo user, from the refresh token the simulator seeds.
zoho_token=$(python3 - "$zoho_url" <<'EOF'
import json, sys, urllib.parse, urllib.request
query = urllib.parse.urlencode({
    "grant_type": "refresh_token",
    "client_id": "demo-client",
    "client_secret": "demo-secret",
    "refresh_token": "demo-refresh",
})
with urllib.request.urlopen(urllib.request.Request(f"{sys.argv[1]}/oauth/v2/token?{query}", method="POST")) as r:
    print(json.load(r)["access_token"])
EOF
)

export SCHEMATHESIS_HOOKS=hooks
export PYTHONDONTWRITEBYTECODE=1
export PYTHONPATH="$PWD/$here${PYTHONPATH:+:$PYTHONPATH}"
common=(
  --checks not_a_server_error,conforms_to_spec_with_errata
  --max-examples "$max_examples"
  --seed "$seed"
  --generation-database none
  --request-timeout 10
  --no-color
)

failed=()
run() {
  local config=$1 spec=$2
  shift 2
  echo "== schemathesis: $spec"
  if ! "$st" --config-file "$here/$config" run "$work/specs/$spec" "${common[@]}" "$@"; then
    failed+=("$spec")
  fi
}

run domino.toml domino-das/data.json --url "$domino_url" --auth demo:demo
run domino.toml domino-das/calendar.json --url "$domino_url" --auth demo:demo
# apis.json (the API list) and common.json (shared schemas and a placeholder root path) describe
# nothing the simulator implements: zoho.toml excludes their operations, so they are not run.
for doc in record users org tags fields modules custom_views change_owner profiles; do
  run zoho.toml "zoho-crm-v8/$doc.json" --url "$zoho_url" \
    --header "Authorization: Zoho-oauthtoken $zoho_token"
done

echo "== the simulators' own spec check of every answer"
python3 - "$domino_url" "$zoho_url" <<'EOF' || failed+=("/_sim/spec")
import json, sys, urllib.request
bad = 0
for url in sys.argv[1:]:
    with urllib.request.urlopen(f"{url}/_sim/spec") as r:
        report = json.load(r)
    checked = sum(report["checked"].values())
    print(f"{url}: {checked} answers matched their spec, {len(report['violations'])} did not")
    for v in report["violations"]:
        print(f"  {v['request']} -> {v['operation']}: {'; '.join(v['mismatches'])}")
    bad += len(report["violations"])
sys.exit(1 if bad else 0)
EOF

if ! kill -0 "$serve_pid" 2>/dev/null; then
  echo "the simulators' process ended during the run" >&2
  cat "$work/serve.log" >&2
  failed+=("serve")
fi
if [ -s "$work/serve.log" ]; then
  echo "== the simulators' standard error"
  cat "$work/serve.log"
  if grep -q 'panicked' "$work/serve.log"; then
    failed+=("panic")
  fi
fi

if [ ${#failed[@]} -gt 0 ]; then
  echo "schemathesis found faults in: ${failed[*]}" >&2
  exit 1
fi
echo "schemathesis: both simulators conform"
