// npm openid-client (6.x) as a relying party of Kakehashi's OpenID Provider. The browser part
// (signing in on our login page) is Debian Chromium through playwright-core; the RP's
// redirect_uri is a tiny HTTP server in this script on 127.0.0.1:CALLBACK_PORT.
//
//   node oidc_rp.mjs SCENARIO ISSUER CLIENT_ID CLIENT_SECRET [ARGS...]
//
// Scenarios (JSON lines, see lib/report.mjs; judged by crates/kakehashi/tests/oidc_rp.rs):
//   discovery                                  discovery + JWKS as openid-client sees them
//   code USER PASSWORD CALLBACK_PORT           code + PKCE through the browser, userinfo,
//                                              introspection, refresh rotation and reuse,
//                                              SSO, prompt=login, revocation, prompt=none,
//                                              RP-initiated logout
//   form-post USER PASSWORD CALLBACK_PORT      response_mode=form_post
//   logout-confirm USER PASSWORD CALLBACK_PORT RP-initiated logout without id_token_hint: the
//                                              user confirms on our page, then back to the RP
//   logout-confirm-saml USER PASSWORD CALLBACK_PORT SSO_PATH
//                                              the same, with a SAML SP (ACS and SLO on the
//                                              callback server) signed in first through
//                                              SSO_PATH: after confirming, the browser visits
//                                              the SP's SLO URL, then (the SP not answering)
//                                              ends at the RP
//   launcher USER PASSWORD CALLBACK_PORT APP   signed in to the portal on an iPad, taps the app's
//                                              tile: the RP's launch URL starts an authorization
//                                              request that the portal session answers (SSO)
//   client-credentials                         client_credentials (scope roster), introspection,
//                                              revocation
//
// openid-client is strict: it checks the ID token's signature against the JWKS, `iss`, `aud`,
// `exp`, `nonce`, the authorization response's `state` and `iss` (RFC 9207), and PKCE.

import http from 'node:http';
import * as oidc from 'openid-client';
import { report, run } from './lib/report.mjs';
import { launch, watchedPage, submitLogin, reportHealth } from './lib/browser.mjs';

const [scenario, issuer, clientId, clientSecret, ...rest] = process.argv.slice(2);
if (!scenario || !issuer || !clientId) {
  process.stderr.write('usage: node oidc_rp.mjs SCENARIO ISSUER CLIENT_ID CLIENT_SECRET [ARGS...]\n');
  process.exit(2);
}

/// openid-client over plain http to 127.0.0.1 (tests only), client_secret_basic.
async function discover() {
  return oidc.discovery(
    new URL(issuer),
    clientId,
    clientSecret || undefined,
    clientSecret ? oidc.ClientSecretBasic(clientSecret) : oidc.None(),
    { execute: [oidc.allowInsecureRequests] },
  );
}

/// An OAuth/OIDC error from openid-client as plain data for the report.
function oauthError(e) {
  return {
    name: e && e.name,
    error: e && (e.error || (e.cause && e.cause.error)),
    code: e && e.code,
    status: e && e.status,
    message: String(e && e.message),
  };
}

async function attempt(f) {
  try {
    return { ok: true, value: await f() };
  } catch (e) {
    return { ok: false, ...oauthError(e) };
  }
}

/// The RP's own small web server: records every request to /cb (GET query or POST form
/// body) and /logged-out, and hands them out in order.
async function callbackServer(port) {
  const ctl = { launchTarget: null };
  const waiting = [];
  const arrived = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (req.url === '/favicon.ico') {
        res.writeHead(204).end();
        return;
      }
      // The RP's launch URL (what the portal's tile opens): start an authorization request,
      // as a real RP does when a user arrives without its own session.
      if (req.url.startsWith('/launch') && ctl.launchTarget) {
        res.writeHead(302, { location: ctl.launchTarget }).end();
        return;
      }
      const hit = { method: req.method, url: `http://127.0.0.1:${port}${req.url}`, body, contentType: req.headers['content-type'] };
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<!DOCTYPE html><html lang="en"><head><title>RP</title><link rel="icon" href="data:,"></head><body>RP received</body></html>');
      const w = waiting.shift();
      if (w) w(hit);
      else arrived.push(hit);
    });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(port), '127.0.0.1', resolve);
  });
  return Object.assign(ctl, {
    redirectUri: `http://127.0.0.1:${port}/cb`,
    postLogoutUri: `http://127.0.0.1:${port}/logged-out`,
    next(timeoutMs = 30000) {
      if (arrived.length) return Promise.resolve(arrived.shift());
      return new Promise((resolve, reject) => {
        const waiter = (hit) => {
          clearTimeout(t);
          resolve(hit);
        };
        const t = setTimeout(() => {
          waiting.splice(waiting.indexOf(waiter), 1);
          reject(new Error('the RP callback was never called'));
        }, timeoutMs);
        waiting.push(waiter);
      });
    },
    close: () => new Promise((r) => server.close(r)),
  });
}

/// Everything an authorization request needs, fresh.
async function authRequest(config, cb, extra = {}) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: cb.redirectUri,
    scope: 'openid profile roster',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...extra,
  });
  return { url, verifier, state, nonce };
}

/// Opens the authorization URL in the browser, signs in on the login page when it shows,
/// and returns what reached the callback (or, when nothing did, where the browser stopped).
async function authorizeInBrowser(page, cb, req, user, password, timeoutMs = 20000) {
  const hit = cb.next(timeoutMs).catch((e) => ({ error: String(e.message || e) }));
  await page.goto(req.url.href);
  let loginShown = false;
  if (new URL(page.url()).pathname.endsWith('/login') && user) {
    loginShown = true;
    await page.fill('#username', user);
    await page.fill('#password', password);
    await page.click('button[type=submit]');
  }
  const got = await hit;
  // The callback server has the request; let the browser finish loading its answer before
  // the caller navigates on (else that navigation aborts this one: a failed request).
  if (!got.error) {
    await page.waitForURL((u) => u.pathname === '/cb', { waitUntil: 'load', timeout: 5000 }).catch(() => {});
  }
  return { hit: got.error ? null : got, error: got.error || null, stoppedAt: got.error ? page.url() : null, loginShown };
}

/// The callback request, or an error saying where the browser stopped instead.
function must(a, what) {
  if (!a.hit) throw new Error(`${what}: the RP callback was not reached; the browser stopped at ${a.stoppedAt}`);
  return a.hit;
}

/// The code exchange with every check openid-client makes.
async function exchange(config, hit, req) {
  const input =
    hit.method === 'POST'
      ? new Request(hit.url, { method: 'POST', headers: { 'content-type': hit.contentType }, body: hit.body })
      : new URL(hit.url);
  return oidc.authorizationCodeGrant(config, input, {
    pkceCodeVerifier: req.verifier,
    expectedState: req.state,
    expectedNonce: req.nonce,
    idTokenExpected: true,
  });
}

function tokenSummary(t) {
  const c = t.claims();
  return {
    token_type: t.token_type,
    expires_in: t.expires_in,
    scope: t.scope,
    has_refresh_token: !!t.refresh_token,
    claims: c,
  };
}

async function introspect(config, token) {
  return attempt(() => oidc.tokenIntrospection(config, token));
}

const scenarios = {
  async discovery() {
    const config = await discover();
    const md = config.serverMetadata();
    report('metadata', { metadata: md });
    // The JWKS as an RP's crypto sees it: every key imports into WebCrypto for its alg.
    const jwks = await (await fetch(md.jwks_uri)).json();
    const keys = [];
    for (const k of jwks.keys) {
      const alg = k.alg || (k.kty === 'RSA' ? 'RS256' : 'ES256');
      const params =
        k.kty === 'RSA' ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } : { name: 'ECDSA', namedCurve: k.crv };
      const imported = await attempt(() => crypto.subtle.importKey('jwk', k, params, true, ['verify']));
      keys.push({ kid: k.kid, kty: k.kty, alg, use: k.use, imported: imported.ok, error: imported.message, private: 'd' in k });
    }
    report('jwks', { keys });
    // An issuer that is not ours: openid-client refuses (the document's issuer must match).
    const wrong = await attempt(() =>
      oidc.discovery(new URL(issuer.replace(/\/t\/[^/]+$/, '/t/no-such-tenant')), clientId, clientSecret, undefined, {
        execute: [oidc.allowInsecureRequests],
      }),
    );
    report('unknown-issuer', wrong);
  },

  async code(user, password, port) {
    const config = await discover();
    const cb = await callbackServer(port);
    const browser = await launch();
    try {
      const { page, seen } = await watchedPage(browser);

      // 1. Code + PKCE: the browser signs in on our login page and comes back.
      const r1 = await authRequest(config, cb);
      let a1 = await authorizeInBrowser(page, cb, r1, user, password, 8000);
      if (!a1.hit) {
        // Reported for the test to judge; the rest still runs from a signed-in browser so
        // that one failure does not hide the others.
        report('code-login-failed', { error: a1.error, stoppedAt: a1.stoppedAt, csp: seen.csp, console: seen.console });
        const r1b = await authRequest(config, cb);
        await page.goto(issuer + '/login');
        const signedIn = !(await page.$('#password'));
        if (!signedIn) await submitLogin(page, user, password);
        report('code-login-fallback', { sessionAlreadyMade: signedIn });
        a1 = await authorizeInBrowser(page, cb, r1b, null, null);
        Object.assign(r1, r1b);
        if (!a1.hit) throw new Error(`no authorization response even when signed in: ${a1.stoppedAt}`);
      }
      const t1 = await exchange(config, a1.hit, r1);
      report('code', { loginShown: a1.loginShown, callback: a1.hit.url.replace(/code=[^&]+/, 'code=…'), ...tokenSummary(t1) });

      const sub = t1.claims().sub;
      report('userinfo', await attempt(() => oidc.fetchUserInfo(config, t1.access_token, sub)));
      report('introspect-access', await introspect(config, t1.access_token));

      // 2. Refresh: rotation, then reuse of the old refresh token revokes the family.
      const t2 = await oidc.refreshTokenGrant(config, t1.refresh_token);
      report('refresh', {
        newAccess: t2.access_token !== t1.access_token,
        newRefresh: !!t2.refresh_token && t2.refresh_token !== t1.refresh_token,
        ...tokenSummary(t2),
        claims: t2.id_token ? t2.claims() : null,
      });
      report('refresh-reuse', await attempt(() => oidc.refreshTokenGrant(config, t1.refresh_token)));
      report('after-reuse-rotated-refresh', await attempt(() => oidc.refreshTokenGrant(config, t2.refresh_token)));
      report('after-reuse-access', await introspect(config, t2.access_token));

      // 3. Single sign-on: a second authorization needs no login; then revocation.
      const r3 = await authRequest(config, cb);
      const a3 = await authorizeInBrowser(page, cb, r3, null, null);
      const t3 = await exchange(config, must(a3, 'sso'), r3);
      report('sso', { loginShown: a3.loginShown, sameSub: t3.claims().sub === sub, auth_time_same: t3.claims().auth_time === t1.claims().auth_time });
      report('revoke-access', await attempt(() => oidc.tokenRevocation(config, t3.access_token)));
      report('revoked-access-introspect', await introspect(config, t3.access_token));
      report('revoked-access-userinfo', await attempt(() => oidc.fetchUserInfo(config, t3.access_token, sub)));
      report('revoke-refresh', await attempt(() => oidc.tokenRevocation(config, t3.refresh_token)));
      report('revoked-refresh-grant', await attempt(() => oidc.refreshTokenGrant(config, t3.refresh_token)));

      // 3b. prompt=login: the login form again despite the session, then a newer auth_time.
      await new Promise((r) => setTimeout(r, 1100));
      const rl = await authRequest(config, cb, { prompt: 'login' });
      const al = await authorizeInBrowser(page, cb, rl, user, password);
      const tl = await exchange(config, must(al, 'prompt=login'), rl);
      report('prompt-login', {
        loginShown: al.loginShown,
        sameSub: tl.claims().sub === sub,
        newerAuthTime: tl.claims().auth_time > t1.claims().auth_time,
      });

      // 4. prompt=none with a live session: a code, no page shown.
      const r4 = await authRequest(config, cb, { prompt: 'none' });
      const a4 = await authorizeInBrowser(page, cb, r4, null, null);
      const t4 = await attempt(() => exchange(config, must(a4, 'prompt=none'), r4));
      report('prompt-none-signed-in', t4.ok ? { ok: true, ...tokenSummary(t4.value) } : t4);
      const last = t4.ok ? t4.value : t1;

      // 5. RP-initiated logout with the ID token as hint; back to our post-logout URI with
      // our state; the portal session and the tokens it issued end.
      const logoutUrl = oidc.buildEndSessionUrl(config, {
        id_token_hint: last.id_token,
        post_logout_redirect_uri: cb.postLogoutUri,
        state: 'bye-123',
      });
      const landed = cb.next(15000);
      await page.goto(logoutUrl.href);
      const hit = await landed.catch((e) => ({ error: String(e), at: page.url() }));
      report('logout', { landed: hit.url || null, error: hit.error || null, at: hit.at || null });
      report('logout-token', await introspect(config, last.access_token));

      // 6. prompt=none without a session: login_required back to the RP.
      const r6 = await authRequest(config, cb, { prompt: 'none' });
      const a6 = await authorizeInBrowser(page, cb, r6, null, null);
      report('prompt-none-signed-out', {
        callback: must(a6, 'prompt=none signed out').url,
        ...(await attempt(() => exchange(config, a6.hit, r6))),
      });
      await reportHealth('code', page, seen);
    } finally {
      await browser.close();
      await cb.close();
    }
  },

  async 'form-post'(user, password, port) {
    const config = await discover();
    const cb = await callbackServer(port);
    const browser = await launch();
    try {
      const { page, seen } = await watchedPage(browser);
      const r = await authRequest(config, cb, { response_mode: 'form_post' });
      const a = await authorizeInBrowser(page, cb, r, user, password);
      must(a, 'form_post');
      const form = Object.fromEntries(new URLSearchParams(a.hit.body));
      report('form-post-callback', { method: a.hit.method, contentType: a.hit.contentType, fields: Object.keys(form).sort(), query: new URL(a.hit.url).search });
      const t = await attempt(async () => tokenSummary(await exchange(config, a.hit, r)));
      report('form-post-tokens', t);
      await reportHealth('form-post', page, seen);
    } finally {
      await browser.close();
      await cb.close();
    }
  },

  async 'logout-confirm'(user, password, port) {
    const config = await discover();
    const cb = await callbackServer(port);
    const browser = await launch();
    try {
      const { page, seen } = await watchedPage(browser);
      await page.goto(issuer + '/login');
      await submitLogin(page, user, password);
      const url = oidc.buildEndSessionUrl(config, { post_logout_redirect_uri: cb.postLogoutUri, state: 'bye-456' });
      await page.goto(url.href);
      const confirm = { url: new URL(page.url()).pathname, h1: await page.textContent('h1').catch(() => null) };
      const landed = cb.next(8000).catch((e) => ({ error: String(e.message || e) }));
      await page.click('form button[type=submit]');
      const hit = await landed;
      // Let the RP's page finish loading before leaving it (else its request shows as aborted).
      if (hit.url) await page.waitForURL((u) => u.pathname === '/logged-out').catch(() => {});
      report('logout-confirm', { confirm, landed: hit.url || null, error: hit.error || null, stoppedAt: hit.error ? page.url() : null });
      await page.goto(issuer + '/');
      report('after-logout', { url: new URL(page.url()).pathname, signedIn: !!(await page.$('button.signout')) });
      await reportHealth('logout-confirm', page, seen);
    } finally {
      await browser.close();
      await cb.close();
    }
  },

  async 'logout-confirm-saml'(user, password, port, ssoPath) {
    const config = await discover();
    const cb = await callbackServer(port);
    const browser = await launch();
    try {
      const { page, seen } = await watchedPage(browser);
      await page.goto(issuer + '/login');
      await submitLogin(page, user, password);
      // SAML SSO: our auto-POST page sends the Response to the SP's ACS (the callback server).
      const acs = cb.next(8000).catch((e) => ({ error: String(e.message || e) }));
      await page.goto(new URL(issuer).origin + ssoPath);
      const posted = await acs;
      report('saml-sso', { method: posted.method || null, url: posted.url || null, error: posted.error || null });
      const url = oidc.buildEndSessionUrl(config, { post_logout_redirect_uri: cb.postLogoutUri, state: 'bye-789' });
      await page.goto(url.href);
      const slo = cb.next(8000).catch((e) => ({ error: String(e.message || e) }));
      await page.click('form button[type=submit]');
      const sloHit = await slo;
      report('saml-slo', { url: sloHit.url || null, error: sloHit.error || null, stoppedAt: sloHit.error ? page.url() : null });
      // The SP never answers: the journey (its id is the LogoutRequest's RelayState) resumed
      // skips it and ends at the RP.
      let landed = { error: 'no SLO request' };
      if (sloHit.url) {
        await page.waitForURL((u) => u.pathname === '/slo');
        const journey = new URL(sloHit.url).searchParams.get('RelayState');
        const rpHit = cb.next(8000).catch((e) => ({ error: String(e.message || e) }));
        await page.goto(`${issuer}/saml/slo/next?journey=${encodeURIComponent(journey)}`);
        landed = await rpHit;
        if (landed.url) await page.waitForURL((u) => u.pathname === '/logged-out').catch(() => {});
      }
      report('logout-confirm-saml', { landed: landed.url || null, error: landed.error || null });
      await page.goto(issuer + '/');
      report('after-logout', { url: new URL(page.url()).pathname, signedIn: !!(await page.$('button.signout')) });
      await reportHealth('logout-confirm-saml', page, seen);
    } finally {
      await browser.close();
      await cb.close();
    }
  },

  async launcher(user, password, port, appName) {
    const config = await discover();
    const cb = await callbackServer(port);
    const browser = await launch();
    try {
      const { context, page, seen } = await watchedPage(browser, { device: 'ipad' });
      await page.goto(issuer + '/login');
      await submitLogin(page, user, password, { touch: true });
      const r = await authRequest(config, cb);
      cb.launchTarget = r.url.href;
      const tile = page.locator('.app a', { hasText: appName });
      const hit = cb.next(15000).catch((e) => ({ error: String(e.message || e) }));
      const [popup] = await Promise.all([context.waitForEvent('page'), tile.tap()]);
      const got = await hit;
      if (got.error) {
        report('launcher', { error: got.error, stoppedAt: popup.url() });
      } else {
        const t = await attempt(async () => tokenSummary(await exchange(config, got, r)));
        report('launcher', { popupOpened: true, loginShownInPopup: new URL(popup.url()).pathname.endsWith('/login'), tokens: t });
      }
      await reportHealth('launcher', page, seen);
    } finally {
      await browser.close();
      await cb.close();
    }
  },

  async 'client-credentials'() {
    const config = await discover();
    const t = await oidc.clientCredentialsGrant(config, { scope: 'roster' });
    report('client-credentials', { token_type: t.token_type, expires_in: t.expires_in, scope: t.scope, has_refresh_token: !!t.refresh_token, has_id_token: !!t.id_token });
    report('client-credentials-introspect', await introspect(config, t.access_token));
    report('client-credentials-openid', await attempt(() => oidc.clientCredentialsGrant(config, { scope: 'openid' })));
    report('client-credentials-revoke', await attempt(() => oidc.tokenRevocation(config, t.access_token)));
    report('client-credentials-revoked', await introspect(config, t.access_token));
  },
};

const chosen = scenarios[scenario];
if (!chosen) {
  process.stderr.write(`unknown scenario ${scenario}; one of: ${Object.keys(scenarios).join(', ')}\n`);
  process.exit(2);
}
run(() => chosen(...rest));
