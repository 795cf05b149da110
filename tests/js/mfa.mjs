// Second factors in Debian Chromium with the DevTools WebAuthn virtual authenticator
// (CDP `WebAuthn.enable` + `WebAuthn.addVirtualAuthenticator`): registering a security key
// (ctap2 over usb, touch only) or a platform authenticator (internal, with user verification,
// like a PC's fingerprint reader), then stepping up into school-affairs apps with it.
//
//   node mfa.mjs SCENARIO BASE_URL TENANT [ARGS...]
//
// BASE_URL must be http://localhost:PORT (WebAuthn needs a domain, not an IP address).
// Scenarios (JSON lines, see lib/report.mjs; crates/kakehashi/tests/browser_mfa.rs judges):
//   step-up USER PASSWORD KIND NAME RP_PORT APP_PATH...
//        KIND security-key|platform: signs in, registers an authenticator of that kind named
//        NAME, then for each APP_PATH (a launch or authorization URL of a school-affairs app)
//        signs in afresh, opens it and confirms with the authenticator. SAML SPs on *.example
//        hosts are answered by the script (their ACS is reached by a form POST); OIDC apps
//        redirect to http://127.0.0.1:RP_PORT/cb, the script's own server.
//   refused USER PASSWORD KIND
//        registration in a tenant whose AAGUID allow-list excludes the virtual authenticator.
//   backup-code USER PASSWORD APP_PATH
//        makes backup codes, steps up with one, then in a fresh browser uses it again.
//   passkey USER PASSWORD RP_PORT APP_PATH AUTHORIZE_PATH
//        signs in, registers a platform authenticator (a discoverable credential), signs out,
//        signs in with the passkey button alone and opens APP_PATH (a school-affairs SAML
//        app) and AUTHORIZE_PATH (a school-affairs OIDC RP redirecting to
//        http://127.0.0.1:RP_PORT/cb): no step-up expected; replays the passkey finish request (refused); then a
//        second browser whose authenticator holds no credential for the portal, and then
//        one the portal does not know, presses the button (the same generic error).

import http from 'node:http';
import crypto from 'node:crypto';
import { report, run } from './lib/report.mjs';
import { launch as launchBrowser, watchedPage, snapshot, submitLogin, reportHealth } from './lib/browser.mjs';

const [scenario, base, tenant, ...rest] = process.argv.slice(2);
if (!scenario || !base || !tenant) {
  process.stderr.write('usage: node mfa.mjs SCENARIO BASE_URL TENANT [ARGS...]\n');
  process.exit(2);
}
const url = (path) => `${base}${path}`;

// WebAuthn runs on http://localhost (a secure context); resolve it without DNS, which on a
// closed network has been seen to fail for `localhost` after lookups of other names.
const launch = () => launchBrowser({ extraArgs: ['--host-resolver-rules=MAP localhost 127.0.0.1'] });

/// The authenticator options of each kind (DevTools protocol, WebAuthn domain).
const AUTHENTICATORS = {
  'security-key': {
    protocol: 'ctap2',
    transport: 'usb',
    hasResidentKey: true,
    hasUserVerification: false,
    isUserVerified: false,
    automaticPresenceSimulation: true,
  },
  platform: {
    protocol: 'ctap2',
    transport: 'internal',
    hasResidentKey: true,
    hasUserVerification: true,
    isUserVerified: true,
    automaticPresenceSimulation: true,
  },
};

async function withAuthenticator(page, kind) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable', { enableUI: false });
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: AUTHENTICATORS[kind],
  });
  return { cdp, authenticatorId };
}

/// Answers requests to the apps' hosts (they do not exist on this closed network) and keeps
/// what reached them.
async function fakeApps(context) {
  const reached = [];
  await context.route(/^https:\/\/[a-z0-9.-]+\.example\//, async (route) => {
    const req = route.request();
    reached.push({ url: req.url(), method: req.method(), body: req.postData() || '' });
    await route.fulfill({ status: 200, contentType: 'text/html', body: '<!DOCTYPE html><title>app</title><p>app</p>' });
  });
  return reached;
}

async function signIn(page, user, password) {
  await page.goto(url(`/t/${tenant}/login`));
  return submitLogin(page, user, password);
}

async function signOut(page) {
  await page.goto(url(`/t/${tenant}/`));
  const done = page.waitForNavigation();
  await page.click('button.signout');
  await done;
}

async function credentials(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll('.credential')].map((li) => ({
      name: li.querySelector('.credential-name').textContent.trim(),
      kind: li.querySelector('.credential-kind').textContent.trim(),
      used: li.querySelector('.credential-used').textContent.trim(),
    })),
  );
}

async function register(page, kind, name) {
  const options = [];
  const keep = async (r) => {
    if (r.url().includes('/mfa/webauthn/register/')) options.push({ url: r.url(), status: r.status(), body: await r.text().catch(() => '') });
  };
  page.on('response', keep);
  await page.goto(url(`/t/${tenant}/mfa`));
  await page.fill('#credential-name', name);
  const status = page.locator('#webauthn-status');
  const done = page.waitForNavigation({ timeout: 15000 }).then(() => 'navigated', () => 'stayed');
  await page.click(`#register-${kind}`);
  const outcome = await Promise.race([
    done,
    status.waitFor({ state: 'visible', timeout: 15000 }).then(() => 'error', () => 'stayed'),
  ]);
  page.off('response', keep);
  const shown = (await status.isVisible()) ? (await status.textContent()).trim() : null;
  return {
    outcome,
    status: shown,
    credentials: await credentials(page),
    // What the server said, for the transcript when registration did not work.
    exchanges: outcome === 'navigated' ? [] : options,
  };
}

/// Presses the login page's passkey button; `{outcome, landed, status}`.
async function passkeyLogin(page) {
  await page.goto(url(`/t/${tenant}/login`));
  const status = page.locator('#passkey-status');
  const done = page
    .waitForURL((u) => !u.pathname.endsWith('/login'), { timeout: 20000 })
    .then(() => 'navigated', () => 'stayed');
  await page.click('#passkey-login');
  const outcome = await Promise.race([
    done,
    status.waitFor({ state: 'visible', timeout: 20000 }).then(() => 'error', () => 'stayed'),
  ]);
  const shown = (await status.isVisible().catch(() => false)) ? (await status.textContent()).trim() : null;
  return { outcome, landed: page.url(), status: shown };
}

const scenarios = {
  async passkey(user, password, rpPort, app, authorize) {
    const callbacks = [];
    const server = http.createServer((req, res) => {
      callbacks.push(`http://127.0.0.1:${rpPort}${req.url}`);
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end('<!DOCTYPE html><title>RP</title><p>RP</p>');
    });
    await new Promise((resolve) => server.listen(Number(rpPort), '127.0.0.1', resolve));
    const browser = await launch();
    try {
      const { context, page, seen } = await watchedPage(browser);
      const reached = await fakeApps(context);
      const { cdp, authenticatorId } = await withAuthenticator(page, 'platform');
      await signIn(page, user, password);
      const reg = await register(page, 'platform', 'この端末');
      const { credentials: held } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
      report('registered', { ...reg, residentKeys: held.filter((c) => c.isResidentCredential).length });
      await signOut(page);

      // The finish request as the browser sends it, and the pre-login cookie it came with.
      let finish = null;
      const keep = (r) => {
        if (r.url().endsWith('/login/passkey/finish')) finish = { headers: r.headers(), body: r.postData() };
      };
      page.on('request', keep);
      await page.goto(url(`/t/${tenant}/login`));
      const prelogin = (await context.cookies()).find((c) => c.name === 'kakehashi_login');
      const signedIn = await passkeyLogin(page);
      page.off('request', keep);
      const launcher = await snapshot(page);
      const first = await page.goto(url(app));
      await page.waitForURL(/\.example\//, { timeout: 15000 }).catch(() => {});
      const landedApp = page.url();
      const oidc = await page.goto(url(authorize));
      await page
        .waitForURL((u) => u.href.startsWith(`http://127.0.0.1:${rpPort}/`), { timeout: 15000 })
        .catch(() => {});
      report('passkey-login', {
        oidcStatus: oidc ? oidc.status() : null,
        callbacks,
        ...signedIn,
        launcher,
        appStatus: first.status(),
        landedApp,
        reachedApp: reached.map((h) => ({ url: h.url, samlResponse: h.body.includes('SAMLResponse=') })),
      });

      // The same ceremony again, with the same pre-login cookie and CSRF token: refused.
      const replay = await fetch(url(`/t/${tenant}/login/passkey/finish`), {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'X-CSRF-Token': finish ? finish.headers['x-csrf-token'] : '',
          Cookie: prelogin ? `kakehashi_login=${prelogin.value}` : '',
        },
        body: finish ? finish.body : '{}',
      });
      report('replayed', {
        captured: finish !== null && prelogin !== undefined,
        status: replay.status,
        body: await replay.json().catch(() => null),
        setCookie: replay.headers.get('set-cookie'),
      });
      await reportHealth('passkey', page, seen);

      // Another browser, another authenticator: first with no credential at all, then with a
      // discoverable credential for this site that the portal never registered.
      const other = await watchedPage(browser);
      const second = await withAuthenticator(other.page, 'platform');
      report('no-credential', await passkeyLogin(other.page));
      const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
      await second.cdp.send('WebAuthn.addCredential', {
        authenticatorId: second.authenticatorId,
        credential: {
          credentialId: crypto.randomBytes(16).toString('base64'),
          isResidentCredential: true,
          rpId: 'localhost',
          privateKey: privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64'),
          userHandle: crypto.randomBytes(16).toString('base64'),
          signCount: 0,
        },
      });
      report('unknown-credential', await passkeyLogin(other.page));
      await reportHealth('passkey-refused', other.page, other.seen);
    } finally {
      await browser.close();
      server.close();
    }
  },


  async 'step-up'(user, password, kind, name, rpPort, ...apps) {
    const callbacks = [];
    const server = http.createServer((req, res) => {
      callbacks.push(`http://127.0.0.1:${rpPort}${req.url}`);
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end('<!DOCTYPE html><title>RP</title><p>RP</p>');
    });
    await new Promise((resolve) => server.listen(Number(rpPort), '127.0.0.1', resolve));
    const browser = await launch();
    try {
      const { context, page, seen } = await watchedPage(browser);
      const reached = await fakeApps(context);
      const { cdp, authenticatorId } = await withAuthenticator(page, kind);
      await signIn(page, user, password);
      const reg = await register(page, kind, name);
      const { credentials: held } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
      report('registered', { ...reg, onAuthenticator: held.length, residentKeys: held.filter((c) => c.isResidentCredential).length });

      for (const app of apps) {
        // A fresh sign-in each time, so that each app asks for the factor itself.
        await signOut(page);
        await signIn(page, user, password);
        const first = await page.goto(url(app));
        const before = { status: first.status(), ...(await snapshot(page)) };
        const count = reached.length;
        const calls = callbacks.length;
        const done = page
          .waitForURL((u) => /\.example\//.test(u.href) || u.href.startsWith(`http://127.0.0.1:${rpPort}/`), { timeout: 15000 })
          .then(() => true, () => false);
        await page.click('#webauthn-verify');
        const arrived = await done;
        report('stepped-up', {
          app,
          before,
          arrived,
          landed: page.url(),
          reachedApp: reached.slice(count).map((h) => ({
            url: h.url,
            method: h.method,
            samlResponse: h.body.includes('SAMLResponse='),
          })),
          callbacks: callbacks.slice(calls),
        });
      }
      await page.goto(url(`/t/${tenant}/mfa`));
      report('after', { credentials: await credentials(page) });
      await reportHealth('step-up', page, seen);
    } finally {
      await browser.close();
      server.close();
    }
  },

  async refused(user, password, kind) {
    const browser = await launch();
    try {
      const { page, seen } = await watchedPage(browser);
      await withAuthenticator(page, kind);
      await signIn(page, user, password);
      report('refused', await register(page, kind, 'not allowed'));
      await reportHealth('refused', page, seen);
    } finally {
      await browser.close();
    }
  },

  async 'backup-code'(user, password, app) {
    const browser = await launch();
    try {
      const first = await watchedPage(browser);
      const reached = await fakeApps(first.context);
      await signIn(first.page, user, password);
      await first.page.goto(url(`/t/${tenant}/mfa`));
      const made = first.page.waitForNavigation();
      await first.page.click('form[action*="backup-codes"] button');
      await made;
      const codes = await first.page.$$eval('.backup-codes code', (els) => els.map((e) => e.textContent.trim()));
      report('codes', { count: codes.length });
      const useCode = async (page) => {
        const resp = await page.goto(url(app));
        const before = resp.status();
        await page.fill('#backup-code', codes[0]);
        const nav = page.waitForNavigation();
        await page.click('form[action*="backup-code"] button[type=submit]');
        const r = await nav;
        await page.waitForURL(/\.example\//, { timeout: 10000 }).catch(() => {});
        return { before, after: r ? r.status() : null, landed: page.url(), notice: (await snapshot(page)).notice };
      };
      report('first-use', { ...(await useCode(first.page)), reachedApp: reached.length });
      const second = await watchedPage(browser);
      await fakeApps(second.context);
      await signIn(second.page, user, password);
      report('second-use', await useCode(second.page));
      await reportHealth('backup-code', second.page, second.seen);
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
