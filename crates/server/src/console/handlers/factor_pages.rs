//! A person's second factors on their page (names, kinds, last use; backup codes left; TOTP),
//! "remove one key" and "reset second factors", each with a required reason, for those
//! `console::authz` lets manage them (tenant admins; school admins for people of their schools
//! without an admin grant).

use kakehashi_core::console::mfa;
use kakehashi_core::mfa::factors::Factors;

use super::*;

/// The factors section of a person's page.
pub(super) fn factors_html(c: &Ctx, id: &str, f: &Factors) -> String {
    let lang = c.lang;
    let kind = |k: &str| match k {
        "security-key" => t(lang, "セキュリティキー", "Security key"),
        "platform" => t(lang, "端末の指紋・顔認証", "Platform authenticator"),
        _ => t(lang, "その他", "Other"),
    };
    let rows: Vec<Vec<String>> = f
        .credentials
        .iter()
        .map(|cr| {
            vec![
                esc(&cr.name),
                esc(kind(&cr.kind)),
                esc(&cr.created_at),
                esc(cr.last_used_at.as_deref().unwrap_or(t(
                    lang,
                    "まだ使っていません",
                    "Not used yet",
                ))),
            ]
        })
        .collect();
    let remove_one = if f.credentials.is_empty() {
        String::new()
    } else {
        let options: String = f
            .credentials
            .iter()
            .map(|cr| {
                format!(
                    "<option value=\"{}\">{}</option>",
                    esc(&cr.id),
                    esc(&cr.name)
                )
            })
            .collect();
        format!(
            "<h3 id=\"remove-key\">{h3}</h3>\n\
             <form method=\"post\" action=\"{base}/people/{id}/factors/remove{lq}\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <label for=\"credential\">{l_key}</label>\
             <select id=\"credential\" name=\"credential\" required>{options}</select>\
             <label for=\"remove-reason\">{l_reason}</label>\
             <textarea id=\"remove-reason\" name=\"reason\" rows=\"2\" required maxlength=\"500\"></textarea>\
             <button type=\"submit\">{remove}</button></form>\n<p>{note}</p>",
            h3 = t(lang, "キーを1つ削除", "Remove one key"),
            base = c.base(),
            id = url_encode(id),
            lq = lq(lang, true),
            csrf = esc(&c.csrf),
            l_key = t(lang, "削除するキー", "Key to remove"),
            l_reason = t(
                lang,
                "削除の理由（必須。監査ログに記録されます）",
                "Reason for removing it (required; it goes into the audit log)",
            ),
            remove = t(lang, "このキーを削除", "Remove this key"),
            note = t(
                lang,
                "ほかの要素（ほかのキー・バックアップコード・認証アプリ）は残ります。この人のログイン中のセッションはパスワードだけの状態に戻ります。",
                "Their other factors (other keys, backup codes, authenticator app) stay; their live sessions go back to password only.",
            ),
        )
    };
    format!(
        "<h2 id=\"factors\">{h2}</h2>\n{table}\n{summary}\n{remove_one}\n\
         <h3 id=\"reset\">{h3_reset}</h3>\n\
         <form class=\"inline\" method=\"post\" action=\"{base}/people/{id}/factors/reset{lq}\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <label for=\"reason\">{l_reason}</label>\
         <textarea id=\"reason\" name=\"reason\" rows=\"2\" required maxlength=\"500\"></textarea>\
         <button type=\"submit\">{reset}</button></form>\n<p>{note}</p>",
        h2 = t(lang, "二要素認証", "Second factors"),
        h3_reset = t(lang, "すべてリセット", "Reset all"),
        table = table(
            t(lang, "登録されているセキュリティキー", "Registered security keys"),
            &[
                t(lang, "名前", "Name"),
                t(lang, "種類", "Kind"),
                t(lang, "登録日時 (UTC)", "Registered (UTC)"),
                t(lang, "最後に使った日時 (UTC)", "Last used (UTC)"),
            ],
            &rows,
            t(
                lang,
                "セキュリティキーは登録されていません。",
                "No security key is registered.",
            ),
        ),
        summary = factors_summary(lang, f),
        base = c.base(),
        id = url_encode(id),
        lq = lq(lang, true),
        csrf = esc(&c.csrf),
        l_reason = t(
            lang,
            "リセットの理由（必須。監査ログに記録されます）",
            "Reason for the reset (required; it goes into the audit log)",
        ),
        reset = t(lang, "二要素認証をリセット", "Reset second factors"),
        note = t(
            lang,
            "セキュリティキー・バックアップコード・認証アプリをすべて削除し、この人のログイン中のセッションはパスワードだけの状態に戻ります（パスキーだけでログインしたセッションは終了します）。本人は次に新しい要素を登録します。",
            "Removes every security key, backup code and authenticator app; their live sessions go back to password only (sessions signed in with a passkey alone end). They register a new factor next time.",
        ),
    )
}

#[derive(Deserialize)]
pub struct ResetForm {
    csrf: Option<String>,
    reason: Option<String>,
}

pub async fn person_factors_reset(
    State(st): State<AppState>,
    Path((raw, id)): Path<(String, String)>,
    Query(q): Query<Q>,
    headers: HeaderMap,
    Form(form): Form<ResetForm>,
) -> Response {
    let c = ctx_or_return!(st, raw, q.lang.as_deref(), headers, "people");
    if !csrf_ok(&c, form.csrf.as_deref()) {
        return forbidden_form(&c);
    }
    let reason = form.reason.unwrap_or_default();
    let result = if reason.trim().is_empty() {
        // The service refuses it too; here the message is in the page's language.
        Err(ConsoleError::Invalid(
            t(
                c.lang,
                "理由: リセットの理由を入力してください（監査ログに記録されます）。",
                "Reason: give the reason for the reset (it goes into the audit log).",
            )
            .into(),
        ))
    } else {
        mfa::reset_factors(&st.store, &SystemClock, &c.by, &id, &reason).await
    };
    match result {
        Ok(done) => see_other(
            &format!(
                "{}/people/{}?done=factors-reset&removed={}{}#factors",
                c.base(),
                url_encode(&id),
                done.credentials_removed + done.backup_codes_removed,
                if c.lang == Lang::En { "&lang=en" } else { "" }
            ),
            &[],
        ),
        Err(e) => c.error("people", e),
    }
}

#[derive(Deserialize)]
pub struct RemoveKeyForm {
    csrf: Option<String>,
    credential: Option<String>,
    reason: Option<String>,
}

/// `POST people/{id}/factors/remove`: one key of the person, with a reason.
pub async fn person_factor_remove(
    State(st): State<AppState>,
    Path((raw, id)): Path<(String, String)>,
    Query(q): Query<Q>,
    headers: HeaderMap,
    Form(form): Form<RemoveKeyForm>,
) -> Response {
    let c = ctx_or_return!(st, raw, q.lang.as_deref(), headers, "people");
    if !csrf_ok(&c, form.csrf.as_deref()) {
        return forbidden_form(&c);
    }
    let reason = form.reason.unwrap_or_default();
    let credential = form.credential.unwrap_or_default();
    let result = if reason.trim().is_empty() {
        Err(ConsoleError::Invalid(
            t(
                c.lang,
                "理由: 削除の理由を入力してください（監査ログに記録されます）。",
                "Reason: give the reason for removing the key (it goes into the audit log).",
            )
            .into(),
        ))
    } else {
        mfa::remove_factor(&st.store, &SystemClock, &c.by, &id, &credential, &reason).await
    };
    match result {
        Ok(_) => see_other(
            &format!(
                "{}/people/{}?done=factor-removed{}#factors",
                c.base(),
                url_encode(&id),
                if c.lang == Lang::En { "&lang=en" } else { "" }
            ),
            &[],
        ),
        Err(e) => c.error("people", e),
    }
}

/// The line under a keys table: backup codes left and whether an authenticator app is set up
/// (a person's page and one's own `me` page).
pub(super) fn factors_summary(lang: Lang, f: &Factors) -> String {
    format!(
        "<p class=\"factors-summary\">{}: {}　{}: {}</p>",
        t(lang, "バックアップコードの残り", "Backup codes left"),
        f.backup_codes_left,
        t(lang, "認証アプリ（TOTP）", "Authenticator app (TOTP)"),
        if f.totp {
            t(lang, "あり", "yes")
        } else {
            t(lang, "なし", "no")
        },
    )
}
