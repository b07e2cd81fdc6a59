// Opens a `dechaff report` page in headless Chromium and checks what a
// reader sees: no console errors and no request leaving the page, the
// per-rule table holding the run's rules, both plots drawn, a screenshot
// taken, and the table sorting on a click.
//
// node report-browser-test.mjs REPORT.html STATS.json SCREENSHOT.png
import { chromium } from "playwright-core";
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const [page_path, stats_path, screenshot] = process.argv.slice(2);
const stats = JSON.parse(readFileSync(stats_path, "utf8"));
const problems = [];
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console error: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  const url = pathToFileURL(page_path).href;
  page.on("request", (request) => {
    if (request.url() !== url) problems.push(`the page fetched ${request.url()}`);
  });
  await page.goto(url, { waitUntil: "load" });

  const rows = await page.$$eval("#rules tbody tr", (trs) => trs.map((tr) => tr.cells[0].textContent.trim()));
  const expected = Object.keys(stats.rules).sort();
  if (JSON.stringify([...rows].sort()) !== JSON.stringify(expected)) {
    problems.push(`the rule table holds ${JSON.stringify(rows)}, the run's rules are ${JSON.stringify(expected)}`);
  }
  for (const plot of ["#share-histogram", "#position-plot"]) {
    const drawn = await page.$$eval(`${plot} svg rect`, (rects) =>
      rects.filter((r) => r.getBBox().width > 0 && r.getBBox().height > 0).length);
    // The background and one bar at least.
    if (drawn < 2) problems.push(`${plot}: ${drawn} rectangles drawn`);
  }
  await page.screenshot({ path: screenshot, fullPage: false });
  // A click on "rule" sorts by rule id.
  await page.click("#rules th:first-child");
  const sorted = await page.$$eval("#rules tbody tr", (trs) => trs.map((tr) => tr.cells[0].textContent.trim()));
  if (JSON.stringify(sorted) !== JSON.stringify([...sorted].sort((a, b) => a.localeCompare(b)))) {
    problems.push(`a click on the rule column left ${JSON.stringify(sorted)}`);
  }
} finally {
  await browser.close();
}
if (problems.length) {
  for (const problem of problems) console.error(`report-browser-test: ${problem}`);
  process.exit(1);
}
console.log(`report-browser-test: ok, ${Object.keys(stats.rules).length} rules, screenshot in ${screenshot}`);
