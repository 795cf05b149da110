-- IdP-initiated Single Logout (SAML Profiles 4.4.3.3): when a user signs out of the portal,
-- the browser is sent to each SP that holds a session from it, one after another, with a
-- signed LogoutRequest; each SP answers with a LogoutResponse and the journey moves on.
-- `remaining` is the JSON list of SP sessions still to tell ({app_id, session_index,
-- name_id}); `awaiting` the ID of the LogoutRequest sent (its SP in `awaiting_app`);
-- `results` the JSON list of what each SP answered. Rows expire with the journey.
CREATE TABLE saml_logout_journeys (
    tenant_id        TEXT NOT NULL REFERENCES tenants(id),
    id               TEXT NOT NULL,
    user_sourced_id  TEXT NOT NULL,
    remaining        TEXT NOT NULL,
    awaiting         TEXT,
    awaiting_app     TEXT,
    results          TEXT NOT NULL,
    expires_at       BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
