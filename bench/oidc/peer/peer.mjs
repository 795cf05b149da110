// The benchmark peer: npm `oidc-provider` (a certified OpenID provider) configured like the
// Kakehashi side of bench/oidc/run.sh: one confidential client `bench` (client_secret_basic,
// code + PKCE S256, client_credentials with opaque access tokens), RS256 ID tokens, one user.
// Its login page is a plain form like ours; the password check is a plain comparison (no
// password hash), which run.sh reports beside Kakehashi with and without argon2's cost.
//
//   node peer.mjs PORT USERNAME PASSWORD
import http from 'node:http';
import crypto from 'node:crypto';
import Provider from 'oidc-provider';

const [port, username, password] = process.argv.slice(2);
if (!port || !username || !password) {
  console.error('usage: node peer.mjs PORT USERNAME PASSWORD');
  process.exit(2);
}
const issuer = `http://127.0.0.1:${port}`;
const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'bench-rs256', alg: 'RS256', use: 'sig' };

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'bench',
    client_secret: 'bench-secret-0123456789',
    redirect_uris: ['https://rp.example/cb'],
    grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: { keys: [jwk] },
  cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
  features: { devInteractions: { enabled: false }, clientCredentials: { enabled: true } },
  pkce: { required: () => true },
  findAccount: async (_ctx, id) => ({ accountId: id, claims: async () => ({ sub: id }) }),
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
});

const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
const body = (req) => new Promise((resolve, reject) => {
  const parts = [];
  req.on('data', (c) => parts.push(c));
  req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
  req.on('error', reject);
});

const callback = provider.callback();
http.createServer(async (req, res) => {
  try {
    const path = new URL(req.url, issuer).pathname;
    const m = path.match(/^\/interaction\/([A-Za-z0-9_-]+)$/);
    if (!m) return callback(req, res);
    const details = await provider.interactionDetails(req, res);
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      return res.end(`<!DOCTYPE html><html lang="ja"><body><form method="post" action="/interaction/${esc(m[1])}">`
        + `<input type="hidden" name="uid" value="${esc(details.uid)}">`
        + '<input type="text" name="username"><input type="password" name="password">'
        + '<button type="submit">ログイン</button></form></body></html>');
    }
    const form = new URLSearchParams(await body(req));
    if (form.get('username') !== username || form.get('password') !== password) {
      res.writeHead(401, { 'content-type': 'text/plain' });
      return res.end('bad credentials');
    }
    const grant = new provider.Grant({ accountId: username, clientId: details.params.client_id });
    grant.addOIDCScope(String(details.params.scope || 'openid'));
    const grantId = await grant.save();
    return provider.interactionFinished(req, res,
      { login: { accountId: username }, consent: { grantId } },
      { mergeWithLastSubmission: false });
  } catch (e) {
    res.writeHead(500, { 'content-type': 'text/plain' });
    res.end(String(e));
  }
}).listen(Number(port), '127.0.0.1', () => console.log(`oidc-provider listening on ${issuer}`));
