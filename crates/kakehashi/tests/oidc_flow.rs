//! The OpenID Provider end to end, against the real binary on SQLite and PostgreSQL, with
//! the `openidconnect` crate as an independent relying party where it fits and plain HTTP
//! (no redirects followed) to drive the portal's login form.

mod common;
mod oidc_support;
mod portal_support;

use common::Env;
use oidc_support::*;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreJsonWebKeySet, CoreJwsSigningAlgorithm,
    CoreProviderMetadata,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, JsonWebKey,
    Nonce, OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
};
use portal_support::{start, Browser, PUPIL, PUPIL_PASSWORD, TEACHER, TEACHER_PASSWORD};

const ROSTER_ROLE: &str = "https://schemas.kakehashi.jp/roster/role";
const ROSTER_CLASSES: &str = "https://schemas.kakehashi.jp/roster/classes";

#[tokio::test]
async fn oidc_core_3_1_code_flow_with_pkce_verified_by_the_openidconnect_rp() {
    for env in Env::both().await {
        let node = start(&env, &["--demo"]);
        let issuer = format!("{}/t/demo", node.url);
        let rp = register(
            &env,
            "demo",
            "ドリル",
            "https://drill.example/cb",
            &["--release", "name,kana,roster"],
        );
        let http = openidconnect::ureq::builder().redirects(0).build();
        let md = CoreProviderMetadata::discover(&IssuerUrl::new(issuer.clone()).unwrap(), &http)
            .expect("discovery");
        let client = CoreClient::from_provider_metadata(
            md,
            ClientId::new(rp.client_id.clone()),
            rp.secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(RedirectUrl::new(rp.redirect_uri.clone()).unwrap());
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, csrf, nonce) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("profile".into()))
            .add_scope(Scope::new("roster".into()))
            // OIDC Core 5.5: the kanji name in the ID token itself.
            .add_extra_param("claims", r#"{"id_token":{"name":null}}"#)
            .set_pkce_challenge(challenge)
            .url();
        let mut b = Browser::new(&node, "demo");
        let resp = authorize_as(&mut b, &path_of(url.as_str()), PUPIL, PUPIL_PASSWORD);
        let code = code_of(&resp, &rp, csrf.secret(), &issuer);

        let tokens = client
            .exchange_code(AuthorizationCode::new(code))
            .unwrap()
            .set_pkce_verifier(verifier)
            .request(&http)
            .unwrap_or_else(|e| panic!("{}: code exchange: {e:?}", env.label()));
        // OIDC Core 3.1.3.7: signature, iss, aud, exp and nonce, checked by the RP.
        let verifier = client.id_token_verifier();
        let id_token = tokens.id_token().expect("an ID token");
        let claims = id_token
            .claims(&verifier, &nonce)
            .expect("a valid ID token");
        // OIDC Core 3.1.3.8: at_hash binds the access token to the ID token.
        let expected = AccessTokenHash::from_token(
            tokens.access_token(),
            id_token.signing_alg().unwrap(),
            id_token.signing_key(&verifier).unwrap(),
        )
        .unwrap();
        assert_eq!(claims.access_token_hash(), Some(&expected));
        // What was actually done at the portal: a password.
        let amr: Vec<String> = claims
            .auth_method_refs()
            .unwrap()
            .iter()
            .map(|a| a.to_string())
            .collect();
        assert_eq!(amr, ["pwd"]);
        assert!(claims.auth_time().is_some());
        assert!(
            claims.name().and_then(|n| n.get(None)).is_some(),
            "name requested for the ID token"
        );
        // Pairwise by default: not the userMasterIdentifier, 43 base64url characters.
        assert_eq!(claims.subject().as_str().len(), 43);

        // Userinfo through the RP (subject checked against the ID token's).
        let info: openidconnect::core::CoreUserInfoClaims = client
            .user_info(
                tokens.access_token().clone(),
                Some(claims.subject().clone()),
            )
            .unwrap()
            .request(&http)
            .expect("userinfo");
        assert_eq!(info.subject(), claims.subject());
        // The released claims, as JSON: names and kana (the app's policy allows), roster.
        let (r, v) = userinfo(&node.addr, "demo", tokens.access_token().secret());
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(v["name"].as_str().is_some_and(|n| !n.contains(' ')), "{v}");
        assert!(v["family_name#ja-Kana-JP"].is_string(), "{v}");
        assert_eq!(v[ROSTER_ROLE], "student");
        assert!(
            v[ROSTER_CLASSES].as_array().is_some_and(|c| !c.is_empty()),
            "{v}"
        );
        assert!(v.get("email").is_none());
        assert_eq!(r.header("cache-control"), Some("no-store"));

        // RFC 6749 6 + RFC 9700 4.14.2: refresh rotates the refresh token.
        let refresh = tokens.refresh_token().expect("a refresh token").clone();
        let again = client
            .exchange_refresh_token(&refresh)
            .unwrap()
            .request(&http)
            .expect("refresh");
        let rotated = again.refresh_token().expect("a new refresh token");
        assert_ne!(rotated.secret(), refresh.secret());
        assert_ne!(
            again.access_token().secret(),
            tokens.access_token().secret()
        );
        let (r, _) = userinfo(&node.addr, "demo", again.access_token().secret());
        assert_eq!(r.status, 200);
    }
}

#[tokio::test]
async fn form_post_public_client_and_prompt_none() {
    for env in Env::both().await {
        let node = start(&env, &["--demo"]);
        let issuer = format!("{}/t/demo", node.url);
        let rp = register(
            &env,
            "demo",
            "タブレット",
            "http://127.0.0.1:9/cb",
            &["--public"],
        );
        assert!(rp.secret.is_none());
        let (verifier, challenge) = pkce();
        let path = authorize_path(
            "demo",
            &rp,
            &[
                ("scope", "openid"),
                ("state", "s-1"),
                ("nonce", "n-1"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
                ("response_mode", "form_post"),
            ],
        );
        let mut b = Browser::new(&node, "demo");
        let page = authorize_as(&mut b, &path, TEACHER, TEACHER_PASSWORD);
        // OAuth 2.0 Form Post Response Mode 2: an auto-submitting form to the redirect URI.
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(
            page.body.contains("action=\"http://127.0.0.1:9/cb\""),
            "{}",
            page.body
        );
        assert_eq!(page.hidden("state").as_deref(), Some("s-1"));
        assert_eq!(page.hidden("iss").as_deref(), Some(issuer.as_str()));
        let csp = page.header("content-security-policy").unwrap_or("");
        assert!(
            csp.contains("script-src 'nonce-") && csp.contains("form-action http://127.0.0.1:9"),
            "{csp}"
        );
        assert_eq!(page.header("cache-control"), Some("no-store"));
        let code = page.hidden("code").expect("code");
        let (r, v) = exchange(&node.addr, "demo", &rp, &code, Some(&verifier));
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(v["id_token"].is_string() && v["refresh_token"].is_string());
        assert_eq!(r.header("cache-control"), Some("no-store"));

        // OIDC Core 3.1.2.1 prompt=none with a session: a code without any page.
        let (verifier, challenge) = pkce();
        let silent = authorize_path(
            "demo",
            &rp,
            &[
                ("scope", "openid"),
                ("state", "s-2"),
                ("prompt", "none"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ],
        );
        let resp = b.get(&silent);
        let code = code_of(&resp, &rp, "s-2", &issuer);
        let (r, _) = exchange(&node.addr, "demo", &rp, &code, Some(&verifier));
        assert_eq!(r.status, 200, "{}", r.body);
        // ... and without a session: login_required to the RP, with state and iss.
        let mut stranger = Browser::new(&node, "demo");
        let resp = stranger.get(&silent);
        assert_eq!(error_of(&resp), "login_required");
        let location = resp.header("location").unwrap();
        assert_eq!(param(location, "state").as_deref(), Some("s-2"));
        assert_eq!(param(location, "iss").as_deref(), Some(issuer.as_str()));
    }
}

/// Splits a compact JWS and verifies it with the JWKS through the openidconnect crate's own
/// key code (independent of Kakehashi's JOSE).
fn verify_with_jwks(jwt: &str, jwks: &str, alg: &CoreJwsSigningAlgorithm) -> serde_json::Value {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3);
    let header: serde_json::Value = serde_json::from_slice(&b64.decode(parts[0]).unwrap()).unwrap();
    // RFC 9068 2.1: typ at+jwt.
    assert_eq!(header["typ"], "at+jwt");
    let set: CoreJsonWebKeySet = serde_json::from_str(jwks).unwrap();
    let key = set
        .keys()
        .iter()
        .find(|k| k.key_id().map(|i| i.as_str()) == header["kid"].as_str())
        .expect("the signing key is published");
    key.verify_signature(
        alg,
        format!("{}.{}", parts[0], parts[1]).as_bytes(),
        &b64.decode(parts[2]).unwrap(),
    )
    .expect("signature verifies against the JWKS");
    serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap()
}

#[tokio::test]
async fn rfc6749_4_4_client_credentials_opaque_and_rfc9068_jwt_with_introspection_and_revocation() {
    for env in Env::both().await {
        let node = start(&env, &["--demo"]);
        let issuer = format!("{}/t/demo", node.url);
        let opaque = register(&env, "demo", "資源サーバ", "https://rs.example/cb", &[]);
        let jwt = register(
            &env,
            "demo",
            "JWTクライアント",
            "https://jwt.example/cb",
            &[
                "--token-format",
                "jwt",
                "--id-token-alg",
                "ES256",
                "--token-auth-method",
                "client_secret_post",
            ],
        );
        let os = opaque.secret.clone().unwrap();
        let (r, v) = post_form(
            &node.addr,
            "demo",
            "token",
            Some((&opaque.client_id, &os)),
            &[("grant_type", "client_credentials"), ("scope", "roster")],
        );
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.header("cache-control"), Some("no-store"));
        assert_eq!(v["token_type"], "Bearer");
        let at = v["access_token"].as_str().unwrap().to_owned();
        // Opaque: not a JWS (RFC 7515 7.1: three segments), a selector and a secret.
        assert_eq!(at.split('.').count(), 2, "opaque: {at}");
        // RFC 7662 2.2: active, with the client and scope.
        let (r, i) = post_form(
            &node.addr,
            "demo",
            "introspect",
            Some((&opaque.client_id, &os)),
            &[("token", &at)],
        );
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(i["active"], true);
        assert_eq!(i["client_id"], opaque.client_id.as_str());
        assert_eq!(i["scope"], "roster");
        // RFC 7009 2.2: revoke answers 200; the token is then inactive.
        let (r, _) = post_form(
            &node.addr,
            "demo",
            "revoke",
            Some((&opaque.client_id, &os)),
            &[("token", &at)],
        );
        assert_eq!(r.status, 200, "{}", r.body);
        let (_, i) = post_form(
            &node.addr,
            "demo",
            "introspect",
            Some((&opaque.client_id, &os)),
            &[("token", &at)],
        );
        assert_eq!(i, serde_json::json!({"active": false}));
        // An unknown token is also 200 (RFC 7009 2.2).
        let (r, _) = post_form(
            &node.addr,
            "demo",
            "revoke",
            Some((&opaque.client_id, &os)),
            &[("token", "nope")],
        );
        assert_eq!(r.status, 200);

        // client_secret_post, JWT access token (ES256) verified against the JWKS.
        let js = jwt.secret.clone().unwrap();
        let (r, v) = post_form(
            &node.addr,
            "demo",
            "token",
            None,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &jwt.client_id),
                ("client_secret", &js),
            ],
        );
        assert_eq!(r.status, 200, "{}", r.body);
        let token = v["access_token"].as_str().unwrap();
        let (_, jwks) = common::node::get(&node.url, "/t/demo/jwks");
        let claims = verify_with_jwks(token, &jwks, &CoreJwsSigningAlgorithm::EcdsaP256Sha256);
        // RFC 9068 2.2: iss, exp, aud, sub (the client for client_credentials), client_id, iat, jti.
        assert_eq!(claims["iss"], issuer.as_str());
        assert_eq!(claims["sub"], jwt.client_id.as_str());
        assert_eq!(claims["client_id"], jwt.client_id.as_str());
        assert!(claims["jti"].is_string() && claims["exp"].is_i64() && claims["iat"].is_i64());
        // Only the client's own tokens are described (RFC 7662 2.1 "only its own").
        let (_, i) = post_form(
            &node.addr,
            "demo",
            "introspect",
            Some((&opaque.client_id, &os)),
            &[("token", token)],
        );
        assert_eq!(i, serde_json::json!({"active": false}));
        let (_, i) = post_form(
            &node.addr,
            "demo",
            "introspect",
            None,
            &[
                ("token", token),
                ("client_id", &jwt.client_id),
                ("client_secret", &js),
            ],
        );
        assert_eq!(i["active"], true, "{i}");
    }
}

#[tokio::test]
async fn rp_initiated_logout_ends_the_portal_session_and_the_app_tokens() {
    for env in Env::both().await {
        let node = start(&env, &["--demo"]);
        let issuer = format!("{}/t/demo", node.url);
        let rp = register(
            &env,
            "demo",
            "ログアウト",
            "https://rp.example/cb",
            &["--post-logout-redirect-uri", "https://rp.example/bye"],
        );
        let mut b = Browser::new(&node, "demo");
        let path = authorize_path("demo", &rp, &[("scope", "openid"), ("state", "a")]);
        let resp = authorize_as(&mut b, &path, TEACHER, TEACHER_PASSWORD);
        let code = code_of(&resp, &rp, "a", &issuer);
        let (r, tokens) = exchange(&node.addr, "demo", &rp, &code, None);
        assert_eq!(r.status, 200, "{}", r.body);
        let id_token = tokens["id_token"].as_str().unwrap();
        let access = tokens["access_token"].as_str().unwrap();
        let refresh = tokens["refresh_token"].as_str().unwrap();

        // An unregistered post_logout_redirect_uri: an error page, never a redirect (3.1).
        let bad = format!(
            "/t/demo/logout?id_token_hint={id_token}&post_logout_redirect_uri={}",
            portal_support::enc("https://evil.example/")
        );
        let r = b.get(&bad);
        assert_eq!(r.status, 400);
        assert!(r.header("location").is_none());

        // Without a hint: the user is asked first (RP-Initiated Logout 2).
        let r = b.get(&format!("/t/demo/logout?client_id={}", rp.client_id));
        assert_eq!(r.status, 200);
        assert!(r.hidden("csrf").is_some());

        // With the hint of this session: logout, then back to the RP with state.
        let ok = format!(
            "/t/demo/logout?id_token_hint={id_token}&post_logout_redirect_uri={}&state=bye-1",
            portal_support::enc("https://rp.example/bye")
        );
        let r = b.get(&ok);
        assert_eq!(r.status, 303, "{}", r.body);
        assert_eq!(
            r.header("location"),
            Some("https://rp.example/bye?state=bye-1")
        );
        // The portal session is gone ...
        let launcher = b.get("/t/demo/");
        assert_eq!(launcher.status, 303);
        assert!(launcher.header("location").unwrap().contains("/login"));
        // ... and so are the app's tokens.
        let (r, _) = userinfo(&node.addr, "demo", access);
        assert_eq!(r.status, 401);
        let s = rp.secret.clone().unwrap();
        let (r, v) = post_form(
            &node.addr,
            "demo",
            "token",
            Some((&rp.client_id, &s)),
            &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
        );
        assert_eq!(r.status, 400);
        assert_eq!(v["error"], "invalid_grant");
    }
}

#[tokio::test]
async fn oidc_core_9_private_key_jwt_prompt_login_and_the_launcher() {
    use kakehashi_oidc::{Algorithm, JwkSet, SigningKey};
    for env in Env::both().await {
        let node = start(&env, &["--demo"]);
        let issuer = format!("{}/t/demo", node.url);
        let key = SigningKey::generate(Algorithm::ES256).unwrap();
        let jwks = JwkSet {
            keys: vec![key.public_jwk().unwrap()],
        }
        .to_json();
        let jwks_file = env.path("rp-jwks.json");
        std::fs::write(&jwks_file, jwks).unwrap();
        let rp = register(
            &env,
            "demo",
            "鍵クライアント",
            "https://pkj.example/cb",
            &[
                "--token-auth-method",
                "private_key_jwt",
                "--jwks",
                jwks_file.to_str().unwrap(),
                "--launch-url",
                "https://pkj.example/start",
                "--subject",
                "public",
            ],
        );
        assert!(rp.secret.is_none(), "private_key_jwt clients get no secret");
        let assertion = |jti: &str| {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs() as i64;
            key.sign_json(
                Some("JWT"),
                &serde_json::json!({
                    "iss": rp.client_id, "sub": rp.client_id, "aud": format!("{issuer}/token"),
                    "iat": now, "exp": now + 60, "jti": jti,
                }),
            )
            .unwrap()
        };
        let mut b = Browser::new(&node, "demo");
        let resp = authorize_as(
            &mut b,
            &authorize_path("demo", &rp, &[("scope", "openid"), ("state", "k")]),
            TEACHER,
            TEACHER_PASSWORD,
        );
        let code = code_of(&resp, &rp, "k", &issuer);
        let a1 = assertion("jti-1");
        let (r, v) = post_form(
            &node.addr,
            "demo",
            "token",
            None,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", &rp.redirect_uri),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
                ("client_assertion", &a1),
            ],
        );
        assert_eq!(r.status, 200, "{}: {}", env.label(), r.body);
        // --subject public: sub is the userMasterIdentifier (a UUID), the same for every app.
        let (_, info) = userinfo(&node.addr, "demo", v["access_token"].as_str().unwrap());
        let sub = info["sub"].as_str().unwrap();
        assert_eq!((sub.len(), sub.matches('-').count()), (36, 4), "{sub}");
        // OIDC Core 9: the same assertion again is a replay.
        let (r, v) = post_form(
            &node.addr,
            "demo",
            "token",
            None,
            &[
                ("grant_type", "client_credentials"),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
                ("client_assertion", &a1),
            ],
        );
        assert_eq!(
            (r.status, v["error"].as_str()),
            (401, Some("invalid_client"))
        );
        let (r, _) = post_form(
            &node.addr,
            "demo",
            "token",
            None,
            &[
                ("grant_type", "client_credentials"),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
                ("client_assertion", &assertion("jti-2")),
            ],
        );
        assert_eq!(r.status, 200, "{}", r.body);

        // OIDC Core 3.1.2.1 prompt=login: the live session is not enough; the login form is
        // shown and, once signed in again, the request completes.
        let r = b.get(&authorize_path(
            "demo",
            &rp,
            &[("scope", "openid"), ("state", "again"), ("prompt", "login")],
        ));
        assert_eq!(r.status, 303);
        let login = r.header("location").unwrap().to_owned();
        assert!(
            login.contains("/login") && login.contains("prompt=login"),
            "{login}"
        );
        let page = b.get(&login);
        assert_eq!(page.status, 200, "the form, not a redirect");
        let return_to = param(&format!("http://x{login}"), "return_to").unwrap();
        let csrf = page.hidden("csrf").expect("the login form");
        let done = b.post(
            "/t/demo/login",
            &[
                ("csrf", &csrf),
                ("username", TEACHER),
                ("password", TEACHER_PASSWORD),
                ("return_to", &return_to),
            ],
        );
        assert_eq!(done.status, 303);
        let resp = b.get(done.header("location").unwrap());
        code_of(&resp, &rp, "again", &issuer);

        // The launcher opens the app at its launch URL.
        let r = b.get(&format!("/t/demo/launch/{}", rp.client_id));
        assert_eq!(r.status, 303, "{}", r.body);
        assert_eq!(r.header("location"), Some("https://pkj.example/start"));
    }
}

#[tokio::test]
async fn app_add_oidc_settings_are_listed_and_checked() {
    for env in Env::both().await {
        env.run(&["tenant", "add", "--id", "city-a", "--name", "A"])
            .ok();
        let rp = register(
            &env,
            "city-a",
            "設定",
            "https://rp.example/cb",
            &[
                "--token-format",
                "jwt",
                "--id-token-alg",
                "ES256",
                "--release",
                "name,roster",
                "--post-logout-redirect-uri",
                "https://rp.example/bye",
                "--launch-url",
                "https://rp.example/",
                "--token-auth-method",
                "client_secret_post",
            ],
        );
        let list = env
            .run(&["app", "list", "--tenant", "city-a", "--format", "json"])
            .ok();
        let v: serde_json::Value = serde_json::from_str(&list.stdout).unwrap();
        let o = &v[0]["oidc"];
        assert_eq!(v[0]["id"], rp.client_id.as_str());
        assert_eq!(o["access_token_format"], "jwt");
        assert_eq!(o["id_token_alg"], "ES256");
        assert_eq!(o["release_claims"], serde_json::json!(["name", "roster"]));
        assert_eq!(o["post_logout_redirect_uris"][0], "https://rp.example/bye");
        assert_eq!(o["launch_url"], "https://rp.example/");
        assert_eq!(o["token_auth_method"], "client_secret_post");
        assert!(!list.stdout.contains("secret_hash"));
        for bad in [
            &["--token-format", "paseto"][..],
            &["--id-token-alg", "HS256"],
            &["--release", "everything"],
            &["--token-auth-method", "private_key_jwt"],
            &["--public", "--token-auth-method", "client_secret_basic"],
            &["--launch-url", "http://rp.example/"],
        ] {
            let mut args = vec![
                "app",
                "add",
                "--tenant",
                "city-a",
                "--name",
                "x",
                "--protocol",
                "oidc",
                "--security-class",
                "learning",
                "--redirect-uri",
                "https://rp.example/cb",
            ];
            args.extend_from_slice(bad);
            let r = env.run(&args).code(1);
            assert!(r.stderr.contains("error:"), "{bad:?}: {}", r.stderr);
        }
    }
}

#[tokio::test]
async fn serve_demo_registers_a_demo_client_a_newcomer_can_use() {
    for env in Env::both().await {
        let node = start(&env, &["--demo"]);
        let said = node.early.join("\n");
        let id = said
            .lines()
            .find_map(|l| l.trim().strip_prefix("client_id:"))
            .map(|s| s.trim().to_owned())
            .unwrap_or_else(|| panic!("no demo client in {said}"));
        let secret = said
            .lines()
            .find_map(|l| l.trim().strip_prefix("client_secret:"))
            .map(|s| s.trim().to_owned())
            .unwrap();
        let (r, v) = post_form(
            &node.addr,
            "demo",
            "token",
            Some((&id, &secret)),
            &[("grant_type", "client_credentials")],
        );
        assert_eq!(r.status, 200, "{}: {}", env.label(), r.body);
        assert!(v["access_token"].is_string());
    }
}

#[tokio::test]
async fn rp_initiated_logout_by_post_and_cors_for_browser_clients() {
    for env in Env::both().await {
        let node = start(&env, &["--demo"]);
        let issuer = format!("{}/t/demo", node.url);
        let rp = register(
            &env,
            "demo",
            "SPA",
            "http://127.0.0.1:9/spa",
            &[
                "--public",
                "--post-logout-redirect-uri",
                "http://127.0.0.1:9/bye",
            ],
        );
        let (verifier, challenge) = pkce();
        let mut b = Browser::new(&node, "demo");
        let resp = authorize_as(
            &mut b,
            &authorize_path(
                "demo",
                &rp,
                &[
                    ("scope", "openid"),
                    ("state", "c"),
                    ("code_challenge", &challenge),
                    ("code_challenge_method", "S256"),
                ],
            ),
            PUPIL,
            PUPIL_PASSWORD,
        );
        let code = code_of(&resp, &rp, "c", &issuer);
        // Fetch standard CORS: a browser app on another origin may call the token endpoint.
        let pre = raw(
            &node.addr,
            "OPTIONS",
            "/t/demo/token",
            &[
                ("Origin", "http://127.0.0.1:9"),
                ("Access-Control-Request-Method", "POST"),
            ],
            "",
        );
        assert_eq!(pre.status, 204);
        assert_eq!(pre.header("access-control-allow-origin"), Some("*"));
        let (r, tokens) = exchange(&node.addr, "demo", &rp, &code, Some(&verifier));
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.header("access-control-allow-origin"), Some("*"));
        // RP-Initiated Logout 1.0 §2: POST with form parameters works like GET.
        let r = b.post(
            "/t/demo/logout",
            &[
                ("id_token_hint", tokens["id_token"].as_str().unwrap()),
                ("post_logout_redirect_uri", "http://127.0.0.1:9/bye"),
                ("state", "p"),
            ],
        );
        assert_eq!(r.status, 303, "{}: {}", env.label(), r.body);
        assert_eq!(r.header("location"), Some("http://127.0.0.1:9/bye?state=p"));
        assert_eq!(b.get("/t/demo/").status, 303, "signed out");
        let (r, _) = userinfo(&node.addr, "demo", tokens["access_token"].as_str().unwrap());
        assert_eq!(r.status, 401);
    }
}

#[tokio::test]
async fn es256_id_token_and_max_age_zero_force_a_fresh_login() {
    for env in Env::both().await {
        let node = start(&env, &["--demo"]);
        let issuer = format!("{}/t/demo", node.url);
        let rp = register(
            &env,
            "demo",
            "ES256",
            "https://es.example/cb",
            &["--id-token-alg", "ES256"],
        );
        let http = openidconnect::ureq::builder().redirects(0).build();
        let md = CoreProviderMetadata::discover(&IssuerUrl::new(issuer.clone()).unwrap(), &http)
            .expect("discovery");
        let client = CoreClient::from_provider_metadata(
            md,
            ClientId::new(rp.client_id.clone()),
            rp.secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(RedirectUrl::new(rp.redirect_uri.clone()).unwrap());
        let mut b = Browser::new(&node, "demo");
        assert_eq!(b.login(TEACHER, TEACHER_PASSWORD).status, 303);
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, csrf, nonce) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_extra_param("max_age", "0")
            .set_pkce_challenge(challenge)
            .url();
        // OIDC Core 3.1.2.1 max_age=0: the live session is too old; the login form again.
        let r = b.get(&path_of(url.as_str()));
        let login = r.header("location").unwrap_or("").to_owned();
        assert!(login.contains("prompt=login"), "{}: {login}", env.label());
        let page = b.get(&login);
        assert_eq!(page.status, 200);
        let return_to = param(&format!("http://x{login}"), "return_to").unwrap();
        let csrf_field = page.hidden("csrf").unwrap();
        let done = b.post(
            "/t/demo/login",
            &[
                ("csrf", &csrf_field),
                ("username", TEACHER),
                ("password", TEACHER_PASSWORD),
                ("return_to", &return_to),
            ],
        );
        let resp = b.get(done.header("location").unwrap());
        let code = code_of(&resp, &rp, csrf.secret(), &issuer);
        let tokens = client
            .exchange_code(AuthorizationCode::new(code))
            .unwrap()
            .set_pkce_verifier(verifier)
            .request(&http)
            .expect("code exchange");
        let id_verifier = client
            .id_token_verifier()
            .set_allowed_algs(vec![CoreJwsSigningAlgorithm::EcdsaP256Sha256]);
        let id_token = tokens.id_token().unwrap();
        let claims = id_token
            .claims(&id_verifier, &nonce)
            .expect("ES256 ID token");
        let age = chrono_free_age(claims.auth_time().unwrap().timestamp());
        assert!(age < 120, "auth_time is the fresh login ({age} s ago)");
        assert_eq!(
            id_token.signing_alg().unwrap(),
            &CoreJwsSigningAlgorithm::EcdsaP256Sha256
        );
    }
}

fn chrono_free_age(unix: i64) -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    now - unix
}
