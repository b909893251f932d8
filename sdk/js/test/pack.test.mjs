// `npm pack` produces a package with its types and no runtime dependency.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { test } from "node:test";

test("npm pack ships dist with .d.ts for every entry point", () => {
  const out = execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: new URL("..", import.meta.url), encoding: "utf8" });
  const files = JSON.parse(out)[0].files.map((f) => f.path);
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
  for (const entry of Object.values(pkg.exports)) {
    for (const p of [entry.types, entry.import]) assert.ok(files.includes(p.replace(/^\.\//, "")), `${p} not in the package: ${files}`);
  }
  assert.ok(!files.some((f) => f.startsWith("src/") || f.startsWith("test/") || f.includes("node_modules")), `extra files: ${files}`);
  assert.equal(pkg.dependencies, undefined, "no runtime dependencies");
});

test("the browser entry point holds no API-key client", async () => {
  const browser = await import("../dist/browser.js");
  assert.ok(browser.PageClient);
  assert.equal(browser.Client, undefined);
  const src = readFileSync(new URL("../dist/browser.js", import.meta.url), "utf8") + readFileSync(new URL("../dist/page.js", import.meta.url), "utf8");
  assert.ok(!/node:/.test(src), "the browser part imports a Node module");
});
