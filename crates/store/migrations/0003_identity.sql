-- Identity: passwords and the tenant's application catalog. Portable SQL (see 0001).

-- Passwords as argon2id PHC strings, apart from the roster projection so that a roster
-- import never reads or exports them.
CREATE TABLE credentials (
    tenant_id        TEXT NOT NULL REFERENCES tenants(id),
    user_sourced_id  TEXT NOT NULL,
    password_hash    TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    PRIMARY KEY (tenant_id, user_sourced_id)
);

-- The applications a tenant's users can reach: OIDC relying parties and SAML service
-- providers, each with a security class and an audience.
CREATE TABLE apps (
    tenant_id           TEXT NOT NULL REFERENCES tenants(id),
    id                  TEXT NOT NULL,
    name                TEXT NOT NULL,
    protocol            TEXT NOT NULL,
    security_class      TEXT NOT NULL,
    audience            TEXT NOT NULL,
    public_client       BIGINT NOT NULL,
    client_secret_hash  TEXT,
    redirect_uris       TEXT NOT NULL,
    saml_entity_id      TEXT,
    saml_acs_url        TEXT,
    saml_metadata       TEXT,
    subject_type        TEXT NOT NULL,
    icon_type           TEXT,
    icon_base64         TEXT,
    created_at          TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX apps_saml_entity ON apps (tenant_id, saml_entity_id) WHERE saml_entity_id IS NOT NULL;
