//! Changing a registered app, as `kakehashi app set` and `PATCH apps/{id}`: name, icon,
//! audience and security class; for OIDC apps the redirect URIs, released claims,
//! back-channel logout URI, token endpoint authentication (with the JWKS for
//! `private_key_jwt`), access token format, ID token algorithm, post-logout redirect URIs,
//! launch URL and xAPI scopes; for SAML SPs new metadata (or ACS URL and entity id), what is
//! signed, the NameID, the released attributes and signed requests. Tenant admins.
//!
//! The form is `multipart/form-data` (it may carry an icon); a urlencoded post without the
//! icon is taken too.

use kakehashi_core::saml_idp::attributes::ReleasedAttribute;

use super::*;

fn select(name: &str, label: &str, current: &str, options: &[(&str, &str)]) -> String {
    let opts: String = options
        .iter()
        .map(|(v, l)| {
            format!(
                "<option value=\"{v}\"{}>{}</option>",
                if *v == current { " selected" } else { "" },
                esc(l)
            )
        })
        .collect();
    format!("<label for=\"{name}\">{label}</label><select id=\"{name}\" name=\"{name}\">{opts}</select>")
}

fn text(name: &str, label: &str, value: &str) -> String {
    format!(
        "<label for=\"{name}\">{label}</label><input id=\"{name}\" name=\"{name}\" type=\"text\" value=\"{}\">",
        esc(value)
    )
}

fn area(name: &str, label: &str, value: &str) -> String {
    format!(
        "<label for=\"{name}\">{label}</label><textarea id=\"{name}\" name=\"{name}\" rows=\"3\">{}</textarea>",
        esc(value)
    )
}

fn checks(name: &str, options: &[&str], on: &[String]) -> String {
    options
        .iter()
        .map(|r| {
            format!(
                "<label class=\"check\"><input type=\"checkbox\" name=\"{name}\" value=\"{r}\"{}> {r}</label>",
                if on.iter().any(|x| x == r) { " checked" } else { "" }
            )
        })
        .collect()
}

fn oidc_fields(lang: Lang, a: &kakehashi_core::apps::AppUpdated) -> String {
    let Some(s) = a.oidc.as_ref().filter(|_| a.app.protocol == "oidc") else {
        return String::new();
    };
    let method = s
        .token_auth_method
        .as_deref()
        .unwrap_or(if a.app.public_client {
            "none"
        } else {
            "client_secret_basic"
        });
    // A public client stays public: it has no choice of authentication.
    let auth = if a.app.public_client {
        String::new()
    } else {
        format!(
            "{}{}",
            select(
                "token_auth_method",
                t(
                    lang,
                    "トークンエンドポイントでの認証",
                    "Token endpoint authentication"
                ),
                method,
                &[
                    ("client_secret_basic", "client_secret_basic"),
                    ("client_secret_post", "client_secret_post"),
                    (
                        "private_key_jwt",
                        t(
                            lang,
                            "private_key_jwt（公開鍵。切り替えるとシークレットは使えなくなります）",
                            "private_key_jwt (public keys; the secret stops working)"
                        )
                    ),
                ]
            ),
            area(
                "jwks",
                t(
                    lang,
                    "private_key_jwtの公開鍵（JWK Set のJSON。空欄なら今のまま）",
                    "private_key_jwt public keys (JWK Set JSON; empty: kept)"
                ),
                ""
            ),
        )
    };
    format!(
        "<input type=\"hidden\" name=\"oidc\" value=\"1\">\
         <label for=\"redirect_uris\">{}</label>\
         <textarea id=\"redirect_uris\" name=\"redirect_uris\" rows=\"3\" required>{}</textarea>\
         <fieldset><legend>{}</legend>{}</fieldset>\
         <label for=\"backchannel_logout_uri\">{}</label>\
         <input id=\"backchannel_logout_uri\" name=\"backchannel_logout_uri\" type=\"url\" value=\"{}\">\
         {auth}{}{}{}{}{}",
        t(lang, "リダイレクトURI（1行に1つ）", "Redirect URIs (one per line)"),
        esc(&a.app.redirect_uris.join("\n")),
        t(lang, "渡す情報", "Claims released"),
        checks("release", &["name", "kana", "username", "email", "roster"], &s.release_claims),
        t(lang, "バックチャネルログアウトURI（任意、空にすると使わない）", "Back-channel logout URI (optional; empty: none)"),
        esc(s.backchannel_logout_uri.as_deref().unwrap_or("")),
        select(
            "token_format",
            t(lang, "アクセストークンの形式", "Access token format"),
            &s.access_token_format,
            &[("opaque", t(lang, "opaque（参照）", "Opaque (reference)")), ("jwt", t(lang, "JWT（RFC 9068）", "JWT (RFC 9068)"))]
        ),
        select(
            "id_token_alg",
            t(lang, "IDトークンの署名アルゴリズム", "ID token signing algorithm"),
            &s.id_token_alg,
            &[("RS256", "RS256"), ("ES256", "ES256")]
        ),
        area(
            "post_logout_redirect_uris",
            t(lang, "ログアウト後のリダイレクトURI（1行に1つ、任意）", "Post-logout redirect URIs (one per line, optional)"),
            &s.post_logout_redirect_uris.join("\n")
        ),
        text(
            "launch_url",
            t(lang, "ランチャーから開くURL（任意、空にすると使わない）", "Launch URL from the launcher (optional; empty: none)"),
            s.launch_url.as_deref().unwrap_or("")
        ),
        text(
            "xapi_scopes",
            t(lang, "xAPIのスコープ（カンマ区切り、任意）", "xAPI scopes (comma-separated, optional)"),
            &s.xapi_scopes.join(",")
        ),
    )
}

fn saml_fields(lang: Lang, a: &kakehashi_core::apps::AppUpdated) -> String {
    let Some(s) = a.saml.as_ref().filter(|_| a.app.protocol == "saml") else {
        return String::new();
    };
    let attributes: Vec<&str> = ReleasedAttribute::ALL.iter().map(|a| a.key()).collect();
    format!(
        "<input type=\"hidden\" name=\"saml\" value=\"1\">\
         <fieldset><legend>{l_sp}</legend>{metadata}{acs}{entity}</fieldset>\
         {sign}{name_id}<fieldset><legend>{l_attrs}</legend>{attrs}</fieldset>\
         <label class=\"check\"><input type=\"checkbox\" name=\"saml_require_signed_requests\" value=\"on\"{req}> {l_req}</label>",
        l_sp = t(lang, "SPの情報（メタデータを入れるか、ACS URLとエンティティIDを直す）", "The SP (new metadata, or a changed ACS URL and entity id)"),
        metadata = area(
            "saml_metadata",
            t(lang, "新しいSPメタデータ（XML。空欄なら今のまま）", "New SP metadata (XML; empty: kept)"),
            ""
        ),
        acs = text("saml_acs_url", t(lang, "ACS URL", "ACS URL"), a.app.saml_acs_url.as_deref().unwrap_or("")),
        entity = text("saml_entity_id", t(lang, "エンティティID", "Entity id"), a.app.saml_entity_id.as_deref().unwrap_or("")),
        sign = select(
            "saml_sign",
            t(lang, "署名する部分", "What is signed"),
            &s.sign,
            &[("both", t(lang, "応答とアサーションの両方", "Response and assertion")), ("response", t(lang, "応答", "Response")), ("assertion", t(lang, "アサーション", "Assertion"))]
        ),
        name_id = select(
            "saml_name_id",
            "NameID",
            &s.name_id,
            &[("persistent", t(lang, "persistent（SPごとに別のID）", "Persistent (one per SP)")), ("username", t(lang, "ユーザー名", "Username"))]
        ),
        l_attrs = t(lang, "渡す属性", "Attributes released"),
        attrs = checks("saml_attributes", &attributes, &s.attributes),
        req = if s.require_signed_requests { " checked" } else { "" },
        l_req = t(lang, "署名のない認証要求（AuthnRequest）を断る", "Refuse unsigned AuthnRequests"),
    )
}

fn edit_form(c: &Ctx, a: &kakehashi_core::apps::AppUpdated, message: &str) -> String {
    let lang = c.lang;
    let icon_note = match &a.app.icon_type {
        Some(kind) => format!(
            "<label class=\"check\"><input type=\"checkbox\" name=\"icon_remove\" value=\"on\"> {} ({})</label>",
            t(lang, "今のアイコンを外す", "Remove the current icon"),
            esc(kind)
        ),
        None => String::new(),
    };
    format!(
        "{message}<dl class=\"record\"><dt>ID</dt><dd><code>{id}</code></dd>\
         <dt>{l_protocol}</dt><dd>{protocol}</dd></dl>\
         <form class=\"inline\" method=\"post\" enctype=\"multipart/form-data\" action=\"{base}/apps/{id_url}{lq}\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <label for=\"name\">{l_name}</label><input id=\"name\" name=\"name\" type=\"text\" value=\"{name}\" required>\
         <label for=\"icon\">{l_icon}</label><input id=\"icon\" name=\"icon\" type=\"file\" accept=\"image/png,image/jpeg,image/webp\">{icon_note}\
         {class}{audience}{oidc}{saml}\
         <button type=\"submit\">{save}</button></form>\n\
         <p><a class=\"button\" href=\"{base}/apps{lq}\">{back}</a></p>",
        l_name = t(lang, "名前", "Name"),
        name = esc(&a.app.name),
        l_icon = t(lang, "アイコン（PNG・JPEG・WebP、256KBまで。空欄なら今のまま）", "Icon (PNG, JPEG or WebP, up to 256 KB; empty: kept)"),
        id = esc(&a.app.id),
        id_url = url_encode(&a.app.id),
        l_protocol = t(lang, "方式", "Protocol"),
        protocol = esc(&a.app.protocol),
        base = c.base(),
        lq = lq(lang, true),
        csrf = esc(&c.csrf),
        class = select(
            "security_class",
            t(lang, "区分", "Security class"),
            &a.app.security_class,
            &[("learning", t(lang, "学習系", "Learning")), ("school-affairs", t(lang, "校務系（二要素認証が必要）", "School affairs (second factor)"))]
        ),
        audience = select(
            "audience",
            t(lang, "使える人", "Audience"),
            &a.app.audience,
            &[("all", t(lang, "全員", "Everyone")), ("staff", t(lang, "教職員", "Staff")), ("teachers", t(lang, "先生", "Teachers")), ("students", t(lang, "児童生徒", "Pupils"))]
        ),
        oidc = oidc_fields(lang, a),
        saml = saml_fields(lang, a),
        save = t(lang, "保存する", "Save"),
        back = t(lang, "アプリの一覧へ", "Back to the apps"),
    )
}

pub async fn app_edit_page(
    State(st): State<AppState>,
    Path((raw, id)): Path<(String, String)>,
    Query(q): Query<Q>,
    headers: HeaderMap,
) -> Response {
    let c = ctx_or_return!(st, raw, q.lang.as_deref(), headers, "apps");
    match apps::get(&st.store, &c.by, &id).await {
        Ok(a) => {
            let saved = if q.done.as_deref() == Some("saved") {
                notice("info", t(c.lang, "保存しました。", "Saved."))
            } else {
                String::new()
            };
            c.page(
                StatusCode::OK,
                "apps",
                t(c.lang, "アプリの設定を変える", "Change an app"),
                &edit_form(&c, &a, &saved),
            )
        }
        Err(e) => c.error("apps", e),
    }
}

/// The form's text fields and its icon file (multipart), or its fields (urlencoded).
fn form_fields(headers: &HeaderMap, body: &[u8]) -> (Vec<(String, String)>, Option<Vec<u8>>) {
    let boundary = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(multipart::boundary);
    match boundary.and_then(|b| multipart::parse(body, &b)) {
        Some(parts) => {
            let mut icon = None;
            let mut pairs = Vec::new();
            for p in parts {
                if p.name == "icon" {
                    icon = Some(p.data).filter(|d| !d.is_empty());
                } else {
                    pairs.push((p.name, String::from_utf8_lossy(&p.data).into_owned()));
                }
            }
            (pairs, icon)
        }
        None => (
            url::form_urlencoded::parse(body).into_owned().collect(),
            None,
        ),
    }
}

/// The stored app with the form's values as sent (to show a refused form again); the icon,
/// JWKS and metadata fields come back empty, as they are shown.
fn as_typed(
    mut a: kakehashi_core::apps::AppUpdated,
    p: &apps::AppPatch,
) -> kakehashi_core::apps::AppUpdated {
    let set = |to: &mut String, v: &Option<String>| {
        if let Some(v) = v {
            *to = v.clone();
        }
    };
    set(&mut a.app.name, &p.name);
    set(&mut a.app.audience, &p.audience);
    set(&mut a.app.security_class, &p.security_class);
    if let Some(u) = &p.redirect_uris {
        a.app.redirect_uris = u.clone();
    }
    if p.saml_acs_url.is_some() {
        a.app.saml_acs_url = p.saml_acs_url.clone();
    }
    if p.saml_entity_id.is_some() {
        a.app.saml_entity_id = p.saml_entity_id.clone();
    }
    if let Some(o) = a.oidc.as_mut() {
        if let Some(r) = &p.release {
            o.release_claims = r.clone();
        }
        if let Some(u) = &p.backchannel_logout_uri {
            o.backchannel_logout_uri = Some(u.clone()).filter(|u| !u.is_empty());
        }
        if p.token_auth_method.is_some() {
            o.token_auth_method = p.token_auth_method.clone();
        }
        set(&mut o.access_token_format, &p.token_format);
        set(&mut o.id_token_alg, &p.id_token_alg);
        if let Some(u) = &p.post_logout_redirect_uris {
            o.post_logout_redirect_uris = u.clone();
        }
        if let Some(u) = &p.launch_url {
            o.launch_url = Some(u.clone()).filter(|u| !u.is_empty());
        }
        if let Some(x) = &p.xapi_scopes {
            o.xapi_scopes = x.clone();
        }
    }
    if let Some(sp) = a.saml.as_mut() {
        set(&mut sp.sign, &p.saml_sign);
        set(&mut sp.name_id, &p.saml_name_id);
        if let Some(list) = &p.saml_attributes {
            sp.attributes = list.clone();
        }
        if let Some(r) = p.saml_require_signed_requests {
            sp.require_signed_requests = r;
        }
    }
    a
}

pub async fn app_update(
    State(st): State<AppState>,
    Path((raw, id)): Path<(String, String)>,
    Query(q): Query<Q>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let c = ctx_or_return!(st, raw, q.lang.as_deref(), headers, "apps");
    let (pairs, icon) = form_fields(&headers, &body);
    let one = |k: &str| form_value(&pairs, k, false);
    let all = |k: &str| -> Vec<String> {
        pairs
            .iter()
            .filter(|(name, _)| name == k)
            .map(|(_, v)| v.clone())
            .collect()
    };
    let lines = |k: &str| -> Vec<String> {
        one(k)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    };
    if !csrf_ok(&c, one("csrf").as_deref()) {
        return forbidden_form(&c);
    }
    let current = match apps::get(&st.store, &c.by, &id).await {
        Ok(a) => a,
        Err(e) => return c.error("apps", e),
    };
    let oidc = one("oidc").is_some();
    let saml = one("saml").is_some();
    // The ACS URL and entity id are sent as shown: only a changed one is a change (an
    // unchanged pair must not replace the SP's metadata).
    let changed = |k: &str, now: &Option<String>| {
        one(k).filter(|v| Some(v.trim()) != now.as_deref().map(str::trim))
    };
    let icon_base64 = match icon {
        Some(bytes) => Some(base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            bytes,
        )),
        None if one("icon_remove").is_some() => Some(String::new()),
        None => None,
    };
    let patch = apps::AppPatch {
        name: one("name"),
        icon_base64,
        audience: one("audience"),
        security_class: one("security_class"),
        redirect_uris: oidc.then(|| lines("redirect_uris")),
        release: oidc.then(|| all("release")),
        // An emptied field removes the URI.
        backchannel_logout_uri: oidc.then(|| one("backchannel_logout_uri").unwrap_or_default()),
        token_auth_method: one("token_auth_method").filter(|_| oidc),
        jwks: one("jwks").filter(|_| oidc).map(serde_json::Value::String),
        token_format: one("token_format").filter(|_| oidc),
        id_token_alg: one("id_token_alg").filter(|_| oidc),
        post_logout_redirect_uris: oidc.then(|| lines("post_logout_redirect_uris")),
        launch_url: oidc.then(|| one("launch_url").unwrap_or_default()),
        xapi_scopes: oidc.then(|| {
            one("xapi_scopes")
                .unwrap_or_default()
                .split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        }),
        saml_metadata: one("saml_metadata").filter(|_| saml),
        saml_acs_url: changed("saml_acs_url", &current.app.saml_acs_url).filter(|_| saml),
        saml_entity_id: changed("saml_entity_id", &current.app.saml_entity_id).filter(|_| saml),
        saml_sign: one("saml_sign").filter(|_| saml),
        saml_name_id: one("saml_name_id").filter(|_| saml),
        saml_attributes: saml.then(|| all("saml_attributes")),
        saml_require_signed_requests: saml.then(|| one("saml_require_signed_requests").is_some()),
    };
    let typed = as_typed(current, &patch);
    match apps::update(&st.store, &SystemClock, &c.by, &id, patch).await {
        // This node drops its copies at once; other nodes see it within `core::cache::TTL`.
        Ok(_) => {
            st.cache.forget_tenant(&c.tenant);
            see_other(
                &format!(
                    "{}/apps/{}?done=saved{}",
                    c.base(),
                    url_encode(&id),
                    if c.lang == Lang::En { "&lang=en" } else { "" }
                ),
                &[],
            )
        }
        Err(ConsoleError::Invalid(m)) => c.page(
            StatusCode::BAD_REQUEST,
            "apps",
            t(c.lang, "アプリの設定を変える", "Change an app"),
            // The form again with what was typed (nothing was saved), the problem above it.
            &edit_form(&c, &typed, &notice("error", &m)),
        ),
        Err(e) => c.error("apps", e),
    }
}
