//! The whole authorization code + PKCE flow through the public API, as the server layer will
//! drive it: authorize → code → client auth → PKCE → ID token → RP-side verification.

use kakehashi_oidc::authorize::{self, AuthorizationResponse};
use kakehashi_oidc::claims::{self, IdTokenClaims};
use kakehashi_oidc::jose::{self, Algorithm};
use kakehashi_oidc::keys::{KeySet, KeyState, SigningKey};
use kakehashi_oidc::params::Params;
use kakehashi_oidc::rng::random_token;
use kakehashi_oidc::token::{self, ClientAssertionContext, TokenRequest};
use kakehashi_oidc::{ClientPolicy, Issuer, SubjectType};

#[test]
fn code_flow_with_pkce_and_pairwise_sub_end_to_end() {
    let now = 1_700_000_000;
    let issuer = Issuer::for_tenant("https://portal.example", "kyoto").unwrap();
    let mut keys = KeySet::default();
    keys.insert(
        SigningKey::generate(Algorithm::RS256).unwrap(),
        KeyState::Current,
        0,
    );
    let mut client = ClientPolicy::public("tablet-app", "https://app.example/cb");
    client.subject_type = SubjectType::Pairwise {
        sector_identifier: "app.example".into(),
    };

    // 1. Authorization request (RFC 7636 Appendix B challenge).
    let query = "client_id=tablet-app&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&response_type=code\
&scope=openid%20profile&state=xyz&nonce=n0&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM\
&code_challenge_method=S256&response_mode=form_post";
    let params = Params::from_urlencoded(query);
    assert_eq!(params.get("client_id"), Some("tablet-app"));
    let req = authorize::validate(&params, Some(&client), &issuer).unwrap();

    // 2. The user logs in; the server issues a one-time code (deterministic RNG here).
    let mut counter = 0u8;
    let mut rng = |buf: &mut [u8]| {
        for b in buf {
            counter = counter.wrapping_add(1);
            *b = counter;
        }
    };
    let code = random_token(&mut rng, 32);
    let response = req.success_response(&code, &issuer);
    let html = response.form_post_html(Some("csp123")).unwrap();
    assert!(html.contains(&code) && html.contains("nonce=\"csp123\""));
    assert!(matches!(response, AuthorizationResponse::FormPost { .. }));

    // 3. Token request from the public client.
    let body = format!(
        "grant_type=authorization_code&code={code}&redirect_uri=https%3A%2F%2Fapp.example%2Fcb\
&client_id=tablet-app&code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    );
    let form = Params::from_urlencoded(&body);
    let presented = token::extract_client_auth(None, &form).unwrap();
    let token_endpoint = issuer.token_endpoint();
    let ctx = ClientAssertionContext {
        token_endpoint: &token_endpoint,
        issuer: issuer.as_str(),
        now,
        leeway: 30,
        max_lifetime: 600,
    };
    let authenticated = token::authenticate_client(&presented, &client, &ctx).unwrap();
    let TokenRequest::AuthorizationCode {
        code_verifier,
        redirect_uri,
        ..
    } = token::parse_token_request(&form).unwrap()
    else {
        panic!("expected authorization_code grant");
    };
    assert_eq!(redirect_uri.as_deref(), Some(req.redirect_uri.as_str()));
    req.code_challenge
        .as_ref()
        .unwrap()
        .verify(code_verifier.as_deref().unwrap())
        .unwrap();

    // 4. ID token with pairwise sub and at_hash.
    let key = keys
        .for_client(client.id_token_signed_response_alg)
        .unwrap();
    let access_token = random_token(&mut rng, 32);
    let sub = claims::subject_for(
        &client.subject_type,
        "6f1c1b1e-0d4f-4c1a-9d2e-3a4b5c6d7e8f",
        "umi",
        b"tenant-salt",
    );
    let mut id = IdTokenClaims::new(issuer.as_str(), &sub, &authenticated.client_id, now, 300)
        .with_at_hash(key.alg(), &access_token);
    id.nonce = req.nonce.clone();
    id.auth_time = Some(now - 5);
    let id_token = key.sign_json(Some("JWT"), &id).unwrap();

    // 5. The RP verifies it with the published JWKS.
    let jwks = keys.jwks(now).unwrap();
    let rp_keys = kakehashi_oidc::JwkSet::parse(&jwks.to_json())
        .unwrap()
        .verification_keys()
        .unwrap();
    let verified = jose::verify(&id_token, &rp_keys, &[Algorithm::RS256]).unwrap();
    let got: IdTokenClaims = verified.claims().unwrap();
    assert_eq!(got.aud.0, ["tablet-app"]);
    assert_eq!(got.nonce.as_deref(), Some("n0"));
    assert_ne!(got.sub, "umi");
    assert_eq!(
        got.at_hash,
        Some(claims::hash_claim(Algorithm::RS256, &access_token))
    );
}
