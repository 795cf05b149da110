//! Changing a registered app: audience, security class, redirect URIs, released claims and
//! back-channel logout URI (OIDC), as `kakehashi app set` and `PATCH apps/{id}`. Tenant admins.

use super::*;

fn edit_form(c: &Ctx, a: &kakehashi_core::apps::AppUpdated, message: &str) -> String {
    let lang = c.lang;
    let select = |name: &str, label: &str, current: &str, options: &[(&str, &str)]| {
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
    };
    let oidc = match &a.oidc {
        Some(s) if a.app.protocol == "oidc" => {
            let release: String = ["name", "kana", "username", "email", "roster"]
                .iter()
                .map(|r| {
                    format!(
                        "<label class=\"check\"><input type=\"checkbox\" name=\"release\" value=\"{r}\"{}> {r}</label>",
                        if s.release_claims.iter().any(|x| x == r) { " checked" } else { "" }
                    )
                })
                .collect();
            format!(
                "<input type=\"hidden\" name=\"oidc\" value=\"1\">\
                 <label for=\"redirect_uris\">{}</label>\
                 <textarea id=\"redirect_uris\" name=\"redirect_uris\" rows=\"3\" required>{}</textarea>\
                 <fieldset><legend>{}</legend>{release}</fieldset>\
                 <label for=\"backchannel_logout_uri\">{}</label>\
                 <input id=\"backchannel_logout_uri\" name=\"backchannel_logout_uri\" type=\"url\" value=\"{}\">",
                t(lang, "リダイレクトURI（1行に1つ）", "Redirect URIs (one per line)"),
                esc(&a.app.redirect_uris.join("\n")),
                t(lang, "渡す情報", "Claims released"),
                t(lang, "バックチャネルログアウトURI（任意、空にすると使わない）", "Back-channel logout URI (optional; empty: none)"),
                esc(s.backchannel_logout_uri.as_deref().unwrap_or("")),
            )
        }
        _ => String::new(),
    };
    format!(
        "{message}<dl class=\"record\"><dt>{l_name}</dt><dd>{name}</dd><dt>ID</dt><dd><code>{id}</code></dd>\
         <dt>{l_protocol}</dt><dd>{protocol}</dd></dl>\
         <form class=\"inline\" method=\"post\" action=\"{base}/apps/{id_url}{lq}\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">{class}{audience}{oidc}\
         <button type=\"submit\">{save}</button></form>\n\
         <p><a class=\"button\" href=\"{base}/apps{lq}\">{back}</a></p>",
        l_name = t(lang, "名前", "Name"),
        name = esc(&a.app.name),
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

pub async fn app_update(
    State(st): State<AppState>,
    Path((raw, id)): Path<(String, String)>,
    Query(q): Query<Q>,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let c = ctx_or_return!(st, raw, q.lang.as_deref(), headers, "apps");
    let one = |k: &str| {
        pairs
            .iter()
            .find(|(name, v)| name == k && !v.is_empty())
            .map(|(_, v)| v.clone())
    };
    if !csrf_ok(&c, one("csrf").as_deref()) {
        return forbidden_form(&c);
    }
    let oidc = one("oidc").is_some();
    let patch = apps::AppPatch {
        audience: one("audience"),
        security_class: one("security_class"),
        redirect_uris: oidc.then(|| {
            one("redirect_uris")
                .unwrap_or_default()
                .lines()
                .map(str::to_owned)
                .collect()
        }),
        release: oidc.then(|| {
            pairs
                .iter()
                .filter(|(k, _)| k == "release")
                .map(|(_, v)| v.clone())
                .collect()
        }),
        // An emptied field removes the URI.
        backchannel_logout_uri: oidc.then(|| one("backchannel_logout_uri").unwrap_or_default()),
    };
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
        Err(ConsoleError::Invalid(m)) => match apps::get(&st.store, &c.by, &id).await {
            Ok(a) => c.page(
                StatusCode::BAD_REQUEST,
                "apps",
                t(c.lang, "アプリの設定を変える", "Change an app"),
                &edit_form(&c, &a, &notice("error", &m)),
            ),
            Err(e) => c.error("apps", e),
        },
        Err(e) => c.error("apps", e),
    }
}
