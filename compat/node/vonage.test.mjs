// The official npm @vonage/verify2 client, unchanged, against ringgate's
// Vonage Verify v2 API. The one change an app makes: the client's apiHost
// option names ringgate. Auth is the application JWT the SDK signs with
// the app's private key (ringgate holds the public key).
// Run by internal/compat/sdktest, which starts ringgate dev and sets
// RINGGATE_URL, VONAGE_APPLICATION_ID and VONAGE_PRIVATE_KEY.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Auth } from "@vonage/auth";
import { Verify2 } from "@vonage/verify2";

const base = process.env.RINGGATE_URL;
const auth = new Auth({ applicationId: process.env.VONAGE_APPLICATION_ID, privateKey: process.env.VONAGE_PRIVATE_KEY });
const verify = new Verify2(auth, { apiHost: base });

async function phone(number) {
  const res = await fetch(new URL(`/sim/phones/${encodeURIComponent(number)}`, base));
  return res.json();
}

async function phoneCode(number) {
  for (let i = 0; i < 200; i++) {
    const last = ((await phone(number)).messages || []).at(-1);
    const m = last && /\b(\d{4,10})\b/.exec(last.text);
    if (m) return m[1];
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no code reached ${number}`);
}

const wrong = (code) => String((Number(code[0]) + 1) % 10) + code.slice(1);

test("Vonage Verify v2 with the official Node client", async () => {
  const to = "447911123490";
  const { requestId } = await verify.newRequest({ brand: "Acme", workflow: [{ channel: "sms", to }], codeLength: 6 });
  assert.match(requestId, /^[0-9a-f-]{36}$/);
  const code = await phoneCode("+" + to);
  assert.equal(code.length, 6);

  await assert.rejects(verify.checkCode(requestId, wrong(code)), (e) => e.response?.status === 400);
  assert.equal(await verify.checkCode(requestId, code), "completed");

  const other = await verify.newRequest({ brand: "Acme", workflow: [{ channel: "voice", to: "447911123491" }] });
  assert.equal(await verify.cancel(other.requestId), true);
  assert.equal(await verify.cancel(other.requestId), false, "a second cancel is a 404");

  const wf = await verify.newRequest({
    brand: "Acme",
    workflow: [{ channel: "voice", to: "447911123492" }, { channel: "sms", to: "447911123492" }],
  });
  assert.equal(await verify.nextWorkflow(wf.requestId), true);
  const code2 = await phoneCode("+447911123492");
  assert.equal(await verify.checkCode(wf.requestId, code2), "completed");
  assert.equal(await verify.nextWorkflow(wf.requestId), false, "no next workflow once completed");
});

test("a JWT signed by another key is refused", async () => {
  const { generateKeyPairSync } = await import("node:crypto");
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const other = new Verify2(
    new Auth({ applicationId: process.env.VONAGE_APPLICATION_ID, privateKey: privateKey.export({ type: "pkcs8", format: "pem" }) }),
    { apiHost: base },
  );
  await assert.rejects(
    other.newRequest({ brand: "Acme", workflow: [{ channel: "sms", to: "447911123493" }] }),
    (e) => e.response?.status === 401,
  );
});
