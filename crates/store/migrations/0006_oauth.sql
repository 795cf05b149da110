-- The OpenID Provider's state: one-time authorization codes, access and refresh tokens,
-- the private_key_jwt replay cache, each tenant's pairwise salt, and the per-app OIDC
-- settings the catalog lacked. Portable SQL (see 0001): BIGINT integers (unix seconds for
-- protocol instants), RFC 3339 UTC text for audit-style instants, JSON as text.
-- Codes and tokens are stored only as their SHA-256 (hex): a copy of the database cannot be
-- replayed against the endpoints.

-- Per-app OIDC settings. NULL token_auth_method: client_secret_basic for a confidential
-- client, none for a public one.
ALTER TABLE apps ADD COLUMN token_auth_method TEXT;
ALTER TABLE apps ADD COLUMN client_jwks TEXT;
ALTER TABLE apps ADD COLUMN post_logout_redirect_uris TEXT NOT NULL DEFAULT '[]';
ALTER TABLE apps ADD COLUMN access_token_format TEXT NOT NULL DEFAULT 'opaque';
ALTER TABLE apps ADD COLUMN id_token_alg TEXT NOT NULL DEFAULT 'RS256';
ALTER TABLE apps ADD COLUMN release_claims TEXT NOT NULL DEFAULT '[]';
ALTER TABLE apps ADD COLUMN launch_url TEXT;

-- Authorization codes (RFC 6749 4.1.2): short-lived and one-time. `consumed_at` is set by a
-- single UPDATE ... WHERE consumed_at IS NULL, so two nodes cannot both redeem one code; a
-- second presentation finds it consumed and revokes the tokens of its family (RFC 6749
-- 4.1.2, 10.5). `family_id` is shared with the tokens issued from the code.
CREATE TABLE oauth_codes (
    tenant_id        TEXT NOT NULL REFERENCES tenants(id),
    code_hash        TEXT NOT NULL,
    family_id        TEXT NOT NULL,
    client_id        TEXT NOT NULL,
    user_sourced_id  TEXT NOT NULL,
    session_hash     TEXT,
    redirect_uri     TEXT NOT NULL,
    code_challenge   TEXT,
    nonce            TEXT,
    scopes           TEXT NOT NULL,
    claims           TEXT,
    auth_time        BIGINT NOT NULL,
    acr              TEXT NOT NULL,
    amr              TEXT NOT NULL,
    expires_at       BIGINT NOT NULL,
    consumed_at      BIGINT,
    created_at       TEXT NOT NULL,
    PRIMARY KEY (tenant_id, code_hash)
);
CREATE INDEX oauth_codes_expiry ON oauth_codes (tenant_id, expires_at);

-- Access tokens (opaque or JWT, both stored by hash so userinfo, introspection and
-- revocation work for either) and refresh tokens. A refresh token is rotated on use
-- (`rotated_at`); presenting a rotated one revokes the whole family (OAuth 2.0 Security
-- BCP, RFC 9700 4.14.2). `session_hash` records which portal session the tokens came from,
-- so portal logout can revoke them. `user_sourced_id` is NULL for client_credentials.
CREATE TABLE oauth_tokens (
    tenant_id        TEXT NOT NULL REFERENCES tenants(id),
    token_hash       TEXT NOT NULL,
    kind             TEXT NOT NULL,
    family_id        TEXT NOT NULL,
    client_id        TEXT NOT NULL,
    user_sourced_id  TEXT,
    session_hash     TEXT,
    subject          TEXT NOT NULL,
    scopes           TEXT NOT NULL,
    claims           TEXT,
    auth_time        BIGINT,
    acr              TEXT,
    amr              TEXT,
    jti              TEXT,
    issued_at        BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL,
    rotated_at       BIGINT,
    revoked_at       BIGINT,
    PRIMARY KEY (tenant_id, token_hash)
);
CREATE INDEX oauth_tokens_family ON oauth_tokens (tenant_id, family_id);
CREATE INDEX oauth_tokens_session ON oauth_tokens (tenant_id, session_hash);
CREATE INDEX oauth_tokens_expiry ON oauth_tokens (tenant_id, expires_at);

-- private_key_jwt assertion ids seen, until the assertion expires (OIDC Core 9: a jti is
-- used once), shared by every node.
CREATE TABLE oauth_assertion_jtis (
    tenant_id   TEXT NOT NULL REFERENCES tenants(id),
    client_id   TEXT NOT NULL,
    jti         TEXT NOT NULL,
    expires_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, client_id, jti)
);

-- The per-tenant secret of pairwise subjects (OIDC Core 8.1). Never rotated: rotating it
-- would change every pairwise `sub`.
CREATE TABLE oauth_tenant_secrets (
    tenant_id     TEXT PRIMARY KEY REFERENCES tenants(id),
    pairwise_salt TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
