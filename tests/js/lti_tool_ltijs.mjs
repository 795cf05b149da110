// An LTI 1.3 tool built on npm ltijs (with ltijs-sequelize on PostgreSQL through the pure-JS
// `pg`), for Kakehashi's interop tests (crates/kakehashi/tests/lti_ltijs.rs). ltijs is the
// black box: it runs the tool side of the login, validates our id_token against our JWKS,
// builds its Deep Linking response, and calls our token endpoint, NRPS and AGS.
//
//   node lti_tool_ltijs.mjs PORT PG_HOST PG_PORT PG_USER PG_DATABASE [dynreg]
//
// Prints {"listening": PORT} once serving; then reads one JSON line on stdin, the platform
// registration {"issuer", "client_id", "authorization_endpoint", "token_endpoint",
// "jwks_uri"}, registers it and prints {"registered": true}. With `dynreg`, ltijs's LTI
// Dynamic Registration 1.0 service is on at /register instead (the platform starts it by
// opening /register?openid_configuration=…&registration_token=…). Routes (ltijs's own):
//   /login   third-party initiated login      /keys   the tool's JWKS (kid per platform)
//   /        launches: a resource link answers JSON {"ok", "claims", "members", "lineitem",
//            "scores", "errors"} after NRPS and AGS calls; a deep linking launch answers
//            ltijs's auto-submitting form with the response JWT.
import { createRequire } from 'node:module';
import readline from 'node:readline';

const require = createRequire(import.meta.url);
const lti = require('ltijs').Provider;
const Database = require('ltijs-sequelize');

const [port, pgHost, pgPort, pgUser, pgDatabase, mode] = process.argv.slice(2);

const db = new Database(pgDatabase, pgUser, '', {
  host: pgHost,
  port: Number(pgPort),
  dialect: 'postgres',
  logging: false,
});

lti.setup('kakehashi-interop-test-key', { plugin: db }, {
  appRoute: '/',
  loginRoute: '/login',
  keysetRoute: '/keys',
  cookies: { secure: false, sameSite: '' },
  devMode: false,
  ...(mode === 'dynreg'
    ? {
        dynRegRoute: '/register',
        dynReg: {
          url: `http://127.0.0.1:${port}`,
          name: 'ltijs 動的登録',
          description: 'Dynamic Registration test tool',
          autoActivate: true,
        },
      }
    : {}),
});

lti.onConnect(async (token, req, res) => {
  const out = { ok: true, claims: token, context: res.locals.context, errors: [] };
  try {
    const page = await lti.NamesAndRoles.getMembers(res.locals.token);
    out.members = page.members;
  } catch (e) {
    out.errors.push('nrps: ' + (e.message || e));
  }
  try {
    const created = await lti.Grade.createLineItem(res.locals.token, {
      scoreMaximum: 100,
      label: '計算テスト',
      tag: 'ltijs-quiz',
      resourceLinkId: res.locals.context.resource.id,
    });
    out.lineitem = created.id;
    await lti.Grade.submitScore(res.locals.token, created.id, {
      userId: res.locals.token.user,
      scoreGiven: 80,
      scoreMaximum: 100,
      activityProgress: 'Completed',
      gradingProgress: 'FullyGraded',
      timestamp: new Date().toISOString(),
    });
    const scores = await lti.Grade.getScores(res.locals.token, created.id);
    out.scores = scores.scores;
  } catch (e) {
    out.errors.push('ags: ' + (e.message || e));
  }
  return res.send(out);
});

lti.onDeepLinking(async (token, req, res) => {
  const items = [
    {
      type: 'ltiResourceLink',
      title: 'ltijs の図形ドリル',
      url: `http://127.0.0.1:${port}/`,
      custom: { unit: 'shapes' },
    },
  ];
  const form = await lti.DeepLinking.createDeepLinkingForm(res.locals.token, items, {
    message: '追加しました',
  });
  return res.send(form);
});

await lti.deploy({ port: Number(port), silent: true });
console.log(JSON.stringify({ listening: Number(port) }));

const rl = readline.createInterface({ input: process.stdin });
rl.on('line', async (line) => {
  try {
    const r = JSON.parse(line);
    await lti.registerPlatform({
      url: r.issuer,
      name: 'Kakehashi',
      clientId: r.client_id,
      authenticationEndpoint: r.authorization_endpoint,
      accesstokenEndpoint: r.token_endpoint,
      authConfig: { method: 'JWK_SET', key: r.jwks_uri },
    });
    console.log(JSON.stringify({ registered: true }));
  } catch (e) {
    console.log(JSON.stringify({ error: String(e && e.stack || e) }));
  }
});
