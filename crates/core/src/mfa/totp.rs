//! TOTP authenticator apps (RFC 6238 over RFC 4226 HOTP: HMAC-SHA1, 6 digits, 30-second
//! steps). Off by default per tenant: an authenticator app usually lives on a private phone,
//! which the school-affairs rules mean not to depend on; a board that issues devices with one
//! may turn it on. The shared secret is sealed with the master key; a code is accepted for
//! the current step or one step either side (RFC 6238 §5.2 network delay), and each step once
//! (§5.2: "MUST NOT accept the second attempt of the same OTP").

use kakehashi_store::{audit, mfa as stored, Store, StoreError};
use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::sign::Signer;
use time::OffsetDateTime;

use super::factors::{self, Method};
use super::{policy, webauthn, MfaError};
use crate::data_dir::MasterKey;
use crate::portal::session::PortalSession;
use crate::Clock;

/// RFC 6238 §4.1 X: the step length.
pub const STEP_SECS: i64 = 30;
const DIGITS: u32 = 6;

/// RFC 4226 §5.3: HOTP(K, C) with dynamic truncation, `digits` long.
pub fn hotp(secret: &[u8], counter: u64, digits: u32) -> Option<u32> {
    let key = PKey::hmac(secret).ok()?;
    let mac = Signer::new(MessageDigest::sha1(), &key)
        .ok()?
        .sign_oneshot_to_vec(&counter.to_be_bytes())
        .ok()?;
    let offset = usize::from(*mac.last()? & 0x0f);
    let bin = u32::from_be_bytes(mac.get(offset..offset + 4)?.try_into().ok()?) & 0x7fff_ffff;
    Some(bin % 10u32.pow(digits))
}

/// RFC 6238 §4.2: the time step of `now`.
pub fn step_of(now: OffsetDateTime) -> i64 {
    now.unix_timestamp().div_euclid(STEP_SECS)
}

/// The step (current, or one either side) whose code is `code`, if any.
pub fn matching_step(secret: &[u8], code: &str, now: OffsetDateTime) -> Option<i64> {
    let code = code.trim();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let wanted: u32 = code.parse().ok()?;
    let current = step_of(now);
    [current, current - 1, current + 1].into_iter().find(|&s| {
        u64::try_from(s)
            .ok()
            .and_then(|c| hotp(secret, c, DIGITS))
            .is_some_and(|v| v == wanted)
    })
}

/// The code of `secret` at `now` (what the user's app shows; for tests and support tools).
pub fn code_at(secret: &[u8], now: OffsetDateTime) -> String {
    let c = u64::try_from(step_of(now)).unwrap_or(0);
    format!("{:06}", hotp(secret, c, DIGITS).unwrap_or(0))
}

/// RFC 4648 §6 base32 without padding (what authenticator apps take).
pub fn base32(bytes: &[u8]) -> String {
    const A: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    let (mut buf, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buf = (buf << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(A[((buf >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(A[((buf << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// Decodes [`base32`] (case-insensitive, padding and spaces ignored).
pub fn from_base32(s: &str) -> Option<Vec<u8>> {
    let (mut buf, mut bits, mut out) = (0u32, 0u32, Vec::new());
    for c in s.chars().filter(|c| !c.is_whitespace() && *c != '=') {
        let v = match c.to_ascii_uppercase() {
            c @ 'A'..='Z' => c as u32 - 'A' as u32,
            c @ '2'..='7' => c as u32 - '2' as u32 + 26,
            _ => return None,
        };
        buf = (buf << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
        }
    }
    Some(out)
}

fn context(session: &PortalSession) -> String {
    format!("totp:{}:{}", session.tenant, session.user.sourced_id)
}

/// What the user types into the authenticator app.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Enrolment {
    /// base32 secret.
    pub secret: String,
    /// `otpauth://totp/…` (Key Uri Format) for apps that take a link or a QR code.
    pub uri: String,
}

/// Starts enrolling a TOTP app for the session's user (the tenant must allow TOTP; adding a
/// factor follows `webauthn::may_enrol`). The enrolment counts once a code is verified.
pub async fn begin(
    store: &Store,
    clock: &dyn Clock,
    master: &MasterKey,
    session: &PortalSession,
) -> Result<Enrolment, MfaError> {
    let pol = policy::load(store, &session.tenant).await?;
    if !pol.totp_enabled {
        return Err(MfaError::EnrolmentNotAllowed(
            "authenticator apps (TOTP) are not enabled in this tenant",
        ));
    }
    let existing = factors::of_user(store, &session.tenant, &session.user.sourced_id).await?;
    webauthn::may_enrol(session, existing.any(), &pol, clock.now())?;
    let mut secret = [0u8; 20];
    getrandom::getrandom(&mut secret).map_err(|e| MfaError::Random(e.to_string()))?;
    let sealed = master
        .seal(&secret, &context(session))
        .map_err(|e| MfaError::Random(e.to_string()))?;
    let at = clock.now_text();
    let mut tx = store.begin().await?;
    stored::put_totp(
        &mut tx,
        &session.tenant,
        &session.user.sourced_id,
        &sealed,
        &at,
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    let b32 = base32(&secret);
    let label = format!("Kakehashi:{}", session.user.username);
    Ok(Enrolment {
        uri: format!(
            "otpauth://totp/{}?secret={b32}&issuer=Kakehashi&algorithm=SHA1&digits=6&period=30",
            label.replace(' ', "%20")
        ),
        secret: b32,
    })
}

/// Verifies a code from the user's TOTP app; a right code confirms a pending enrolment and
/// records `otp` on the session. Audited either way.
pub async fn verify(
    store: &Store,
    clock: &dyn Clock,
    master: &MasterKey,
    session: &PortalSession,
    code: &str,
) -> Result<bool, MfaError> {
    factors::code_attempt_allowed(store, session, clock.now()).await?;
    let Some(row) = stored::totp_of(store, &session.tenant, &session.user.sourced_id).await? else {
        return Ok(false);
    };
    let secret = master
        .unseal(&row.secret_sealed, &context(session))
        .map_err(|e| MfaError::Random(e.to_string()))?;
    let at = clock.now_text();
    let step = matching_step(&secret, code, clock.now());
    let mut tx = store.begin().await?;
    let ok = match step {
        Some(s) => {
            stored::use_totp_step(&mut tx, &session.tenant, &session.user.sourced_id, s).await?
        }
        None => false,
    };
    if ok {
        factors::record(&mut tx, store, session, &[Method::Otp], &at).await?;
    }
    factors::count_code(&mut tx, session, ok, clock.now()).await?;
    audit::append(
        &mut tx,
        store.backend(),
        Some(&session.tenant),
        &at,
        &audit::Event {
            actor: factors::actor_of(session),
            action: if ok {
                "mfa.totp.verified"
            } else {
                "mfa.totp.failed"
            }
            .into(),
            target: format!("user:{}", session.user.sourced_id),
            details: serde_json::json!({ "enrolment": !row.confirmed }),
        },
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC_SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn rfc_4226_appendix_d_hotp_values() {
        let expected = [755224, 287082, 359152, 969429, 338314, 254676];
        for (c, want) in expected.iter().enumerate() {
            assert_eq!(hotp(RFC_SECRET, c as u64, 6), Some(*want), "counter {c}");
        }
    }

    #[test]
    fn rfc_6238_appendix_b_sha1_values() {
        for (t, want) in [
            (59, 94287082),
            (1111111109, 7081804),
            (1234567890, 89005924),
            (2000000000, 69279037),
        ] {
            let step = step_of(OffsetDateTime::from_unix_timestamp(t).unwrap());
            assert_eq!(hotp(RFC_SECRET, step as u64, 8), Some(want), "T={t}");
        }
    }

    #[test]
    fn a_code_matches_its_step_and_one_either_side_only() {
        let now = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let code = code_at(RFC_SECRET, now);
        assert_eq!(matching_step(RFC_SECRET, &code, now), Some(step_of(now)));
        let later = now + time::Duration::seconds(30);
        assert_eq!(matching_step(RFC_SECRET, &code, later), Some(step_of(now)));
        let much_later = now + time::Duration::seconds(90);
        assert_eq!(matching_step(RFC_SECRET, &code, much_later), None);
        assert_eq!(matching_step(RFC_SECRET, "12345", now), None);
        assert_eq!(matching_step(RFC_SECRET, "abcdef", now), None);
    }

    #[test]
    fn rfc_4648_base32_round_trips() {
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(from_base32("mzxw6ytboi======").unwrap(), b"foobar");
        assert_eq!(from_base32(&base32(RFC_SECRET)).unwrap(), RFC_SECRET);
        assert!(from_base32("0189").is_none());
    }
}
