#!/usr/bin/env bash
# Drives the official Vipps MobilePay Node SDK (@vippsmobilepay/sdk, npm) against
# a freshly started standalone simulator: token, create -> GET -> force approve
# -> capture -> refund -> event log, a cancel, an unknown reference, and the
# Webhooks API. Fails on any 5xx and on any answer the SDK flow does not expect.
# Everything stays on 127.0.0.1: the SDK always builds https://apitest.vipps.no
# URLs (useTestMode), and the script's fetch sends those to the simulator and
# refuses every other URL.
#
# Usage: scripts/sdk.sh [--debug]           (--debug: debug build, faster to compile)
# Env:   VIPPS_SDK_VERSION  npm version range of the SDK (default 2)
# Exit:  0 the whole flow passed; 1 a step failed; 2 could not run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
TOOLS="$ROOT/.tools"
RUN="$TOOLS/sdk-run"
SDK_VERSION="${VIPPS_SDK_VERSION:-2}"
PROFILE=release
[[ "${1:-}" == "--debug" ]] && PROFILE=debug
command -v npm >/dev/null || { echo "sdk.sh: npm not found (hint: install Node.js 18+)" >&2; exit 2; }

# 1. The SDK into .tools/sdk (gitignored), only when missing.
SDK="$TOOLS/sdk/node_modules/@vippsmobilepay/sdk/esm/mod.js"
if [[ ! -f "$SDK" ]]; then
  echo "installing @vippsmobilepay/sdk@$SDK_VERSION into $TOOLS/sdk ..."
  mkdir -p "$TOOLS/sdk"
  npm install --prefix "$TOOLS/sdk" --no-audit --no-fund --loglevel=error "@vippsmobilepay/sdk@$SDK_VERSION" >/dev/null
fi

# 2. Build and start the standalone simulator on a free loopback port.
# shellcheck source=lib/simulator.sh
source "$ROOT/scripts/lib/simulator.sh"
start_simulator sdk.sh

# 3. The flow. The credentials are the simulator's fixed demo credentials.
node --input-type=module - "$SDK" "$BASE" <<'JS'
import { pathToFileURL } from "node:url";
const [sdkPath, base] = process.argv.slice(2);
const statuses = [];
const realFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  const req = new Request(input, init);
  const test = "https://apitest.vipps.no";
  if (!req.url.startsWith(test + "/")) throw new Error(`refused to send outside the simulator: ${req.url}`);
  const body = ["GET", "HEAD"].includes(req.method) ? undefined : await req.arrayBuffer();
  const res = await realFetch(base + req.url.slice(test.length), {
    method: req.method, headers: req.headers, body, redirect: "manual",
  });
  statuses.push(`${req.method} ${new URL(req.url).pathname} -> ${res.status}`);
  return res;
};
const { Client } = await import(pathToFileURL(sdkPath).href);
const msn = "123456";
const client = Client({
  merchantSerialNumber: msn, subscriptionKey: "sim-subscription-key-123456", useTestMode: true,
  retryRequests: false, systemName: "vipps-golive", systemVersion: "1.0.0",
  pluginName: "sdk-flow", pluginVersion: "1.0.0",
});
let failed = 0, passed = 0;
const step = (name, ok, detail) => {
  if (ok) passed++; else failed++;
  console.log(`${ok ? "ok  " : "FAIL"} ${name}${ok ? "" : `: ${JSON.stringify(detail)}`}`);
};
const agg = (p, k) => p.aggregate && p.aggregate[k] && p.aggregate[k].value;

const tok = await client.auth.getToken("sim-client-id-123456", "sim-client-secret-123456");
step("auth.getToken", tok.ok && typeof tok.data.access_token === "string", tok);
if (!tok.ok) process.exit(1);
const token = tok.data.access_token;

const reference = `sdk-${Date.now()}`;
const created = await client.payment.create(token, {
  amount: { currency: "NOK", value: 1000 }, paymentMethod: { type: "WALLET" },
  customer: { phoneNumber: "4791234567" }, reference, userFlow: "WEB_REDIRECT",
  returnUrl: `https://example.com/return?ref=${reference}`, paymentDescription: "SDK flow",
});
step("payment.create", created.ok && created.data.reference === reference && /^https?:/.test(created.data.redirectUrl || ""), created);
let info = await client.payment.info(token, reference);
step("payment.info CREATED", info.ok && info.data.state === "CREATED", info);
const approved = await client.payment.forceApprove(token, reference, { customer: { phoneNumber: "4791234567" } });
step("payment.forceApprove", approved.ok, approved);
info = await client.payment.info(token, reference);
step("payment.info AUTHORIZED", info.ok && info.data.state === "AUTHORIZED" && agg(info.data, "authorizedAmount") === 1000, info);
const cap = await client.payment.capture(token, reference, { modificationAmount: { currency: "NOK", value: 600 } });
step("payment.capture 600", cap.ok && agg(cap.data, "capturedAmount") === 600, cap);
const ref = await client.payment.refund(token, reference, { modificationAmount: { currency: "NOK", value: 200 } });
step("payment.refund 200", ref.ok && agg(ref.data, "refundedAmount") === 200, ref);
const hist = await client.payment.history(token, reference);
const names = hist.ok ? hist.data.map((e) => e.name).join(",") : "";
step("payment.history", names === "CREATED,AUTHORIZED,CAPTURED,REFUNDED", { names, hist });
info = await client.payment.info(token, reference);
step("payment.info aggregate", info.ok && agg(info.data, "capturedAmount") === 600 && agg(info.data, "refundedAmount") === 200, info);

const second = `sdk-${Date.now()}-c`;
await client.payment.create(token, {
  amount: { currency: "NOK", value: 500 }, paymentMethod: { type: "WALLET" },
  customer: { phoneNumber: "4791234567" }, reference: second, userFlow: "WEB_REDIRECT",
  returnUrl: "https://example.com/return", paymentDescription: "SDK cancel",
});
await client.payment.forceApprove(token, second, { customer: { phoneNumber: "4791234567" } });
const cancel = await client.payment.cancel(token, second);
step("payment.cancel", cancel.ok && agg(cancel.data, "cancelledAmount") === 500, cancel);

const missing = await client.payment.info(token, "sdk-no-such-reference");
step("payment.info unknown reference -> error", !missing.ok && missing.error && missing.error.status === 404, missing);

const hook = await client.webhook.register(token, { url: "http://127.0.0.1:9/sdk-hook", events: ["epayments.payment.captured.v1"] });
step("webhook.register", hook.ok && typeof hook.data.id === "string" && typeof hook.data.secret === "string", hook);
const hooks = await client.webhook.list(token);
step("webhook.list", hooks.ok && hooks.data.webhooks.some((w) => w.id === hook.data.id), hooks);
const gone = await client.webhook.delete(token, hook.data.id);
step("webhook.delete", gone.ok, gone);

const fives = statuses.filter((s) => / -> 5\d\d$/.test(s));
step("no 5xx answer", fives.length === 0, fives);
console.log(`\n${statuses.length} requests; ${passed} steps passed, ${failed} failed`);
process.exitCode = failed ? 1 : 0;
JS
