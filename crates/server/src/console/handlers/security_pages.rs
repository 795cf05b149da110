//! The security policy: session timeouts and the lockout threshold.

use super::*;

fn security_form(c: &Ctx, p: &security::SecurityPolicy, message: &str) -> Response {
    let lang = c.lang;
    let field = |name: &str, label: &str, value: i64, unit: &str| {
        format!(
            "<label for=\"{name}\">{label}（{unit}）</label>\
             <input id=\"{name}\" name=\"{name}\" type=\"text\" inputmode=\"numeric\" value=\"{value}\" required>"
        )
    };
    let minutes = t(lang, "分", "minutes");
    let body = format!(
        "{message}<form class=\"inline\" method=\"post\" action=\"{base}/security{lq}\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">{f1}{f2}{f3}{f4}{f5}\
         <button type=\"submit\">{save}</button></form>\n<p>{note}</p>",
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
            "新しいログインから適用されます。二要素認証・リスク判定・学校のネットワークの設定は、それぞれの機能とともに追加されます。",
            "Applies to new sign-ins. Second-factor, risk and school-network settings arrive with those features.",
        ),
    );
    c.page(
        StatusCode::OK,
        "security",
        t(lang, "セキュリティ設定", "Security policy"),
        &body,
    )
}

pub async fn security_page(
    State(st): State<AppState>,
    Path(raw): Path<String>,
    Query(q): Query<Q>,
    headers: HeaderMap,
) -> Response {
    let c = ctx_or_return!(st, raw, q.lang.as_deref(), headers, "security");
    match security::get(&st.store, &c.by).await {
        Ok(p) => {
            let saved = if q.done.as_deref() == Some("saved") {
                notice("info", t(c.lang, "保存しました。", "Saved."))
            } else {
                String::new()
            };
            security_form(&c, &p, &saved)
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
            let mut resp = security_form(&c, &policy, &msg);
            *resp.status_mut() = StatusCode::BAD_REQUEST;
            resp
        }
        Err(e) => c.error("security", e),
    }
}
