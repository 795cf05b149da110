//! A user's claims as the provider knows them (names, kana, username, email, roster place),
//! `sub` per client, and the release filter per app (OIDC Core 5.4, 5.5, 8).

use std::collections::BTreeMap;

use kakehashi_oidc::authorize::{ClaimRequest, ClaimsRequest};
use kakehashi_oidc::claims::{self, ClassRef, RosterClaims, SchoolRef, UserProfile, KANA_TAG};
use kakehashi_store::oauth as stored;
use kakehashi_store::roster::{self, UserRow};
use serde_json::{Map, Value};

use super::clients::{RegisteredClient, Release};
use super::{OAuthServiceError, Provider};

/// The tenant's pairwise salt (created on first use; never rotated).
pub async fn salt(p: &Provider<'_>) -> Result<String, OAuthServiceError> {
    // Written once and never changed: cached.
    if let Some(salt) = p.cache.salts.get(p.tenant) {
        return Ok(salt);
    }
    let salt = stored::pairwise_salt(
        p.store,
        p.tenant,
        &super::random_value(),
        &p.clock.now_text(),
    )
    .await?;
    p.cache.salts.insert(p.tenant.clone(), salt.clone());
    Ok(salt)
}

/// `sub` for `user` as `client` sees it: pairwise per app (default) or the user's
/// `userMasterIdentifier` (OIDC Core 8). A user without a master identifier falls back to a
/// pairwise value rather than leaking the internal sourcedId.
pub fn subject_with_salt(client: &RegisteredClient, user: &UserRow, salt: &str) -> String {
    let pairwise =
        |sector: &str| claims::pairwise_subject(sector, &user.sourced_id, salt.as_bytes());
    match &client.policy.subject_type {
        kakehashi_oidc::SubjectType::Pairwise { sector_identifier } => pairwise(sector_identifier),
        kakehashi_oidc::SubjectType::Public => match &user.user_master_identifier {
            Some(umi) if !umi.is_empty() => umi.clone(),
            _ => pairwise(&format!("client:{}", client.app.id)),
        },
    }
}

/// [`subject_with_salt`] with the tenant's salt.
pub async fn subject(
    p: &Provider<'_>,
    client: &RegisteredClient,
    user: &UserRow,
) -> Result<String, OAuthServiceError> {
    Ok(subject_with_salt(client, user, &salt(p).await?))
}

fn field(fields_json: &str, name: &str) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_json::from_str(fields_json).ok()?;
    pairs
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
}

async fn record_field(
    p: &Provider<'_>,
    entity: &str,
    sourced_id: &str,
    name: &str,
) -> Result<Option<String>, OAuthServiceError> {
    Ok(stored::roster_fields(p.store, p.tenant, entity, sourced_id)
        .await?
        .and_then(|f| field(&f, name)))
}

/// The user's place in the roster: the school of their first class (or their org), the
/// grade of users.csv, their classes, their role.
async fn roster_claims(
    p: &Provider<'_>,
    user: &UserRow,
) -> Result<RosterClaims, OAuthServiceError> {
    let memberships = roster::memberships_of(p.store, p.tenant, &user.sourced_id).await?;
    let mut classes = Vec::new();
    for m in &memberships {
        let name = record_field(p, "classes", &m.class_sourced_id, "title")
            .await?
            .unwrap_or_default();
        classes.push(ClassRef {
            id: m.class_sourced_id.clone(),
            name,
        });
    }
    let school_id = match memberships.first() {
        Some(m) => Some(m.school_sourced_id.clone()),
        None => record_field(p, "users", &user.sourced_id, "orgSourcedIds")
            .await?
            .and_then(|ids| ids.split(',').next().map(|s| s.trim().to_owned())),
    };
    let school = match school_id {
        Some(id) => {
            let name = record_field(p, "orgs", &id, "name")
                .await?
                .unwrap_or_default();
            Some(SchoolRef { id, name })
        }
        None => None,
    };
    let grade = record_field(p, "users", &user.sourced_id, "grades")
        .await?
        .and_then(|g| g.split(',').next().map(|s| s.trim().to_owned()));
    Ok(RosterClaims {
        school,
        grade,
        classes,
        role: Some(user.role.clone()),
    })
}

/// Everything the provider may say about the user (before release filtering). Roster
/// lookups happen only when the app may receive them.
pub async fn profile_of(
    p: &Provider<'_>,
    client: &RegisteredClient,
    user: &UserRow,
) -> Result<UserProfile, OAuthServiceError> {
    let roster = if client.may_release(Release::Roster) {
        Some(roster_claims(p, user).await?)
    } else {
        None
    };
    Ok(UserProfile {
        family_name: Some(user.family_name.clone()).filter(|s| !s.is_empty()),
        given_name: Some(user.given_name.clone()).filter(|s| !s.is_empty()),
        family_name_kana: user.kana_family_name.clone().filter(|s| !s.is_empty()),
        given_name_kana: user.kana_given_name.clone().filter(|s| !s.is_empty()),
        preferred_username: Some(user.username.clone()),
        email: user.email.clone().filter(|s| !s.is_empty()),
        email_verified: user.email.as_ref().filter(|s| !s.is_empty()).map(|_| false),
        locale: Some("ja-JP".to_owned()),
        roster,
    })
}

/// Drops the half of the names the app may not see: kanji names (`name`, `family_name`,
/// `given_name`) and their kana readings (`…#ja-Kana-JP`) are separate switches.
pub fn split_names(released: &mut Map<String, Value>, client: &RegisteredClient) {
    let kana_suffix = format!("#{KANA_TAG}");
    released.retain(|name, _| {
        let is_name = matches!(
            name.split('#').next(),
            Some("name" | "family_name" | "given_name")
        );
        if !is_name {
            true
        } else if name.ends_with(&kana_suffix) {
            client.may_release(Release::Kana)
        } else {
            client.may_release(Release::Name)
        }
    });
}

/// The claims released to `client` (OIDC Core 5.3.2 userinfo, or 5.5 `claims.id_token`):
/// the app's policy and the granted scopes (or the `claims` request) decide.
pub async fn released_claims(
    p: &Provider<'_>,
    client: &RegisteredClient,
    user: &UserRow,
    sub: &str,
    scopes: &[String],
    requested: Option<&BTreeMap<String, Option<ClaimRequest>>>,
) -> Result<Map<String, Value>, OAuthServiceError> {
    let profile = profile_of(p, client, user).await?;
    let mut released =
        claims::release_claims(sub, &profile, scopes, requested, &client.release_policy());
    split_names(&mut released, client);
    Ok(released)
}

/// The userinfo response's claims.
pub async fn userinfo_claims(
    p: &Provider<'_>,
    client: &RegisteredClient,
    user: &UserRow,
    sub: &str,
    scopes: &[String],
    claims_request: Option<&ClaimsRequest>,
) -> Result<Map<String, Value>, OAuthServiceError> {
    released_claims(
        p,
        client,
        user,
        sub,
        scopes,
        claims_request.map(|c| &c.userinfo),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::clients::policy_of;
    use kakehashi_store::identity::AppRow;
    use kakehashi_store::oauth::OidcSettingsRow;

    fn client(release: &[Release]) -> RegisteredClient {
        let app = AppRow {
            id: "rp".into(),
            name: "RP".into(),
            protocol: "oidc".into(),
            security_class: "learning".into(),
            audience: "all".into(),
            public_client: true,
            client_secret_hash: None,
            redirect_uris: vec!["https://rp.example/cb".into()],
            saml_entity_id: None,
            saml_acs_url: None,
            saml_metadata: None,
            subject_type: "pairwise".into(),
            icon_type: None,
            icon_base64: None,
            created_at: String::new(),
        };
        let settings = OidcSettingsRow::default();
        RegisteredClient {
            policy: policy_of(&app, &settings).unwrap(),
            app,
            settings,
            release: release.to_vec(),
        }
    }

    fn all_names() -> Map<String, Value> {
        let mut m = Map::new();
        for k in [
            "sub",
            "name",
            "family_name",
            "name#ja-Kana-JP",
            "given_name#ja-Kana-JP",
            "locale",
        ] {
            m.insert(k.into(), Value::String("x".into()));
        }
        m
    }

    #[test]
    fn kanji_names_and_kana_are_separate_switches() {
        let mut m = all_names();
        split_names(&mut m, &client(&[Release::Kana]));
        let keys: Vec<&str> = m.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            ["given_name#ja-Kana-JP", "locale", "name#ja-Kana-JP", "sub"]
        );
        let mut m = all_names();
        split_names(&mut m, &client(&[Release::Name]));
        let keys: Vec<&str> = m.keys().map(String::as_str).collect();
        assert_eq!(keys, ["family_name", "locale", "name", "sub"]);
    }

    #[test]
    fn oidc_core_8_1_pairwise_sub_differs_per_app_on_one_host() {
        let user = UserRow {
            sourced_id: "u1".into(),
            username: "taro".into(),
            user_master_identifier: Some("0b9d6c3e-1111-4a2b-8c3d-123456789abc".into()),
            given_name: "太郎".into(),
            family_name: "山田".into(),
            kana_given_name: None,
            kana_family_name: None,
            role: "student".into(),
            email: None,
            enabled: true,
            active: true,
        };
        let a = client(&[]);
        let mut b = client(&[]);
        b.app.id = "rp2".into();
        b.policy = policy_of(&b.app, &b.settings).unwrap();
        let sa = subject_with_salt(&a, &user, "salt");
        assert_eq!(sa, subject_with_salt(&a, &user, "salt"), "stable");
        assert_ne!(sa, subject_with_salt(&b, &user, "salt"), "per app");
        assert_ne!(sa, "0b9d6c3e-1111-4a2b-8c3d-123456789abc");
        b.app.subject_type = "user-master-identifier".into();
        b.policy = policy_of(&b.app, &b.settings).unwrap();
        assert_eq!(
            subject_with_salt(&b, &user, "salt"),
            "0b9d6c3e-1111-4a2b-8c3d-123456789abc"
        );
    }
}
