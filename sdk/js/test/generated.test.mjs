// A client generated from openapi.json (openapi-typescript + openapi-fetch,
// pinned in package.json; generated and compiled by `npm run gen`) drives a
// missed call against a real `ringgate dev`.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { driveMissedCall } from "../gen/out/drive.js";
import { API_KEY, startRinggate } from "./server.mjs";

let rg;
before(async () => (rg = await startRinggate()));
after(async () => rg?.stop());

test("a generated TypeScript client verifies a missed call", async () => {
  const out = await driveMissedCall(rg.url, API_KEY, "+442079460301");
  assert.equal(out.status, "verified");
  assert.equal(out.resultCode, "000");
  assert.equal(out.publicStatus, "verified");
  assert.deepEqual(out.events, ["verification.created", "verification.verified"]); // one event per verifying call
  assert.equal(out.events.at(-1), "verification.verified");
});
