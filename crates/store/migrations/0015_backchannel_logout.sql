-- OpenID Connect Back-Channel Logout 1.0. `apps.backchannel_logout_uri`: where the app takes
-- Logout Tokens (`app add --backchannel-logout-uri`); none: the app is not told.
-- `oidc_backchannel_logouts`: the Logout Tokens still to deliver. A row is written in the
-- transaction that ends the portal session's app sessions (one per app that received an ID
-- token in that session and has a back-channel URI); any node delivers it, claiming it first
-- by a conditional UPDATE of `next_attempt_at` (so two nodes never POST the same one at once),
-- and deletes it after success or the last attempt. `session_hash` is the portal session's
-- id hash (the `sid` is derived from it), `subject` the user's `sub` for that app.
-- `saml_logout_journeys.finish_url`: where the browser goes when the SAML SPs have all been
-- told (RP-Initiated Logout's post_logout_redirect_uri); none: the login page.
ALTER TABLE apps ADD COLUMN backchannel_logout_uri TEXT;
ALTER TABLE saml_logout_journeys ADD COLUMN finish_url TEXT;
CREATE TABLE oidc_backchannel_logouts (
    tenant_id        TEXT NOT NULL REFERENCES tenants(id),
    id               TEXT NOT NULL,
    client_id        TEXT NOT NULL,
    subject          TEXT NOT NULL,
    session_hash     TEXT NOT NULL,
    user_sourced_id  TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    next_attempt_at  BIGINT NOT NULL,
    attempts         BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX oidc_backchannel_logouts_due ON oidc_backchannel_logouts (next_attempt_at);
