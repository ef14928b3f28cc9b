// Opens the reports page in headless Chromium (driven by playwright-core) and prints what a
// test needs as JSON: console errors, failed requests, the images and whether each rendered,
// the report sections and their statuses. Saves a full-page screenshot.
// Args: URL SCREENSHOT. Env: CHROMIUM (its path), PLAYWRIGHT (the playwright-core module).
const { chromium } = require(process.env.PLAYWRIGHT);

(async () => {
  const [url, screenshot] = process.argv.slice(2);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  const consoleErrors = [];
  const failedRequests = [];
  page.on("console", (m) => { if (m.type() === "error") consoleErrors.push(m.text()); });
  page.on("pageerror", (e) => consoleErrors.push(String(e)));
  page.on("requestfailed", (r) => failedRequests.push(r.url()));
  page.on("response", (r) => { if (r.status() >= 400) failedRequests.push(`${r.status()} ${r.url()}`); });
  const response = await page.goto(url, { waitUntil: "load" });
  const result = await page.evaluate(() => ({
    title: document.title,
    images: Array.from(document.images).map((i) => ({
      src: i.getAttribute("src"), alt: i.alt, rendered: i.complete && i.naturalWidth > 0,
      width: i.naturalWidth, height: i.naturalHeight,
    })),
    sections: Array.from(document.querySelectorAll("section")).map((s) => ({
      id: s.id,
      statuses: Array.from(s.querySelectorAll("td.status")).map((t) => t.textContent),
      errors: Array.from(s.querySelectorAll("td.error")).map((t) => t.textContent).filter((t) => t),
      tables: s.querySelectorAll("table").length,
    })),
    scripts: document.scripts.length,
  }));
  await page.screenshot({ path: screenshot, fullPage: true });
  await browser.close();
  console.log(JSON.stringify({ status: response.status(), consoleErrors, failedRequests, ...result }));
})().catch((e) => { console.error(e); process.exit(1); });
