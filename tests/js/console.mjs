// The web console's screens in Debian Chromium, each role's main path, with an axe-core
// accessibility check (WCAG 2.1 A/AA rules) and a full-page screenshot of every screen.
//
//   node console.mjs BASE_URL TENANT SHOT_DIR TEACHER ADMIN PUPIL STAFF_PW PUPIL_PW GOOD_ZIP BAD_ZIP KEY_HOLDER
//
// KEY_HOLDER: the sourcedId of a person holding two security keys (the admin removes one);
// ADMIN also holds the platform-operator grant (the cross-tenant overview).
//
// Reports (JSON lines, see lib/report.mjs; crates/kakehashi/tests/browser_console.rs judges):
//   screen {role, name, status, h1, lang, rows, notice, shot, axe: [{id, impact, nodes}]}
//   health per role (console errors, CSP violations, failed requests)
//   card-qr per printed card {name, username, href, decoded: {text, version, modulePx, quietZone}}
//     (its QR code read off a print-media screenshot by npm jsqr, see lib/qr.mjs)
//   card-reissue {username, oldButtons, freshStatus, signedIn, url, who}: a reissued card on an iPad

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { report, run } from './lib/report.mjs';
import { launch, watchedPage, submitLogin, reportHealth } from './lib/browser.mjs';
import { readQr } from './lib/qr.mjs';

const [base, tenant, shots, teacher, admin, pupil, staffPw, pupilPw, goodZip, badZip, keyHolder] = process.argv.slice(2);
if (!keyHolder) {
  process.stderr.write('usage: node console.mjs BASE TENANT SHOT_DIR TEACHER ADMIN PUPIL STAFF_PW PUPIL_PW GOOD_ZIP BAD_ZIP KEY_HOLDER\n');
  process.exit(2);
}
const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const consoleUrl = (path = '') => `${base}/t/${tenant}/console/${path}`;

/// Reports the current screen: what a user sees, axe's violations, and a screenshot.
async function screen(page, role, name, status) {
  const shot = join(shots, `${role}-${name}.png`);
  await page.screenshot({ path: shot, fullPage: true });
  // Injected through DevTools (not a <script> element), so the page's CSP stays as served.
  await page.evaluate(AXE);
  const result = await page.evaluate(async () =>
    // eslint-disable-next-line no-undef
    axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }),
  );
  const facts = await page.evaluate(() => ({
    h1: document.querySelector('h1') && document.querySelector('h1').textContent.trim(),
    lang: document.documentElement.lang,
    url: location.pathname,
    who: document.querySelector('.who .name') && document.querySelector('.who .name').textContent.trim(),
    rows: document.querySelectorAll('tbody tr').length,
    notice: document.querySelector('.notice') && document.querySelector('.notice').textContent.trim(),
    text: document.querySelector('main') && document.querySelector('main').innerText.slice(0, 6000),
  }));
  report('screen', {
    role,
    name,
    status,
    shot,
    ...facts,
    axe: result.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length, help: v.help })),
  });
}

async function signIn(page, user, password, path) {
  await page.goto(`${base}/t/${tenant}/login?return_to=${encodeURIComponent(`/t/${tenant}/console/${path}`)}`);
  return submitLogin(page, user, password);
}

/// Every card on the printed cards page, each screenshotted as printed (print media, device
/// scale 1: one CSS pixel a screen pixel, the coarsest a camera sees) and its QR code decoded.
/// Reports `card-qr` {name, username, href, decoded: {text, version, modulePx, quietZone}}.
async function readCards(page, name) {
  await page.emulateMedia({ media: 'print' });
  const cards = [];
  try {
    const items = await page.locator('li.signin-card').all();
    for (const [i, item] of items.entries()) {
      const username = (await item.locator('span').last().textContent()).trim();
      const href = await item.locator('a.card-link').getAttribute('href');
      const decoded = await readQr(item, join(shots, `card-${name}-${i}.png`), item.locator('svg.qr'));
      const card = { name, username, href, decoded };
      report('card-qr', card);
      cards.push(card);
    }
  } finally {
    await page.emulateMedia({ media: null });
  }
  return cards;
}

async function click(page, selector) {
  const [resp] = await Promise.all([page.waitForNavigation(), page.click(selector)]);
  return resp.status();
}

run(async () => {
  const browser = await launch();
  try {
    // A teacher: classes → their class (last sign-in) → its QR cards (one scanned and used on a
    // pupil's iPad) → a pupil → unlock → the scanned card reissued.
    {
      const { page, seen } = await watchedPage(browser);
      const nav = await signIn(page, teacher, staffPw, 'classes');
      await screen(page, 'teacher', 'classes', nav.status);
      let status = await click(page, 'main table a');
      await screen(page, 'teacher', 'class', status);
      // Print the class's QR sign-in cards.
      status = await click(page, 'form.inline button[type=submit]');
      await screen(page, 'teacher', 'cards', status);
      // Each card as printed (print media, device scale 1), read by a QR decoder, not its link.
      const printed = await readCards(page, 'cards');
      const first = printed[0];
      // A pupil's iPad opens what the camera read off the first card and taps once.
      {
        const pad = await watchedPage(browser, { device: 'ipad' });
        const asked = await pad.page.goto(first.decoded.text);
        await screen(pad.page, 'pupil', 'card', asked.status());
        const [signedIn] = await Promise.all([pad.page.waitForNavigation(), pad.page.tap('button[type=submit]')]);
        await screen(pad.page, 'pupil', 'card-launcher', signedIn.status());
        await reportHealth('pupil-card', pad.page, pad.seen);
        await pad.context.close();
      }
      await page.goBack();
      status = await click(page, 'main tbody tr:first-child a');
      await screen(page, 'teacher', 'person', status);
      status = await click(page, 'form[action*="/unlock"] button[type=submit]');
      await screen(page, 'teacher', 'unlocked', status);
      // The first card is lost: the teacher reissues it from the pupil's page; the old card no
      // longer signs in, the new one does.
      await page.goto(consoleUrl(`people/usr-${first.username.replace('.', '-')}`));
      status = await click(page, 'form[action*="/card"]:not([action*="/revoke"]) button[type=submit]');
      await screen(page, 'teacher', 'card-reissued', status);
      const [reissued] = await readCards(page, 'reissued');
      {
        const pad = await watchedPage(browser, { device: 'ipad' });
        const old = await pad.page.goto(first.decoded.text);
        await screen(pad.page, 'pupil', 'card-replaced', old.status());
        const oldButtons = await pad.page.locator('button[type=submit]').count();
        const fresh = await pad.page.goto(reissued.decoded.text);
        const freshStatus = fresh.status();
        const [signedIn] = await Promise.all([pad.page.waitForNavigation(), pad.page.tap('button[type=submit]')]);
        report('card-reissue', {
          username: reissued.username,
          oldButtons,
          freshStatus,
          signedIn: signedIn.status(),
          url: new URL(pad.page.url()).pathname,
          who: await pad.page.locator('.who .name').textContent(),
        });
        await reportHealth('pupil-reissued-card', pad.page, pad.seen);
        await pad.context.close();
      }
      // Their own backup codes (a second factor the admin will see and reset below).
      await page.goto(`${base}/t/${tenant}/mfa`);
      await click(page, 'form[action*="backup-codes"] button');
      await reportHealth('teacher', page, seen);
    }
    // A tenant admin: roster upload (report, then preview and apply), history, people search,
    // a person, the audit log filtered to that person, verification, apps (register, change),
    // LTI tools (register, change, Dynamic Registration), a teacher's second factors (list, reset), the security policy; in English too.
    {
      const { page, seen } = await watchedPage(browser);
      const nav = await signIn(page, admin, staffPw, 'imports');
      await screen(page, 'admin', 'imports', nav.status);
      await page.setInputFiles('#package', badZip);
      let status = await click(page, 'form.inline button[type=submit]');
      await screen(page, 'admin', 'import-report', status);
      await page.goto(consoleUrl('imports'));
      await page.setInputFiles('#package', goodZip);
      status = await click(page, 'form.inline button[type=submit]');
      await screen(page, 'admin', 'import-preview', status);
      status = await click(page, 'form.inline button[type=submit]');
      await screen(page, 'admin', 'import-applied', status);
      await page.goto(consoleUrl('imports'));
      await screen(page, 'admin', 'import-history', 200);
      await page.goto(consoleUrl('people'));
      await page.fill('#q', 'よし');
      status = await click(page, 'form.search button[type=submit]');
      await screen(page, 'admin', 'people-search', status);
      status = await click(page, 'main tbody tr:first-child a');
      await screen(page, 'admin', 'person', status);
      status = await click(page, 'main > p > a.button');
      await screen(page, 'admin', 'audit-person', status);
      const verify = await page.goto(consoleUrl('audit/verify'));
      await screen(page, 'admin', 'audit-verify', verify.status());
      const apps = await page.goto(consoleUrl('apps'));
      await page.click('details.register summary');
      await screen(page, 'admin', 'apps', apps.status());
      await page.fill('#name', 'ブラウザのドリル');
      await page.selectOption('#audience', 'students');
      await page.fill('#redirect_uris', 'https://drill.example/cb');
      await page.check('input[name=release][value=kana]');
      status = await click(page, 'details.register button[type=submit]');
      await screen(page, 'admin', 'app-registered', status);
      // Change the app just registered: audience, released claims, token format, launch URL.
      await page.goto(consoleUrl('apps'));
      status = await click(page, 'a[aria-label$="ブラウザのドリル"]');
      await screen(page, 'admin', 'app-edit', status);
      await page.selectOption('#audience', 'teachers');
      await page.check('input[name=release][value=name]');
      await page.selectOption('#token_format', 'jwt');
      await page.fill('#launch_url', 'https://drill.example/start');
      status = await click(page, 'form.inline button[type=submit]');
      await screen(page, 'admin', 'app-edited', status);
      report('app-edited-form', {
        tokenFormat: await page.$eval('#token_format', (s) => s.value),
        launchUrl: await page.$eval('#launch_url', (i) => i.value),
      });
      // Register an LTI tool: the answer names what the tool configures.
      const lti = await page.goto(consoleUrl('lti'));
      await page.click('details.register summary');
      await screen(page, 'admin', 'lti', lti.status());
      await page.fill('#name', 'ブラウザのLTIツール');
      await page.fill('#login_url', 'https://tool.example/login');
      await page.fill('#launch_url', 'https://tool.example/launch');
      await page.fill('#jwks_url', 'https://tool.example/jwks');
      await page.fill('#custom', 'unit=5');
      status = await click(page, 'details.register button[type=submit]');
      await screen(page, 'admin', 'lti-registered', status);
      // Change it (as `lti tool set`): the form holds what is set; audience, e-mail, a deep
      // linking URL.
      await page.goto(consoleUrl('lti'));
      status = await click(page, 'a[aria-label$="ブラウザのLTIツール"]');
      await screen(page, 'admin', 'lti-edit', status);
      await page.selectOption('#audience', 'teachers');
      await page.check('input[name=send_email]');
      await page.fill('#deep_linking_url', 'https://tool.example/dl');
      status = await click(page, 'form.inline button[type=submit]');
      await screen(page, 'admin', 'lti-edited', status);
      // LTI Dynamic Registration from the tool's registration URL: a link opening it in a new
      // window (not followed here: the tool is not running).
      await page.goto(consoleUrl('lti'));
      await page.click('details.dynamic summary');
      await page.fill('#registration_url', 'https://tool.example/register?from=console');
      status = await click(page, 'details.dynamic button[type=submit]');
      await screen(page, 'admin', 'lti-dynamic', status);
      const link = await page.$eval('#open-registration', (a) => ({ href: a.href, target: a.target, rel: a.rel }));
      report('registration-link', link);
      // A teacher's second factors, then a reset with a reason.
      const person = await page.goto(consoleUrl(`people/usr-${teacher.replace('.', '-')}`));
      await screen(page, 'admin', 'person-factors', person.status());
      await page.fill('#reason', '鍵を紛失したため（電話で本人確認）');
      status = await click(page, 'form[action*="/factors/reset"] button[type=submit]');
      await screen(page, 'admin', 'factors-reset', status);
      // One lost key of another teacher: picked, with a reason; the other key stays.
      const holder = await page.goto(consoleUrl(`people/${keyHolder}`));
      await screen(page, 'admin', 'person-keys', holder.status());
      await page.selectOption('#credential', { label: '予備の鍵' });
      await page.fill('#remove-reason', '予備の鍵を紛失（本人から連絡）');
      status = await click(page, 'form[action*="/factors/remove"] button[type=submit]');
      await screen(page, 'admin', 'key-removed', status);
      // The platform operator's read-only overview of every tenant.
      const overview = await page.goto(consoleUrl('operator'));
      await screen(page, 'admin', 'operator', overview.status());
      const sec = await page.goto(consoleUrl('security'));
      await screen(page, 'admin', 'security', sec.status());
      // The second-factor policy: a bad network is named and marked, then saved.
      await page.check('input[name=totp]');
      await page.fill('#school_networks', '10.20.0.0/33');
      status = await click(page, 'form[action*="/security/mfa"] button[type=submit]');
      await screen(page, 'admin', 'security-mfa-invalid', status);
      await page.fill('#school_networks', '10.20.0.0/16');
      status = await click(page, 'form[action*="/security/mfa"] button[type=submit]');
      await screen(page, 'admin', 'security-mfa-saved', status);
      const en = await page.goto(consoleUrl('people?lang=en'));
      await screen(page, 'admin', 'people-en', en.status());
      await reportHealth('admin', page, seen);
    }
    // A pupil: signed in at home once, then on the school iPad: their devices (this one
    // marked), "not my device" for the other one, their own sign-ins; an admin page is refused.
    {
      const home = await watchedPage(browser);
      await signIn(home.page, pupil, pupilPw, 'me');
      await reportHealth('pupil-home', home.page, home.seen);
      await home.context.close();
    }
    {
      const { page, seen } = await watchedPage(browser, { device: 'ipad' });
      const nav = await signIn(page, pupil, pupilPw, 'me');
      await screen(page, 'pupil', 'me', nav.status);
      const status = await click(page, 'tr:not(:has(.this-device)) form[action*="/me/devices/forget"] button');
      await screen(page, 'pupil', 'device-forgotten', status);
      const refused = await page.goto(consoleUrl('audit'));
      await screen(page, 'pupil', 'refused', refused.status());
      await reportHealth('pupil', page, seen);
    }
  } finally {
    await browser.close();
  }
});
