// Builds the ringgate binary the tests start (`ringgate dev`), once, from
// this repository's root, unless RINGGATE_BIN names one already built.
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
if (process.env.RINGGATE_BIN) {
  console.log(`using RINGGATE_BIN=${process.env.RINGGATE_BIN}`);
} else {
  const root = resolve(here, "..", "..", "..");
  const out = join(here, "..", ".ringgate", "ringgate");
  mkdirSync(dirname(out), { recursive: true });
  execFileSync("go", ["build", "-buildvcs=false", "-o", out, "./cmd/ringgate"], { cwd: root, stdio: "inherit" });
}
