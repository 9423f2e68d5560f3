// Runs axe-core over report pages in the system Chromium, at a desktop
// width and at a phone's 390 px, and measures whether the page scrolls
// sideways. Started by scripts/axe.sh, which installs the two npm packages
// this needs into .tools/axe (see there).
//
// Usage: node scripts/axe.mjs TOOLS_DIR CHROMIUM REPORT.html...
// Prints one JSON document on stdout:
//   [{ "file", "width", "scrollWidth", "violations": [{ "id", "impact", "help", "nodes": [selector...] }] }]
// Exit status: 0 no serious or critical violation and no page wider than
// its viewport; 1 one of those; 2 bad usage or the browser failed.
import { createRequire } from "node:module";
import { mkdtempSync, rmSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [tools, chromium, ...files] = process.argv.slice(2);
if (!tools || !chromium || files.length === 0) {
  console.error("usage: node scripts/axe.mjs TOOLS_DIR CHROMIUM REPORT.html...");
  process.exit(2);
}
const require = createRequire(path.join(path.resolve(tools), "node_modules", "x.js"));
const puppeteer = require("puppeteer-core");
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

const WIDTHS = [
  { width: 1280, height: 900 },
  { width: 390, height: 844 },
];
const BLOCKING = new Set(["serious", "critical"]);

const profile = mkdtempSync(path.join(tmpdir(), "axe-chromium-"));
let browser;
let failed = false;
const results = [];
try {
  browser = await puppeteer.launch({
    executablePath: chromium,
    headless: true,
    userDataDir: profile,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  for (const file of files) {
    for (const viewport of WIDTHS) {
      const page = await browser.newPage();
      // The report forbids every script (its Content-Security-Policy);
      // axe is the test's own, injected past it.
      await page.setBypassCSP(true);
      await page.setViewport(viewport);
      await page.goto(pathToFileURL(path.resolve(file)).href, { waitUntil: "load", timeout: 60000 });
      await page.evaluate(axeSource);
      const found = await page.evaluate(async () => {
        // eslint-disable-next-line no-undef
        const r = await axe.run(document, { resultTypes: ["violations"] });
        return {
          scrollWidth: document.documentElement.scrollWidth,
          violations: r.violations.map((v) => ({
            id: v.id,
            impact: v.impact,
            help: v.help,
            nodes: v.nodes.map((n) => n.target.join(" ")),
          })),
        };
      });
      await page.close();
      const blocking = found.violations.filter((v) => BLOCKING.has(v.impact));
      if (blocking.length > 0 || found.scrollWidth > viewport.width) failed = true;
      results.push({ file, width: viewport.width, ...found });
    }
  }
} catch (e) {
  console.error(`axe: ${e && e.stack ? e.stack : e}`);
  process.exitCode = 2;
} finally {
  if (browser) await browser.close();
  rmSync(profile, { recursive: true, force: true });
}
console.log(JSON.stringify(results, null, 2));
if (process.exitCode !== 2 && failed) process.exitCode = 1;
