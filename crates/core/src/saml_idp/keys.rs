//! The tenant's SAML IdP signing key: RSA 2048 for RSA-SHA256, with a self-signed X.509
//! certificate that SPs pin from our metadata (SAML Metadata 2.4.1.1: the certificate is a
//! key carrier; its validity dates are not what SPs trust). Created on first use by whichever
//! node needs it first, sealed with the master key (AES-256-GCM, bound to its row) like the
//! OIDC keyring, so every node sharing the database signs with the same key.
//!
//! Rotation is not implemented yet: it will publish a `next` certificate in the metadata
//! before signing with it (SPs refresh metadata on their own schedule).

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
use crate::Clock;

/// How long the self-signed certificate says it is valid (SPs pin it; see the module docs).
const CERT_DAYS: u32 = 3650;

fn key_err(e: impl std::fmt::Display) -> SamlIdpError {
    SamlIdpError::Keyring(KeyringError::Key(e.to_string()))
}

fn context(tenant: &TenantId, kid: &str) -> String {
    format!("saml-idp-key:{tenant}:{kid}")
}

/// A new key and certificate, sealed.
fn new_row(master: &MasterKey, tenant: &TenantId, at: &str) -> Result<IdpKeyRow, SamlIdpError> {
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
        state: "current".into(),
        created_at: at.to_owned(),
    })
}

/// The rows of the tenant's keys, creating the first one if there is none. Safe to call from
/// several nodes at once (the creation is serialised and re-checked under the lock).
async fn rows(
    store: &Store,
    master: &MasterKey,
    clock: &dyn Clock,
    tenant: &TenantId,
) -> Result<Vec<IdpKeyRow>, SamlIdpError> {
    let mut conn = store.pool().acquire().await.map_err(StoreError::from)?;
    let found = stored::idp_keys(&mut conn, tenant).await?;
    drop(conn);
    if found.iter().any(|r| r.state == "current") {
        return Ok(found);
    }
    let mut tx = store.begin().await?;
    stored::lock_idp_keys(&mut tx, store.backend(), tenant).await?;
    let mut found = stored::idp_keys(&mut tx, tenant).await?;
    if !found.iter().any(|r| r.state == "current") {
        let row = new_row(master, tenant, &clock.now_text())?;
        stored::insert_idp_key(&mut tx, tenant, &row).await?;
        found.push(row);
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

/// The certificates published in the metadata (every key not retired).
pub async fn published_certificates(
    store: &Store,
    master: &MasterKey,
    clock: &dyn Clock,
    tenant: &TenantId,
) -> Result<Vec<Certificate>, SamlIdpError> {
    rows(store, master, clock, tenant)
        .await?
        .iter()
        .filter(|r| r.state != "retired")
        .map(|r| Ok(Certificate::from_pem(r.certificate_pem.as_bytes())?))
        .collect()
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
