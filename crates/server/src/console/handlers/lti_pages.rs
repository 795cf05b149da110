//! LTI 1.3 tools: list, register (the options of `kakehashi lti tool add`; the answer shows
//! what to configure in the tool), remove. Tenant admins.

use kakehashi_core::console::lti_tools::{self, ToolRequest};

use super::*;

pub async fn lti_page(
    State(st): State<AppState>,
    Path(raw): Path<String>,
    Query(q): Query<Q>,
    headers: HeaderMap,
) -> Response {
    let c = ctx_or_return!(st, raw, q.lang.as_deref(), headers, "lti");
    let lang = c.lang;
    let page = match lti_tools::list(&st.store, &c.by, q.after.as_deref(), None).await {
        Ok(p) => p,
        Err(e) => return c.error("lti", e),
    };
    let base = c.base();
    let rows: Vec<Vec<String>> = page
        .items
        .iter()
        .map(|tool| {
            let deployments: Vec<String> = tool
                .deployments
                .iter()
                .map(|d| match &d.school_sourced_id {
                    Some(s) => format!("<code>{}</code> ({})", esc(&d.deployment_id), esc(s)),
                    None => format!("<code>{}</code>", esc(&d.deployment_id)),
                })
                .collect();
            vec![
                esc(&tool.name),
                format!("<code>{}</code>", esc(&tool.client_id)),
                esc(&tool.tool.launch_url),
                deployments.join("<br>"),
                format!(
                    "<form method=\"post\" action=\"{base}/lti/{}/remove{}\">\
                     <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
                     <button type=\"submit\" class=\"secondary\" aria-label=\"{} {}\">{}</button></form>",
                    url_encode(&tool.client_id),
                    lq(lang, true),
                    esc(&c.csrf),
                    t(lang, "削除", "Remove"),
                    esc(&tool.name),
                    t(lang, "削除", "Remove"),
                ),
            ]
        })
        .collect();
    let done = if q.done.as_deref() == Some("removed") {
        notice("info", t(lang, "削除しました。", "Removed."))
    } else {
        String::new()
    };
    let body = format!(
        "{done}{}\n{}\n{}",
        register_form(&c),
        table(
            t(lang, "登録済みのLTIツール", "Registered LTI tools"),
            &[
                t(lang, "名前", "Name"),
                "client_id",
                t(lang, "起動URL", "Launch URL"),
                "deployment_id",
                t(lang, "操作", "Actions"),
            ],
            &rows,
            t(lang, "LTIツールはありません。", "No LTI tools."),
        ),
        next_link(
            lang,
            &format!("{base}/lti"),
            &[],
            ("after", page.next.as_deref())
        )
    );
    c.page(
        StatusCode::OK,
        "lti",
        t(lang, "LTIツール", "LTI tools"),
        &body,
    )
}

/// The registration form: `kakehashi lti tool add`'s options.
fn register_form(c: &Ctx) -> String {
    let lang = c.lang;
    let text = |name: &str, label: &str, required: bool| {
        format!(
            "<label for=\"{name}\">{label}</label><input id=\"{name}\" name=\"{name}\" type=\"text\"{}>",
            if required { " required" } else { "" }
        )
    };
    let area = |name: &str, label: &str| {
        format!("<label for=\"{name}\">{label}</label><textarea id=\"{name}\" name=\"{name}\" rows=\"3\"></textarea>")
    };
    let select = |name: &str, label: &str, options: &[(&str, &str)]| {
        let opts: String = options
            .iter()
            .map(|(v, l)| format!("<option value=\"{v}\">{}</option>", esc(l)))
            .collect();
        format!("<label for=\"{name}\">{label}</label><select id=\"{name}\" name=\"{name}\">{opts}</select>")
    };
    let check = |name: &str, label: &str| {
        format!("<label class=\"check\"><input type=\"checkbox\" name=\"{name}\" value=\"on\"> {label}</label>")
    };
    format!(
        "<details class=\"register\"><summary>{summary}</summary>\
         <form class=\"inline\" method=\"post\" action=\"{base}/lti{lq}\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         {name}{login}{launch}\
         <fieldset><legend>{l_keys}</legend>{jwks}{pem}</fieldset>\
         {dl}{redirects}{audience}{subject}\
         <fieldset><legend>{l_send}</legend>{send_name}{send_email}</fieldset>\
         {custom}{schools}\
         <button type=\"submit\">{submit}</button></form></details>",
        summary = t(lang, "LTIツールを登録する", "Register an LTI tool"),
        base = c.base(),
        lq = lq(lang, true),
        csrf = esc(&c.csrf),
        name = text("name", t(lang, "名前", "Name"), true),
        login = text("login_url", t(lang, "ログイン開始URL（OIDC login initiation）", "Login initiation URL"), true),
        launch = text("launch_url", t(lang, "起動URL（target link URI）", "Launch URL (target link URI)"), true),
        l_keys = t(lang, "ツールの公開鍵（どちらか一つ）", "The tool's public key (one of the two)"),
        jwks = text("jwks_url", t(lang, "JWKS URL", "JWKS URL"), false),
        pem = area("public_key_pem", t(lang, "RSA公開鍵（PEM）", "RSA public key (PEM)")),
        dl = text("deep_linking_url", t(lang, "ディープリンクURL（任意）", "Deep linking URL (optional)"), false),
        redirects = area("redirect_uris", t(lang, "追加のリダイレクトURI（1行に1つ、任意）", "Further redirect URIs (one per line, optional)")),
        audience = select(
            "audience",
            t(lang, "使える人", "Audience"),
            &[("all", t(lang, "全員", "Everyone")), ("staff", t(lang, "教職員", "Staff")), ("teachers", t(lang, "先生", "Teachers")), ("students", t(lang, "児童生徒", "Pupils"))]
        ),
        subject = select(
            "subject",
            t(lang, "ツールに渡す利用者ID（sub）", "The user id the tool receives (sub)"),
            &[("pairwise", t(lang, "ツールごとに別のID（pairwise）", "Pairwise (one per tool)")), ("user-master-identifier", t(lang, "共通のID（user master identifier）", "User master identifier"))]
        ),
        l_send = t(lang, "渡す情報", "Claims sent"),
        send_name = check("send_name", t(lang, "名前", "Name")),
        send_email = check("send_email", t(lang, "メールアドレス", "E-mail address")),
        custom = area("custom", t(lang, "カスタムパラメータ（名前=値、1行に1つ、任意）", "Custom parameters (NAME=VALUE, one per line, optional)")),
        schools = text("schools", t(lang, "学校ごとのデプロイメント（学校のsourcedId、カンマ区切り。空欄：全体で一つ）", "One deployment per school (school sourcedIds, comma-separated; empty: one for the tenant)"), false),
        submit = t(lang, "登録する", "Register"),
    )
}

pub async fn lti_register(
    State(st): State<AppState>,
    Path(raw): Path<String>,
    Query(q): Query<Q>,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let c = ctx_or_return!(st, raw, q.lang.as_deref(), headers, "lti");
    let lang = c.lang;
    let one = |k: &str| {
        pairs
            .iter()
            .find(|(name, v)| name == k && !v.trim().is_empty())
            .map(|(_, v)| v.clone())
    };
    if !csrf_ok(&c, one("csrf").as_deref()) {
        return forbidden_form(&c);
    }
    let mut custom = std::collections::BTreeMap::new();
    for line in one("custom").unwrap_or_default().lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            let m = match lang {
                Lang::Ja => {
                    format!("カスタムパラメータ: 「{line}」は 名前=値 の形で書いてください。")
                }
                Lang::En => format!("custom: write {line:?} as NAME=VALUE."),
            };
            return c.error("lti", ConsoleError::Invalid(m));
        };
        custom.insert(k.trim().to_owned(), v.trim().to_owned());
    }
    let req = ToolRequest {
        name: one("name").unwrap_or_default(),
        login_url: one("login_url").unwrap_or_default(),
        launch_url: one("launch_url").unwrap_or_default(),
        jwks_url: one("jwks_url"),
        public_key_pem: one("public_key_pem"),
        deep_linking_url: one("deep_linking_url"),
        redirect_uris: one("redirect_uris")
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect(),
        audience: one("audience"),
        subject: one("subject"),
        send_name: one("send_name").is_some(),
        send_email: one("send_email").is_some(),
        custom,
        schools: one("schools")
            .unwrap_or_default()
            .split(',')
            .map(str::to_owned)
            .collect(),
    };
    match lti_tools::register(&st.store, &SystemClock, &c.by, &st.public_url, req).await {
        Ok(reg) => {
            let code = |v: &str| format!("<code>{}</code>", esc(v));
            let mut rows = vec![
                vec![esc(t(lang, "名前", "Name")), esc(&reg.name)],
                vec!["client_id".into(), code(&reg.client_id)],
            ];
            for d in &reg.deployments {
                rows.push(vec![
                    match &d.school_sourced_id {
                        Some(s) => format!("deployment_id ({})", esc(s)),
                        None => "deployment_id".into(),
                    },
                    code(&d.deployment_id),
                ]);
            }
            rows.push(vec!["issuer".into(), code(&reg.issuer)]);
            rows.push(vec![
                "authorization_endpoint".into(),
                code(&reg.authorization_endpoint),
            ]);
            rows.push(vec!["token_endpoint".into(), code(&reg.token_endpoint)]);
            rows.push(vec!["jwks_uri".into(), code(&reg.jwks_uri)]);
            let body = format!(
                "{}\n{}\n<p><a class=\"button\" href=\"{}/lti{}\">{}</a></p>",
                notice(
                    "info",
                    t(
                        lang,
                        "登録しました。次の値をツールの側に設定してください。",
                        "Registered. Configure these values in the tool.",
                    )
                ),
                table(
                    t(lang, "ツールに設定する値", "Values for the tool"),
                    &[t(lang, "項目", "Item"), t(lang, "値", "Value")],
                    &rows,
                    ""
                ),
                c.base(),
                lq(lang, true),
                t(lang, "LTIツールの一覧へ", "Back to the LTI tools"),
            );
            c.page(
                StatusCode::OK,
                "lti",
                t(lang, "LTIツールを登録しました", "LTI tool registered"),
                &body,
            )
        }
        Err(e) => c.error("lti", e),
    }
}

pub async fn lti_remove(
    State(st): State<AppState>,
    Path((raw, id)): Path<(String, String)>,
    Query(q): Query<Q>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    let c = ctx_or_return!(st, raw, q.lang.as_deref(), headers, "lti");
    if !csrf_ok(&c, form.csrf.as_deref()) {
        return forbidden_form(&c);
    }
    match lti_tools::remove(&st.store, &SystemClock, &c.by, &id).await {
        Ok(()) => see_other(
            &format!(
                "{}/lti?done=removed{}",
                c.base(),
                if c.lang == Lang::En { "&lang=en" } else { "" }
            ),
            &[],
        ),
        Err(e) => c.error("lti", e),
    }
}
