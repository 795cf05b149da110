//! The second-factor pages: step-up ("confirm with your security key"), the user's security
//! settings (register, name and remove keys; backup codes) and the backup codes shown once.
//! Japanese first, English on request; the WebAuthn calls run in `/portal-assets/webauthn.js`
//! (no inline script), which reads its parameters from `data-` attributes.

use kakehashi_core::mfa::factors::{CredentialSummary, Factors};

use super::http::{esc, url_encode, Lang};
use super::pages::{layout, t};

/// Everything the step-up page needs.
pub struct StepUpPage<'a> {
    pub lang: Lang,
    pub tenant: &'a str,
    /// The app that asked for the factor (absent when the user came on their own).
    pub app_name: Option<&'a str>,
    pub csrf: &'a str,
    /// Where to go once the factor is proved (a path in this tenant).
    pub return_to: &'a str,
    /// `school-affairs` or `learning`: which user-verification policy applies.
    pub security_class: &'a str,
    pub factors: &'a Factors,
    pub notice: Option<&'a str>,
    /// The risk engine's signals when it asked this login for the factor (its names, as
    /// `mfa::risk` reports them): the page says why.
    pub why: &'a [String],
}

/// A risk signal in words.
fn signal_words(lang: Lang, signal: &str) -> &'static str {
    match signal {
        "new-device" => t(
            lang,
            "はじめて使う端末からのログイン",
            "a device not seen before",
        ),
        "outside-school-network" => t(
            lang,
            "学校のネットワークの外からのログイン",
            "outside the school network",
        ),
        "outside-school-hours" => t(lang, "学校の時間外のログイン", "outside school hours"),
        "account-failures" => t(
            lang,
            "このアカウントでログインの失敗が続いたこと",
            "recent failed logins on this account",
        ),
        "address-failures" => t(
            lang,
            "同じ場所からの多くのログイン失敗",
            "many failed logins from the same address",
        ),
        "user-agent-changed" => t(lang, "ブラウザが変わったこと", "a changed browser"),
        _ => t(lang, "その他の兆候", "another signal"),
    }
}

/// "Why was I asked?": the risk engine's reasons, as an information line.
fn why(lang: Lang, signals: &[String]) -> String {
    if signals.is_empty() {
        return String::new();
    }
    let words: Vec<&str> = signals.iter().map(|s| signal_words(lang, s)).collect();
    format!(
        "<p class=\"notice info\" id=\"why-asked\">{}{}</p>\n",
        t(
            lang,
            "いつもと違うログインのため、確認をお願いしています。理由: ",
            "This sign-in looks unusual, so please confirm it. Why: ",
        ),
        esc(&words.join(t(lang, "、", ", ")))
    )
}

fn notice(text: Option<&str>) -> String {
    text.map(|n| format!("<p class=\"notice error\" role=\"alert\">{}</p>\n", esc(n)))
        .unwrap_or_default()
}

pub fn step_up(p: &StepUpPage<'_>) -> String {
    let lang = p.lang;
    let explain = match (lang, p.app_name) {
        (Lang::Ja, Some(app)) => format!(
            "「{}」は校務用のアプリです。成績や出欠などの大切な情報を守るため、パスワードに加えて\
             二要素認証（指紋認証や配布されたセキュリティキー）が必要です。",
            esc(app)
        ),
        (Lang::En, Some(app)) => format!(
            "\u{201c}{}\u{201d} is a school-affairs app. To protect grades, attendance and other \
             records it needs a second factor (a fingerprint reader or an issued security key) \
             besides your password.",
            esc(app)
        ),
        (_, None) => t(
            lang,
            "続けるには、二要素認証（指紋認証や配布されたセキュリティキー）で本人確認をしてください。",
            "To continue, confirm it is you with your second factor (a fingerprint reader or an \
             issued security key).",
        )
        .to_owned(),
    };
    let failed = t(
        lang,
        "確認できませんでした。もう一度ためしてください。",
        "That did not work. Please try again.",
    );
    let key = if p.factors.credentials.is_empty() {
        String::new()
    } else {
        format!(
            "<p><button type=\"button\" id=\"webauthn-verify\" data-webauthn=\"verify\" \
             data-tenant=\"{tenant}\" data-csrf=\"{csrf}\" data-next=\"{next}\" \
             data-security-class=\"{class}\" data-failed=\"{failed}\">{label}</button></p>\n",
            tenant = esc(p.tenant),
            csrf = esc(p.csrf),
            next = esc(p.return_to),
            class = esc(p.security_class),
            failed = esc(failed),
            label = t(
                lang,
                "セキュリティキー・指紋認証で確認する",
                "Confirm with security key or fingerprint",
            ),
        )
    };
    let codes = if p.factors.backup_codes_left > 0 {
        format!(
            "<form method=\"post\" action=\"/t/{tenant}/mfa/backup-code?lang={code}\">\n\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\n\
             <input type=\"hidden\" name=\"return_to\" value=\"{next}\">\n\
             <input type=\"hidden\" name=\"security_class\" value=\"{class}\">\n\
             <label for=\"backup-code\">{label}</label>\n\
             <input id=\"backup-code\" name=\"code\" type=\"text\" autocomplete=\"one-time-code\" \
             autocapitalize=\"off\" spellcheck=\"false\">\n\
             <button type=\"submit\">{submit}</button>\n</form>\n",
            tenant = esc(p.tenant),
            code = lang.code(),
            csrf = esc(p.csrf),
            next = esc(p.return_to),
            class = esc(p.security_class),
            label = t(lang, "バックアップコード", "Backup code"),
            submit = t(
                lang,
                "バックアップコードで確認",
                "Confirm with a backup code"
            ),
        )
    } else {
        String::new()
    };
    let totp = if p.factors.totp {
        format!(
            "<form method=\"post\" action=\"/t/{tenant}/mfa/totp?lang={code}\">\n\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\n\
             <input type=\"hidden\" name=\"return_to\" value=\"{next}\">\n\
             <input type=\"hidden\" name=\"security_class\" value=\"{class}\">\n\
             <label for=\"totp-code\">{label}</label>\n\
             <input id=\"totp-code\" name=\"code\" type=\"text\" inputmode=\"numeric\" \
             autocomplete=\"one-time-code\" maxlength=\"6\">\n\
             <button type=\"submit\">{submit}</button>\n</form>\n",
            tenant = esc(p.tenant),
            code = lang.code(),
            csrf = esc(p.csrf),
            next = esc(p.return_to),
            class = esc(p.security_class),
            label = t(
                lang,
                "認証アプリの6桁のコード",
                "6-digit code from your authenticator app"
            ),
            submit = t(
                lang,
                "認証アプリで確認",
                "Confirm with the authenticator app"
            ),
        )
    } else {
        String::new()
    };
    let enrol = if p.factors.any() {
        String::new()
    } else {
        format!(
            "<p>{}</p>\n<p><a class=\"action\" href=\"/t/{}/mfa?lang={}&amp;return_to={}\">{}</a></p>\n",
            t(
                lang,
                "二要素認証がまだ登録されていません。登録できないときは、学校の管理者に連絡してください。",
                "No second factor is registered yet. If you cannot register one, ask your \
                 school's administrator.",
            ),
            esc(p.tenant),
            lang.code(),
            url_encode(p.return_to),
            t(lang, "セキュリティキーを登録する", "Register a security key"),
        )
    };
    let heading = t(lang, "二要素認証が必要です", "Second factor required");
    let body = format!(
        "<main class=\"card\">\n<h1>{heading}</h1>\n<p>{explain}</p>\n{why}{notice}\
         <p id=\"webauthn-status\" role=\"status\" hidden></p>\n{key}{totp}{codes}{enrol}\
         <p><a class=\"button\" href=\"/t/{tenant}/?lang={code}\">{back}</a></p>\n</main>\n\
         <script src=\"/portal-assets/webauthn.js\" defer></script>",
        notice = notice(p.notice),
        why = why(lang, p.why),
        tenant = esc(p.tenant),
        code = lang.code(),
        back = t(lang, "アプリの一覧へ戻る", "Back to your apps"),
    );
    layout(
        lang,
        &format!("{heading} | {}", t(lang, "かけはし", "Kakehashi")),
        &body,
    )
}

/// Everything the security settings page needs.
pub struct SecurityPage<'a> {
    pub lang: Lang,
    pub tenant: &'a str,
    pub csrf: &'a str,
    pub factors: &'a Factors,
    /// `None` when the user may add a factor now; else why not.
    pub enrol_refusal: Option<&'a str>,
    /// Where to go after registering (a path in this tenant).
    pub next: &'a str,
    pub notice: Option<&'a str>,
    /// Whether the tenant allows TOTP authenticator apps.
    pub totp_enabled: bool,
}

fn kind_label(lang: Lang, kind: &str) -> &'static str {
    match kind {
        "platform" => t(
            lang,
            "この端末の指紋認証など",
            "This device's fingerprint reader",
        ),
        _ => t(lang, "セキュリティキー", "Security key"),
    }
}

fn credential_item(lang: Lang, tenant: &str, csrf: &str, c: &CredentialSummary) -> String {
    let used = c.last_used_at.as_deref().map_or_else(
        || t(lang, "まだ使われていません", "Not used yet").to_owned(),
        |at| match lang {
            Lang::Ja => format!("最後に使った日時: {}", esc(at)),
            Lang::En => format!("Last used: {}", esc(at)),
        },
    );
    format!(
        "<li class=\"credential\"><span class=\"credential-name\">{name}</span> \
         <span class=\"credential-kind\">{kind}</span>\n<span class=\"credential-used\">{used}</span>\n\
         <form method=\"post\" action=\"/t/{tenant}/mfa/credentials/remove?lang={code}\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <input type=\"hidden\" name=\"id\" value=\"{id}\">\
         <button type=\"submit\" class=\"secondary\">{remove}</button></form></li>\n",
        name = esc(&c.name),
        kind = kind_label(lang, &c.kind),
        tenant = esc(tenant),
        code = lang.code(),
        csrf = esc(csrf),
        id = esc(&c.id),
        remove = t(lang, "削除", "Remove"),
    )
}

pub fn security(p: &SecurityPage<'_>) -> String {
    let lang = p.lang;
    let list = if p.factors.credentials.is_empty() {
        format!(
            "<p class=\"empty\">{}</p>\n",
            t(
                lang,
                "登録されたセキュリティキーはありません。",
                "No security key is registered."
            )
        )
    } else {
        let items: String = p
            .factors
            .credentials
            .iter()
            .map(|c| credential_item(lang, p.tenant, p.csrf, c))
            .collect();
        format!("<ul class=\"credentials\">\n{items}</ul>\n")
    };
    let failed = t(
        lang,
        "登録できませんでした。",
        "The registration did not succeed.",
    );
    let register = match p.enrol_refusal {
        Some(why) => format!("<p class=\"notice error\">{}</p>\n", esc(why)),
        None => {
            let button = |kind: &str, label: &str| {
                format!(
                    "<p><button type=\"button\" id=\"register-{kind}\" data-webauthn=\"register\" \
                     data-kind=\"{kind}\" data-tenant=\"{tenant}\" data-csrf=\"{csrf}\" \
                     data-next=\"{next}\" data-failed=\"{failed}\">{label}</button></p>\n",
                    tenant = esc(p.tenant),
                    csrf = esc(p.csrf),
                    next = esc(p.next),
                    failed = esc(failed),
                )
            };
            format!(
                "<label for=\"credential-name\">{name}</label>\n\
                 <input id=\"credential-name\" type=\"text\" maxlength=\"64\" \
                 placeholder=\"{placeholder}\">\n{key}{platform}",
                name = t(
                    lang,
                    "名前（例: 職員室のキー）",
                    "Name (e.g. staff-room key)"
                ),
                placeholder = t(lang, "セキュリティキー", "Security key"),
                key = button(
                    "security-key",
                    t(lang, "セキュリティキーを登録", "Register a security key")
                ),
                platform = button(
                    "platform",
                    t(
                        lang,
                        "この端末の指紋認証を登録",
                        "Register this device's fingerprint reader"
                    )
                ),
            )
        }
    };
    let codes = format!(
        "<h2>{title}</h2>\n<p>{left}</p>\n\
         <form method=\"post\" action=\"/t/{tenant}/mfa/backup-codes?lang={code}\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <button type=\"submit\" class=\"secondary\">{make}</button></form>\n",
        title = t(lang, "バックアップコード", "Backup codes"),
        left = match lang {
            Lang::Ja => format!("使えるコードの残り: {}", p.factors.backup_codes_left),
            Lang::En => format!("Unused codes left: {}", p.factors.backup_codes_left),
        },
        tenant = esc(p.tenant),
        code = lang.code(),
        csrf = esc(p.csrf),
        make = t(lang, "新しいコードを作る", "Make new codes"),
    );
    let totp = if p.totp_enabled {
        format!(
            "<h2>{title}</h2>\n<p>{state}</p>\n\
             <form method=\"post\" action=\"/t/{tenant}/mfa/totp/enrol?lang={code}\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <button type=\"submit\" class=\"secondary\">{start}</button></form>\n",
            title = t(lang, "認証アプリ (TOTP)", "Authenticator app (TOTP)"),
            state = if p.factors.totp {
                t(lang, "登録済みです。", "Registered.")
            } else {
                t(lang, "登録されていません。", "Not registered.")
            },
            tenant = esc(p.tenant),
            code = lang.code(),
            csrf = esc(p.csrf),
            start = t(lang, "認証アプリを登録", "Register an authenticator app"),
        )
    } else {
        String::new()
    };
    let heading = t(lang, "二要素認証の設定", "Second factor settings");
    let body = format!(
        "<main class=\"card\">\n<h1>{heading}</h1>\n{notice}\
         <p id=\"webauthn-status\" role=\"status\" hidden></p>\n{list}{register}{totp}{codes}\
         <p><a class=\"button\" href=\"/t/{tenant}/?lang={code}\">{back}</a></p>\n</main>\n\
         <script src=\"/portal-assets/webauthn.js\" defer></script>",
        notice = notice(p.notice),
        tenant = esc(p.tenant),
        code = lang.code(),
        back = t(lang, "アプリの一覧へ戻る", "Back to your apps"),
    );
    layout(
        lang,
        &format!("{heading} | {}", t(lang, "かけはし", "Kakehashi")),
        &body,
    )
}

/// The new backup codes, shown once.
pub fn backup_codes(lang: Lang, tenant: &str, codes: &[String]) -> String {
    let items: String = codes
        .iter()
        .map(|c| format!("<li><code>{}</code></li>\n", esc(c)))
        .collect();
    let heading = t(lang, "バックアップコード", "Backup codes");
    let body = format!(
        "<main class=\"card\">\n<h1>{heading}</h1>\n<p>{warn}</p>\n\
         <ol class=\"backup-codes\">\n{items}</ol>\n\
         <p><a class=\"button\" href=\"/t/{tenant}/mfa?lang={code}\">{done}</a></p>\n</main>",
        warn = t(
            lang,
            "このコードは今だけ表示されます。紙に書くか印刷して、安全な場所に保管してください。\
             それぞれ一度だけ使えます。",
            "These codes are shown only now. Write them down or print them and keep them in a \
             safe place. Each works once.",
        ),
        tenant = esc(tenant),
        code = lang.code(),
        done = t(lang, "保管しました", "I have kept them"),
    );
    layout(
        lang,
        &format!("{heading} | {}", t(lang, "かけはし", "Kakehashi")),
        &body,
    )
}

/// A TOTP enrolment: the secret to type (or the otpauth link), then a code to confirm.
pub fn totp_enrolment(
    lang: Lang,
    tenant: &str,
    csrf: &str,
    e: &kakehashi_core::mfa::totp::Enrolment,
) -> String {
    let heading = t(lang, "認証アプリの登録", "Register an authenticator app");
    let body = format!(
        "<main class=\"card\">\n<h1>{heading}</h1>\n<p>{howto}</p>\n\
         <p><code class=\"totp-secret\">{secret}</code></p>\n\
         <p><a class=\"action\" href=\"{uri}\">{link}</a></p>\n\
         <form method=\"post\" action=\"/t/{tenant}/mfa/totp?lang={code}\">\n\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\n\
         <input type=\"hidden\" name=\"return_to\" value=\"/t/{tenant}/mfa?lang={code}\">\n\
         <label for=\"totp-code\">{label}</label>\n\
         <input id=\"totp-code\" name=\"code\" type=\"text\" inputmode=\"numeric\" \
         autocomplete=\"one-time-code\" maxlength=\"6\">\n\
         <button type=\"submit\">{confirm}</button>\n</form>\n</main>",
        howto = t(
            lang,
            "認証アプリにこの鍵を入力し、表示された6桁のコードを入力してください。",
            "Enter this key in your authenticator app, then type the 6-digit code it shows.",
        ),
        secret = esc(&e.secret),
        uri = esc(&e.uri),
        link = t(lang, "認証アプリで開く", "Open in the authenticator app"),
        tenant = esc(tenant),
        code = lang.code(),
        csrf = esc(csrf),
        label = t(lang, "6桁のコード", "6-digit code"),
        confirm = t(lang, "登録する", "Register"),
    );
    layout(
        lang,
        &format!("{heading} | {}", t(lang, "かけはし", "Kakehashi")),
        &body,
    )
}
