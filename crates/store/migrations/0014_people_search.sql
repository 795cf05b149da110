-- The people search pages by (match key, username) (crates/store/src/people_search.rs): each
-- searched column is read in that order from the prefix (or the cursor) on, so a page costs a
-- page of index rows however many people share a common family name. These replace the
-- single-column indexes of migration 11, which left every match to be read and sorted.
-- Partial like users_username: only active people are searched.
DROP INDEX users_family_name;
DROP INDEX users_given_name;
DROP INDEX users_kana_family_name;
DROP INDEX users_kana_given_name;
CREATE INDEX users_search_family_name ON users (tenant_id, family_name, username) WHERE active = 1;
CREATE INDEX users_search_given_name ON users (tenant_id, given_name, username) WHERE active = 1;
CREATE INDEX users_search_kana_family_name ON users (tenant_id, kana_family_name, username) WHERE active = 1;
CREATE INDEX users_search_kana_given_name ON users (tenant_id, kana_given_name, username) WHERE active = 1;
