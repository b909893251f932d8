// Starts one `ringgate dev` per test process (the binary is built once by
// scripts/build-ringgate.mjs before the tests, or named by RINGGATE_BIN).
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const API_KEY = "rg_live_sdkjs000000000000000000000";
export const WEBHOOK_SECRET = "whsec_c2RrLWpzIHRlc3Qgd2ViaG9vayBzZWNyZXQgMzI=";

const here = dirname(fileURLToPath(import.meta.url));

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

/** Starts ringgate dev; resolves to { url, stop }. Fails (never skips) without a binary. */
export async function startRinggate() {
  const bin = process.env.RINGGATE_BIN || join(here, "..", ".ringgate", "ringgate");
  if (!existsSync(bin)) {
    throw new Error(`no ringgate binary at ${bin}: run "npm test" (its pretest builds one) or set RINGGATE_BIN`);
  }
  const dir = mkdtempSync(join(tmpdir(), "ringgate-sdk-js-"));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = spawn(bin, ["dev", "--data", join(dir, "data"), "--http", `127.0.0.1:${port}`], {
    env: { ...process.env, RINGGATE_DEV_API_KEY: API_KEY, RINGGATE_DEV_WEBHOOK_SECRET: WEBHOOK_SECRET },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  proc.stdout.on("data", (b) => (log += b));
  proc.stderr.on("data", (b) => (log += b));
  let exited = false;
  const done = new Promise((resolve) => proc.on("exit", () => { exited = true; resolve(); }));
  const stop = async () => {
    if (!exited) proc.kill("SIGTERM");
    await Promise.race([done, new Promise((r) => setTimeout(r, 10_000))]);
    if (!exited) proc.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited) throw new Error(`ringgate dev exited at start:\n${log}`);
    try {
      const r = await fetch(`${url}/readyz`);
      if (r.status === 200) return { url, stop, log: () => log };
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`ringgate dev not ready in 30s:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The simulator's phone `from` dials `to`. */
export async function simCall(url, from, to) {
  const r = await fetch(`${url}/sim/calls`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ from, to }) });
  if (r.status !== 200) throw new Error(`sim call: ${r.status} ${await r.text()}`);
  return r.json();
}
