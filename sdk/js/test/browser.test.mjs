// PageClient (@ringgate/sdk/browser) in real headless Chromium, from a page
// on another origin than ringgate (cross-origin, as a sign-up page is): the
// client-token routes must work without a CORS preflight. Chromium is the
// Debian package scripts/install-deps.sh installs; without it the test is
// skipped loudly on a laptop and fails under CI=true.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { Client } from "../dist/index.js";
import { API_KEY, simCall, startRinggate } from "./server.mjs";

const chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));
let rg;
before(async () => {
  if (chromium) rg = await startRinggate();
});
after(async () => rg?.stop());

test("PageClient works cross-origin in headless Chromium", async (t) => {
  if (!chromium) {
    if (process.env.CI === "true") assert.fail("chromium is not installed (scripts/install-deps.sh installs it)");
    t.skip("SKIPPING: chromium is not installed");
    return;
  }
  const client = new Client(API_KEY, { baseUrl: rg.url });
  const phone = "+442079460501";
  const v = await client.start({ phone, channel: "missed_call", callback_url: `${rg.url}/dev/webhooks` });
  await simCall(rg.url, phone, v.dial_number);

  const page = `<!doctype html><meta charset="utf-8"><pre id="out">running</pre>
<script type="module">
import { PageClient, RinggateError } from "/dist/browser.js";
const out = {};
try {
  const p = new PageClient(${JSON.stringify(v.id)}, ${JSON.stringify(v.client_token)}, { baseUrl: ${JSON.stringify(rg.url)} });
  out.status = (await p.status()).status;
  out.events = [];
  for await (const ev of p.events()) out.events.push(ev.type);
  try { await p.check({ code: "000000" }); out.check = "accepted"; } catch (e) { out.check = e instanceof RinggateError ? e.code : String(e); }
} catch (e) { out.error = String(e); }
document.getElementById("out").textContent = JSON.stringify(out);
</script>`;
  const dist = new URL("../dist/", import.meta.url);
  const web = createServer((req, res) => {
    if (req.url === "/") return res.writeHead(200, { "content-type": "text/html" }).end(page);
    const m = /^\/dist\/([a-z]+\.js)$/.exec(req.url ?? "");
    if (m) return res.writeHead(200, { "content-type": "text/javascript" }).end(readFileSync(new URL(m[1], dist)));
    res.writeHead(404).end();
  });
  await new Promise((r) => web.listen(0, "127.0.0.1", r));
  const profile = mkdtempSync(join(tmpdir(), "ringgate-sdk-chromium-"));
  try {
    // localhost vs 127.0.0.1 and another port: a different origin from ringgate's.
    const url = `http://localhost:${web.address().port}/`;
    const dom = await new Promise((resolve, reject) =>
      execFile(
        chromium,
        ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-extensions", "--no-first-run",
          `--user-data-dir=${profile}`, "--virtual-time-budget=15000", "--dump-dom", url],
        { timeout: 60_000 },
        (err, stdout, stderr) => (err ? reject(new Error(`${err}\n${stderr}`)) : resolve(stdout)),
      ),
    );
    const m = /<pre id="out">([^<]*)<\/pre>/.exec(dom);
    assert.ok(m, `no result in the page:\n${dom}`);
    const out = JSON.parse(m[1].replace(/&quot;/g, '"').replace(/&amp;/g, "&"));
    assert.equal(out.error, undefined, out.error);
    assert.equal(out.status, "verified");
    assert.deepEqual(out.events, ["verification.created", "verification.verified"]); // one event per verifying call
    assert.equal(out.events.at(-1), "verification.verified");
    assert.equal(out.check, "not_pending"); // the POST reached ringgate: a typed answer, not a CORS failure
  } finally {
    web.close();
    rmSync(profile, { recursive: true, force: true });
  }
});
