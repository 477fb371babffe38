// A real-browser test of notebooks in JupyterLab: for each notebook, opens it with headless Chromium, runs all
// cells from the Run menu, waits until every code cell has run, saves it, checks that figure images rendered, and,
// where the notebook has an interactive view (pkg/explore), moves its slider and checks that the view redraws;
// takes a screenshot. The saved notebook is checked afterwards by scripts/check-notebook.py.
//
// Usage: node scripts/browser-test.cjs URL SCREENSHOT.png [URL SCREENSHOT.png ...]   (playwright-core on NODE_PATH)
const { chromium } = require('playwright-core');

const args = process.argv.slice(2);
if (args.length === 0 || args.length % 2 !== 0) {
  console.error('usage: node browser-test.cjs URL SCREENSHOT.png [URL SCREENSHOT.png ...]');
  process.exit(2);
}
const fail = (msg) => { console.error('browser test: ' + msg); process.exitCode = 1; };

async function runNotebook(browser, url, shot) {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  try {
    await drive(page, url, shot);
  } catch (err) {
    await page.screenshot({ path: shot.replace(/\.png$/, '-failure.png') }).catch(() => {});
    throw err;
  } finally {
    await page.close();
  }
}

async function drive(page, url, shot) {
  const name = decodeURIComponent(url.split('/').pop().split('?')[0]);
  await page.goto(url, { waitUntil: 'load', timeout: 60000 });
  await page.locator('.jp-NotebookPanel .jp-Cell').first().waitFor({ timeout: 120000 });
  // The notebook's kernel, as the server sees it, must be up and idle before the cells are sent.
  const token = new URL(url).searchParams.get('token');
  await page.waitForFunction(async ([token, name]) => {
    const r = await fetch('/api/sessions?token=' + token);
    const mine = (await r.json()).filter((s) => s.path.endsWith(name));
    return mine.length === 1 && mine[0].kernel && mine[0].kernel.execution_state === 'idle';
  }, [token, name], { timeout: 120000, polling: 1000 });
  if (await page.locator('.jp-NotebookPanel').count() !== 1) {
    throw new Error(`${name}: expected one open notebook, found ${await page.locator('.jp-NotebookPanel').count()}`);
  }
  console.log(`browser test: ${name}: kernel idle, running all cells`);
  const start = Date.now();
  const prompts = () => page.evaluate(() =>
    [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].map((p) => p.textContent));
  for (let attempt = 0; ; attempt++) {
    await page.keyboard.press('Escape'); // close any open menu
    await page.locator('.lm-MenuBar-itemLabel', { hasText: /^Run$/ }).click({ timeout: 60000 });
    await page.locator('.lm-Menu-itemLabel', { hasText: /^Run All Cells$/ }).click({ timeout: 60000 });
    await page.waitForTimeout(5000);
    if ((await prompts()).some((p) => /\[(\*|\d+)\]/.test(p))) break; // started
    if (attempt === 2) throw new Error(`${name}: Run All Cells did not start the cells: ${JSON.stringify(await prompts())}`);
  }
  // Every code cell shows its execution number once it has run: "[3]:"; "[*]:" while queued or running.
  await page.waitForFunction(() => {
    const ps = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')];
    return ps.length > 0 && ps.every((p) => /\[\d+\]/.test(p.textContent));
  }, null, { timeout: 900000, polling: 1000 });
  console.log(`browser test: ${name}: all cells ran in ${((Date.now() - start) / 1000).toFixed(0)}s`);
  await page.keyboard.press('Control+s');
  await page.waitForTimeout(2000);
  const images = await page.locator('.jp-RenderedImage img').evaluateAll(
    (imgs) => imgs.map((i) => [i.naturalWidth, i.naturalHeight]));
  if (images.length === 0 || images.some(([w, h]) => w < 100 || h < 100)) {
    fail(`${name}: expected rendered figure images, found ${JSON.stringify(images)}`);
  } else {
    console.log(`browser test: ${name}: ${images.length} figure image(s) rendered`);
  }
  const views = page.locator('[id^="revsgd-view-"]');
  if (await views.count() > 0) {
    const view = views.first();
    await view.scrollIntoViewIfNeeded();
    const before = [await view.getAttribute('data-step'), await view.locator('svg').innerHTML()];
    await view.locator('input[type="range"]').evaluate((el) => {
      el.value = el.min;
      el.dispatchEvent(new Event('input', { bubbles: true }));
    });
    const after = [await view.getAttribute('data-step'), await view.locator('svg').innerHTML()];
    if (!before[0] || before[0] === after[0] || before[1] === after[1] || !after[1].includes('<circle')) {
      fail(`${name}: moving the slider did not redraw the view (step ${before[0]} → ${after[0]})`);
    } else {
      console.log(`browser test: ${name}: the slider moved the view from step ${before[0]} to step ${after[0]}`);
    }
    await view.screenshot({ path: shot.replace(/\.png$/, '-view.png') });
  } else {
    await page.locator('.jp-RenderedImage img').first().scrollIntoViewIfNeeded();
  }
  await page.screenshot({ path: shot });
  console.log(`browser test: ${name}: screenshot in ${shot}`);
}

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  try {
    for (let i = 0; i < args.length; i += 2) await runNotebook(browser, args[i], args[i + 1]);
  } finally {
    await browser.close();
  }
})().catch((err) => { console.error('browser test: ' + err); process.exit(1); });
