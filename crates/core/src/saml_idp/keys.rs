//! The tenant's SAML IdP signing key: RSA 2048 for RSA-SHA256, with a self-signed X.509
//! certificate that SPs pin from our metadata (SAML Metadata 2.4.1.1: the certificate is a
//! key carrier; its validity dates are not what SPs trust). Created on first use by whichever
//! node needs it first, sealed with the master key (AES-256-GCM, bound to its row) like the
//! OIDC keyring, so every node sharing the database signs with the same key.
//!
//! Rotation never hands an SP a certificate it could not have fetched: there is always a
//! `next` key, published in the metadata beside the `current` one before it ever signs.
//! [`rotate`] makes `next` current (refused until it has been published long enough for SPs
//! to refresh their copy of our metadata), keeps the old key published as `retired` for a
//! while, and publishes a new `next`.

use kakehashi_saml::metadata::idp::IdpMetadata;
use kakehashi_saml::{Certificate, SigningKey};
use kakehashi_store::saml::{self as stored, IdpKeyRow};
use kakehashi_store::{Store, StoreError, TenantId};
use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::rsa::Rsa;
use openssl::x509::{X509NameBuilder, X509};

use super::{IdpUrls, SamlIdpError};
use crate::data_dir::MasterKey;
use crate::keyring::KeyringError;
use crate::{Actor, Clock};

/// How long the self-signed certificate says it is valid (SPs pin it; see the module docs).
const CERT_DAYS: u32 = 3650;

fn key_err(e: impl std::fmt::Display) -> SamlIdpError {
    SamlIdpError::Keyring(KeyringError::Key(e.to_string()))
}

fn context(tenant: &TenantId, kid: &str) -> String {
    format!("saml-idp-key:{tenant}:{kid}")
}

/// A new key and certificate, sealed.
fn new_row(
    master: &MasterKey,
    tenant: &TenantId,
    state: &str,
    now: i64,
    at: &str,
) -> Result<IdpKeyRow, SamlIdpError> {
    let rsa = Rsa::generate(2048).map_err(key_err)?;
    let key = PKey::from_rsa(rsa).map_err(key_err)?;
    let mut name = X509NameBuilder::new().map_err(key_err)?;
    name.append_entry_by_text("O", "Kakehashi")
        .map_err(key_err)?;
    name.append_entry_by_text("CN", &format!("Kakehashi SAML IdP {tenant}"))
        .map_err(key_err)?;
    let name = name.build();
    let mut serial = BigNum::new().map_err(key_err)?;
    serial
        .rand(127, MsbOption::MAYBE_ZERO, false)
        .map_err(key_err)?;
    let mut b = X509::builder().map_err(key_err)?;
    b.set_version(2).map_err(key_err)?;
    let serial = serial.to_asn1_integer().map_err(key_err)?;
    b.set_serial_number(&serial).map_err(key_err)?;
    b.set_subject_name(&name).map_err(key_err)?;
    b.set_issuer_name(&name).map_err(key_err)?;
    b.set_pubkey(&key).map_err(key_err)?;
    let not_before = Asn1Time::days_from_now(0).map_err(key_err)?;
    let not_after = Asn1Time::days_from_now(CERT_DAYS).map_err(key_err)?;
    b.set_not_before(&not_before).map_err(key_err)?;
    b.set_not_after(&not_after).map_err(key_err)?;
    b.sign(&key, MessageDigest::sha256()).map_err(key_err)?;
    let cert = b.build();
    let der = cert.to_der().map_err(key_err)?;
    let kid = hex::encode(&openssl::sha::sha256(&der)[..16]);
    let pkcs8 = key.private_key_to_pkcs8().map_err(key_err)?;
    Ok(IdpKeyRow {
        private_key_sealed: master.seal(&pkcs8, &context(tenant, &kid))?,
        certificate_pem: String::from_utf8(cert.to_pem().map_err(key_err)?).map_err(key_err)?,
        kid,
        state: state.to_owned(),
        published_at: now,
        retired_until: None,
        created_at: at.to_owned(),
    })
}

fn complete(rows: &[IdpKeyRow]) -> bool {
    ["current", "next"]
        .iter()
        .all(|st| rows.iter().any(|r| r.state == *st))
}

/// The rows of the tenant's keys, creating a current and a next key when missing (first use,
/// or after a rotation). Safe to call from several nodes at once (the creation is serialised
/// and re-checked under the lock).
async fn rows(
    store: &Store,
    master: &MasterKey,
    clock: &dyn Clock,
    tenant: &TenantId,
) -> Result<Vec<IdpKeyRow>, SamlIdpError> {
    let mut conn = store.pool().acquire().await.map_err(StoreError::from)?;
    let found = stored::idp_keys(&mut conn, tenant).await?;
    drop(conn);
    if complete(&found) {
        return Ok(found);
    }
    let mut tx = store.begin().await?;
    stored::lock_idp_keys(&mut tx, store.backend(), tenant).await?;
    let mut found = stored::idp_keys(&mut tx, tenant).await?;
    let now = clock.now().unix_timestamp();
    for state in ["current", "next"] {
        if !found.iter().any(|r| r.state == state) {
            let row = new_row(master, tenant, state, now, &clock.now_text())?;
            stored::insert_idp_key(&mut tx, tenant, &row).await?;
            found.push(row);
        }
    }
    tx.commit().await.map_err(StoreError::from)?;
    Ok(found)
}

/// The key that signs the tenant's Responses and Assertions.
pub async fn signing_key(
    store: &Store,
    master: &MasterKey,
    clock: &dyn Clock,
    tenant: &TenantId,
) -> Result<SigningKey, SamlIdpError> {
    let rows = rows(store, master, clock, tenant).await?;
    let row = rows
        .iter()
        .find(|r| r.state == "current")
        .ok_or_else(|| key_err("no current SAML signing key"))?;
    let der = master.unseal(&row.private_key_sealed, &context(tenant, &row.kid))?;
    let key = PKey::private_key_from_pkcs8(&der).map_err(key_err)?;
    let cert = Certificate::from_pem(row.certificate_pem.as_bytes())?;
    Ok(SigningKey::new(key, cert)?)
}

/// The certificates published in the metadata: the current one first, then the next one,
/// then retired ones until their time is up.
pub async fn published_certificates(
    store: &Store,
    master: &MasterKey,
    clock: &dyn Clock,
    tenant: &TenantId,
) -> Result<Vec<Certificate>, SamlIdpError> {
    let now = clock.now().unix_timestamp();
    let rows = rows(store, master, clock, tenant).await?;
    let mut out = Vec::new();
    for state in ["current", "next", "retired"] {
        for r in rows.iter().filter(|r| r.state == state) {
            if state == "retired" && r.retired_until.is_none_or(|u| u <= now) {
                continue;
            }
            out.push(Certificate::from_pem(r.certificate_pem.as_bytes())?);
        }
    }
    Ok(out)
}

/// Makes the next key current (refused until it has been published for
/// `min_published_secs`), keeps the old current key published for `retired_secs`, and
/// publishes a new next key. Audited as `saml.keys.rotate`. Returns the new current kid.
pub async fn rotate(
    store: &Store,
    master: &MasterKey,
    clock: &dyn Clock,
    actor: &Actor,
    tenant: &TenantId,
    min_published_secs: i64,
    retired_secs: i64,
) -> Result<String, SamlIdpError> {
    rows(store, master, clock, tenant).await?;
    let now = clock.now().unix_timestamp();
    let at = clock.now_text();
    let mut tx = store.begin().await?;
    stored::lock_idp_keys(&mut tx, store.backend(), tenant).await?;
    let found = stored::idp_keys(&mut tx, tenant).await?;
    let (Some(current), Some(next)) = (
        found.iter().find(|r| r.state == "current"),
        found.iter().find(|r| r.state == "next"),
    ) else {
        return Err(key_err("the tenant has no current and next SAML key"));
    };
    let published_for = now - next.published_at;
    if published_for < min_published_secs {
        return Err(SamlIdpError::Invalid(format!(
            "the next SAML key has been in the metadata for {published_for} s, less than \
             {min_published_secs} s: SPs may not have it yet; try again later"
        )));
    }
    stored::set_idp_key_state(
        &mut tx,
        tenant,
        &current.kid,
        "retired",
        Some(now + retired_secs),
    )
    .await?;
    stored::set_idp_key_state(&mut tx, tenant, &next.kid, "current", None).await?;
    stored::insert_idp_key(&mut tx, tenant, &new_row(master, tenant, "next", now, &at)?).await?;
    kakehashi_store::audit::append(
        &mut tx,
        store.backend(),
        Some(tenant),
        &at,
        &kakehashi_store::audit::Event {
            actor: actor.0.clone(),
            action: "saml.keys.rotate".into(),
            target: format!("saml-key:{}", next.kid),
            details: serde_json::json!({ "retired": current.kid, "retiredUntil": now + retired_secs }),
        },
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(next.kid.clone())
}

/// The tenant's IdP metadata document (SAML Metadata 2.4.3), valid for a week so that SPs
/// refresh it and will see a next certificate in time once rotation exists.
pub async fn metadata_xml(
    store: &Store,
    master: &MasterKey,
    clock: &dyn Clock,
    tenant: &TenantId,
    public_url: &str,
) -> Result<String, SamlIdpError> {
    let urls = IdpUrls::of(public_url, tenant);
    let md = IdpMetadata {
        entity_id: urls.entity_id,
        sso_url: urls.sso_url,
        slo_url: Some(urls.slo_url),
        signing_certificates: published_certificates(store, master, clock, tenant).await?,
        want_authn_requests_signed: false,
        valid_until: Some(clock.now() + time::Duration::days(7)),
    };
    Ok(md.to_xml()?)
}
