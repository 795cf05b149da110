//! Passwords: argon2id hashing (PHC strings), the length policy, and setting a user's
//! password (audited). Plain passwords are never stored, logged or exported.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use kakehashi_store::roster::find_user_by_username;
use kakehashi_store::{audit, identity, Store, StoreError, TenantId};

use crate::{Actor, Clock};

/// OWASP's argon2id baseline (m = 19 MiB, t = 2, p = 1): about 25 ms a hash on one core.
fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("no active user {username:?} in tenant {tenant}")]
    UnknownUser { tenant: TenantId, username: String },
    #[error("the password is too short: at least {min} characters for a {role}")]
    TooShort { min: usize, role: String },
    #[error("the password must not begin or end with spaces or hold control characters")]
    BadCharacters,
    #[error("password hashing failed: {0}")]
    Hashing(String),
    #[error("the system random source failed: {0}")]
    Random(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Minimum length by role: pupils (from age 6) get a shorter minimum, and the login throttle
/// protects them; staff, who reach school-affairs data, a longer one.
pub fn min_length(role: &str) -> usize {
    match role {
        "student" | "guardian" | "parent" | "relative" => 4,
        _ => 8,
    }
}

pub fn check_policy(password: &str, role: &str) -> Result<(), PasswordError> {
    if password.trim() != password || password.chars().any(char::is_control) {
        return Err(PasswordError::BadCharacters);
    }
    let min = min_length(role);
    if password.chars().count() < min {
        return Err(PasswordError::TooShort {
            min,
            role: if role.is_empty() { "user" } else { role }.to_owned(),
        });
    }
    Ok(())
}

/// An argon2id PHC string for `password` with a fresh random salt.
pub fn hash(password: &str) -> Result<String, PasswordError> {
    let mut salt = [0u8; 16];
    getrandom::getrandom(&mut salt).map_err(|e| PasswordError::Random(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| PasswordError::Hashing(e.to_string()))?;
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hashing(e.to_string()))
}

/// `true` when `password` matches the PHC string (constant-time inside argon2).
pub fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| hasher().verify_password(password.as_bytes(), &h).is_ok())
        .unwrap_or(false)
}

/// Hashes many passwords on every core (imports can carry thousands).
pub fn hash_many(passwords: &[(String, String)]) -> Result<Vec<(String, String)>, PasswordError> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = passwords.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = passwords
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    part.iter()
                        .map(|(id, pw)| Ok((id.clone(), hash(pw)?)))
                        .collect::<Result<Vec<_>, PasswordError>>()
                })
            })
            .collect();
        let mut out = Vec::with_capacity(passwords.len());
        for h in handles {
            out.extend(
                h.join()
                    .map_err(|_| PasswordError::Hashing("a hashing thread panicked".into()))??,
            );
        }
        Ok(out)
    })
}

/// Sets a user's password (teacher/admin use), audited without the password.
pub async fn set_password(
    store: &Store,
    clock: &dyn Clock,
    actor: &Actor,
    tenant: &TenantId,
    username: &str,
    password: &str,
) -> Result<(), PasswordError> {
    let user = find_user_by_username(store, tenant, username)
        .await?
        .ok_or_else(|| PasswordError::UnknownUser {
            tenant: tenant.clone(),
            username: username.to_owned(),
        })?;
    check_policy(password, &user.role)?;
    let phc = hash(password)?;
    let at = clock.now_text();
    let mut tx = store.begin().await?;
    identity::set_password_hash(&mut tx, tenant, &user.sourced_id, &phc, &at).await?;
    audit::append(
        &mut tx,
        store.backend(),
        Some(tenant),
        &at,
        &audit::Event {
            actor: actor.0.clone(),
            action: "user.password.set".into(),
            target: format!("user:{}", user.sourced_id),
            details: serde_json::json!({ "username": username }),
        },
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_argon2id_and_verifies() {
        let h = hash("とても秘密🔑pass").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify("とても秘密🔑pass", &h));
        assert!(!verify("とても秘密🔑pas", &h));
        assert!(!verify("x", "not a phc string"));
        assert_ne!(h, hash("とても秘密🔑pass").unwrap(), "salted");
    }

    #[test]
    fn policy_by_role() {
        assert!(check_policy("abcd", "student").is_ok());
        assert!(matches!(
            check_policy("abc", "student"),
            Err(PasswordError::TooShort { min: 4, .. })
        ));
        assert!(matches!(
            check_policy("abcdefg", "teacher"),
            Err(PasswordError::TooShort { min: 8, .. })
        ));
        assert!(check_policy("abcdefgh", "teacher").is_ok());
        assert!(matches!(
            check_policy(" abcdefgh", "teacher"),
            Err(PasswordError::BadCharacters)
        ));
    }

    #[test]
    fn hash_many_keeps_ids() {
        let input: Vec<(String, String)> = (0..5)
            .map(|i| (format!("u{i}"), format!("pw-{i}xx")))
            .collect();
        let out = hash_many(&input).unwrap();
        assert_eq!(out.len(), 5);
        for ((id, pw), (id2, h)) in input.iter().zip(&out) {
            assert_eq!(id, id2);
            assert!(verify(pw, h));
        }
    }
}
