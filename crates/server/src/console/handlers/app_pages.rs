//! The app catalog: list, register (the command line's options), remove; changing one is
//! `app_edit_pages`.

use super::*;

pub async fn apps_page(
    State(st): State<AppState>,
    Path(raw): Path<String>,
    Query(q): Query<Q>,
    headers: HeaderMap,
) -> Response {
    let c = ctx_or_return!(st, raw, q.lang.as_deref(), headers, "apps");
    let lang = c.lang;
    let page = match apps::list(&st.store, &c.by, q.after.as_deref(), None).await {
        Ok(p) => p,
        Err(e) => return c.error("apps", e),
    };
    let base = c.base();
    let rows: Vec<Vec<String>> = page
        .items
        .iter()
        .map(|a| {
            vec![
                esc(&a.name),
                esc(&a.protocol),
                esc(&a.security_class),
                esc(&a.audience),
                format!("<code>{}</code>", esc(&a.id)),
                format!(
                    // Test launch: the real launch route in a new window, as the admin
                    // themselves, under the same launch policy as the launcher's tile.
                    "<a href=\"/t/{}/launch/{}{}\" target=\"_blank\" rel=\"noopener\" \
                     aria-label=\"{} {} {}\">{}</a> \
                     <a href=\"{base}/apps/{}{}\" aria-label=\"{} {}\">{}</a>\
                     <form method=\"post\" action=\"{base}/apps/{}/remove{}\">\
                     <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
                     <button type=\"submit\" class=\"secondary\" aria-label=\"{} {}\">{}</button></form>",
                    esc(c.by.tenant.as_str()),
                    url_encode(&a.id),
                    lq(lang, true),
                    t(lang, "試しに開く", "Test launch"),
                    esc(&a.name),
                    t(lang, "（新しいウィンドウ）", "(new window)"),
                    t(lang, "試しに開く", "Test launch"),
                    url_encode(&a.id),
                    lq(lang, true),
                    t(lang, "変更", "Change"),
                    esc(&a.name),
                    t(lang, "変更", "Change"),
                    url_encode(&a.id),
                    lq(lang, true),
                    esc(&c.csrf),
                    t(lang, "削除", "Remove"),
                    esc(&a.name),
                    t(lang, "削除", "Remove"),
                ),
            ]
        })
        .collect();
    let body = format!(
        "{}\n{}\n{}",
        register_form(&c),
        table(
            t(lang, "登録済みのアプリ", "Registered apps"),
            &[
                t(lang, "名前", "Name"),
                t(lang, "方式", "Protocol"),
                t(lang, "区分", "Security class"),
                t(lang, "対象", "Audience"),
                "ID",
                t(lang, "操作", "Actions"),
            ],
            &rows,
            t(lang, "アプリはありません。", "No apps."),
        ),
        next_link(
            lang,
            &format!("{}/apps", c.base()),
            &[],
            ("after", page.next.as_deref())
        )
    );
    c.page(StatusCode::OK, "apps", t(lang, "アプリ", "Apps"), &body)
}

/// The registration form: the command line's `app add` options (without the icon and JWKS).
fn register_form(c: &Ctx) -> String {
    let lang = c.lang;
    let select = |name: &str, label: &str, options: &[(&str, &str)]| {
        let opts: String = options
            .iter()
            .map(|(v, l)| format!("<option value=\"{v}\">{}</option>", esc(l)))
            .collect();
        format!("<label for=\"{name}\">{label}</label><select id=\"{name}\" name=\"{name}\">{opts}</select>")
    };
    let text = |name: &str, label: &str| {
        format!("<label for=\"{name}\">{label}</label><input id=\"{name}\" name=\"{name}\" type=\"text\">")
    };
    let release: String = ["name", "kana", "username", "email", "roster"]
        .iter()
        .map(|r| {
            format!(
                "<label class=\"check\"><input type=\"checkbox\" name=\"release\" value=\"{r}\"> {r}</label>"
            )
        })
        .collect();
    format!(
        "<details class=\"register\"><summary>{summary}</summary>\
         <form class=\"inline\" method=\"post\" action=\"{base}/apps{lq}\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <label for=\"name\">{l_name}</label><input id=\"name\" name=\"name\" type=\"text\" required>\
         {protocol}{class}{audience}\
         <label for=\"redirect_uris\">{l_redirect}</label><textarea id=\"redirect_uris\" name=\"redirect_uris\" rows=\"3\"></textarea>\
         {launch}{backchannel}{format}\
         <fieldset><legend>{l_release}</legend>{release}</fieldset>\
         <label for=\"saml_metadata\">{l_metadata}</label><textarea id=\"saml_metadata\" name=\"saml_metadata\" rows=\"3\"></textarea>\
         {acs}{entity}\
         <button type=\"submit\">{submit}</button></form></details>",
        summary = t(lang, "アプリを登録する", "Register an app"),
        base = c.base(),
        lq = lq(lang, true),
        csrf = esc(&c.csrf),
        l_name = t(lang, "名前", "Name"),
        protocol = select("protocol", t(lang, "方式", "Protocol"), &[("oidc", "OpenID Connect"), ("saml", "SAML 2.0")]),
        class = select(
            "security_class",
            t(lang, "区分", "Security class"),
            &[("learning", t(lang, "学習系", "Learning")), ("school-affairs", t(lang, "校務系（二要素認証が必要）", "School affairs (second factor)"))]
        ),
        audience = select(
            "audience",
            t(lang, "使える人", "Audience"),
            &[("", t(lang, "区分による", "By class")), ("all", t(lang, "全員", "Everyone")), ("staff", t(lang, "教職員", "Staff")), ("teachers", t(lang, "先生", "Teachers")), ("students", t(lang, "児童生徒", "Pupils"))]
        ),
        l_redirect = t(lang, "リダイレクトURI（OIDC、1行に1つ）", "Redirect URIs (OIDC, one per line)"),
        launch = text("launch_url", t(lang, "起動URL（OIDC、任意）", "Launch URL (OIDC, optional)")),
        backchannel = text(
            "backchannel_logout_uri",
            t(lang, "バックチャネルログアウトURI（OIDC、任意）", "Back-channel logout URI (OIDC, optional)")
        ),
        format = select("token_format", t(lang, "アクセストークン（OIDC）", "Access tokens (OIDC)"), &[("", "opaque"), ("jwt", "JWT")]),
        l_release = t(lang, "渡す情報（OIDC）", "Claims released (OIDC)"),
        l_metadata = t(lang, "SPのメタデータXML（SAML）", "SP metadata XML (SAML)"),
        acs = text("saml_acs_url", t(lang, "ACS URL（SAML、メタデータがないとき）", "ACS URL (SAML, without metadata)")),
        entity = text("saml_entity_id", t(lang, "エンティティID（SAML、メタデータがないとき）", "Entity ID (SAML, without metadata)")),
        submit = t(lang, "登録する", "Register"),
    )
}

pub async fn app_register(
    State(st): State<AppState>,
    Path(raw): Path<String>,
    Query(q): Query<Q>,
    headers: HeaderMap,
    // A form with repeated `release` fields: every pair, in order.
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let c = ctx_or_return!(st, raw, q.lang.as_deref(), headers, "apps");
    let lang = c.lang;
    let one = |k: &str| form_value(&pairs, k, false);
    if !csrf_ok(&c, one("csrf").as_deref()) {
        return forbidden_form(&c);
    }
    let req = apps::AppRequest {
        name: one("name").unwrap_or_default(),
        protocol: one("protocol").unwrap_or_default(),
        security_class: one("security_class").unwrap_or_default(),
        audience: one("audience"),
        redirect_uris: one("redirect_uris")
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect(),
        saml_metadata: one("saml_metadata"),
        saml_acs_url: one("saml_acs_url"),
        saml_entity_id: one("saml_entity_id"),
        token_format: one("token_format"),
        release: pairs
            .iter()
            .filter(|(k, _)| k == "release")
            .map(|(_, v)| v.clone())
            .collect(),
        launch_url: one("launch_url"),
        backchannel_logout_uri: one("backchannel_logout_uri"),
        ..apps::AppRequest::default()
    };
    match apps::register(&st.store, &SystemClock, &c.by, &st.public_url, req).await {
        Ok(reg) => {
            let mut rows = vec![
                vec![esc(t(lang, "名前", "Name")), esc(&reg.app.name)],
                vec![
                    "issuer".into(),
                    format!("<code>{}</code>", esc(&reg.issuer)),
                ],
            ];
            if let Some(id) = &reg.client_id {
                rows.push(vec![
                    "client_id".into(),
                    format!("<code>{}</code>", esc(id)),
                ]);
            }
            if let Some(secret) = &reg.client_secret {
                rows.push(vec![
                    "client_secret".into(),
                    format!("<code>{}</code>", esc(secret)),
                ]);
            }
            if let Some(md) = &reg.idp_metadata_url {
                rows.push(vec![
                    t(lang, "IdPメタデータ", "IdP metadata").into(),
                    format!("<code>{}</code>", esc(md)),
                ]);
            }
            let body = format!(
                "{}\n{}",
                notice(
                    "info",
                    t(
                        lang,
                        "登録しました。クライアントシークレットはこのときだけ表示されます。",
                        "Registered. The client secret is shown only now.",
                    )
                ),
                table(
                    t(lang, "登録内容", "Registration"),
                    &[t(lang, "項目", "Item"), t(lang, "値", "Value")],
                    &rows,
                    ""
                ),
            );
            c.page(
                StatusCode::OK,
                "apps",
                t(lang, "アプリを登録しました", "App registered"),
                &body,
            )
        }
        Err(e) => c.error("apps", e),
    }
}

pub async fn app_remove(
    State(st): State<AppState>,
    Path((raw, id)): Path<(String, String)>,
    Query(q): Query<Q>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    let c = ctx_or_return!(st, raw, q.lang.as_deref(), headers, "apps");
    if !csrf_ok(&c, form.csrf.as_deref()) {
        return forbidden_form(&c);
    }
    match apps::remove(&st.store, &SystemClock, &c.by, &id).await {
        Ok(()) => see_other(
            &format!(
                "{}/apps{}",
                c.base(),
                if c.lang == Lang::En { "?lang=en" } else { "" }
            ),
            &[],
        ),
        Err(e) => c.error("apps", e),
    }
}
