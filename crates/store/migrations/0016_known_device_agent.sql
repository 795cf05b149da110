-- "My devices" on the console's own page (docs/CONSOLE.md): the user agent a known device last
-- signed in with, so that a person can tell their devices apart (NULL for devices remembered
-- before this migration). Set from the portal session's own user agent, at most 512 characters.
ALTER TABLE known_devices ADD COLUMN user_agent TEXT;
