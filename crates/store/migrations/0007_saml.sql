-- The SAML 2.0 IdP: its signing key per tenant, the AuthnRequest replay cache, requests
-- waiting for a login, pairwise NameIDs, SP sessions (for Single Logout) and the per-SP
-- settings. Portable SQL (see 0001): BIGINT integers, RFC 3339 UTC text instants, JSON text.
-- Expiry instants are unix seconds (BIGINT) so that comparisons never depend on text form.

-- The tenant's IdP signing key (RSA, for RSA-SHA256) and its self-signed X.509 certificate.
-- The private key (PKCS#8 DER) is sealed with the master key like `signing_keys`; every node
-- sharing the database signs with the same key. `state` is `next` (published in the metadata,
-- not yet signing), `current` (signs) or `retired` (published until `retired_until`).
CREATE TABLE saml_idp_keys (
    tenant_id          TEXT NOT NULL REFERENCES tenants(id),
    kid                TEXT NOT NULL,
    state              TEXT NOT NULL,
    published_at       BIGINT NOT NULL,
    retired_until      BIGINT,
    private_key_sealed TEXT NOT NULL,
    certificate_pem    TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    PRIMARY KEY (tenant_id, kid)
);

-- AuthnRequest IDs seen, per SP, until the request could no longer be accepted anyway
-- (IssueInstant + max age + clock skew). The primary key makes a second use fail.
CREATE TABLE saml_request_ids (
    tenant_id     TEXT NOT NULL REFERENCES tenants(id),
    sp_entity_id  TEXT NOT NULL,
    request_id    TEXT NOT NULL,
    expires_at    BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, sp_entity_id, request_id)
);
CREATE INDEX saml_request_ids_expiry ON saml_request_ids (tenant_id, expires_at);

-- An accepted AuthnRequest waiting for the user to log in (any node may finish it).
CREATE TABLE saml_pending (
    tenant_id   TEXT NOT NULL REFERENCES tenants(id),
    id          TEXT NOT NULL,
    app_id      TEXT NOT NULL,
    request     TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

-- Persistent pairwise NameIDs (SAML Core 8.3.7): one random value per (SP, user), kept for
-- as long as the user exists so the SP's account link survives the yearly rollover.
CREATE TABLE saml_name_ids (
    tenant_id        TEXT NOT NULL REFERENCES tenants(id),
    sp_entity_id     TEXT NOT NULL,
    user_sourced_id  TEXT NOT NULL,
    name_id          TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    PRIMARY KEY (tenant_id, sp_entity_id, user_sourced_id)
);
CREATE UNIQUE INDEX saml_name_ids_value ON saml_name_ids (tenant_id, sp_entity_id, name_id);

-- Each Response issued: the SessionIndex with the portal session it came from, so that
-- Single Logout can find the SP sessions to end.
CREATE TABLE saml_sp_sessions (
    tenant_id            TEXT NOT NULL REFERENCES tenants(id),
    session_index        TEXT NOT NULL,
    portal_session_hash  TEXT NOT NULL,
    app_id               TEXT NOT NULL,
    user_sourced_id      TEXT NOT NULL,
    name_id              TEXT NOT NULL,
    created_at           TEXT NOT NULL,
    PRIMARY KEY (tenant_id, session_index)
);
CREATE INDEX saml_sp_sessions_portal ON saml_sp_sessions (tenant_id, portal_session_hash);

-- Per-SP settings (docs/SAML.md): what to sign (`assertion`, `response`, `both`), the NameID
-- (`persistent` pairwise, or `username`), the attributes released (JSON list of names), and
-- whether AuthnRequests must be signed even when the SP's metadata does not say so.
ALTER TABLE apps ADD COLUMN saml_sign TEXT NOT NULL DEFAULT 'both';
ALTER TABLE apps ADD COLUMN saml_name_id TEXT NOT NULL DEFAULT 'persistent';
ALTER TABLE apps ADD COLUMN saml_attributes TEXT NOT NULL DEFAULT '[]';
ALTER TABLE apps ADD COLUMN saml_require_signed_requests BIGINT NOT NULL DEFAULT 0;
