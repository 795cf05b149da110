-- Platform settings and the tenants' token signing keys. Portable SQL (see 0001).

-- Platform-wide settings, e.g. the check value that tells a node whether it holds the same
-- master key as the node that set up the database.
CREATE TABLE settings (
    name   TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);

-- Signing keys per tenant. The private key (PKCS#8) is sealed with the master key
-- (AES-256-GCM); the public JWK is kept in clear for the JWKS document. `state` is next
-- (published, not yet signing), current (signs) or retired (published until retired_until).
CREATE TABLE signing_keys (
    tenant_id          TEXT NOT NULL REFERENCES tenants(id),
    kid                TEXT NOT NULL,
    alg                TEXT NOT NULL,
    state              TEXT NOT NULL,
    published_at       BIGINT NOT NULL,
    retired_until      BIGINT,
    private_key_sealed TEXT NOT NULL,
    public_jwk         TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    PRIMARY KEY (tenant_id, kid)
);
CREATE INDEX signing_keys_tenant ON signing_keys (tenant_id, state);
