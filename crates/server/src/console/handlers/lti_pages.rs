//! LTI 1.3 tools: list, register (the options of `kakehashi lti tool add`; the answer shows
//! what to configure in the tool), change (`lti tool set`), remove, and start a Dynamic
//! Registration (`lti tool register`: a link to the tool's registration page, opened in a new
//! window). Tenant admins.

use kakehashi_core::console::lti_tools::{self, ToolPatch, ToolRequest};
use kakehashi_core::lti::tools::{custom_parameters, further_redirect_uris, ToolListing};

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
            vec![
                esc(&tool.name),
                format!("<code>{}</code>", esc(&tool.client_id)),
                esc(&tool.tool.launch_url),
                deployments_html(tool),
                format!(
                    "<a class=\"button\" href=\"{base}/lti/{id}{lq}\" aria-label=\"{edit} {name}\">{edit}</a> \
                     <form method=\"post\" action=\"{base}/lti/{id}/remove{lq}\">\
                     <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
                     <button type=\"submit\" class=\"secondary\" aria-label=\"{remove} {name}\">{remove}</button></form>",
                    id = url_encode(&tool.client_id),
                    lq = lq(lang, true),
                    csrf = esc(&c.csrf),
                    edit = t(lang, "編集", "Edit"),
                    remove = t(lang, "削除", "Remove"),
                    name = esc(&tool.name),
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
        "{done}{}\n{}\n{}\n{}",
        register_form(&c),
        dynamic_form(&c),
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

/// The fields of `lti tool add` (registration, `current` None) or `lti tool set` (the edit
/// form, filled with the tool's settings; the key fields left empty keep the key).
fn tool_fields(c: &Ctx, current: Option<&ToolListing>) -> String {
    let lang = c.lang;
    let text = |name: &str, label: &str, value: &str, required: bool| {
        format!(
            "<label for=\"{name}\">{label}</label><input id=\"{name}\" name=\"{name}\" type=\"text\" value=\"{}\"{}>",
            esc(value),
            if required { " required" } else { "" }
        )
    };
    let area = |name: &str, label: &str, value: &str| {
        format!("<label for=\"{name}\">{label}</label><textarea id=\"{name}\" name=\"{name}\" rows=\"3\">{}</textarea>", esc(value))
    };
    let select = |name: &str, label: &str, value: &str, options: &[(&str, &str)]| {
        let opts: String = options
            .iter()
            .map(|(v, l)| {
                format!(
                    "<option value=\"{v}\"{}>{}</option>",
                    if *v == value { " selected" } else { "" },
                    esc(l)
                )
            })
            .collect();
        format!("<label for=\"{name}\">{label}</label><select id=\"{name}\" name=\"{name}\">{opts}</select>")
    };
    let check = |name: &str, label: &str, on: bool| {
        format!(
            "<label class=\"check\"><input type=\"checkbox\" name=\"{name}\" value=\"on\"{}> {label}</label>",
            if on { " checked" } else { "" }
        )
    };
    let v = |f: fn(&ToolListing) -> String| current.map(f).unwrap_or_default();
    let key_note = match current {
        None => String::new(),
        Some(cur) => {
            let now = match &cur.tool.jwks_url {
                Some(u) => format!(
                    "{} <code>{}</code>",
                    t(lang, "現在：JWKS URL", "Now: JWKS URL"),
                    esc(u)
                ),
                None => t(
                    lang,
                    "現在：登録済みのRSA公開鍵（PEM）",
                    "Now: a registered RSA public key (PEM)",
                )
                .to_owned(),
            };
            format!(
                "<p class=\"hint\">{now}。{}</p>",
                t(
                    lang,
                    "変えるときだけ入力してください（空欄なら今の鍵のまま）",
                    "Fill in only to change it (empty: the key is kept)"
                )
            )
        }
    };
    // Deployments are chosen at registration only.
    let schools = if current.is_none() {
        text("schools", t(lang, "学校ごとのデプロイメント（学校のsourcedId、カンマ区切り。空欄：全体で一つ）", "One deployment per school (school sourcedIds, comma-separated; empty: one for the tenant)"), "", false)
    } else {
        String::new()
    };
    format!(
        "{name}{login}{launch}\
         <fieldset><legend>{l_keys}</legend>{key_note}{jwks}{pem}</fieldset>\
         {dl}{redirects}{audience}{subject}\
         <fieldset><legend>{l_send}</legend>{send_name}{send_email}</fieldset>\
         {custom}{schools}",
        name = text(
            "name",
            t(lang, "名前", "Name"),
            &v(|c| c.name.clone()),
            true
        ),
        login = text(
            "login_url",
            t(
                lang,
                "ログイン開始URL（OIDC login initiation）",
                "Login initiation URL"
            ),
            &v(|c| c.tool.login_url.clone()),
            true
        ),
        launch = text(
            "launch_url",
            t(
                lang,
                "起動URL（target link URI）",
                "Launch URL (target link URI)"
            ),
            &v(|c| c.tool.launch_url.clone()),
            true
        ),
        l_keys = t(
            lang,
            "ツールの公開鍵（どちらか一つ）",
            "The tool's public key (one of the two)"
        ),
        jwks = text("jwks_url", t(lang, "JWKS URL", "JWKS URL"), "", false),
        pem = area(
            "public_key_pem",
            t(lang, "RSA公開鍵（PEM）", "RSA public key (PEM)"),
            ""
        ),
        dl = text(
            "deep_linking_url",
            t(
                lang,
                "ディープリンクURL（任意）",
                "Deep linking URL (optional)"
            ),
            &v(|c| c.tool.deep_linking_url.clone().unwrap_or_default()),
            false
        ),
        redirects = area(
            "redirect_uris",
            t(
                lang,
                "追加のリダイレクトURI（1行に1つ、任意）",
                "Further redirect URIs (one per line, optional)"
            ),
            &v(|c| further_redirect_uris(c).join("\n"))
        ),
        audience = select(
            "audience",
            t(lang, "使える人", "Audience"),
            &v(|c| c.audience.clone()),
            &[
                ("all", t(lang, "全員", "Everyone")),
                ("staff", t(lang, "教職員", "Staff")),
                ("teachers", t(lang, "先生", "Teachers")),
                ("students", t(lang, "児童生徒", "Pupils"))
            ]
        ),
        subject = select(
            "subject",
            t(
                lang,
                "ツールに渡す利用者ID（sub）",
                "The user id the tool receives (sub)"
            ),
            &v(|c| c.subject_type.clone()),
            &[
                (
                    "pairwise",
                    t(
                        lang,
                        "ツールごとに別のID（pairwise）",
                        "Pairwise (one per tool)"
                    )
                ),
                (
                    "user-master-identifier",
                    t(
                        lang,
                        "共通のID（user master identifier）",
                        "User master identifier"
                    )
                )
            ]
        ),
        l_send = t(lang, "渡す情報", "Claims sent"),
        send_name = check(
            "send_name",
            t(lang, "名前", "Name"),
            current.is_some_and(|c| c.tool.send_name)
        ),
        send_email = check(
            "send_email",
            t(lang, "メールアドレス", "E-mail address"),
            current.is_some_and(|c| c.tool.send_email)
        ),
        custom = area(
            "custom",
            t(
                lang,
                "カスタムパラメータ（名前=値、1行に1つ、任意）",
                "Custom parameters (NAME=VALUE, one per line, optional)"
            ),
            &v(|c| custom_parameters(&c.tool)
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("\n"))
        ),
    )
}

/// The registration form: `kakehashi lti tool add`'s options.
fn register_form(c: &Ctx) -> String {
    let lang = c.lang;
    format!(
        "<details class=\"register\"><summary>{summary}</summary>\
         <form class=\"inline\" method=\"post\" action=\"{base}/lti{lq}\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">{fields}\
         <button type=\"submit\">{submit}</button></form></details>",
        summary = t(lang, "LTIツールを登録する", "Register an LTI tool"),
        base = c.base(),
        lq = lq(lang, true),
        csrf = esc(&c.csrf),
        fields = tool_fields(c, None),
        submit = t(lang, "登録する", "Register"),
    )
}

/// Dynamic Registration: the tool's registration URL → a link to open it.
fn dynamic_form(c: &Ctx) -> String {
    let lang = c.lang;
    format!(
        "<details class=\"register dynamic\"><summary>{summary}</summary>\
         <form class=\"inline\" method=\"post\" action=\"{base}/lti/registrations{lq}\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <p class=\"hint\">{hint}</p>\
         <label for=\"registration_url\">{label}</label>\
         <input id=\"registration_url\" name=\"registration_url\" type=\"url\" required>\
         <button type=\"submit\">{submit}</button></form></details>",
        summary = t(lang, "ツールの登録URLから登録する（LTI Dynamic Registration）", "Register from the tool's registration URL (LTI Dynamic Registration)"),
        base = c.base(),
        lq = lq(lang, true),
        csrf = esc(&c.csrf),
        hint = t(
            lang,
            "ツールの説明書にある「登録URL（registration URL）」を入れると、ツールの登録画面を開くリンクを作ります。リンクは1時間、1回だけ使えます。",
            "Give the registration URL from the tool's documentation to get a link to its registration page. The link works once, within one hour.",
        ),
        label = t(lang, "ツールの登録URL", "The tool's registration URL"),
        submit = t(lang, "登録用のリンクを作る", "Make the registration link"),
    )
}

/// The custom parameters of the form (`NAME=VALUE` a line).
fn form_custom(
    lang: Lang,
    text: &str,
) -> Result<std::collections::BTreeMap<String, String>, ConsoleError> {
    let mut custom = std::collections::BTreeMap::new();
    for line in text.lines() {
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
            return Err(ConsoleError::Invalid(m));
        };
        custom.insert(k.trim().to_owned(), v.trim().to_owned());
    }
    Ok(custom)
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
    let one = |k: &str| form_value(&pairs, k, true);
    if !csrf_ok(&c, one("csrf").as_deref()) {
        return forbidden_form(&c);
    }
    let custom = match form_custom(lang, &one("custom").unwrap_or_default()) {
        Ok(c) => c,
        Err(e) => return c.error("lti", e),
    };
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

/// A tool's deployment ids (with the school of each per-school one).
fn deployments_html(tool: &ToolListing) -> String {
    tool.deployments
        .iter()
        .map(|d| match &d.school_sourced_id {
            Some(s) => format!("<code>{}</code> ({})", esc(&d.deployment_id), esc(s)),
            None => format!("<code>{}</code>", esc(&d.deployment_id)),
        })
        .collect::<Vec<_>>()
        .join("<br>")
}

fn edit_page(c: &Ctx, tool: &ToolListing, message: &str, status: StatusCode) -> Response {
    let lang = c.lang;
    let body = format!(
        "{message}<dl class=\"record\"><dt>client_id</dt><dd><code>{id}</code></dd>\
         <dt>deployment_id</dt><dd>{deployments}</dd></dl>\
         <form class=\"inline\" method=\"post\" action=\"{base}/lti/{id_url}{lq}\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">{fields}\
         <button type=\"submit\">{save}</button></form>\n\
         <p><a class=\"button\" href=\"{base}/lti{lq}\">{back}</a></p>",
        id = esc(&tool.client_id),
        deployments = deployments_html(tool),
        base = c.base(),
        id_url = url_encode(&tool.client_id),
        lq = lq(lang, true),
        csrf = esc(&c.csrf),
        fields = tool_fields(c, Some(tool)),
        save = t(lang, "保存する", "Save"),
        back = t(lang, "LTIツールの一覧へ", "Back to the LTI tools"),
    );
    c.page(
        status,
        "lti",
        t(lang, "LTIツールの設定を変える", "Change an LTI tool"),
        &body,
    )
}

pub async fn lti_edit_page(
    State(st): State<AppState>,
    Path((raw, id)): Path<(String, String)>,
    Query(q): Query<Q>,
    headers: HeaderMap,
) -> Response {
    let c = ctx_or_return!(st, raw, q.lang.as_deref(), headers, "lti");
    match lti_tools::get(&st.store, &c.by, &id).await {
        Ok(tool) => {
            let saved = if q.done.as_deref() == Some("saved") {
                notice("info", t(c.lang, "保存しました。", "Saved."))
            } else {
                String::new()
            };
            edit_page(&c, &tool, &saved, StatusCode::OK)
        }
        Err(e) => c.error("lti", e),
    }
}

pub async fn lti_update(
    State(st): State<AppState>,
    Path((raw, id)): Path<(String, String)>,
    Query(q): Query<Q>,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let c = ctx_or_return!(st, raw, q.lang.as_deref(), headers, "lti");
    let lang = c.lang;
    let one = |k: &str| form_value(&pairs, k, true);
    if !csrf_ok(&c, one("csrf").as_deref()) {
        return forbidden_form(&c);
    }
    // The form sends every field: an emptied one is sent empty (the deep linking URL is then
    // removed, a required one refused with its name), an unchecked box as false.
    let given = |k: &str| Some(one(k).unwrap_or_default());
    let result = match form_custom(lang, &one("custom").unwrap_or_default()) {
        Err(e) => Err(e),
        Ok(custom) => {
            let patch = ToolPatch {
                name: given("name"),
                login_url: given("login_url"),
                launch_url: given("launch_url"),
                deep_linking_url: given("deep_linking_url"),
                jwks_url: one("jwks_url"),
                public_key_pem: one("public_key_pem"),
                redirect_uris: Some(
                    one("redirect_uris")
                        .unwrap_or_default()
                        .lines()
                        .map(str::to_owned)
                        .collect(),
                ),
                audience: one("audience"),
                subject: one("subject"),
                send_name: Some(one("send_name").is_some()),
                send_email: Some(one("send_email").is_some()),
                custom: Some(custom),
            };
            lti_tools::update(&st.store, &SystemClock, &c.by, &id, patch).await
        }
    };
    match result {
        // This node drops its copies at once; other nodes see it within `core::cache::TTL`.
        Ok(_) => {
            st.cache.forget_tenant(&c.tenant);
            see_other(
                &format!(
                    "{}/lti/{}?done=saved{}",
                    c.base(),
                    url_encode(&id),
                    if lang == Lang::En { "&lang=en" } else { "" }
                ),
                &[],
            )
        }
        // The form again with what was typed (nothing was saved), the problem named above it.
        Err(ConsoleError::Invalid(m)) => match lti_tools::get(&st.store, &c.by, &id).await {
            Ok(tool) => edit_page(
                &c,
                &as_typed(tool, &one),
                &notice("error", &m),
                StatusCode::BAD_REQUEST,
            ),
            Err(e) => c.error("lti", e),
        },
        Err(e) => c.error("lti", e),
    }
}

/// The stored tool with the edit form's fields as typed (to show a refused form again).
fn as_typed(mut tool: ToolListing, one: &dyn Fn(&str) -> Option<String>) -> ToolListing {
    let typed = |k: &str| one(k).unwrap_or_default();
    tool.name = typed("name");
    tool.tool.login_url = typed("login_url");
    tool.tool.launch_url = typed("launch_url");
    tool.tool.deep_linking_url = one("deep_linking_url");
    tool.redirect_uris = typed("redirect_uris")
        .lines()
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect();
    if let Some(a) = one("audience") {
        tool.audience = a;
    }
    if let Some(s) = one("subject") {
        tool.subject_type = s;
    }
    tool.tool.send_name = one("send_name").is_some();
    tool.tool.send_email = one("send_email").is_some();
    // Line by line; a line that is not NAME=VALUE comes back as `NAME=`.
    let custom: serde_json::Map<String, serde_json::Value> = typed("custom")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| match l.split_once('=') {
            Some((k, v)) => (k.trim().to_owned(), v.trim().into()),
            None => (l.trim().to_owned(), "".into()),
        })
        .collect();
    tool.tool.custom = serde_json::Value::Object(custom).to_string();
    tool
}

#[derive(Debug, Deserialize)]
pub struct RegistrationForm {
    csrf: Option<String>,
    registration_url: Option<String>,
}

/// Starts a Dynamic Registration: a page with the link to the tool's registration page.
pub async fn lti_registration_start(
    State(st): State<AppState>,
    Path(raw): Path<String>,
    Query(q): Query<Q>,
    headers: HeaderMap,
    Form(form): Form<RegistrationForm>,
) -> Response {
    let c = ctx_or_return!(st, raw, q.lang.as_deref(), headers, "lti");
    let lang = c.lang;
    if !csrf_ok(&c, form.csrf.as_deref()) {
        return forbidden_form(&c);
    }
    let given = form.registration_url.unwrap_or_default();
    match lti_tools::start_registration(&st.store, &SystemClock, &c.by, &st.public_url, &given)
        .await
    {
        Ok(url) => {
            let body = format!(
                "{}\n<p><a class=\"button\" id=\"open-registration\" href=\"{url}\" target=\"_blank\" rel=\"noopener noreferrer\">{open}</a></p>\
                 <p class=\"hint\">{copy}</p><p><code class=\"wrap\">{url}</code></p>\
                 <p><a class=\"button\" href=\"{base}/lti{lq}\">{back}</a></p>",
                notice(
                    "info",
                    t(
                        lang,
                        "登録用のリンクを作りました。開くとツールの登録画面が新しいウィンドウで開きます。ツール側で登録を終えると、LTIツールの一覧に出ます（名前やメールアドレスを渡すかは、その後に「編集」で決めてください）。リンクは1時間、1回だけ使えます。",
                        "The registration link is ready. It opens the tool's registration page in a new window. When the tool has registered, it appears among the LTI tools (decide there, with Edit, whether names and e-mail addresses are sent). The link works once, within one hour.",
                    )
                ),
                url = esc(&url),
                open = t(lang, "ツールの登録画面を開く（新しいウィンドウ）", "Open the tool's registration page (new window)"),
                copy = t(lang, "別の端末で開くときは、このURLをコピーしてください。", "To open it on another device, copy this URL."),
                base = c.base(),
                lq = lq(lang, true),
                back = t(lang, "LTIツールの一覧へ", "Back to the LTI tools"),
            );
            c.page(
                StatusCode::OK,
                "lti",
                t(lang, "LTIツールの動的登録", "LTI Dynamic Registration"),
                &body,
            )
        }
        Err(e) => c.error("lti", e),
    }
}
