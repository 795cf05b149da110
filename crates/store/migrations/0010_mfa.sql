-- Multi-factor authentication: per-tenant security policy, WebAuthn credentials, ceremony
-- state between the two requests of a WebAuthn ceremony, backup codes, the devices a user has
-- signed in from, and when a session last proved a second factor. Portable SQL (see 0001).

-- One row per tenant that changed the defaults of kakehashi_core::mfa::policy. The policy is
-- JSON (typed and validated in core), so a new setting needs no new migration.
CREATE TABLE tenant_security_policy (
    tenant_id   TEXT PRIMARY KEY REFERENCES tenants(id),
    policy      TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

-- A registered WebAuthn credential (security key or platform authenticator). `credential_id`
-- is base64url; `credential` is webauthn-rs's serialised credential (public key, counter,
-- flags). Several per user, each named by its owner.
CREATE TABLE webauthn_credentials (
    tenant_id        TEXT NOT NULL REFERENCES tenants(id),
    credential_id    TEXT NOT NULL,
    user_sourced_id  TEXT NOT NULL,
    name             TEXT NOT NULL,
    kind             TEXT NOT NULL,
    aaguid           TEXT NOT NULL,
    attestation      TEXT NOT NULL,
    user_verified    BIGINT NOT NULL,
    discoverable     BIGINT NOT NULL,
    credential       TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    last_used_at     TEXT,
    PRIMARY KEY (tenant_id, credential_id)
);
CREATE INDEX webauthn_credentials_user ON webauthn_credentials (tenant_id, user_sourced_id);

-- The server half of a WebAuthn ceremony between its start and finish requests, kept in the
-- database so that any node can finish what another started. One per portal session and kind;
-- consumed (deleted) by the finish request.
CREATE TABLE webauthn_ceremonies (
    tenant_id     TEXT NOT NULL REFERENCES tenants(id),
    session_hash  TEXT NOT NULL,
    kind          TEXT NOT NULL,
    state         TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    PRIMARY KEY (tenant_id, session_hash, kind)
);

-- One-time backup codes: only their SHA-256 is stored; `used_at` is set by the one
-- conditional UPDATE that redeems a code.
CREATE TABLE mfa_backup_codes (
    tenant_id        TEXT NOT NULL REFERENCES tenants(id),
    user_sourced_id  TEXT NOT NULL,
    code_hash        TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    used_at          TEXT,
    PRIMARY KEY (tenant_id, code_hash)
);
CREATE INDEX mfa_backup_codes_user ON mfa_backup_codes (tenant_id, user_sourced_id);

-- A user's TOTP authenticator (RFC 6238; off by default per tenant). The shared secret is
-- sealed with the master key (AES-256-GCM, bound to the tenant and user); `last_step` is the
-- last time step accepted, so a code cannot be used twice.
CREATE TABLE totp_secrets (
    tenant_id        TEXT NOT NULL REFERENCES tenants(id),
    user_sourced_id  TEXT NOT NULL,
    secret_sealed    TEXT NOT NULL,
    confirmed        BIGINT NOT NULL,
    last_step        BIGINT NOT NULL,
    created_at       TEXT NOT NULL,
    PRIMARY KEY (tenant_id, user_sourced_id)
);

-- Devices a user has signed in from (the risk engine's "new device" signal): the SHA-256 of
-- the id in the signed device cookie.
CREATE TABLE known_devices (
    tenant_id        TEXT NOT NULL REFERENCES tenants(id),
    user_sourced_id  TEXT NOT NULL,
    device_hash      TEXT NOT NULL,
    first_seen_at    TEXT NOT NULL,
    last_seen_at     TEXT NOT NULL,
    PRIMARY KEY (tenant_id, user_sourced_id, device_hash)
);

-- When the session last proved a second factor (NULL: never). Step-up compares it with the
-- tenant's freshness window.
ALTER TABLE portal_sessions ADD COLUMN second_factor_at TEXT;
