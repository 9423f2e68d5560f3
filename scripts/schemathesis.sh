#!/usr/bin/env bash
# Runs Schemathesis (property-based API testing) with the official Vipps
# MobilePay OpenAPI specs against a freshly started standalone simulator, and
# fails on any 5xx or any answer that does not match its declared schema.
# Everything stays on 127.0.0.1.
#
# Usage: scripts/schemathesis.sh [--debug]   (--debug: debug build, faster to compile)
# Env:   VIPPS_SPEC_DIR  folder with the official specs (default ../shared/vipps/spec);
#                        read in place, never copied into the project
#        ST_EXAMPLES     test cases per operation and phase (default 100)
#        ST_SEED         Schemathesis seed (default 1, so a run can be repeated)
# Exit:  0 every check passed and no 5xx; 1 a check failed; 2 could not run.
#
# Checks: every Schemathesis check except two, which test the spec's gaps rather
# than the simulator (docs/fidelity.md, "Schemathesis"):
#   status_code_conformance   the specs declare no 401 anywhere (the gateway
#                             answers 401 before every API, behaviour.md §2, §11),
#                             no 404 on the ePayment GETs, no 423/429;
#   positive_data_acceptance  a schema-valid body can break a business rule the
#                             schema cannot express (amount >= 1, the unit's
#                             currency, CARD not in the test environment, an
#                             unknown reference), and the real API refuses it too.
# Kept: not_a_server_error, response_schema_conformance, content_type_conformance,
# response_headers_conformance, negative_data_rejection, missing_required_header,
# ignored_auth, unsupported_method, allow_header_conformance, use_after_free,
# ensure_resource_availability.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SPEC_DIR="${VIPPS_SPEC_DIR:-$ROOT/../shared/vipps/spec}"
[[ -d "$SPEC_DIR" ]] && SPEC_DIR="$(cd "$SPEC_DIR" && pwd)"
TOOLS="$ROOT/.tools"
RUN="$TOOLS/schemathesis-run"
EXAMPLES="${ST_EXAMPLES:-100}"
SEED="${ST_SEED:-1}"
PROFILE=release
[[ "${1:-}" == "--debug" ]] && PROFILE=debug

for f in access-token-api.swagger.yaml epayment.v1.4.1.yml order-management-api.tag-2.3.24.swagger.yaml \
  order-management-api.v2.1.swagger.yaml webhooks-api.swagger.yaml; do
  if [[ ! -f "$SPEC_DIR/$f" ]]; then
    echo "schemathesis.sh: \`$SPEC_DIR/$f\` not found; the official specs live there (hint: set VIPPS_SPEC_DIR)" >&2
    exit 2
  fi
done
command -v python3 >/dev/null || { echo "schemathesis.sh: python3 not found (hint: install Python 3.9+)" >&2; exit 2; }
command -v curl >/dev/null || { echo "schemathesis.sh: curl not found" >&2; exit 2; }

# 1. Schemathesis in its own venv under .tools/ (gitignored), only when missing.
ST="$TOOLS/schemathesis/bin/st"
if [[ ! -x "$ST" ]]; then
  echo "installing schemathesis into $TOOLS/schemathesis ..."
  mkdir -p "$TOOLS"
  python3 -m venv "$TOOLS/schemathesis"
  "$TOOLS/schemathesis/bin/pip" install --quiet 'schemathesis>=4,<5'
fi
PY="$TOOLS/schemathesis/bin/python"

# 2. Build and start the standalone simulator on a free loopback port. The §8
#    rate limits are off: after 5 modifications per reference a minute every
#    answer would be a 429 and the generated cases would stop reaching the API.
TMP="$(mktemp -d)"
extra_cleanup() { rm -rf "$TMP"; }
# shellcheck source=lib/simulator.sh
source "$ROOT/scripts/lib/simulator.sh"
start_simulator schemathesis.sh --no-rate-limits

# 3. A run-time copy of the ePayment spec, in a temporary folder outside the
#    project (removed on exit), with three changes, the same the fidelity suite
#    makes (docs/fidelity.md, "Spec quirks"):
#    - the https $ref to Order Management 2.3.24's Receipt points at the
#      stored file, so nothing is fetched;
#    - PaymentEvent requires `name` in place of `paymentAction`, removed in v1.2.1;
#    - the 200 answers of cancel, capture and refund, declared
#      application/problem+json, are declared application/json as well.
#    Each change fails loudly if the quirk is gone, so it gets reviewed.
if ! "$PY" - "$SPEC_DIR" "$TMP/epayment.yml" <<'PY'
import sys, yaml
spec_dir, out = sys.argv[1], sys.argv[2]
with open(f"{spec_dir}/epayment.v1.4.1.yml", encoding="utf-8") as f:
    text = f.read()
remote = "https://raw.githubusercontent.com/vippsas/vipps-order-management-api/2.3.24/docs/swagger.yaml"
assert remote in text, "the Receipt $ref no longer points at Order Management 2.3.24"
spec = yaml.safe_load(text.replace(remote, f"file://{spec_dir}/order-management-api.tag-2.3.24.swagger.yaml"))
required = spec["components"]["schemas"]["PaymentEvent"]["required"]
assert "paymentAction" in required and "name" not in required, "PaymentEvent.required changed"
required[required.index("paymentAction")] = "name"
for op in ("cancel", "capture", "refund"):
    ok = spec["paths"][f"/epayment/v1/payments/{{reference}}/{op}"]["post"]["responses"]["200"]
    assert ok == {"$ref": "#/components/responses/AdjustResponse"}, f"{op} 200 changed"
content = spec["components"]["responses"]["AdjustResponse"]["content"]
assert list(content) == ["application/problem+json"], "AdjustResponse content type changed"
content["application/json"] = content["application/problem+json"]
with open(out, "w", encoding="utf-8") as f:
    yaml.safe_dump(spec, f, sort_keys=False, allow_unicode=True)
PY
then
  echo "schemathesis.sh: the ePayment spec is not the one this script knows (see the assertion above)" >&2
  exit 2
fi

# The simulator's fixed demo credentials (printed by the simulator, not secrets).
# MSN 123456 for the token, ePayment and Order Management; MSN 654321 for the
# Webhooks API, so the hooks Schemathesis registers (https://example.com/...)
# never receive the ePayment events of 123456 and nothing leaves loopback.
token() {
  curl -sf -X POST "$BASE/accesstoken/get" -H "client_id: sim-client-id-$1" \
    -H "client_secret: sim-client-secret-$1" -H "Ocp-Apim-Subscription-Key: sim-subscription-key-$1" |
    "$PY" -c 'import json, sys; print(json.load(sys.stdin)["access_token"])'
}
TOKEN_A="$(token 123456)"
TOKEN_B="$(token 654321)"
auth() { printf '%s\n' -H "Authorization: Bearer $1" -H "Ocp-Apim-Subscription-Key: sim-subscription-key-$2" -H "Merchant-Serial-Number: $2"; }
mapfile -t AUTH_A < <(auth "$TOKEN_A" 123456)
mapfile -t AUTH_B < <(auth "$TOKEN_B" 654321)

# An AUTHORIZED payment, so that GET, events, capture, refund and cancel reach
# their logic in the second ePayment pass (unknown references only get 404).
REF="st-$(date +%s)-authorized"
curl -sf -o /dev/null -X POST "$BASE/epayment/v1/payments" "${AUTH_A[@]}" -H 'Content-Type: application/json' \
  -H "Idempotency-Key: $REF" \
  -d "{\"amount\":{\"currency\":\"NOK\",\"value\":100000},\"paymentMethod\":{\"type\":\"WALLET\"},\"reference\":\"$REF\",\"userFlow\":\"WEB_REDIRECT\",\"returnUrl\":\"https://example.com/return\"}"
curl -sf -o /dev/null -X POST "$BASE/epayment/v1/test/payments/$REF/approve" "${AUTH_A[@]}" -H 'Content-Type: application/json' \
  -d '{"customer":{"phoneNumber":"4791234567"}}'

CHECKS='
[checks.status_code_conformance]
enabled = false
[checks.positive_data_acceptance]
enabled = false
'
printf '%s' "$CHECKS" >"$TMP/checks.toml"
printf '%s\n[[operations]]\ninclude-path-regex = "\\\\{reference\\\\}"\nparameters = { "path.reference" = "%s" }\n' \
  "$CHECKS" "$REF" >"$TMP/authorized.toml"

# 4. One Schemathesis run per API. Each writes its junit report to $RUN.
FAILED=0
run() {
  local name="$1" config="$2"; shift 2
  echo "== schemathesis: $name"
  # From $RUN, so Schemathesis' example database (.schemathesis/) lands there.
  if (cd "$RUN" && "$ST" --config-file "$config" run "$@" --max-examples "$EXAMPLES" --seed "$SEED" \
    --workers 1 --report junit --report-junit-path "$RUN/$name.junit.xml") >"$RUN/$name.txt" 2>&1; then
    echo "   passed"
  else
    FAILED=1
    echo "   FAILED (details: $RUN/$name.txt)"
  fi
  sed -n '/^Test cases:/,/^$/p' "$RUN/$name.txt" | sed -n 2p | sed 's/^ */   /'
}
# /miami/v1/token (the Login API's token) is not an API the simulator serves.
run access-token "$TMP/checks.toml" "$SPEC_DIR/access-token-api.swagger.yaml" --url "$BASE" \
  --exclude-path /miami/v1/token -H "client_id: sim-client-id-123456" \
  -H "client_secret: sim-client-secret-123456" -H "Ocp-Apim-Subscription-Key: sim-subscription-key-123456"
run epayment "$TMP/checks.toml" "$TMP/epayment.yml" --url "$BASE" "${AUTH_A[@]}"
run epayment-authorized "$TMP/authorized.toml" "$TMP/epayment.yml" --url "$BASE" "${AUTH_A[@]}" \
  --include-path-regex '\{reference\}'
# The deprecated v1 orders/receipts routes are not simulated (behaviour.md §10).
run order-management "$TMP/checks.toml" "$SPEC_DIR/order-management-api.v2.1.swagger.yaml" \
  --url "$BASE/order-management" --exclude-deprecated "${AUTH_A[@]}"
run webhooks "$TMP/checks.toml" "$SPEC_DIR/webhooks-api.swagger.yaml" --url "$BASE/webhooks" "${AUTH_B[@]}"

# 5. Every answer the simulator gave, counted from its journal: no 5xx at all,
#    whatever the checks above saw.
if ! "$PY" - "$RUN/journal.jsonl" <<'PY'
import collections, json, sys
by_status, total = collections.Counter(), 0
with open(sys.argv[1], encoding="utf-8") as f:
    for line in f:
        try:
            e = json.loads(line)
        except ValueError:
            continue
        if "status" not in e:
            continue
        total += 1
        by_status[e["status"]] += 1
five = sum(n for s, n in by_status.items() if isinstance(s, int) and s >= 500)
print(f"journal: {total} requests answered; by status: " + ", ".join(f"{s}: {n}" for s, n in sorted(by_status.items(), key=lambda x: str(x[0]))))
print(f"journal: {five} answer(s) with a 5xx status")
sys.exit(1 if five else 0)
PY
then
  FAILED=1
fi
# The journal must not hold the demo secrets verbatim.
for secret in sim-client-secret-123456 sim-subscription-key-123456 "$TOKEN_A"; do
  if grep -qF -- "$secret" "$RUN/journal.jsonl" 2>/dev/null; then
    echo "WARNING: the simulator journal contains a credential verbatim ($RUN/journal.jsonl)" >&2
  fi
done
if [[ $FAILED -eq 0 ]]; then echo "schemathesis.sh: every run passed"; else echo "schemathesis.sh: a run failed (see above)"; fi
exit $FAILED
