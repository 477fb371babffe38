// A real-browser test of a notebook: opens it in the Jupyter notebook server with headless Chromium, runs all
// cells, waits for them to finish, checks that a figure image rendered and that no cell shows an error, and
// takes a screenshot.
//
// Usage: node scripts/browser-test.cjs URL SCREENSHOT.png   (with playwright-core on NODE_PATH)
const { chromium } = require('playwright-core');

const [url, shot] = process.argv.slice(2);
if (!url || !shot) {
  console.error('usage: node browser-test.cjs URL SCREENSHOT.png');
  process.exit(2);
}
const fail = (msg) => { console.error('browser test: ' + msg); process.exitCode = 1; };

(async () => {
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await page.goto(url, { waitUntil: 'load', timeout: 60000 });
  await page.waitForFunction(() => window.Jupyter && Jupyter.notebook && Jupyter.notebook.kernel &&
    Jupyter.notebook.kernel.is_connected(), null, { timeout: 120000, polling: 500 });
  console.log('browser test: kernel connected, running all cells');
  const start = Date.now();
  await page.evaluate(() => Jupyter.notebook.execute_all_cells());
  // Every code cell shows an execution number once it has run; "*" while it runs.
  await page.waitForFunction(() => Jupyter.notebook.get_cells()
    .filter((c) => c.cell_type === 'code')
    .every((c) => typeof c.input_prompt_number === 'number'), null, { timeout: 900000, polling: 1000 });
  console.log(`browser test: all cells ran in ${((Date.now() - start) / 1000).toFixed(0)}s`);
  const errors = await page.locator('.output_error').count();
  if (errors > 0) fail(`${errors} cell(s) show an error`);
  const images = await page.locator('.output_png img').evaluateAll((imgs) => imgs.map((i) => [i.naturalWidth, i.naturalHeight]));
  if (images.length === 0 || images.some(([w, h]) => w < 100 || h < 100)) {
    fail(`expected a rendered figure image, found ${JSON.stringify(images)}`);
  } else {
    console.log(`browser test: ${images.length} figure image(s) rendered, ${images[0][0]}×${images[0][1]} pixels`);
  }
  // The notebook scrolls inside its own container: bring the figure into view for the screenshot.
  await page.locator('.output_png img').first().scrollIntoViewIfNeeded();
  await page.screenshot({ path: shot });
  console.log('browser test: screenshot in ' + shot);
} finally {
  await browser.close();
}
})().catch((err) => { console.error('browser test: ' + err); process.exit(1); });
