//! JOSE tests, each named after the rule it checks.

use super::*;
use crate::b64;
use crate::keys::SigningKey;

fn keys_of(k: &SigningKey) -> Vec<VerificationKey> {
    vec![k.verification_key().unwrap()]
}

#[test]
fn rs256_sign_then_verify_round_trip() {
    let k = SigningKey::generate(Algorithm::RS256).unwrap();
    let jws = k.sign(Some("JWT"), br#"{"sub":"a"}"#).unwrap();
    let v = verify(&jws, &keys_of(&k), &Algorithm::VERIFY).unwrap();
    assert_eq!(v.alg, Algorithm::RS256);
    assert_eq!(v.header.kid.as_deref(), Some(k.kid()));
    assert_eq!(v.header.typ.as_deref(), Some("JWT"));
    assert_eq!(v.payload, br#"{"sub":"a"}"#);
}

#[test]
fn es256_sign_then_verify_round_trip_with_64_byte_jose_signature() {
    let k = SigningKey::generate(Algorithm::ES256).unwrap();
    for _ in 0..8 {
        let jws = k.sign(None, b"{}").unwrap();
        // RFC 7518 3.4: R || S, 32 octets each, never DER.
        let sig = b64::decode(jws.rsplit('.').next().unwrap()).unwrap();
        assert_eq!(sig.len(), 64);
        assert!(verify(&jws, &keys_of(&k), &[Algorithm::ES256]).is_ok());
    }
}

#[test]
fn rfc7515_tampered_payload_is_refused() {
    let k = SigningKey::generate(Algorithm::ES256).unwrap();
    let jws = k.sign(None, br#"{"sub":"a"}"#).unwrap();
    let parts: Vec<&str> = jws.split('.').collect();
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        b64::encode(br#"{"sub":"b"}"#),
        parts[2]
    );
    assert_eq!(
        verify(&forged, &keys_of(&k), &Algorithm::VERIFY).unwrap_err(),
        JoseError::BadSignature
    );
}

#[test]
fn rfc7515_tampered_signature_is_refused() {
    let k = SigningKey::generate(Algorithm::RS256).unwrap();
    let jws = k.sign(None, b"{}").unwrap();
    let mut sig = b64::decode(jws.rsplit('.').next().unwrap()).unwrap();
    sig[10] ^= 1;
    let (input, _) = jws.rsplit_once('.').unwrap();
    let forged = format!("{input}.{}", b64::encode(sig));
    assert_eq!(
        verify(&forged, &keys_of(&k), &Algorithm::VERIFY).unwrap_err(),
        JoseError::BadSignature
    );
}

#[test]
fn rfc8725_3_1_alg_none_is_always_refused() {
    let k = SigningKey::generate(Algorithm::RS256).unwrap();
    for alg in ["none", "None", "NONE"] {
        let header = b64::encode(format!(r#"{{"alg":"{alg}","kid":"{}"}}"#, k.kid()));
        let token = format!("{header}.{}.", b64::encode(b"{}"));
        assert_eq!(
            verify(&token, &keys_of(&k), &Algorithm::VERIFY).unwrap_err(),
            JoseError::AlgNone
        );
    }
}

#[test]
fn rfc7515_4_1_11_unknown_crit_is_refused() {
    let header = b64::encode(r#"{"alg":"RS256","crit":["exp"],"exp":1}"#);
    let token = format!("{header}.{}.AAAA", b64::encode(b"{}"));
    let k = SigningKey::generate(Algorithm::ES256).unwrap();
    assert_eq!(
        verify(&token, &keys_of(&k), &Algorithm::VERIFY).unwrap_err(),
        JoseError::UnsupportedCrit
    );
}

#[test]
fn alg_outside_allowed_list_is_refused() {
    let k = SigningKey::generate(Algorithm::RS256).unwrap();
    let jws = k.sign(None, b"{}").unwrap();
    assert_eq!(
        verify(&jws, &keys_of(&k), &[Algorithm::ES256]).unwrap_err(),
        JoseError::AlgNotAllowed(Algorithm::RS256)
    );
}

#[test]
fn rsa_key_cannot_verify_es256_header_alg_confusion() {
    // An attacker relabelling an RS256 token as ES256 finds no EC key to try.
    let k = SigningKey::generate(Algorithm::RS256).unwrap();
    let jws = k.sign(None, b"{}").unwrap();
    let parts: Vec<&str> = jws.split('.').collect();
    let header = b64::encode(format!(r#"{{"alg":"ES256","kid":"{}"}}"#, k.kid()));
    let forged = format!("{header}.{}.{}", parts[1], parts[2]);
    assert!(matches!(
        verify(&forged, &keys_of(&k), &Algorithm::VERIFY).unwrap_err(),
        JoseError::NoMatchingKey { .. }
    ));
}

#[test]
fn unknown_kid_is_reported() {
    let a = SigningKey::generate(Algorithm::ES256).unwrap();
    let b = SigningKey::generate(Algorithm::ES256).unwrap();
    let jws = a.sign(None, b"{}").unwrap();
    assert!(matches!(
        verify(&jws, &keys_of(&b), &Algorithm::VERIFY).unwrap_err(),
        JoseError::NoMatchingKey { .. }
    ));
}

#[test]
fn rfc7638_3_1_thumbprint_example() {
    let jwk: Jwk = serde_json::from_str(
        r#"{"kty":"RSA",
 "n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
 "e":"AQAB","alg":"RS256","kid":"2011-04-29"}"#,
    )
    .unwrap();
    assert_eq!(
        thumbprint(&jwk).unwrap(),
        "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    );
}

#[test]
fn own_kid_is_rfc7638_thumbprint_of_public_jwk() {
    let k = SigningKey::generate(Algorithm::ES256).unwrap();
    let jwk = k.public_jwk().unwrap();
    assert_eq!(jwk.kid.as_deref(), Some(k.kid()));
    assert_eq!(thumbprint(&jwk).unwrap(), k.kid());
    assert_eq!(jwk.crv.as_deref(), Some("P-256"));
    assert_eq!(b64::decode(jwk.x.as_deref().unwrap()).unwrap().len(), 32);
}

#[test]
fn rfc7517_5_client_jwks_parses_rsa_and_ec_and_ignores_unknown() {
    let rsa = SigningKey::generate(Algorithm::RS256).unwrap();
    let ec = SigningKey::generate(Algorithm::ES256).unwrap();
    let doc = serde_json::json!({"keys": [
        rsa.public_jwk().unwrap(),
        ec.public_jwk().unwrap(),
        {"kty": "oct", "k": "c2VjcmV0"},
        {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
        {"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"},
        {"kty": "RSA", "use": "enc", "n": rsa.public_jwk().unwrap().n, "e": "AQAB"}
    ]})
    .to_string();
    let keys = JwkSet::parse(&doc).unwrap().verification_keys().unwrap();
    assert_eq!(keys.len(), 2);
    let t_rsa = rsa.sign(None, b"{}").unwrap();
    let t_ec = ec.sign(None, b"{}").unwrap();
    assert!(verify(&t_rsa, &keys, &Algorithm::VERIFY).is_ok());
    assert!(verify(&t_ec, &keys, &Algorithm::VERIFY).is_ok());
}

#[test]
fn rfc7518_6_2_1_ec_point_off_curve_is_refused() {
    let jwk: Jwk = serde_json::from_str(&format!(
        r#"{{"kty":"EC","crv":"P-256","x":"{}","y":"{}"}}"#,
        b64::encode([1u8; 32]),
        b64::encode([2u8; 32])
    ))
    .unwrap();
    assert!(jwk.to_verification_key().is_err());
}

#[test]
fn rfc7518_3_3_rsa_keys_under_2048_bits_are_refused() {
    let small = openssl::rsa::Rsa::generate(1024).unwrap();
    let pkey = openssl::pkey::PKey::from_rsa(small).unwrap();
    let jwk = Jwk::from_public_key(&pkey, Some("k"), None).unwrap();
    assert_eq!(
        jwk.to_verification_key().unwrap_err(),
        JoseError::RsaKeyTooShort
    );
}

#[test]
fn client_rs384_rs512_ps256_es384_signatures_verify() {
    use openssl::ec::{EcGroup, EcKey};
    use openssl::nid::Nid;
    use openssl::pkey::PKey;
    let rsa = PKey::from_rsa(openssl::rsa::Rsa::generate(2048).unwrap()).unwrap();
    let p384 = PKey::from_ec_key(
        EcKey::generate(&EcGroup::from_curve_name(Nid::SECP384R1).unwrap()).unwrap(),
    )
    .unwrap();
    let rsa_key = Jwk::from_public_key(&rsa, Some("r"), None)
        .unwrap()
        .to_verification_key()
        .unwrap();
    let ec_key = Jwk::from_public_key(&p384, Some("e"), None)
        .unwrap()
        .to_verification_key()
        .unwrap();
    for alg in [Algorithm::RS384, Algorithm::RS512, Algorithm::PS256] {
        let t = sign(alg, "r", None, b"{}", &rsa).unwrap();
        assert_eq!(
            verify(&t, std::slice::from_ref(&rsa_key), &Algorithm::VERIFY)
                .unwrap()
                .alg,
            alg
        );
    }
    let t = sign(Algorithm::ES384, "e", None, b"{}", &p384).unwrap();
    assert_eq!(
        b64::decode(t.rsplit('.').next().unwrap()).unwrap().len(),
        96
    );
    assert!(verify(&t, &[ec_key], &Algorithm::VERIFY).is_ok());
}

#[test]
fn rfc7515_7_1_compact_form_needs_three_parts() {
    let k = SigningKey::generate(Algorithm::ES256).unwrap();
    for bad in ["", "a.b", "a.b.c.d", "!!.e30.AA"] {
        assert!(verify(bad, &keys_of(&k), &Algorithm::VERIFY).is_err());
    }
}
