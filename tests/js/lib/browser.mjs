// Debian's Chromium driven by playwright-core. Never a downloaded browser build: the binary is
// the one `apt-get install chromium` puts in /usr/bin (scripts/test installs it).

import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { report } from './report.mjs';

export const CHROMIUM = process.env.KAKEHASHI_CHROMIUM || '/usr/bin/chromium';

// Root on a closed network: no sandbox (we run as root in CI), and none of Chromium's own
// background traffic (without these it floods refused connections to Google services).
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launch({ extraArgs = [] } = {}) {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: run ./scripts/test (it installs it) or apt-get install -y chromium`);
  }
  return chromium.launch({ executablePath: CHROMIUM, args: [...FLAGS, ...extraArgs], headless: true });
}

/// Devices the portal must work on. The iPad is a 10.2" iPad in portrait (810×1080 CSS px)
/// with Safari's user agent and touch; the Chromebook a common 1366×768 school model.
export const DEVICES = {
  desktop: { viewport: { width: 1280, height: 800 } },
  ipad: {
    viewport: { width: 810, height: 1080 },
    userAgent:
      'Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
  },
  chromebook: {
    viewport: { width: 1366, height: 768 },
    userAgent:
      'Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
    deviceScaleFactor: 1,
    hasTouch: true,
  },
};

/// A page that records what a user would never see but we must: console errors and
/// warnings, uncaught exceptions, Content-Security-Policy violations (both the console
/// report and the DOM `securitypolicyviolation` event), and failed requests.
export async function watchedPage(browser, { device = 'desktop', locale = 'ja-JP', extraHTTPHeaders } = {}) {
  const context = await browser.newContext({ ...DEVICES[device], locale, extraHTTPHeaders });
  const seen = { console: [], pageErrors: [], failedRequests: [], responses: [], csp: [] };
  // Every document's CSP violations reach us through a DevTools binding (which the page's
  // CSP does not govern), so none is lost when the page navigates.
  await context.exposeBinding('__khCspViolation', ({ frame }, v) => seen.csp.push({ ...v, url: frame.url() }));
  await context.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      const v = { directive: e.violatedDirective, blocked: e.blockedURI, sample: e.sample };
      window.__cspViolations.push(v);
      window.__khCspViolation(v);
    });
  });
  // Listeners on the context see every page of it, windows opened by the page included.
  context.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') {
      const where = m.page() ? m.page().url() : '';
      seen.console.push({ type: m.type(), text: m.text(), url: m.location().url || where });
    }
  });
  context.on('weberror', (e) => seen.pageErrors.push(String(e.error())));
  context.on('requestfailed', (r) =>
    seen.failedRequests.push({ url: r.url(), failure: r.failure() && r.failure().errorText }),
  );
  context.on('response', (r) => seen.responses.push({ url: r.url(), status: r.status() }));
  const page = await context.newPage();
  // Fail in seconds, not Playwright's default 30 s, when something a user would click is not there.
  context.setDefaultTimeout(15000);
  return { context, page, seen };
}

/// What a user sees of a page's structure, for the Rust side to judge.
export async function snapshot(page) {
  return page.evaluate(() => {
    const text = (sel) => {
      const el = document.querySelector(sel);
      return el ? el.textContent.trim() : null;
    };
    return {
      url: location.pathname + location.search,
      lang: document.documentElement.lang,
      title: document.title,
      h1: text('h1'),
      labels: [...document.querySelectorAll('label')].map((l) => l.textContent.trim()),
      button: text('button[type=submit]'),
      notice: text('.notice'),
      langLink: text('.lang a'),
      name: text('.who .name'),
      kana: text('.who .kana'),
      apps: [...document.querySelectorAll('.app .app-name')].map((a) => a.textContent.trim()),
      hasLoginForm: !!document.querySelector('input[name=password]'),
      hasLogout: !!document.querySelector('button.signout'),
    };
  });
}

/// Layout facts on the current viewport: horizontal overflow, every control's size, the
/// smallest text in an input (iOS Safari zooms into inputs under 16 px).
export async function layout(page) {
  return page.evaluate(() => {
    const doc = document.documentElement;
    const controls = [...document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea')]
      .filter((el) => el.getClientRects().length > 0)
      .map((el) => {
        const r = el.getBoundingClientRect();
        return {
          what: el.tagName.toLowerCase() + (el.id ? '#' + el.id : el.className ? '.' + el.className : ''),
          text: (el.textContent || el.getAttribute('name') || '').trim().slice(0, 40),
          width: Math.round(r.width * 10) / 10,
          height: Math.round(r.height * 10) / 10,
          right: Math.round(r.right * 10) / 10,
          fontSize: parseFloat(getComputedStyle(el).fontSize),
        };
      });
    return {
      innerWidth: window.innerWidth,
      clientWidth: doc.clientWidth,
      scrollWidth: Math.max(doc.scrollWidth, document.body.scrollWidth),
      controls,
    };
  });
}

/// Types the credentials and submits the form (by tap on touch devices); returns the status
/// of the POST and of the page it ends on.
export async function submitLogin(page, user, password, { touch = false } = {}) {
  await page.fill('#username', user);
  await page.fill('#password', password);
  const done = page.waitForNavigation();
  if (touch) await page.tap('button[type=submit]');
  else await page.click('button[type=submit]');
  const resp = await done;
  return navigation(resp);
}

/// The status and URL a navigation ended on, with the methods of its redirect chain.
export function navigation(resp) {
  const methods = [];
  for (let req = resp.request(); req; req = req.redirectedFrom()) methods.unshift(req.method());
  const url = new URL(resp.url());
  return { status: resp.status(), methods, url: url.pathname + url.search, host: url.host };
}

/// Reports what the page saw that a user would not: console errors, uncaught exceptions,
/// CSP violations, failed requests.
export async function reportHealth(where, page, seen) {
  report('health', {
    where,
    console: seen.console,
    pageErrors: seen.pageErrors,
    csp: seen.csp,
    failedRequests: seen.failedRequests,
    errorResponses: seen.responses.filter((r) => r.status >= 400),
  });
}

