//! The security policy page: session timeouts and the lockout threshold (this file), and the
//! second factors, networks, risk and shared devices (`mfa_policy_pages`), two forms on one
//! page, each saved and audited on its own.

use kakehashi_core::console::mfa;

use super::mfa_policy_pages::{mfa_form_html, FieldError, MfaForm};
use super::*;

fn timeouts_form_html(c: &Ctx, p: &security::SecurityPolicy, message: &str) -> String {
    let lang = c.lang;
    let field = |name: &str, label: &str, value: i64, unit: &str| {
        format!(
            "<label for=\"{name}\">{label}（{unit}）</label>\
             <input id=\"{name}\" name=\"{name}\" type=\"text\" inputmode=\"numeric\" value=\"{value}\" required>"
        )
    };
    let minutes = t(lang, "分", "minutes");
    format!(
        "<h2 id=\"timeouts\">{h2}</h2>{message}<form class=\"inline\" method=\"post\" action=\"{base}/security{lq}\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">{f1}{f2}{f3}{f4}{f5}\
         <button type=\"submit\">{save}</button></form>\n<p>{note}</p>",
        h2 = t(lang, "ログインの時間とロック", "Session timeouts and lockout"),
        base = c.base(),
        lq = lq(lang, true),
        csrf = esc(&c.csrf),
        f1 = field("staff_idle", t(lang, "教職員：操作がないときのログアウト", "Staff: idle timeout"), p.staff_idle_secs / 60, minutes),
        f2 = field("staff_absolute", t(lang, "教職員：ログインの最長時間", "Staff: absolute timeout"), p.staff_absolute_secs / 60, minutes),
        f3 = field("pupil_idle", t(lang, "児童生徒：操作がないときのログアウト", "Pupils: idle timeout"), p.pupil_idle_secs / 60, minutes),
        f4 = field("pupil_absolute", t(lang, "児童生徒：ログインの最長時間", "Pupils: absolute timeout"), p.pupil_absolute_secs / 60, minutes),
        f5 = field("lockout", t(lang, "児童生徒：ロックまでの失敗回数", "Pupils: failures before lockout"), p.pupil_lockout_threshold, t(lang, "回", "times")),
        save = t(lang, "保存する", "Save"),
        note = t(
            lang,
            "新しいログインから適用されます。",
            "Applies to new sign-ins.",
        ),
    )
}

/// The whole page; a form that came back with an error is shown as typed, the other as
/// stored.
pub(super) async fn security_page_with(
    st: &AppState,
    c: &Ctx,
    timeouts: Option<(&security::SecurityPolicy, &str)>,
    mfa_form: Option<(&MfaForm, &FieldError)>,
    status: StatusCode,
) -> Response {
    let first = match timeouts {
        Some((p, message)) => timeouts_form_html(c, p, message),
        None => match security::get(&st.store, &c.by).await {
            Ok(p) => timeouts_form_html(c, &p, ""),
            Err(e) => return c.error("security", e),
        },
    };
    let second = match mfa_form {
        Some((f, e)) => mfa_form_html(c, f, Some(e)),
        None => match mfa::get_policy(&st.store, &c.by).await {
            Ok(p) => mfa_form_html(c, &MfaForm::from(&p), None),
            Err(e) => return c.error("security", e),
        },
    };
    c.page(
        status,
        "security",
        t(c.lang, "セキュリティ設定", "Security policy"),
        &format!("{first}\n{second}"),
    )
}

pub async fn security_page(
    State(st): State<AppState>,
    Path(raw): Path<String>,
    Query(q): Query<Q>,
    headers: HeaderMap,
) -> Response {
    let c = ctx_or_return!(st, raw, q.lang.as_deref(), headers, "security");
    let saved = match q.done.as_deref() {
        Some("saved") | Some("mfa") => notice("info", t(c.lang, "保存しました。", "Saved.")),
        _ => String::new(),
    };
    match security::get(&st.store, &c.by).await {
        Ok(p) => {
            let first = timeouts_form_html(&c, &p, &saved);
            let second = match mfa::get_policy(&st.store, &c.by).await {
                Ok(m) => mfa_form_html(&c, &MfaForm::from(&m), None),
                Err(e) => return c.error("security", e),
            };
            c.page(
                StatusCode::OK,
                "security",
                t(c.lang, "セキュリティ設定", "Security policy"),
                &format!("{first}\n{second}"),
            )
        }
        Err(e) => c.error("security", e),
    }
}

#[derive(Deserialize)]
pub struct SecurityForm {
    csrf: Option<String>,
    staff_idle: Option<String>,
    staff_absolute: Option<String>,
    pupil_idle: Option<String>,
    pupil_absolute: Option<String>,
    lockout: Option<String>,
}

pub async fn security_submit(
    State(st): State<AppState>,
    Path(raw): Path<String>,
    Query(q): Query<Q>,
    headers: HeaderMap,
    Form(form): Form<SecurityForm>,
) -> Response {
    let c = ctx_or_return!(st, raw, q.lang.as_deref(), headers, "security");
    if !csrf_ok(&c, form.csrf.as_deref()) {
        return forbidden_form(&c);
    }
    let num = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .and_then(|s| s.parse::<i64>().ok())
    };
    let (Some(si), Some(sa), Some(pi), Some(pa), Some(lock)) = (
        num(&form.staff_idle),
        num(&form.staff_absolute),
        num(&form.pupil_idle),
        num(&form.pupil_absolute),
        num(&form.lockout),
    ) else {
        return c.error(
            "security",
            ConsoleError::Invalid(
                t(c.lang, "数字で入力してください。", "Enter whole numbers.").into(),
            ),
        );
    };
    let policy = security::SecurityPolicy {
        staff_idle_secs: si.saturating_mul(60),
        staff_absolute_secs: sa.saturating_mul(60),
        pupil_idle_secs: pi.saturating_mul(60),
        pupil_absolute_secs: pa.saturating_mul(60),
        pupil_lockout_threshold: lock,
    };
    match security::set(&st.store, &SystemClock, &c.by, &policy).await {
        Ok(()) => see_other(
            &format!(
                "{}/security?done=saved{}",
                c.base(),
                if c.lang == Lang::En { "&lang=en" } else { "" }
            ),
            &[],
        ),
        Err(ConsoleError::Invalid(m)) => {
            let msg = notice("error", &m);
            security_page_with(
                &st,
                &c,
                Some((&policy, &msg)),
                None,
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        Err(e) => c.error("security", e),
    }
}
