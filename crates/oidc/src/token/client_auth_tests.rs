//! Client authentication rules (RFC 6749 2.3, RFC 7523 3, OIDC Core 9).

use super::*;
use crate::client::ClientPolicy;
use crate::jose::JwkSet;
use crate::keys::SigningKey;
use serde_json::json;

const TOKEN: &str = "https://portal.example/t/kyoto/token";
const ISS: &str = "https://portal.example/t/kyoto";
const NOW: i64 = 1_700_000_000;

fn ctx() -> ClientAssertionContext<'static> {
    ClientAssertionContext {
        token_endpoint: TOKEN,
        issuer: ISS,
        now: NOW,
        leeway: 30,
        max_lifetime: 600,
    }
}

fn basic(id: &str, secret: &str) -> String {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", enc(id), enc(secret)))
    )
}

fn secret_client() -> ClientPolicy {
    ClientPolicy::confidential("rp:1", "p@ss word/+", "https://rp.example/cb")
}

fn jwt_client(key: &SigningKey) -> ClientPolicy {
    let mut c = ClientPolicy::confidential("rp-jwt", "", "https://rp.example/cb");
    c.auth_method = ClientAuthMethod::PrivateKeyJwt;
    c.secret = None;
    c.jwks = Some(JwkSet {
        keys: vec![key.public_jwk().unwrap()],
    });
    c
}

fn assertion(key: &SigningKey, claims: serde_json::Value) -> Params {
    let jwt = key.sign_json(Some("JWT"), &claims).unwrap();
    Params::from_pairs([
        ("grant_type", "client_credentials".to_string()),
        ("client_assertion_type", CLIENT_ASSERTION_TYPE.to_string()),
        ("client_assertion", jwt),
    ])
}

fn good_claims() -> serde_json::Value {
    json!({"iss": "rp-jwt", "sub": "rp-jwt", "aud": TOKEN, "exp": NOW + 60, "iat": NOW, "jti": "j-1"})
}

fn auth_jwt(
    key: &SigningKey,
    claims: serde_json::Value,
) -> Result<AuthenticatedClient, ClientAuthError> {
    let p = assertion(key, claims);
    let presented = extract_client_auth(None, &p)?;
    authenticate_client(&presented, &jwt_client(key), &ctx())
}

#[test]
fn rfc6749_2_3_1_client_secret_basic_is_form_urlencoded_inside_basic() {
    let p = Params::from_urlencoded("grant_type=client_credentials");
    let presented = extract_client_auth(Some(&basic("rp:1", "p@ss word/+")), &p).unwrap();
    assert_eq!(presented.client_id(), "rp:1");
    let ok = authenticate_client(&presented, &secret_client(), &ctx()).unwrap();
    assert_eq!(ok.method, ClientAuthMethod::ClientSecretBasic);
}

#[test]
fn rfc6749_2_3_1_wrong_secret_is_invalid_client_401_with_www_authenticate() {
    let p = Params::from_urlencoded("grant_type=client_credentials");
    let presented = extract_client_auth(Some(&basic("rp:1", "nope")), &p).unwrap();
    let err = authenticate_client(&presented, &secret_client(), &ctx()).unwrap_err();
    assert_eq!(err, ClientAuthError::WrongSecret);
    let oauth = err.to_oauth_error(true, ISS);
    assert_eq!(oauth.code, ErrorCode::InvalidClient);
    assert_eq!(oauth.http_status(), 401);
    assert_eq!(
        oauth.www_authenticate.as_deref(),
        Some("Basic realm=\"https://portal.example/t/kyoto\"")
    );
}

#[test]
fn rfc6749_2_3_1_client_secret_post() {
    let p = Params::from_pairs([("client_id", "rp:1"), ("client_secret", "p@ss word/+")]);
    let presented = extract_client_auth(None, &p).unwrap();
    assert!(authenticate_client(&presented, &secret_client(), &ctx()).is_ok());
}

#[test]
fn rfc6749_2_3_more_than_one_method_is_invalid_request() {
    let p = Params::from_pairs([("client_id", "rp:1"), ("client_secret", "p@ss word/+")]);
    let err = extract_client_auth(Some(&basic("rp:1", "p@ss word/+")), &p).unwrap_err();
    assert_eq!(err, ClientAuthError::MultipleMethods);
    assert_eq!(err.to_oauth_error(true, ISS).http_status(), 400);
}

#[test]
fn public_client_authenticates_with_client_id_only_and_not_as_confidential() {
    let p = Params::from_pairs([("client_id", "rp:1")]);
    let presented = extract_client_auth(None, &p).unwrap();
    // A confidential client cannot skip its secret.
    assert!(matches!(
        authenticate_client(&presented, &secret_client(), &ctx()),
        Err(ClientAuthError::MethodNotAllowed { .. })
    ));
    let public = ClientPolicy::public("rp:1", "https://rp.example/cb");
    assert!(authenticate_client(&presented, &public, &ctx()).is_ok());
}

#[test]
fn rfc7523_3_private_key_jwt_accepts_good_assertion_and_returns_jti() {
    let key = SigningKey::generate(Algorithm::ES256).unwrap();
    let ok = auth_jwt(&key, good_claims()).unwrap();
    assert_eq!(
        ok.assertion_jti,
        Some(AssertionJti {
            jti: "j-1".into(),
            expires_at: NOW + 60
        })
    );
    // aud may also be the issuer, or an array containing it.
    let mut c = good_claims();
    c["aud"] = json!(["https://other.example", ISS]);
    assert!(auth_jwt(&key, c).is_ok());
}

#[test]
fn rfc7523_3_private_key_jwt_wrong_aud_is_refused() {
    let key = SigningKey::generate(Algorithm::RS256).unwrap();
    let mut c = good_claims();
    c["aud"] = json!("https://portal.example/t/osaka/token");
    assert_eq!(
        auth_jwt(&key, c).unwrap_err(),
        ClientAuthError::AssertionAudience
    );
}

#[test]
fn rfc7523_3_private_key_jwt_expired_or_without_exp_is_refused() {
    let key = SigningKey::generate(Algorithm::ES256).unwrap();
    let mut c = good_claims();
    c["exp"] = json!(NOW - 31);
    assert_eq!(
        auth_jwt(&key, c).unwrap_err(),
        ClientAuthError::AssertionExpired
    );
    let mut c = good_claims();
    c.as_object_mut().unwrap().remove("exp");
    assert_eq!(
        auth_jwt(&key, c).unwrap_err(),
        ClientAuthError::AssertionMissingExp
    );
    let mut c = good_claims();
    c["exp"] = json!(NOW + 86_400);
    assert_eq!(
        auth_jwt(&key, c).unwrap_err(),
        ClientAuthError::AssertionTooLongLived
    );
    let mut c = good_claims();
    c["nbf"] = json!(NOW + 300);
    assert_eq!(
        auth_jwt(&key, c).unwrap_err(),
        ClientAuthError::AssertionNotYetValid
    );
}

#[test]
fn oidc_core_9_private_key_jwt_iss_and_sub_must_be_client_id() {
    let key = SigningKey::generate(Algorithm::ES256).unwrap();
    let mut c = good_claims();
    c["iss"] = json!("someone-else");
    assert_eq!(
        auth_jwt(&key, c).unwrap_err(),
        ClientAuthError::AssertionIssuer
    );
}

#[test]
fn oidc_core_9_private_key_jwt_replayed_jti_is_reported() {
    let key = SigningKey::generate(Algorithm::ES256).unwrap();
    let mut guard = MemoryReplayGuard::default();
    let first = auth_jwt(&key, good_claims()).unwrap();
    assert_eq!(first.check_replay(&mut guard, NOW), Ok(()));
    let second = auth_jwt(&key, good_claims()).unwrap();
    assert_eq!(
        second.check_replay(&mut guard, NOW),
        Err(ClientAuthError::AssertionReplayed)
    );
    // After the assertion expired the guard may forget it; the assertion itself is refused.
    let mut c = good_claims();
    c.as_object_mut().unwrap().remove("jti");
    assert_eq!(
        auth_jwt(&key, c).unwrap_err(),
        ClientAuthError::AssertionMissingJti
    );
}

#[test]
fn rfc7523_3_private_key_jwt_signed_by_another_key_is_refused() {
    let key = SigningKey::generate(Algorithm::ES256).unwrap();
    let other = SigningKey::generate(Algorithm::ES256).unwrap();
    let p = assertion(&other, good_claims());
    let presented = extract_client_auth(None, &p).unwrap();
    assert!(matches!(
        authenticate_client(&presented, &jwt_client(&key), &ctx()),
        Err(ClientAuthError::AssertionSignature(_))
    ));
}
