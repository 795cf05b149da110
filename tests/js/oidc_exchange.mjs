// A second, independent relying party: npm openid-client 6.x (a strict one: it checks the
// ID token's signature, iss, aud, exp, iat and nonce, the authorization response's state and
// RFC 9207 iss). crates/kakehashi/tests/oidc_openid_client.rs drives the browser part over
// plain HTTP and hands over the callback URL;
// this script does the rest and prints one JSON object.
// With `"mode": "authorize_url"` it only builds the authorization request URL (so the request
// the provider sees is the library's, e.g. acr_values and max_age); with `"mode": "step_up"`
// it redeems the code with openid-client's max_age check (OIDC Core 3.1.2.1: auth_time must be
// present and recent) and reports acr, amr and auth_time.
import * as client from 'openid-client';

const input = JSON.parse(process.argv[2]);
const out = {};
try {
  const config = await client.discovery(
    new URL(input.issuer),
    input.client_id,
    input.client_secret,
    undefined,
    { execute: [client.allowInsecureRequests] },
  );
  if (input.mode === 'authorize_url') {
    out.url = client.buildAuthorizationUrl(config, input.params).href;
    console.log(JSON.stringify(out));
    process.exit(0);
  }
  const tokens = await client.authorizationCodeGrant(config, new URL(input.callback), {
    pkceCodeVerifier: input.code_verifier,
    expectedState: input.state,
    expectedNonce: input.nonce,
    idTokenExpected: true,
    ...(input.max_age !== undefined ? { maxAge: input.max_age } : {}),
  });
  const claims = tokens.claims();
  if (input.mode === 'step_up') {
    out.acr = claims.acr;
    out.amr = claims.amr;
    out.auth_time = claims.auth_time;
    console.log(JSON.stringify(out));
    process.exit(0);
  }
  out.sub = claims.sub;
  out.amr = claims.amr;
  out.nonce = claims.nonce;
  const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  out.userinfo = info;
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  out.refreshed = refreshed.refresh_token !== tokens.refresh_token && !!refreshed.access_token;
  const cc = await client.clientCredentialsGrant(config, { scope: 'roster' });
  const before = await client.tokenIntrospection(config, cc.access_token);
  await client.tokenRevocation(config, cc.access_token);
  const after = await client.tokenIntrospection(config, cc.access_token);
  out.introspection = { before: before.active, after: after.active };
  out.end_session = client
    .buildEndSessionUrl(config, {
      id_token_hint: tokens.id_token,
      post_logout_redirect_uri: input.post_logout_redirect_uri,
      state: 'bye',
    })
    .href;
} catch (e) {
  out.error = `${e.name}: ${e.message} ${e.code ?? ''} ${JSON.stringify(e.cause ?? '')}`;
}
console.log(JSON.stringify(out));
