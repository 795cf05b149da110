-- Every way a portal session ends tells its apps (issue 4, "logout that ends every app session
-- it can"). `portal_sessions.idle_deadline`: when the session times out for want of activity
-- (unix seconds: last activity + its idle timeout), written with `last_seen_at`, so that the
-- expiry sweep (`kakehashi_core::portal::expiry`) finds idle sessions by index, as it finds
-- those past their absolute lifetime by `expires_at`. Sessions from before this migration
-- have none: the sweep finds them by `expires_at`, and their next use ends them as before.
-- `saml_logout_journeys.finish_post`: when an SP that takes its LogoutResponse by HTTP-POST
-- asked for the logout, the journey through the other SPs ends with that response (JSON:
-- destination, InResponseTo, RelayState; signed when the journey ends).
ALTER TABLE portal_sessions ADD COLUMN idle_deadline BIGINT;
CREATE INDEX portal_sessions_idle_deadline ON portal_sessions (idle_deadline);
CREATE INDEX portal_sessions_expires_at ON portal_sessions (expires_at);
ALTER TABLE saml_logout_journeys ADD COLUMN finish_post TEXT;
