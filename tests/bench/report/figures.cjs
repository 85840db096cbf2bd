// Prints, as JSON, every <figure> of an HTML file as headless Chromium lays it out: its id, its
// chart's width and its axis titles. A separate Node process because @sparticuz/chromium is an ES
// module, which Jest's CommonJS runtime cannot load (Node itself can).
const chromium = require('@sparticuz/chromium').default;
const { chromium: playwright } = require('playwright-core');

(async () => {
  const browser = await playwright.launch({ executablePath: await chromium.executablePath(), args: chromium.args, headless: true });
  try {
    const page = await browser.newPage();
    await page.goto(`file://${process.argv[2]}`);
    const figures = await page.$$eval('figure', (fs) => fs.map((f) => ({
      id: f.id,
      width: f.querySelector('svg').getBoundingClientRect().width,
      titles: [...f.querySelectorAll('.role-axis-title text')].map((t) => t.textContent),
    })));
    process.stdout.write(JSON.stringify(figures));
  } finally {
    await browser.close();
  }
})().catch((err) => {
  process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});
