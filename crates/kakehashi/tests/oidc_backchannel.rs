//! OpenID Connect Back-Channel Logout 1.0 through the real `kakehashi serve`, on SQLite and
//! PostgreSQL: apps registered with `app add|set --backchannel-logout-uri` get a Logout Token
//! POSTed to a small HTTP listener on 127.0.0.1 when the portal session they signed in from
//! ends (portal logout, RP-initiated logout). The token's signature is checked against the
//! tenant's JWKS by the `openidconnect` crate's own key code (independent of Kakehashi's JOSE;
//! npm `openid-client` 6 has no Logout Token validation), and its claims against the spec
//! (section 2.4) and the ID token of the same session (`sub`, `sid`).

#![allow(unused_imports)] // portal_support re-exports what other test binaries use

mod common;
mod oidc_support;
mod portal_support;
mod saml_support;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use base64::Engine;
use common::Env;
use oidc_support::*;
use openidconnect::core::{CoreJsonWebKeySet, CoreJwsSigningAlgorithm};
use openidconnect::JsonWebKey;
use portal_support::{start, Browser, TEACHER, TEACHER_PASSWORD};

const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// A POST the listener received.
#[derive(Debug)]
struct Received {
    path: String,
    content_type: String,
    form: Vec<(String, String)>,
}

impl Received {
    fn logout_token(&self) -> &str {
        self.form
            .iter()
            .find(|(k, _)| k == "logout_token")
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no logout_token in {self:?}"))
    }
}

/// A relying party's back-channel logout endpoint: an HTTP listener on 127.0.0.1 that
/// answers every POST with `status` and reports it.
struct Listener {
    base: String,
    rx: mpsc::Receiver<Received>,
}

impl Listener {
    fn start(status: u16) -> Listener {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        let base = format!("http://127.0.0.1:{}", l.local_addr().unwrap().port());
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for conn in l.incoming() {
                let Ok(mut s) = conn else { continue };
                s.set_read_timeout(Some(Duration::from_secs(10))).ok();
                let mut raw = Vec::new();
                let mut buf = [0u8; 4096];
                let (head, body) = loop {
                    let n = s.read(&mut buf).unwrap_or(0);
                    if n == 0 {
                        break (String::from_utf8_lossy(&raw).into_owned(), String::new());
                    }
                    raw.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&raw).into_owned();
                    if let Some((h, b)) = text.split_once("\r\n\r\n") {
                        let len = h
                            .lines()
                            .find_map(|l| {
                                let (k, v) = l.split_once(':')?;
                                k.eq_ignore_ascii_case("content-length")
                                    .then(|| v.trim().parse::<usize>().ok())?
                            })
                            .unwrap_or(0);
                        if b.len() >= len {
                            break (h.to_owned(), b.to_owned());
                        }
                    }
                };
                let reason = if status == 200 { "OK" } else { "Error" };
                let _ = s.write_all(
                    format!("HTTP/1.1 {status} {reason}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                        .as_bytes(),
                );
                let mut lines = head.split("\r\n");
                let request_line = lines.next().unwrap_or_default().to_owned();
                let content_type = lines
                    .filter_map(|l| l.split_once(':'))
                    .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
                    .map(|(_, v)| v.trim().to_owned())
                    .unwrap_or_default();
                let form = openidconnect::url::form_urlencoded::parse(body.as_bytes())
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect();
                let _ = tx.send(Received {
                    path: request_line.replace("POST ", "").replace(" HTTP/1.1", ""),
                    content_type,
                    form,
                });
            }
        });
        Listener { base, rx }
    }

    #[track_caller]
    fn next(&self) -> Received {
        self.rx
            .recv_timeout(Duration::from_secs(20))
            .expect("a Logout Token is POSTed within 20 s")
    }

    #[track_caller]
    fn nothing_more_within(&self, d: Duration) {
        if let Ok(r) = self.rx.recv_timeout(d) {
            panic!("a Logout Token was POSTed again: {r:?}");
        }
    }
}

fn b64(part: &str) -> serde_json::Value {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON")
}

/// The claims of a JWT, unverified (the ID token was verified by the token response's
/// receiver in other tests; here only its `sub` and `sid` are compared).
fn claims_of(jwt: &str) -> serde_json::Value {
    b64(jwt.split('.').nth(1).expect("a JWT"))
}

/// Verifies a Logout Token with the tenant's JWKS through the openidconnect crate's key code
/// and checks it against Back-Channel Logout 1.0 section 2.4 (and the validation steps of
/// section 2.6); returns its claims.
fn verify_logout_token(
    jwt: &str,
    jwks: &str,
    alg: &CoreJwsSigningAlgorithm,
    alg_name: &str,
    issuer: &str,
    client_id: &str,
) -> serde_json::Value {
    let b = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3, "a compact JWS");
    let header = b64(parts[0]);
    // Section 2.4: explicitly typed logout+jwt; signed with the client's ID token algorithm.
    assert_eq!(header["typ"], "logout+jwt", "{header}");
    assert_eq!(header["alg"], alg_name, "{header}");
    let set: CoreJsonWebKeySet = serde_json::from_str(jwks).expect("JWKS");
    let key = set
        .keys()
        .iter()
        .find(|k| k.key_id().map(|i| i.as_str()) == header["kid"].as_str())
        .expect("the signing key is published in the JWKS");
    key.verify_signature(
        alg,
        format!("{}.{}", parts[0], parts[1]).as_bytes(),
        &b.decode(parts[2]).expect("signature"),
    )
    .expect("the Logout Token's signature verifies against the JWKS (section 2.6 step 3)");
    let c = b64(parts[1]);
    // Section 2.6 step 4: iss, aud, iat as for an ID token.
    assert_eq!(c["iss"], issuer);
    assert_eq!(c["aud"], client_id);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let (iat, exp) = (c["iat"].as_i64().unwrap(), c["exp"].as_i64().unwrap());
    assert!((now - 120..=now + 5).contains(&iat), "iat {iat}, now {now}");
    // Section 2.4: exp no more than two minutes after iat.
    assert!(exp > iat && exp <= iat + 120, "iat {iat} exp {exp}");
    assert!(c["jti"].as_str().is_some_and(|j| j.len() >= 20), "{c}");
    // Section 2.4: events holds the back-channel logout member, an empty JSON object.
    assert_eq!(c["events"], serde_json::json!({ EVENT: {} }));
    // Section 2.4: "A nonce Claim MUST NOT be present" (2.6 step 6 refuses one).
    assert!(c.get("nonce").is_none(), "{c}");
    c
}

/// A demo node, a listener answering 200 and one app `name` whose back-channel logout URI is
/// the listener's `path` (`extra`: more `app add` flags): the node, its issuer, the listener
/// and the app.
fn node_with_app(
    env: &Env,
    name: &str,
    path: &str,
    extra: &[&str],
) -> (portal_support::Node, String, Listener, Rp) {
    let node = start(env, &["--demo"]);
    let issuer = format!("{}/t/demo", node.url);
    let ok = Listener::start(200);
    let uri = format!("{}{path}", ok.base);
    let mut flags = vec!["--backchannel-logout-uri", uri.as_str()];
    flags.extend_from_slice(extra);
    let rp = register(env, "demo", name, "https://rp.example/cb", &flags);
    (node, issuer, ok, rp)
}

/// [`verify_logout_token`] for an RS256 app, against the node's JWKS now.
fn verify_rs256(r: &Received, node_addr: &str, issuer: &str, rp: &Rp) -> serde_json::Value {
    let jwks = raw(node_addr, "GET", "/t/demo/jwks", &[], "").body;
    verify_logout_token(
        r.logout_token(),
        &jwks,
        &CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        "RS256",
        issuer,
        &rp.client_id,
    )
}

/// Signs in through `rp` with the browser (its session) and redeems the code: the ID token.
fn id_token_for(b: &mut Browser<'_>, node_addr: &str, issuer: &str, rp: &Rp) -> String {
    let path = authorize_path("demo", rp, &[("scope", "openid"), ("state", "s")]);
    let resp = authorize_as(b, &path, TEACHER, TEACHER_PASSWORD);
    let code = code_of(&resp, rp, "s", issuer);
    let (r, tokens) = exchange(node_addr, "demo", rp, &code, None);
    assert_eq!(r.status, 200, "{}", r.body);
    tokens["id_token"].as_str().expect("an ID token").to_owned()
}

/// The back-channel audit rows (`oidc.backchannel_logout`), once `n` are there.
async fn backchannel_audit(env: &Env, n: usize) -> Vec<serde_json::Value> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let rows: Vec<serde_json::Value> = saml_support::audit_actions(env)
            .await
            .into_iter()
            .filter(|(a, _)| a == "oidc.backchannel_logout")
            .map(|(_, d)| serde_json::from_str(&d).expect("details JSON"))
            .collect();
        if rows.len() >= n || Instant::now() > deadline {
            return rows;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn backchannel_logout_2_5_portal_logout_posts_signed_logout_tokens_with_the_sessions_sid() {
    for env in Env::both().await {
        let label = env.label();
        let node = start(&env, &["--demo"]);
        let issuer = format!("{}/t/demo", node.url);
        let ok = Listener::start(200);
        let failing = Listener::start(500);
        let refusing = Listener::start(400);

        // Registration: `app add --backchannel-logout-uri`, and `app set` for an existing app.
        let rp_a = register(
            &env,
            "demo",
            "BCL-A",
            "https://rp-a.example/cb",
            &["--backchannel-logout-uri", &format!("{}/a?x=1", ok.base)],
        );
        let rp_b = register(
            &env,
            "demo",
            "BCL-B",
            "https://rp-b.example/cb",
            &["--id-token-alg", "ES256"],
        );
        let set = env
            .run(&[
                "app",
                "set",
                "--tenant",
                "demo",
                "--id",
                &rp_b.client_id,
                "--backchannel-logout-uri",
                &format!("{}/b", ok.base),
                "--format",
                "json",
            ])
            .ok();
        let updated: serde_json::Value = serde_json::from_str(&set.stdout).expect("JSON");
        assert_eq!(
            updated["oidc"]["backchannel_logout_uri"],
            format!("{}/b", ok.base),
            "{label}"
        );
        // Section 2.2 and our rule: https, or http only to this machine.
        let refused = env
            .run(&[
                "app",
                "set",
                "--tenant",
                "demo",
                "--id",
                &rp_b.client_id,
                "--backchannel-logout-uri",
                "http://rp-b.example/logout",
            ])
            .code(1);
        assert!(refused.stderr.contains("use https"), "{}", refused.stderr);
        let rp_c = register(
            &env,
            "demo",
            "BCL-C (failing)",
            "https://rp-c.example/cb",
            &["--backchannel-logout-uri", &format!("{}/c", failing.base)],
        );
        let rp_d = register(
            &env,
            "demo",
            "no back-channel",
            "https://rp-d.example/cb",
            &[],
        );
        let rp_e = register(
            &env,
            "demo",
            "BCL-E (refusing)",
            "https://rp-e.example/cb",
            &["--backchannel-logout-uri", &format!("{}/e", refusing.base)],
        );

        // Discovery (section 2.1).
        let disco = raw(
            &node.addr,
            "GET",
            "/t/demo/.well-known/openid-configuration",
            &[],
            "",
        );
        let disco: serde_json::Value = serde_json::from_str(&disco.body).unwrap();
        assert_eq!(disco["backchannel_logout_supported"], true);
        assert_eq!(disco["backchannel_logout_session_supported"], true);

        // One portal session, four apps signed in.
        let mut b = Browser::new(&node, "demo");
        let id_a = claims_of(&id_token_for(&mut b, &node.addr, &issuer, &rp_a));
        let id_b = claims_of(&id_token_for(&mut b, &node.addr, &issuer, &rp_b));
        let id_c = claims_of(&id_token_for(&mut b, &node.addr, &issuer, &rp_c));
        let id_d = claims_of(&id_token_for(&mut b, &node.addr, &issuer, &rp_d));
        id_token_for(&mut b, &node.addr, &issuer, &rp_e);
        // Section 2.1 / 2.4: every ID token of the session carries a sid; per app, so two
        // apps cannot link their users' sessions by it.
        for c in [&id_a, &id_b, &id_c, &id_d] {
            assert!(c["sid"].as_str().is_some_and(|s| s.len() >= 22), "{c}");
        }
        assert_ne!(id_a["sid"], id_b["sid"]);
        // The same session, the same app: the same sid (a fresh ID token keeps it).
        let again = claims_of(&id_token_for(&mut b, &node.addr, &issuer, &rp_a));
        assert_eq!(again["sid"], id_a["sid"], "{label}");
        let jwks = raw(&node.addr, "GET", "/t/demo/jwks", &[], "").body;

        // The portal's own sign-out.
        let home = b.get("/t/demo/");
        let csrf = home.hidden("csrf").expect("the logout form's csrf");
        let out = b.post("/t/demo/logout", &[("csrf", &csrf)]);
        assert_eq!(
            out.status, 303,
            "{label}: a failing app never holds the user back"
        );

        let mut got = [ok.next(), ok.next()];
        got.sort_by(|x, y| x.path.cmp(&y.path));
        assert_eq!(got[0].path, "/a?x=1", "{label}");
        assert_eq!(got[1].path, "/b", "{label}");
        for (r, rp, id, alg, name) in [
            (
                &got[0],
                &rp_a,
                &id_a,
                CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
                "RS256",
            ),
            (
                &got[1],
                &rp_b,
                &id_b,
                CoreJwsSigningAlgorithm::EcdsaP256Sha256,
                "ES256",
            ),
        ] {
            // Section 2.5: a form POST with the token in `logout_token`.
            assert_eq!(r.content_type, "application/x-www-form-urlencoded");
            let c =
                verify_logout_token(r.logout_token(), &jwks, &alg, name, &issuer, &rp.client_id);
            // Section 2.4: sub and sid, those of the ID tokens of the session.
            assert_eq!(c["sub"], id["sub"], "{label}");
            assert_eq!(c["sid"], id["sid"], "{label}");
        }
        // The failing app was tried (and answered 500); the app without a URI was not.
        let failed = failing.next();
        assert_eq!(failed.path, "/c");
        assert_eq!(refusing.next().path, "/e");
        let audit = backchannel_audit(&env, 4).await;
        let result_of = |app: &str| {
            audit
                .iter()
                .find(|d| d["app"] == app)
                .map(|d| (d["result"].clone(), d["status"].clone()))
        };
        assert_eq!(
            result_of(&rp_a.client_id),
            Some((serde_json::json!("delivered"), serde_json::Value::Null)),
            "{label}: {audit:?}"
        );
        assert_eq!(
            result_of(&rp_b.client_id).map(|r| r.0),
            Some(serde_json::json!("delivered"))
        );
        assert_eq!(
            result_of(&rp_c.client_id),
            Some((serde_json::json!("retry"), serde_json::json!(500))),
            "{label}: {audit:?}"
        );
        assert_eq!(result_of(&rp_d.client_id), None, "{label}: {audit:?}");
        // Section 2.8: a 400 is the RP's refusal; sending it again would not help.
        assert_eq!(
            result_of(&rp_e.client_id),
            Some((serde_json::json!("refused"), serde_json::json!(400))),
            "{label}: {audit:?}"
        );
        // Each Logout Token is sent once (the sweep finds nothing left to send).
        ok.nothing_more_within(Duration::from_secs(6));
    }
}

#[tokio::test]
async fn rp_initiated_logout_tells_back_channel_apps_and_walks_the_saml_sps_before_the_rp() {
    for env in Env::both().await {
        let label = env.label();
        let (node, issuer, ok, rp) = node_with_app(
            &env,
            "BCL-RP",
            "/logout",
            &["--post-logout-redirect-uri", "https://rp.example/bye"],
        );
        // A SAML SP with a SingleLogoutService, signed in from the same portal session.
        const SLO_SP: &str = "https://slo.example.jp/sp";
        const SLO_ACS: &str = "https://slo.example.jp/acs";
        const SLO_URL: &str = "https://slo.example.jp/slo";
        let key = saml_support::sp_key("SLO SP");
        let md = saml_support::sp_metadata(SLO_SP, SLO_ACS, Some(key.certificate()), false)
            .replace(
                "<md:AssertionConsumerService",
                &format!("<md:SingleLogoutService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect\" Location=\"{SLO_URL}\"/><md:AssertionConsumerService"),
            );
        saml_support::register(&env, "SLO SP", &md, &["--security-class", "learning"]);

        let mut b = Browser::new(&node, "demo");
        let id_token = id_token_for(&mut b, &node.addr, &issuer, &rp);
        let xml = saml_support::authn_request(
            &node.url,
            &saml_support::new_id(),
            SLO_SP,
            SLO_ACS,
            "",
            "",
        );
        let sso = b.get(&saml_support::redirect_path(&xml, None, None));
        assert!(
            saml_support::saml_response(&sso).is_some(),
            "{label}: {}",
            sso.body
        );

        // RP-Initiated Logout with the session's ID token: signed out at once ...
        let r = b.get(&format!(
            "/t/demo/logout?id_token_hint={id_token}&post_logout_redirect_uri={}&state=bye-1",
            portal_support::enc("https://rp.example/bye")
        ));
        assert_eq!(r.status, 303, "{label}: {}", r.body);
        assert!(r
            .set_cookies()
            .iter()
            .any(|c| c.starts_with("kakehashi_session=;")));
        // ... then through the SAML SPs (as the portal's logout) ...
        let journey = r.header("location").unwrap_or_default().to_owned();
        assert!(
            journey.starts_with("/t/demo/saml/slo/next?journey="),
            "{label}: {journey}"
        );
        let to_sp = b.get(&journey);
        assert_eq!(to_sp.status, 303);
        let sp_loc = to_sp.header("location").unwrap_or_default();
        assert!(
            sp_loc.starts_with(&format!("{SLO_URL}?SAMLRequest=")),
            "{label}: {sp_loc}"
        );
        // ... (an SP that never answers is skipped) and back to the RP with its state.
        let back = b.get(&journey);
        assert_eq!(back.status, 303, "{label}: {}", back.body);
        assert_eq!(
            back.header("location"),
            Some("https://rp.example/bye?state=bye-1"),
            "{label}"
        );

        // The RP's back-channel got its Logout Token for this session.
        let got = ok.next();
        assert_eq!(got.path, "/logout");
        let c = verify_rs256(&got, &node.addr, &issuer, &rp);
        let id = claims_of(&id_token);
        assert_eq!(c["sub"], id["sub"], "{label}");
        assert_eq!(c["sid"], id["sid"], "{label}");
        let audit = backchannel_audit(&env, 1).await;
        assert_eq!(audit[0]["result"], "delivered", "{label}: {audit:?}");

        // Without a hint the user confirms first (RP-Initiated Logout 2); the confirmation
        // then continues through the SAML SPs by a page, not a redirect chain that the
        // form's CSP form-action could cut at the SP's origin.
        let id_token = id_token_for(&mut b, &node.addr, &issuer, &rp);
        let xml = saml_support::authn_request(
            &node.url,
            &saml_support::new_id(),
            SLO_SP,
            SLO_ACS,
            "",
            "",
        );
        let sso = b.get(&saml_support::redirect_path(&xml, None, None));
        assert!(saml_support::saml_response(&sso).is_some(), "{label}");
        let query = format!(
            "client_id={}&post_logout_redirect_uri={}&state=bye-2",
            rp.client_id,
            portal_support::enc("https://rp.example/bye")
        );
        let page = b.get(&format!("/t/demo/logout?{query}"));
        assert_eq!(page.status, 200, "{label}: {}", page.body);
        let csrf = page.hidden("csrf").expect("the confirmation's csrf");
        // As a browser reads the field: HTML entities decoded.
        let request = page
            .hidden("request")
            .expect("the original request")
            .replace("&amp;", "&");
        let r = b.post(
            "/t/demo/logout/confirm",
            &[("csrf", &csrf), ("request", &request)],
        );
        assert_eq!(r.status, 200, "{label}: {}", r.body);
        let next = r
            .body
            .split("content=\"0;url=")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .expect("a refresh to the SAML journey")
            .replace("&amp;", "&");
        assert!(next.starts_with("/t/demo/saml/slo/next?journey="), "{next}");
        assert!(b
            .get(&next)
            .header("location")
            .unwrap_or_default()
            .starts_with(SLO_URL));
        let back = b.get(&next);
        assert_eq!(
            back.header("location"),
            Some("https://rp.example/bye?state=bye-2"),
            "{label}"
        );
        let c = verify_rs256(&ok.next(), &node.addr, &issuer, &rp);
        let id2 = claims_of(&id_token);
        assert_eq!(c["sid"], id2["sid"], "{label}");
        assert_ne!(id2["sid"], id["sid"], "{label}: a new session, a new sid");
    }
}

#[tokio::test]
async fn a_saml_sps_logout_request_that_ends_the_portal_session_tells_the_back_channel_apps() {
    for env in Env::both().await {
        let label = env.label();
        let (node, issuer, ok, rp) = node_with_app(&env, "BCL-RP", "/bcl", &[]);
        const SLO_SP: &str = "https://slo.example.jp/sp";
        const SLO_ACS: &str = "https://slo.example.jp/acs";
        const SLO_URL: &str = "https://slo.example.jp/slo";
        let key = saml_support::sp_key("SLO SP");
        let md = saml_support::sp_metadata(SLO_SP, SLO_ACS, Some(key.certificate()), false)
            .replace(
                "<md:AssertionConsumerService",
                &format!("<md:SingleLogoutService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect\" Location=\"{SLO_URL}\"/><md:AssertionConsumerService"),
            );
        saml_support::register(&env, "SLO SP", &md, &["--security-class", "learning"]);
        // A second SP with a session from the same portal session, which must be told too.
        const OTHER_SP: &str = "https://other.example.jp/sp";
        const OTHER_ACS: &str = "https://other.example.jp/acs";
        const OTHER_SLO: &str = "https://other.example.jp/slo";
        let other_md = saml_support::sp_metadata(OTHER_SP, OTHER_ACS, None, false).replace(
            "<md:AssertionConsumerService",
            &format!("<md:SingleLogoutService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect\" Location=\"{OTHER_SLO}\"/><md:AssertionConsumerService"),
        );
        saml_support::register(
            &env,
            "Other SP",
            &other_md,
            &["--security-class", "learning"],
        );

        let mut b = Browser::new(&node, "demo");
        let id_token = id_token_for(&mut b, &node.addr, &issuer, &rp);
        let xml = saml_support::authn_request(
            &node.url,
            &saml_support::new_id(),
            SLO_SP,
            SLO_ACS,
            "",
            "",
        );
        let resp =
            saml_support::saml_response(&b.get(&saml_support::redirect_path(&xml, None, None)))
                .expect("a Response");
        let other = saml_support::authn_request(
            &node.url,
            &saml_support::new_id(),
            OTHER_SP,
            OTHER_ACS,
            "",
            "",
        );
        assert!(
            saml_support::saml_response(&b.get(&saml_support::redirect_path(&other, None, None)))
                .is_some(),
            "{label}: signed in to the other SP"
        );
        let name_id = resp
            .split("<saml:NameID")
            .nth(1)
            .and_then(|s| s.split('>').nth(1))
            .and_then(|s| s.split('<').next())
            .expect("NameID")
            .to_owned();
        let session_index = resp
            .split("SessionIndex=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .expect("SessionIndex")
            .to_owned();
        // SAML Profiles 4.4.3: the SP's signed LogoutRequest ends the portal session ...
        let logout = format!(
            r#"<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0" IssueInstant="{now}" Destination="{url}/t/demo/saml/slo"><saml:Issuer>{SLO_SP}</saml:Issuer><saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">{name_id}</saml:NameID><samlp:SessionIndex>{session_index}</samlp:SessionIndex></samlp:LogoutRequest>"#,
            id = saml_support::new_id(),
            now = saml_support::now_instant(),
            url = node.url
        );
        let q = kakehashi_saml::binding::redirect::encode_redirect(
            kakehashi_saml::binding::MessageParam::Request,
            &logout,
            None,
            Some(&key),
        )
        .expect("encode");
        let r = b.get(&format!("/t/demo/saml/slo?{q}"));
        assert_eq!(r.status, 303, "{label}: {}", r.body);
        // SAML Profiles 4.4.3.2: the IdP tells the other SP first (front channel), then
        // answers the requester with its LogoutResponse.
        let journey = r.header("location").expect("location").to_owned();
        assert!(
            journey.starts_with("/t/demo/saml/slo/next?journey="),
            "{label}: {journey}"
        );
        let to_other = b.get(&journey);
        let to_other = to_other
            .header("location")
            .expect("to the other SP")
            .to_owned();
        assert!(
            to_other.starts_with(&format!("{OTHER_SLO}?SAMLRequest=")),
            "{label}: {to_other}"
        );
        // The other SP does not answer (the test has no such host): going on skips it.
        let last = b.get(&journey);
        let last = last
            .header("location")
            .expect("to the requester")
            .to_owned();
        assert!(
            last.starts_with(&format!("{SLO_URL}?SAMLResponse=")),
            "{label}: {last}"
        );
        // ... and so the OIDC app of that session gets its Logout Token.
        let c = verify_rs256(&ok.next(), &node.addr, &issuer, &rp);
        assert_eq!(c["sid"], claims_of(&id_token)["sid"], "{label}");
    }
}

#[tokio::test]
async fn backchannel_logout_2_5_a_new_login_in_the_same_browser_tells_the_old_sessions_apps() {
    for env in Env::both().await {
        let label = env.label();
        let (node, issuer, ok, rp) = node_with_app(&env, "BCL-R", "/r", &[]);
        let mut b = Browser::new(&node, "demo");
        let first = claims_of(&id_token_for(&mut b, &node.addr, &issuer, &rp));
        let old_cookie = b.cookie();

        // The same browser signs in again (the login form with prompt=login shows while a
        // session is live), as another user: the previous session ends as at logout.
        let page = b.get("/t/demo/login?prompt=login");
        assert_eq!(page.status, 200, "{label}: {}", page.body);
        let csrf = page.hidden("csrf").expect("the login form's csrf");
        let r = b.post(
            "/t/demo/login",
            &[
                ("csrf", &csrf),
                ("username", portal_support::PUPIL),
                ("password", portal_support::PUPIL_PASSWORD),
            ],
        );
        assert_eq!(r.status, 303, "{label}: {}", r.body);
        assert_ne!(b.cookie(), old_cookie, "{label}: a new session cookie");
        assert_eq!(
            portal_support::request(&node.addr, "GET", "/t/demo/", &old_cookie, None).status,
            303,
            "{label}: the old session cookie no longer signs in"
        );

        // Section 2.5: the app that signed in from the old session gets a Logout Token;
        // section 2.4: with that session's sid and the teacher's sub for the app.
        let got = ok.next();
        assert_eq!(got.path, "/r", "{label}");
        let c = verify_rs256(&got, &node.addr, &issuer, &rp);
        assert_eq!(c["sid"], first["sid"], "{label}");
        assert_eq!(c["sub"], first["sub"], "{label}");
        let audit = backchannel_audit(&env, 1).await;
        assert_eq!(audit.len(), 1, "{label}: {audit:?}");
        assert_eq!(audit[0]["result"], "delivered");
        ok.nothing_more_within(Duration::from_secs(6));
    }
}
