// The portal's login pages in Debian Chromium, as a pupil or teacher uses them.
//
//   node portal.mjs SCENARIO BASE_URL TENANT [ARGS...]
//
// Scenarios (each prints JSON lines, see lib/report.mjs; crates/kakehashi/tests/browser_portal.rs
// runs them against a real server and judges what they saw):
//   language                               Japanese by default; English by link, ?lang=en, Accept-Language;
//                                          the CSP blocks an inline script
//   login USER PASSWORD                    signs in, reports the launcher
//   wrong-password USER WRONG UNKNOWN      the answers for a wrong password and an unknown user
//   logout USER PASSWORD                   signs in and out; back, reload and the launcher URL afterwards
//   return-to USER PASSWORD                return_to from the launcher, and off-site ones
//   devices USER PASSWORD                  iPad and Chromebook: overflow and touch targets, login by touch
//   lockout USER WRONG PASSWORD TIMES      TIMES wrong passwords, then the right one
//   launch USER PASSWORD APP_NAME...       on an iPad, taps each app's tile; reports the new window

import { report, run } from './lib/report.mjs';
import { launch, watchedPage, snapshot, layout, submitLogin, navigation, reportHealth } from './lib/browser.mjs';

const [scenario, base, tenant, ...rest] = process.argv.slice(2);
if (!scenario || !base || !tenant) {
  process.stderr.write('usage: node portal.mjs SCENARIO BASE_URL TENANT [ARGS...]\n');
  process.exit(2);
}
const loginUrl = (query = '') => `${base}/t/${tenant}/login${query}`;

const scenarios = {
  async language() {
    const browser = await launch();
    try {
      // A Japanese browser.
      const { context, page, seen } = await watchedPage(browser, { locale: 'ja-JP' });
      const resp = await page.goto(loginUrl());
      report('default', {
        status: resp.status(),
        headers: await resp.allHeaders(),
        acceptLanguage: await resp.request().headerValue('accept-language'),
        ...(await snapshot(page)),
      });
      // The language switch.
      await Promise.all([page.waitForNavigation(), page.click('.lang a')]);
      report('switched', await snapshot(page));
      await Promise.all([page.waitForNavigation(), page.click('.lang a')]);
      report('switched-back', await snapshot(page));
      await page.goto(loginUrl('?lang=en'));
      report('query-en', await snapshot(page));
      await reportHealth('language', page, seen);

      // The CSP as the browser enforces it: an inline script is refused, and the refusal
      // is seen by our listener (so "no violations" above means something).
      const probe = await page.evaluate(async () => {
        const before = window.__cspViolations.length;
        const s = document.createElement('script');
        s.textContent = 'window.__inlineRan = true;';
        document.body.appendChild(s);
        await new Promise((r) => setTimeout(r, 100));
        return { ran: window.__inlineRan === true, newViolations: window.__cspViolations.slice(before) };
      });
      report('inline-script-probe', probe);
      await context.close();

      // An English browser (Accept-Language: en-US…).
      const en = await watchedPage(browser, { locale: 'en-US' });
      const r2 = await en.page.goto(loginUrl());
      report('accept-language-en', {
        acceptLanguage: await r2.request().headerValue('accept-language'),
        ...(await snapshot(en.page)),
      });
      await reportHealth('accept-language-en', en.page, en.seen);
    } finally {
      await browser.close();
    }
  },

  async login(user, password) {
    const browser = await launch();
    try {
      const { page, seen } = await watchedPage(browser);
      await page.goto(loginUrl());
      const nav = await submitLogin(page, user, password);
      report('signed-in', { ...nav, ...(await snapshot(page)) });
      await reportHealth('login', page, seen);
    } finally {
      await browser.close();
    }
  },

  async 'wrong-password'(user, wrong, unknown) {
    const browser = await launch();
    try {
      const { page, seen } = await watchedPage(browser);
      await page.goto(loginUrl());
      const a = await submitLogin(page, user, wrong);
      report('wrong-password', { ...a, ...(await snapshot(page)), username: await page.inputValue('#username') });
      await page.goto(loginUrl());
      const b = await submitLogin(page, unknown, wrong);
      report('unknown-user', { ...b, ...(await snapshot(page)), username: await page.inputValue('#username') });
      await reportHealth('wrong-password', page, seen);
    } finally {
      await browser.close();
    }
  },

  async logout(user, password) {
    const browser = await launch();
    try {
      const { context, page, seen } = await watchedPage(browser);
      await page.goto(loginUrl());
      report('signed-in', { ...(await submitLogin(page, user, password)), ...(await snapshot(page)) });
      const out = page.waitForNavigation();
      await page.click('button.signout');
      report('signed-out', { ...navigation(await out), ...(await snapshot(page)) });
      report('cookies', { names: (await context.cookies()).map((c) => c.name) });
      await page.goBack();
      report('back', await snapshot(page));
      await page.reload();
      report('reload', await snapshot(page));
      const r = await page.goto(`${base}/t/${tenant}/`);
      report('launcher-url', { ...navigation(r), ...(await snapshot(page)) });
      await reportHealth('logout', page, seen);
    } finally {
      await browser.close();
    }
  },

  async 'return-to'(user, password) {
    const browser = await launch();
    try {
      // A bookmarked launcher page sends an anonymous user to login and back.
      {
        const { context, page, seen } = await watchedPage(browser);
        const r = await page.goto(`${base}/t/${tenant}/?lang=en`);
        report('bookmark-redirect', { ...navigation(r), ...(await snapshot(page)) });
        report('bookmark-signed-in', { ...(await submitLogin(page, user, password)), ...(await snapshot(page)) });
        await reportHealth('return-to', page, seen);
        await context.close();
      }
      for (const target of ['https://evil.example/', '//evil.example/', '/t/other/', 'javascript:alert(1)']) {
        const { context, page, seen } = await watchedPage(browser);
        const offsite = [];
        const origin = new URL(base).host;
        page.on('request', (req) => {
          if (new URL(req.url()).host !== origin) offsite.push(req.url());
        });
        await page.goto(loginUrl('?return_to=' + encodeURIComponent(target)));
        const nav = await submitLogin(page, user, password);
        report('offsite', { target, ...nav, offsiteRequests: offsite, ...(await snapshot(page)) });
        await reportHealth(`return-to ${target}`, page, seen);
        await context.close();
      }
    } finally {
      await browser.close();
    }
  },

  async devices(user, password) {
    const browser = await launch();
    try {
      for (const device of ['ipad', 'chromebook']) {
        const { context, page, seen } = await watchedPage(browser, { device });
        await page.goto(loginUrl());
        report('layout', { device, page: 'login', ...(await layout(page)) });
        const nav = await submitLogin(page, user, password, { touch: device === 'ipad' });
        report('layout', { device, page: 'launcher', status: nav.status, url: nav.url, ...(await layout(page)) });
        await reportHealth(device, page, seen);
        await context.close();
      }
    } finally {
      await browser.close();
    }
  },

  async launch(user, password, ...apps) {
    const browser = await launch();
    try {
      const { context, page, seen } = await watchedPage(browser, { device: 'ipad' });
      await page.goto(loginUrl());
      await submitLogin(page, user, password, { touch: true });
      for (const name of apps) {
        const tile = page.locator('.app a', { hasText: name });
        const attrs = { target: await tile.getAttribute('target'), rel: await tile.getAttribute('rel') };
        const [popup] = await Promise.all([context.waitForEvent('page'), tile.tap()]);
        await popup.waitForLoadState();
        const doc = seen.responses.filter((r) => r.url === popup.url()).pop();
        report('launched', {
          app: name,
          ...attrs,
          status: doc ? doc.status : null,
          opener: await popup.evaluate(() => window.opener !== null),
          ...(await snapshot(popup)),
          back: await popup.locator('a.button').getAttribute('href').catch(() => null),
          layout: await layout(popup),
        });
        await popup.close();
      }
      await reportHealth('launch', page, seen);
    } finally {
      await browser.close();
    }
  },

  async lockout(user, wrong, password, times) {
    const browser = await launch();
    try {
      const { page, seen } = await watchedPage(browser);
      for (let i = 1; i <= Number(times); i++) {
        await page.goto(loginUrl());
        const nav = await submitLogin(page, user, wrong);
        report('attempt', { n: i, ...nav, notice: (await snapshot(page)).notice });
      }
      await page.goto(loginUrl());
      const nav = await submitLogin(page, user, password);
      report('right-password', { ...nav, ...(await snapshot(page)) });
      await reportHealth('lockout', page, seen);
    } finally {
      await browser.close();
    }
  },
};

const chosen = scenarios[scenario];
if (!chosen) {
  process.stderr.write(`unknown scenario ${scenario}; one of: ${Object.keys(scenarios).join(', ')}\n`);
  process.exit(2);
}
run(() => chosen(...rest));
