//! One's own page (`me`), for everyone: the devices the risk engine knows for them, with
//! "this is not my device" (forget it); their own second factors, of which one security key
//! may be removed with a fresh second factor (else a link to confirm one first); their
//! sign-ins. The services are `console::me` and `console::people::my_sign_ins`.

use kakehashi_core::console::me;
use kakehashi_core::mfa::factors::Factors;

use super::factor_pages::factors_summary;
use super::*;

fn devices_html(c: &Ctx, devices: &[me::MyDevice]) -> String {
    let lang = c.lang;
    let rows: Vec<Vec<String>> = devices
        .iter()
        .map(|d| {
            let what = match &d.user_agent {
                Some(ua) if !ua.is_empty() => esc(ua),
                _ => esc(t(lang, "（記録なし）", "(not recorded)")),
            };
            let what = if d.this_device {
                format!(
                    "{what} <strong class=\"this-device\">{}</strong>",
                    t(lang, "（この端末）", "(this device)")
                )
            } else {
                what
            };
            vec![
                what,
                esc(&d.first_seen_at),
                esc(&d.last_seen_at),
                format!(
                    "<form class=\"row-action\" method=\"post\" action=\"{base}/me/devices/forget{lq}\">\
                     <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
                     <input type=\"hidden\" name=\"id\" value=\"{id}\">\
                     <button type=\"submit\" aria-label=\"{label} {first}\">{button}</button></form>",
                    base = c.base(),
                    lq = lq(lang, true),
                    csrf = esc(&c.csrf),
                    id = esc(&d.id),
                    label = t(
                        lang,
                        "自分の端末ではないので忘れる：最初のログイン",
                        "Not my device, forget it: first seen"
                    ),
                    first = esc(&d.first_seen_at),
                    button = t(lang, "自分の端末ではない", "Not my device"),
                ),
            ]
        })
        .collect();
    format!(
        "<h2 id=\"devices\">{h2}</h2>\n<p>{intro}</p>\n{table}",
        h2 = t(lang, "わたしの端末", "My devices"),
        intro = t(
            lang,
            "これまでにログインした端末（ブラウザー）です。覚えのない端末は「自分の端末ではない」で忘れさせてください。その端末から次にログインするときは、新しい端末として確認されます。",
            "The devices (browsers) you signed in from. Forget one you do not know with “Not my device”: signing in from it again counts as a new device.",
        ),
        table = table(
            t(lang, "ログインした端末", "Devices you signed in from"),
            &[
                t(lang, "端末", "Device"),
                t(lang, "最初のログイン (UTC)", "First seen (UTC)"),
                t(lang, "最後のログイン (UTC)", "Last seen (UTC)"),
                t(lang, "操作", "Action"),
            ],
            &rows,
            t(
                lang,
                "記録されている端末はありません。",
                "No device is recorded.",
            ),
        ),
    )
}

fn factors_html(c: &Ctx, f: &Factors, may_change: bool) -> String {
    let lang = c.lang;
    let tenant = c.tenant.as_str();
    let rows: Vec<Vec<String>> = f
        .credentials
        .iter()
        .map(|cr| {
            let mut row = vec![
                esc(&cr.name),
                esc(&cr.created_at),
                esc(cr.last_used_at.as_deref().unwrap_or(t(
                    lang,
                    "まだ使っていません",
                    "Not used yet",
                ))),
            ];
            if may_change {
                row.push(format!(
                    "<form class=\"row-action\" method=\"post\" action=\"{base}/me/factors/remove{lq}\">\
                     <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
                     <input type=\"hidden\" name=\"credential\" value=\"{id}\">\
                     <button type=\"submit\" aria-label=\"{label} {name}\">{button}</button></form>",
                    base = c.base(),
                    lq = lq(lang, true),
                    csrf = esc(&c.csrf),
                    id = esc(&cr.id),
                    label = t(lang, "このキーを削除：", "Remove this key:"),
                    name = esc(&cr.name),
                    button = t(lang, "削除", "Remove"),
                ));
            }
            row
        })
        .collect();
    let mut headers = vec![
        t(lang, "名前", "Name"),
        t(lang, "登録日時 (UTC)", "Registered (UTC)"),
        t(lang, "最後に使った日時 (UTC)", "Last used (UTC)"),
    ];
    if may_change {
        headers.push(t(lang, "操作", "Action"));
    }
    let gate = if may_change || f.credentials.is_empty() {
        String::new()
    } else {
        let back = format!(
            "/t/{tenant}/console/me{}",
            lq(lang, true).replace("&amp;", "&")
        );
        format!(
            "<p>{text} <a href=\"/t/{t}/mfa/verify?lang={code}&amp;return_to={back}\">{link}</a></p>",
            text = t(
                lang,
                "キーを削除するには、先に登録済みの二要素認証で確認してください。",
                "To remove a key, first confirm with a second factor you already have.",
            ),
            t = esc(tenant),
            code = lang.code(),
            back = esc(&url_encode(&back)),
            link = t(lang, "二要素認証で確認する", "Confirm with a second factor"),
        )
    };
    format!(
        "<h2 id=\"factors\">{h2}</h2>\n{table}\n{gate}\n{summary}\n\
         <p><a href=\"/t/{t}/mfa?lang={code}\">{more}</a></p>",
        h2 = t(lang, "わたしの二要素認証", "My second factors"),
        table = table(
            t(lang, "登録しているセキュリティキー", "Your security keys"),
            &headers,
            &rows,
            t(
                lang,
                "セキュリティキーは登録されていません。",
                "No security key is registered.",
            ),
        ),
        summary = factors_summary(lang, f),
        t = esc(tenant),
        code = lang.code(),
        more = t(
            lang,
            "セキュリティキーの登録・名前の変更、バックアップコード",
            "Register or rename keys, backup codes",
        ),
    )
}

pub async fn me_page(
    State(st): State<AppState>,
    Path(raw): Path<String>,
    Query(q): Query<Q>,
    headers: HeaderMap,
) -> Response {
    let c = ctx_or_return!(st, raw, q.lang.as_deref(), headers, "me");
    let lang = c.lang;
    let page = match people::my_sign_ins(&st.store, &c.by, q.before.as_deref(), None).await {
        Ok(p) => p,
        Err(e) => return c.error("me", e),
    };
    let current = match crate::portal::handlers::device_of(&st, &c.tenant, &headers).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    let devices = match me::devices(&st.store, &c.by, current.as_deref()).await {
        Ok(d) => d,
        Err(e) => return c.error("me", e),
    };
    let factors = match me::factors(&st.store, &c.by).await {
        Ok(f) => f,
        Err(e) => return c.error("me", e),
    };
    let may_change = match me::may_change_factors(&st.store, &c.by, &c.session).await {
        Ok(m) => m,
        Err(e) => return c.error("me", e),
    };
    let done = match q.done.as_deref() {
        Some("device-forgotten") => notice(
            "info",
            t(
                lang,
                "端末を忘れました。その端末から次にログインするときは、新しい端末として確認されます。",
                "The device is forgotten: signing in from it again counts as a new device.",
            ),
        ),
        Some("factor-removed") => notice(
            "info",
            t(lang, "セキュリティキーを削除しました。", "The security key is removed."),
        ),
        _ => String::new(),
    };
    let rows: Vec<Vec<String>> = page
        .items
        .iter()
        .map(|s| {
            vec![
                esc(&s.at),
                if s.succeeded {
                    format!("<span class=\"ok\">{}</span>", t(lang, "成功", "Signed in"))
                } else {
                    format!("<span class=\"ng\">{}</span>", t(lang, "失敗", "Failed"))
                },
                esc(&s.ip),
                esc(&s.user_agent),
            ]
        })
        .collect();
    let body = format!(
        "{done}\n{devices}\n{factors}\n<h2 id=\"sign-ins\">{h2}</h2>\n{table}\n{next}",
        devices = devices_html(&c, &devices),
        factors = factors_html(&c, &factors, may_change),
        h2 = t(lang, "ログインの記録", "Sign-in record"),
        table = table(
            t(lang, "ログインの記録", "Sign-in record"),
            &[
                t(lang, "日時 (UTC)", "When (UTC)"),
                t(lang, "結果", "Result"),
                t(lang, "接続元", "Address"),
                t(lang, "端末", "Device"),
            ],
            &rows,
            t(lang, "記録はありません。", "No sign-ins yet."),
        ),
        next = next_link(
            lang,
            &format!("{}/me", c.base()),
            &[],
            ("before", page.next.as_deref())
        )
    );
    c.page(
        StatusCode::OK,
        "me",
        t(lang, "わたしの端末とログイン", "My devices and sign-ins"),
        &body,
    )
}

#[derive(Deserialize)]
pub struct ForgetForm {
    csrf: Option<String>,
    id: Option<String>,
}

/// `POST me/devices/forget`: "this is not my device".
pub async fn me_device_forget(
    State(st): State<AppState>,
    Path(raw): Path<String>,
    Query(q): Query<Q>,
    headers: HeaderMap,
    Form(form): Form<ForgetForm>,
) -> Response {
    let c = ctx_or_return!(st, raw, q.lang.as_deref(), headers, "me");
    if !csrf_ok(&c, form.csrf.as_deref()) {
        return forbidden_form(&c);
    }
    let id = form.id.unwrap_or_default();
    match me::forget_device(&st.store, &SystemClock, &c.by, &id).await {
        Ok(()) => see_other(
            &format!(
                "{}/me?done=device-forgotten{}#devices",
                c.base(),
                if c.lang == Lang::En { "&lang=en" } else { "" }
            ),
            &[],
        ),
        Err(e) => c.error("me", e),
    }
}

#[derive(Deserialize)]
pub struct RemoveOwnFactorForm {
    csrf: Option<String>,
    credential: Option<String>,
}

/// `POST me/factors/remove`: one of one's own security keys, with a fresh second factor.
pub async fn me_factor_remove(
    State(st): State<AppState>,
    Path(raw): Path<String>,
    Query(q): Query<Q>,
    headers: HeaderMap,
    Form(form): Form<RemoveOwnFactorForm>,
) -> Response {
    let c = ctx_or_return!(st, raw, q.lang.as_deref(), headers, "me");
    if !csrf_ok(&c, form.csrf.as_deref()) {
        return forbidden_form(&c);
    }
    let id = form.credential.unwrap_or_default();
    match me::remove_factor(&st.store, &SystemClock, &c.by, &c.session, &id).await {
        Ok(()) => see_other(
            &format!(
                "{}/me?done=factor-removed{}#factors",
                c.base(),
                if c.lang == Lang::En { "&lang=en" } else { "" }
            ),
            &[],
        ),
        Err(e) => c.error("me", e),
    }
}
