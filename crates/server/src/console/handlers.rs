//! Console handlers: the portal session → a `Principal` → `kakehashi_core::console` (the same
//! services as the admin API) → a page. Forms carry the session's CSRF token.

use axum::body::Bytes;
use axum::extract::{Form, Path, Query, State};
use axum::http::header::{self, HeaderMap};
use axum::http::StatusCode;
use axum::response::Response;
use kakehashi_core::console::authz::{Principal, Standing};
use kakehashi_core::console::roster::{Outcome, Staged};
use kakehashi_core::console::{
    apps, audit_log, cards, classes, people, roster, security, ConsoleError,
};
use kakehashi_core::portal::token;
use kakehashi_core::SystemClock;
use kakehashi_store::console::AuditFilter;
use kakehashi_store::TenantId;
use serde::Deserialize;

use super::multipart;
use super::pages::{self, lq, next_link, notice, t, table, Shell};
use crate::portal::handlers::{current_session, internal, login_redirect, tenant_of};
use crate::portal::http::{esc, html, see_other, url_encode, Lang};
use crate::AppState;

/// One request's caller.
pub struct Ctx {
    lang: Lang,
    tenant: TenantId,
    tenant_name: String,
    by: Principal,
    csrf: String,
}

impl Ctx {
    fn shell<'a>(&'a self, here: &'a str) -> Shell<'a> {
        Shell {
            lang: self.lang,
            tenant: self.tenant.as_str(),
            tenant_name: &self.tenant_name,
            by: &self.by,
            csrf: &self.csrf,
            here,
        }
    }

    fn page(&self, status: StatusCode, here: &str, title: &str, body: &str) -> Response {
        html(status, pages::page(&self.shell(here), title, body), &[])
    }

    fn base(&self) -> String {
        format!("/t/{}/console", self.tenant)
    }

    /// The page for a service error.
    fn error(&self, here: &str, e: ConsoleError) -> Response {
        let lang = self.lang;
        let (status, text) = match &e {
            ConsoleError::Forbidden(_) | ConsoleError::Unauthenticated(_) => (
                StatusCode::FORBIDDEN,
                t(
                    lang,
                    "この画面を使う権限がありません。",
                    "You may not use this page.",
                ),
            ),
            ConsoleError::NotFound(_) => (
                StatusCode::NOT_FOUND,
                t(
                    lang,
                    "見つからないか、あなたの担当ではありません。",
                    "Not found, or not in your care.",
                ),
            ),
            ConsoleError::Invalid(_)
            | ConsoleError::Password(
                kakehashi_core::passwords::PasswordError::TooShort { .. }
                | kakehashi_core::passwords::PasswordError::BadCharacters,
            ) => (StatusCode::BAD_REQUEST, ""),
            _ => {
                tracing::error!(error = %e, "console request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    t(
                        lang,
                        "内部エラーが起きました。",
                        "An internal error occurred.",
                    ),
                )
            }
        };
        let text = if text.is_empty() {
            e.to_string()
        } else {
            text.to_owned()
        };
        self.page(
            status,
            here,
            t(lang, "できませんでした", "Could not do that"),
            &notice("error", &text),
        )
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct Q {
    lang: Option<String>,
    q: Option<String>,
    after: Option<String>,
    before: Option<String>,
    done: Option<String>,
    action: Option<String>,
    actor: Option<String>,
    target: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

impl Q {
    fn filter(&self) -> AuditFilter {
        let s = |v: &Option<String>| v.clone().unwrap_or_default().trim().to_owned();
        AuditFilter {
            action_prefix: s(&self.action),
            actor: s(&self.actor),
            target: s(&self.target),
            from: s(&self.from),
            to: s(&self.to),
        }
    }
}

/// The tenant, the session (else 303 to login, coming back here) and its principal.
async fn ctx(
    st: &AppState,
    raw: &str,
    lang_q: Option<&str>,
    headers: &HeaderMap,
    here: &str,
) -> Result<Ctx, Response> {
    let lang = Lang::pick(lang_q, headers);
    let (tenant, tenant_name) = tenant_of(st, raw, lang).await?;
    let session = match current_session(st, &tenant, headers).await {
        Ok(Some(s)) => s,
        Ok(None) => {
            let back = format!("/t/{tenant}/console/{here}{}", lq(lang, true));
            return Err(login_redirect(&tenant, lang, &back));
        }
        Err(e) => return Err(internal(e)),
    };
    let csrf = session.csrf_secret.clone();
    let by = Principal::of_person(&st.store, &tenant, session.user)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "console principal");
            internal(kakehashi_core::portal::PortalError::Random(e.to_string()))
        })?;
    Ok(Ctx {
        lang,
        tenant,
        tenant_name,
        by,
        csrf,
    })
}

macro_rules! ctx_or_return {
    ($st:expr, $raw:expr, $lang:expr, $headers:expr, $here:expr) => {
        match ctx(&$st, &$raw, $lang, &$headers, $here).await {
            Ok(c) => c,
            Err(r) => return r,
        }
    };
}

fn csrf_ok(c: &Ctx, field: Option<&str>) -> bool {
    token::same(&c.csrf, field.unwrap_or(""))
}

fn forbidden_form(c: &Ctx) -> Response {
    html(
        StatusCode::FORBIDDEN,
        crate::portal::pages::forbidden(c.lang, c.tenant.as_str()),
        &[],
    )
}

fn name_of(p: &people::PersonSummary) -> String {
    format!("{} {}", p.family_name, p.given_name)
}

fn kana_of(p: &people::PersonSummary) -> String {
    format!(
        "{} {}",
        p.kana_family_name.as_deref().unwrap_or(""),
        p.kana_given_name.as_deref().unwrap_or("")
    )
    .trim()
    .to_owned()
}

pub async fn home(
    State(st): State<AppState>,
    Path(raw): Path<String>,
    Query(q): Query<Q>,
    headers: HeaderMap,
) -> Response {
    let c = ctx_or_return!(st, raw, q.lang.as_deref(), headers, "");
    let lang = c.lang;
    let text = match &c.by.standing {
        Standing::Pupil => t(
            lang,
            "自分のログイン履歴を見ることができます。アプリは「アプリの一覧」から使います。",
            "You can see your own sign-in history. Your apps are on the launcher.",
        ),
        Standing::Teacher { .. } => t(
            lang,
            "担当クラスの児童生徒と、その最後のログインを見ることができます。ロックの解除や仮パスワードの設定もここでできます。",
            "See the pupils of your classes and their last sign-in; unlock them or set a temporary password.",
        ),
        Standing::SchoolAdmin { .. } => t(
            lang,
            "担当する学校の利用者とクラスを見ることができます。",
            "See the people and classes of your school.",
        ),
        Standing::TenantAdmin | Standing::PlatformOperator => t(
            lang,
            "名簿の取り込み、利用者、アプリ、監査ログを管理できます。",
            "Manage roster imports, people, apps and the audit log.",
        ),
    };
    c.page(
        StatusCode::OK,
        "",
        t(lang, "管理画面", "Console"),
        &format!("<p>{}</p>", esc(text)),
    )
}

pub async fn people_page(
    State(st): State<AppState>,
    Path(raw): Path<String>,
    Query(q): Query<Q>,
    headers: HeaderMap,
) -> Response {
    let c = ctx_or_return!(st, raw, q.lang.as_deref(), headers, "people");
    let lang = c.lang;
    let query = q.q.clone().unwrap_or_default();
    let page = match people::search(
        &st.store,
        &SystemClock,
        &c.by,
        &query,
        q.after.as_deref(),
        None,
    )
    .await
    {
        Ok(p) => p,
        Err(e) => return c.error("people", e),
    };
    let base = c.base();
    let rows: Vec<Vec<String>> = page
        .items
        .iter()
        .map(|p| {
            vec![
                format!(
                    "<a href=\"{base}/people/{}{}\">{}</a>",
                    url_encode(&p.sourced_id),
                    lq(lang, true),
                    esc(&p.username)
                ),
                esc(&name_of(p)),
                esc(&kana_of(p)),
                esc(&p.role),
            ]
        })
        .collect();
    let body = format!(
        "<form class=\"search\" method=\"get\" action=\"{base}/people\" role=\"search\">\
         <div><label for=\"q\">{label}</label>\
         <input id=\"q\" name=\"q\" type=\"text\" value=\"{value}\" autocomplete=\"off\"></div>\
         {lang_field}<button type=\"submit\">{search}</button></form>\n{table}\n{next}",
        label = t(
            lang,
            "名前・よみがな・ユーザー名（前方一致）",
            "Name, kana or username (starts with)"
        ),
        value = esc(&query),
        lang_field = if lang == Lang::En {
            "<input type=\"hidden\" name=\"lang\" value=\"en\">"
        } else {
            ""
        },
        search = t(lang, "検索", "Search"),
        table = table(
            t(lang, "検索結果", "Results"),
            &[
                t(lang, "ユーザー名", "Username"),
                t(lang, "名前", "Name"),
                t(lang, "よみがな", "Kana"),
                t(lang, "役割", "Role"),
            ],
            &rows,
            t(lang, "見つかりませんでした。", "Nobody found."),
        ),
        next = next_link(
            lang,
            &format!("{base}/people"),
            &[("q", &query)],
            ("after", page.next.as_deref())
        ),
    );
    c.page(
        StatusCode::OK,
        "people",
        t(lang, "名簿・利用者", "People"),
        &body,
    )
}

pub async fn person_page(
    State(st): State<AppState>,
    Path((raw, id)): Path<(String, String)>,
    Query(q): Query<Q>,
    headers: HeaderMap,
) -> Response {
    let c = ctx_or_return!(st, raw, q.lang.as_deref(), headers, "people");
    let lang = c.lang;
    let rec = match people::view(&st.store, &SystemClock, &c.by, &id).await {
        Ok(r) => r,
        Err(e) => return c.error("people", e),
    };
    let p = &rec.person;
    let base = c.base();
    let done = match q.done.as_deref() {
        Some("password") => notice(
            "info",
            t(
                lang,
                "仮パスワードを設定しました。",
                "The temporary password is set.",
            ),
        ),
        Some("unlock") => notice("info", t(lang, "ロックを解除しました。", "Unlocked.")),
        Some("card-revoked") => notice(
            "info",
            t(
                lang,
                "QRログインカードを無効にしました。",
                "The QR sign-in card is revoked.",
            ),
        ),
        _ => String::new(),
    };
    let memberships: Vec<Vec<String>> = rec
        .memberships
        .iter()
        .map(|m| {
            vec![
                esc(&m.school_name),
                format!(
                    "<a href=\"{base}/classes/{}{}\">{}</a>",
                    url_encode(&m.class_sourced_id),
                    lq(lang, true),
                    esc(&m.class_title)
                ),
                esc(&m.role),
            ]
        })
        .collect();
    let admin_roles = if rec.admin_roles.is_empty() {
        "—".to_owned()
    } else {
        rec.admin_roles
            .iter()
            .map(|(r, s)| esc(&format!("{r} {s}")))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let apps = if rec.apps.is_empty() {
        "—".to_owned()
    } else {
        rec.apps
            .iter()
            .map(|a| esc(a))
            .collect::<Vec<_>>()
            .join("、")
    };
    let manage =
        c.by.may(
            &st.store,
            kakehashi_core::console::authz::PersonAction::ManageSignIn,
            p,
        )
        .await
        .unwrap_or(false)
            && c.by
                .user
                .as_ref()
                .is_none_or(|u| u.sourced_id != p.sourced_id);
    let forms = if manage {
        format!(
            "<form class=\"inline\" method=\"post\" action=\"{base}/people/{id}/password{lq}\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <label for=\"password\">{pw}</label>\
             <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"new-password\" required>\
             <button type=\"submit\">{set}</button></form>\n\
             <form class=\"inline\" method=\"post\" action=\"{base}/people/{id}/unlock{lq}\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <button type=\"submit\">{unlock}</button></form>",
            id = url_encode(&p.sourced_id),
            lq = lq(lang, true),
            csrf = esc(&c.csrf),
            pw = t(lang, "仮パスワード", "Temporary password"),
            set = t(lang, "仮パスワードを設定", "Set temporary password"),
            unlock = t(lang, "ロックを解除", "Unlock sign-in"),
        )
    } else {
        String::new()
    };
    let card_forms = if manage
        && kakehashi_core::portal::policy::RoleClass::of(&p.role)
            == kakehashi_core::portal::policy::RoleClass::Pupil
    {
        format!(
            "<form class=\"inline\" method=\"post\" action=\"{base}/people/{id}/card{lq}\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <button type=\"submit\">{reissue}</button></form>\n\
             <form class=\"inline\" method=\"post\" action=\"{base}/people/{id}/card/revoke{lq}\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <button type=\"submit\">{revoke}</button></form>",
            id = url_encode(&p.sourced_id),
            lq = lq(lang, true),
            csrf = esc(&c.csrf),
            reissue = t(lang, "QRログインカードを再発行", "Reissue QR sign-in card"),
            revoke = t(
                lang,
                "QRログインカードを無効にする",
                "Revoke QR sign-in card"
            ),
        )
    } else {
        String::new()
    };
    let forms = format!("{forms}\n{card_forms}");
    let history = if matches!(
        c.by.standing,
        Standing::TenantAdmin | Standing::PlatformOperator
    ) {
        format!(
            "<p><a class=\"button\" href=\"{base}/audit?target={}{}\">{}</a></p>",
            url_encode(&format!("user:{}", p.sourced_id)),
            lq(lang, false),
            t(
                lang,
                "この人を見た・変えた人",
                "Who viewed or changed this person"
            )
        )
    } else {
        String::new()
    };
    let body = format!(
        "{done}<dl class=\"record\">\
         <dt>{l_user}</dt><dd>{user}</dd><dt>{l_kana}</dt><dd>{kana}</dd>\
         <dt>{l_role}</dt><dd>{role}</dd><dt>{l_admin}</dt><dd>{admin_roles}</dd>\
         <dt>{l_last}</dt><dd>{last}</dd><dt>{l_apps}</dt><dd>{apps}</dd></dl>\n{memberships}\n{forms}\n{history}",
        l_user = t(lang, "ユーザー名", "Username"),
        user = esc(&p.username),
        l_kana = t(lang, "よみがな", "Kana"),
        kana = esc(&format!(
            "{} {}",
            p.kana_family_name.as_deref().unwrap_or(""),
            p.kana_given_name.as_deref().unwrap_or("")
        )),
        l_role = t(lang, "役割", "Role"),
        role = esc(&p.role),
        l_admin = t(lang, "管理の権限", "Admin roles"),
        l_last = t(lang, "最後のログイン", "Last sign-in"),
        last = esc(rec.last_sign_in.as_deref().unwrap_or("—")),
        l_apps = t(lang, "使えるアプリ", "Apps they can reach"),
        memberships = table(
            t(lang, "学校・クラス", "Schools and classes"),
            &[
                t(lang, "学校", "School"),
                t(lang, "クラス", "Class"),
                t(lang, "役割", "Role")
            ],
            &memberships,
            t(lang, "所属はありません。", "No memberships."),
        ),
    );
    c.page(
        StatusCode::OK,
        "people",
        &format!("{} {}", p.family_name, p.given_name),
        &body,
    )
}

#[derive(Deserialize)]
pub struct PasswordForm {
    csrf: Option<String>,
    password: Option<String>,
}

pub async fn person_password(
    State(st): State<AppState>,
    Path((raw, id)): Path<(String, String)>,
    Query(q): Query<Q>,
    headers: HeaderMap,
    Form(form): Form<PasswordForm>,
) -> Response {
    let c = ctx_or_return!(st, raw, q.lang.as_deref(), headers, "people");
    if !csrf_ok(&c, form.csrf.as_deref()) {
        return forbidden_form(&c);
    }
    let pw = form.password.unwrap_or_default();
    match people::set_temporary_password(&st.store, &SystemClock, &c.by, &id, &pw).await {
        Ok(()) => see_other(
            &format!(
                "{}/people/{}?done=password{}",
                c.base(),
                url_encode(&id),
                if c.lang == Lang::En { "&lang=en" } else { "" }
            ),
            &[],
        ),
        Err(e) => c.error("people", e),
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: Option<String>,
}

pub async fn person_unlock(
    State(st): State<AppState>,
    Path((raw, id)): Path<(String, String)>,
    Query(q): Query<Q>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    let c = ctx_or_return!(st, raw, q.lang.as_deref(), headers, "people");
    if !csrf_ok(&c, form.csrf.as_deref()) {
        return forbidden_form(&c);
    }
    match people::unlock(&st.store, &SystemClock, &c.by, &id).await {
        Ok(_) => see_other(
            &format!(
                "{}/people/{}?done=unlock{}",
                c.base(),
                url_encode(&id),
                if c.lang == Lang::En { "&lang=en" } else { "" }
            ),
            &[],
        ),
        Err(e) => c.error("people", e),
    }
}

pub async fn classes_page(
    State(st): State<AppState>,
    Path(raw): Path<String>,
    Query(q): Query<Q>,
    headers: HeaderMap,
) -> Response {
    let c = ctx_or_return!(st, raw, q.lang.as_deref(), headers, "classes");
    let lang = c.lang;
    if !c.by.is_staff() {
        return c.error("classes", ConsoleError::Forbidden("staff only".into()));
    }
    let list = match classes::mine(&st.store, &c.by).await {
        Ok(l) => l,
        Err(e) => return c.error("classes", e),
    };
    let base = c.base();
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|k| {
            vec![format!(
                "<a href=\"{base}/classes/{}{}\">{}</a>",
                url_encode(&k.sourced_id),
                lq(lang, true),
                esc(&k.title)
            )]
        })
        .collect();
    let body = table(
        t(lang, "担当クラス", "Classes you teach"),
        &[t(lang, "クラス", "Class")],
        &rows,
        t(
            lang,
            "担当クラスはありません。利用者の画面から人を探してください。",
            "You teach no classes. Find people on the People page.",
        ),
    );
    c.page(
        StatusCode::OK,
        "classes",
        t(lang, "クラス", "Classes"),
        &body,
    )
}

pub async fn class_page(
    State(st): State<AppState>,
    Path((raw, id)): Path<(String, String)>,
    Query(q): Query<Q>,
    headers: HeaderMap,
) -> Response {
    let c = ctx_or_return!(st, raw, q.lang.as_deref(), headers, "classes");
    let lang = c.lang;
    let (class, pupils) = match classes::pupils(&st.store, &SystemClock, &c.by, &id).await {
        Ok(x) => x,
        Err(e) => return c.error("classes", e),
    };
    let base = c.base();
    let rows: Vec<Vec<String>> = pupils
        .iter()
        .map(|p| {
            vec![
                format!(
                    "<a href=\"{base}/people/{}{}\">{}</a>",
                    url_encode(&p.person.sourced_id),
                    lq(lang, true),
                    esc(&p.person.username)
                ),
                esc(&name_of(&p.person)),
                esc(&kana_of(&p.person)),
                match &p.last_sign_in {
                    Some(at) => esc(at),
                    None => t(lang, "まだログインしていません", "Never signed in").to_owned(),
                },
            ]
        })
        .collect();
    let body = table(
        t(
            lang,
            "児童生徒と最後のログイン",
            "Pupils and their last sign-in",
        ),
        &[
            t(lang, "ユーザー名", "Username"),
            t(lang, "名前", "Name"),
            t(lang, "よみがな", "Kana"),
            t(lang, "最後のログイン", "Last sign-in"),
        ],
        &rows,
        t(lang, "児童生徒はいません。", "No pupils."),
    );
    let print = if pupils.is_empty() {
        String::new()
    } else {
        format!(
            "<form class=\"inline noprint\" method=\"post\" action=\"{base}/classes/{}/cards{}\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <p>{}</p><button type=\"submit\">{}</button></form>",
            url_encode(&class.sourced_id),
            lq(lang, true),
            esc(&c.csrf),
            t(
                lang,
                "新しいカードを印刷すると、このクラスの前のカードは使えなくなります。",
                "Printing new cards makes this class's earlier cards stop working.",
            ),
            t(lang, "QRログインカードを印刷する", "Print QR sign-in cards"),
        )
    };
    let body = format!("{body}\n{print}");
    c.page(StatusCode::OK, "classes", &class.title, &body)
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
        "{}\n{}",
        table(
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
        next_link(
            lang,
            &format!("{}/me", c.base()),
            &[],
            ("before", page.next.as_deref())
        )
    );
    c.page(
        StatusCode::OK,
        "me",
        t(lang, "わたしのログイン履歴", "My sign-ins"),
        &body,
    )
}

pub async fn audit_page(
    State(st): State<AppState>,
    Path(raw): Path<String>,
    Query(q): Query<Q>,
    headers: HeaderMap,
) -> Response {
    let c = ctx_or_return!(st, raw, q.lang.as_deref(), headers, "audit");
    let lang = c.lang;
    let filter = q.filter();
    let page = match audit_log::search(&st.store, &c.by, &filter, q.before.as_deref(), None).await {
        Ok(p) => p,
        Err(e) => return c.error("audit", e),
    };
    let base = c.base();
    let params = [
        ("action", filter.action_prefix.as_str()),
        ("actor", filter.actor.as_str()),
        ("target", filter.target.as_str()),
        ("from", filter.from.as_str()),
        ("to", filter.to.as_str()),
    ];
    let field = |name: &str, label: &str, value: &str| {
        format!(
            "<div><label for=\"f-{name}\">{label}</label>\
             <input id=\"f-{name}\" name=\"{name}\" type=\"text\" value=\"{}\"></div>",
            esc(value)
        )
    };
    let query: String = params
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}&", url_encode(v)))
        .collect();
    let rows: Vec<Vec<String>> = page
        .items
        .iter()
        .map(|e| {
            vec![
                e.seq.to_string(),
                esc(&e.at),
                esc(&e.actor),
                esc(&e.action),
                esc(&e.target),
                format!("<code>{}</code>", esc(&e.details)),
            ]
        })
        .collect();
    let body = format!(
        "<form class=\"filters\" method=\"get\" action=\"{base}/audit\">{f1}{f2}{f3}{f4}{f5}{lang_field}\
         <div><button type=\"submit\">{search}</button></div></form>\n\
         <p><a class=\"button\" href=\"{base}/audit.csv?{q}\">{csv}</a> \
         <a class=\"button\" href=\"{base}/audit/verify{lq1}\">{verify}</a></p>\n{table}\n{next}",
        f1 = field("action", t(lang, "操作（前方一致）", "Action (starts with)"), &filter.action_prefix),
        f2 = field("actor", t(lang, "誰が", "Actor"), &filter.actor),
        f3 = field("target", t(lang, "対象（例 user:ID）", "Target (e.g. user:ID)"), &filter.target),
        f4 = field("from", t(lang, "いつから (RFC 3339)", "From (RFC 3339)"), &filter.from),
        f5 = field("to", t(lang, "いつまで (RFC 3339)", "To (RFC 3339)"), &filter.to),
        lang_field = if lang == Lang::En {
            "<input type=\"hidden\" name=\"lang\" value=\"en\">"
        } else {
            ""
        },
        search = t(lang, "絞り込む", "Filter"),
        q = esc(&query),
        csv = t(lang, "CSVで書き出す", "Export CSV"),
        lq1 = lq(lang, true),
        verify = t(lang, "改ざんがないか確かめる", "Verify the chain"),
        table = table(
            t(lang, "監査ログ（新しい順）", "Audit log (newest first)"),
            &[
                "#",
                t(lang, "日時 (UTC)", "When (UTC)"),
                t(lang, "誰が", "Actor"),
                t(lang, "操作", "Action"),
                t(lang, "対象", "Target"),
                t(lang, "詳細", "Details"),
            ],
            &rows,
            t(lang, "該当する記録はありません。", "No matching rows."),
        ),
        next = next_link(lang, &format!("{base}/audit"), &params, ("before", page.next.as_deref())),
    );
    c.page(
        StatusCode::OK,
        "audit",
        t(lang, "監査ログ", "Audit log"),
        &body,
    )
}

pub async fn audit_csv(
    State(st): State<AppState>,
    Path(raw): Path<String>,
    Query(q): Query<Q>,
    headers: HeaderMap,
) -> Response {
    let c = ctx_or_return!(st, raw, q.lang.as_deref(), headers, "audit");
    match audit_log::export_csv(&st.store, &c.by, &q.filter()).await {
        Ok(csv) => crate::api::csv_response(csv, "audit.csv"),
        Err(e) => c.error("audit", e),
    }
}

pub async fn audit_verify(
    State(st): State<AppState>,
    Path(raw): Path<String>,
    Query(q): Query<Q>,
    headers: HeaderMap,
) -> Response {
    let c = ctx_or_return!(st, raw, q.lang.as_deref(), headers, "audit");
    let lang = c.lang;
    match audit_log::verify(&st.store, &c.by).await {
        Ok(v) => {
            let text = match (&v.first_break, lang) {
                (None, Lang::Ja) => {
                    format!("{}件の記録を確かめました。改ざんはありません。", v.rows)
                }
                (None, Lang::En) => format!("{} rows checked; the chain is intact.", v.rows),
                (Some(b), Lang::Ja) => {
                    format!("{}番目の記録で鎖が切れています: {}", b.seq, b.problem)
                }
                (Some(b), Lang::En) => format!("The chain breaks at row {}: {}", b.seq, b.problem),
            };
            let kind = if v.first_break.is_none() {
                "info"
            } else {
                "error"
            };
            c.page(
                StatusCode::OK,
                "audit",
                t(lang, "監査ログの検証", "Audit chain verification"),
                &notice(kind, &text),
            )
        }
        Err(e) => c.error("audit", e),
    }
}

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
                    "<form method=\"post\" action=\"{base}/apps/{}/remove{}\">\
                     <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
                     <button type=\"submit\" class=\"secondary\" aria-label=\"{} {}\">{}</button></form>",
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

pub async fn imports_page(
    State(st): State<AppState>,
    Path(raw): Path<String>,
    Query(q): Query<Q>,
    headers: HeaderMap,
) -> Response {
    let c = ctx_or_return!(st, raw, q.lang.as_deref(), headers, "imports");
    let lang = c.lang;
    let page = match roster::history(&st.store, &c.by, q.before.as_deref(), None).await {
        Ok(p) => p,
        Err(e) => return c.error("imports", e),
    };
    let base = c.base();
    let rows: Vec<Vec<String>> = page
        .items
        .iter()
        .map(|i| {
            vec![
                esc(&i.at),
                esc(&i.actor),
                esc(&i.source),
                counts(&i.summary),
            ]
        })
        .collect();
    let body = format!(
        "<form class=\"inline\" method=\"post\" action=\"{base}/imports{lq}\" enctype=\"multipart/form-data\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <label for=\"package\">{label}</label>\
         <input id=\"package\" name=\"package\" type=\"file\" accept=\".zip,application/zip\" required>\
         <button type=\"submit\">{check}</button></form>\n{table}\n{next}",
        lq = lq(lang, true),
        csrf = esc(&c.csrf),
        label = t(
            lang,
            "OneRoster CSV の zip ファイル（確認のあと取り込みます）",
            "OneRoster CSV zip (checked before anything is imported)"
        ),
        check = t(lang, "確認する", "Check"),
        table = table(
            t(lang, "取り込みの履歴", "Import history"),
            &[
                t(lang, "日時 (UTC)", "When (UTC)"),
                t(lang, "誰が", "Who"),
                t(lang, "ファイル", "File"),
                t(lang, "件数", "Counts"),
            ],
            &rows,
            t(lang, "まだ取り込みはありません。", "No imports yet."),
        ),
        next = next_link(lang, &format!("{base}/imports"), &[], ("before", page.next.as_deref())),
    );
    c.page(
        StatusCode::OK,
        "imports",
        t(lang, "名簿の取り込み", "Roster import"),
        &body,
    )
}

/// "users: +3 ~1 −2" per entity of an import summary.
fn counts(summary: &serde_json::Value) -> String {
    summary["entities"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(entity, c)| {
                    format!(
                        "{}: +{} ~{} −{}",
                        esc(entity),
                        c["created"].as_u64().unwrap_or(0),
                        c["updated"].as_u64().unwrap_or(0),
                        c["deactivated"].as_u64().unwrap_or(0)
                    )
                })
                .collect::<Vec<_>>()
                .join("<br>")
        })
        .unwrap_or_default()
}

pub async fn import_upload(
    State(st): State<AppState>,
    Path(raw): Path<String>,
    Query(q): Query<Q>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let c = ctx_or_return!(st, raw, q.lang.as_deref(), headers, "imports");
    let parts = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(multipart::boundary)
        .and_then(|b| multipart::parse(&body, &b));
    let Some(parts) = parts else {
        return c.error(
            "imports",
            ConsoleError::Invalid("send the form as multipart/form-data".into()),
        );
    };
    let field = |n: &str| parts.iter().find(|p| p.name == n);
    let csrf = field("csrf").and_then(|p| std::str::from_utf8(&p.data).ok());
    if !csrf_ok(&c, csrf) {
        return forbidden_form(&c);
    }
    let Some(file) = field("package").filter(|p| !p.data.is_empty()) else {
        return c.error(
            "imports",
            ConsoleError::Invalid(t(c.lang, "ファイルを選んでください。", "Choose a file.").into()),
        );
    };
    let name = file
        .file_name
        .clone()
        .unwrap_or_else(|| "upload.zip".into());
    match roster::stage_upload(&st.store, SystemClock, &c.by, file.data.clone(), &name).await {
        Ok(s) => see_other(
            &format!("{}/imports/{}{}", c.base(), s.id, lq(c.lang, true)),
            &[],
        ),
        Err(e) => c.error("imports", e),
    }
}

pub async fn import_staged(
    State(st): State<AppState>,
    Path((raw, id)): Path<(String, String)>,
    Query(q): Query<Q>,
    headers: HeaderMap,
) -> Response {
    let c = ctx_or_return!(st, raw, q.lang.as_deref(), headers, "imports");
    match roster::staged(&st.store, &c.by, &id).await {
        Ok(s) => staged_page(&c, &s),
        Err(e) => c.error("imports", e),
    }
}

fn staged_page(c: &Ctx, s: &Staged) -> Response {
    let lang = c.lang;
    let base = c.base();
    let diags: Vec<Vec<String>> = s.report["diagnostics"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| {
            let v = |k: &str| match &d[k] {
                serde_json::Value::String(s) => esc(s),
                serde_json::Value::Null => String::new(),
                other => esc(&other.to_string()),
            };
            vec![
                v("file"),
                v("line"),
                v("column"),
                v("field"),
                v("rule"),
                v("severity"),
                v("message"),
            ]
        })
        .collect();
    let errors = s.report["errors"].as_u64().unwrap_or(0);
    let summary_line = match (errors, lang) {
        (0, Lang::Ja) => "エラーはありません。下の内容で取り込めます。".to_owned(),
        (0, Lang::En) => "No errors. It can be imported as shown below.".to_owned(),
        (n, Lang::Ja) => format!("{n}件のエラーがあります。何も取り込まれていません。直してから、もう一度選んでください。"),
        (n, Lang::En) => format!("{n} error(s); nothing was imported. Fix them and upload again."),
    };
    let report = if diags.is_empty() {
        String::new()
    } else {
        format!(
            "{}\n<p><a class=\"button\" href=\"{base}/imports/{id}/report.csv\">{csv}</a></p>",
            table(
                t(lang, "検査の結果", "Validation report"),
                &[
                    t(lang, "ファイル", "File"),
                    t(lang, "行", "Line"),
                    t(lang, "列", "Column"),
                    t(lang, "項目", "Field"),
                    t(lang, "規則", "Rule"),
                    t(lang, "重さ", "Severity"),
                    t(lang, "内容", "Message"),
                ],
                &diags,
                "",
            ),
            id = esc(&s.id),
            csv = t(lang, "検査結果をCSVで保存", "Download the report as CSV"),
        )
    };
    let preview = match &s.preview {
        Some(p) => {
            let rows: Vec<Vec<String>> = p["entities"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(entity, c)| {
                    let n = |k: &str| c[k].as_u64().unwrap_or(0).to_string();
                    vec![
                        esc(entity),
                        n("created"),
                        n("updated"),
                        n("deactivated"),
                        n("unchanged"),
                    ]
                })
                .collect();
            let counts_table = table(
                t(lang, "取り込むと変わるもの", "What importing will change"),
                &[
                    t(lang, "ファイル", "Entity"),
                    t(lang, "追加", "Created"),
                    t(lang, "更新", "Updated"),
                    t(
                        lang,
                        "無効化（転出など）",
                        "Deactivated (e.g. transfers out)",
                    ),
                    t(lang, "変更なし", "Unchanged"),
                ],
                &rows,
                "",
            );
            format!(
                "{}{counts_table}\n{}",
                rollover_notice(lang, p),
                changed_rows(lang, p)
            )
        }
        None => String::new(),
    };
    let apply = if s.applicable {
        format!(
            "<form class=\"inline\" method=\"post\" action=\"{base}/imports/{id}/apply{lq}\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <button type=\"submit\">{label}</button></form>",
            id = esc(&s.id),
            lq = lq(lang, true),
            csrf = esc(&c.csrf),
            label = t(lang, "この内容で取り込む", "Import now"),
        )
    } else {
        String::new()
    };
    let kind = if errors == 0 { "info" } else { "error" };
    let body = format!(
        "<p>{file}</p>{notice}\n{report}\n{preview}\n{apply}",
        file = esc(&s.file_name),
        notice = notice(kind, &summary_line),
    );
    c.page(
        StatusCode::OK,
        "imports",
        t(lang, "取り込む前の確認", "Check before importing"),
        &body,
    )
}

pub async fn import_report_csv(
    State(st): State<AppState>,
    Path((raw, id)): Path<(String, String)>,
    Query(q): Query<Q>,
    headers: HeaderMap,
) -> Response {
    let c = ctx_or_return!(st, raw, q.lang.as_deref(), headers, "imports");
    match roster::report_csv(&st.store, &c.by, &id).await {
        Ok(csv) => crate::api::csv_response(csv, "validation-report.csv"),
        Err(e) => c.error("imports", e),
    }
}

pub async fn import_apply(
    State(st): State<AppState>,
    Path((raw, id)): Path<(String, String)>,
    Query(q): Query<Q>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    let c = ctx_or_return!(st, raw, q.lang.as_deref(), headers, "imports");
    let lang = c.lang;
    if !csrf_ok(&c, form.csrf.as_deref()) {
        return forbidden_form(&c);
    }
    match roster::apply_staged(&st.store, SystemClock, &c.by, &id).await {
        Ok(Outcome::Summary(s)) => {
            let v = serde_json::to_value(&s).unwrap_or_default();
            let body = format!(
                "{}\n<p>{}</p>\n<p><a class=\"button\" href=\"{}/imports{}\">{}</a></p>",
                notice("info", t(lang, "取り込みました。", "Imported.")),
                counts(&v),
                c.base(),
                lq(lang, true),
                t(lang, "履歴へ", "To the history"),
            );
            c.page(
                StatusCode::OK,
                "imports",
                t(lang, "取り込みました", "Imported"),
                &body,
            )
        }
        // The roster changed between preview and apply so that the package no longer fits.
        Ok(Outcome::Invalid(r)) => c.error(
            "imports",
            ConsoleError::Invalid(format!(
                "{} error(s) now; nothing was imported. Upload the package again.",
                r.errors
            )),
        ),
        Err(e) => c.error("imports", e),
    }
}

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

/// The printable cards page (shown once: the tokens are not stored).
fn cards_page(c: &Ctx, title: &str, issued: &[cards::IssuedCard], public_url: &str) -> Response {
    let lang = c.lang;
    let items: String = issued
        .iter()
        .map(|card| {
            let url = format!(
                "{}/t/{}/card/{}",
                public_url.trim_end_matches('/'),
                c.tenant,
                card.token
            );
            let name = name_of(&card.person);
            let qr = super::qr::svg(&url, &format!("{name} QR")).unwrap_or_default();
            // The QR code is also a link: a teacher can try a card on this device.
            format!(
                "<li class=\"signin-card\"><span class=\"pupil\">{}</span>\
                 <span class=\"kana\">{}</span><a class=\"card-link\" href=\"{}\">{qr}</a>\
                 <span>{}</span></li>\n",
                esc(&name),
                esc(&kana_of(&card.person)),
                esc(&url),
                esc(&card.person.username),
            )
        })
        .collect();
    let body = format!(
        "<p class=\"noprint\">{}</p>\n<ul class=\"cards\">\n{items}</ul>",
        t(
            lang,
            "このページを印刷してください。カードはこのときだけ表示されます（なくしたら再発行できます）。",
            "Print this page now: the cards are shown only once (a lost card can be reissued).",
        )
    );
    c.page(StatusCode::OK, "classes", title, &body)
}

pub async fn class_cards(
    State(st): State<AppState>,
    Path((raw, id)): Path<(String, String)>,
    Query(q): Query<Q>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    let c = ctx_or_return!(st, raw, q.lang.as_deref(), headers, "classes");
    if !csrf_ok(&c, form.csrf.as_deref()) {
        return forbidden_form(&c);
    }
    match cards::issue_for_class(&st.store, &SystemClock, &c.by, &id).await {
        Ok((class, issued)) => {
            let title = format!(
                "{} {}",
                class.title,
                t(c.lang, "QRログインカード", "QR sign-in cards")
            );
            cards_page(&c, &title, &issued, &st.public_url)
        }
        Err(e) => c.error("classes", e),
    }
}

pub async fn person_card(
    State(st): State<AppState>,
    Path((raw, id)): Path<(String, String)>,
    Query(q): Query<Q>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    let c = ctx_or_return!(st, raw, q.lang.as_deref(), headers, "people");
    if !csrf_ok(&c, form.csrf.as_deref()) {
        return forbidden_form(&c);
    }
    match cards::reissue(&st.store, &SystemClock, &c.by, &id).await {
        Ok(card) => cards_page(
            &c,
            t(
                c.lang,
                "QRログインカード（再発行）",
                "QR sign-in card (reissued)",
            ),
            &[card],
            &st.public_url,
        ),
        Err(e) => c.error("people", e),
    }
}

pub async fn person_card_revoke(
    State(st): State<AppState>,
    Path((raw, id)): Path<(String, String)>,
    Query(q): Query<Q>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    let c = ctx_or_return!(st, raw, q.lang.as_deref(), headers, "people");
    if !csrf_ok(&c, form.csrf.as_deref()) {
        return forbidden_form(&c);
    }
    match cards::revoke(&st.store, &SystemClock, &c.by, &id).await {
        Ok(_) => see_other(
            &format!(
                "{}/people/{}?done=card-revoked{}",
                c.base(),
                url_encode(&id),
                if c.lang == Lang::En { "&lang=en" } else { "" }
            ),
            &[],
        ),
        Err(e) => c.error("people", e),
    }
}

/// What scanning a card opens: "sign in as …?" with one big button (a GET never signs in,
/// so a link preview or a prefetch cannot). The form carries the pre-login CSRF token.
pub async fn card_page(
    State(st): State<AppState>,
    Path((raw, token)): Path<(String, String)>,
    Query(q): Query<Q>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::pick(q.lang.as_deref(), &headers);
    let (tenant, tenant_name) = match tenant_of(&st, &raw, lang).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let holder = match cards::holder(&st.store, &tenant, &token).await {
        Ok(h) => h,
        Err(e) => return internal(e),
    };
    let Some(pupil) = holder else {
        return card_unusable(lang, &tenant);
    };
    let (csrf, set) = match crate::portal::handlers::login_csrf_for(&st, &tenant, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let body = format!(
        "<main class=\"card\">\n<p class=\"tenant\">{tenant_name}</p>\n<h1>{name}</h1>\n\
         <p class=\"kana\">{kana}</p>\n\
         <form method=\"post\" action=\"/t/{tenant}/card/{token}{lq}\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <button type=\"submit\" class=\"big\">{go}</button></form>\n\
         <p>{not_me}</p>\n</main>",
        tenant_name = esc(&tenant_name),
        name = esc(&format!("{} {}", pupil.family_name, pupil.given_name)),
        kana = esc(&format!(
            "{} {}",
            pupil.kana_family_name.as_deref().unwrap_or(""),
            pupil.kana_given_name.as_deref().unwrap_or("")
        )),
        tenant = esc(tenant.as_str()),
        token = esc(&token),
        lq = lq(lang, true),
        csrf = esc(&csrf),
        go = t(lang, "ログインする", "Sign in"),
        not_me = t(
            lang,
            "自分のカードでなければ、先生に知らせてください。",
            "If this is not your card, tell your teacher.",
        ),
    );
    html(
        StatusCode::OK,
        crate::portal::pages::plain_page(
            lang,
            t(lang, "カードでログイン", "Sign in with a card"),
            &body,
        ),
        &set,
    )
}

fn card_unusable(lang: Lang, tenant: &TenantId) -> Response {
    let body = format!(
        "<main class=\"card\">\n<h1>{}</h1>\n<p>{}</p>\n\
         <p><a class=\"button\" href=\"/t/{}/login{}\">{}</a></p>\n</main>",
        t(lang, "このカードは使えません", "This card does not work"),
        t(
            lang,
            "新しいカードが作られたか、使えなくなっています。先生に新しいカードをもらってください。",
            "It was replaced or revoked. Ask your teacher for a new card.",
        ),
        esc(tenant.as_str()),
        lq(lang, true),
        t(lang, "ログイン画面へ", "Go to sign-in"),
    );
    html(
        StatusCode::NOT_FOUND,
        crate::portal::pages::plain_page(lang, t(lang, "使えないカード", "Card not usable"), &body),
        &[],
    )
}

pub async fn card_sign_in(
    State(st): State<AppState>,
    Path((raw, token)): Path<(String, String)>,
    Query(q): Query<Q>,
    headers: HeaderMap,
    ext: axum::http::Extensions,
    Form(form): Form<CsrfForm>,
) -> Response {
    use crate::portal::http::{
        clear_cookie, client_ip, cookies, set_cookie, LOGIN_COOKIE, SESSION_COOKIE,
    };
    let lang = Lang::pick(q.lang.as_deref(), &headers);
    let (tenant, _) = match tenant_of(&st, &raw, lang).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    if let Err(r) = crate::portal::handlers::check_login_csrf(
        &st,
        &tenant,
        &headers,
        form.csrf.as_deref(),
        lang,
    )
    .await
    {
        return r;
    }
    let old: Vec<token::SessionToken> = cookies(&headers, SESSION_COOKIE)
        .filter_map(token::SessionToken::parse)
        .collect();
    let ua = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    match cards::sign_in(
        &st.store,
        &SystemClock,
        &tenant,
        &token,
        &client_ip(&ext),
        ua,
        old.first(),
    )
    .await
    {
        Ok(Some((session, _))) => {
            let sec = st.public_url.starts_with("https://");
            see_other(
                &format!("/t/{tenant}/{}", lq(lang, true)),
                &[
                    set_cookie(SESSION_COOKIE, session.expose(), tenant.as_str(), sec),
                    clear_cookie(LOGIN_COOKIE, tenant.as_str(), sec),
                ],
            )
        }
        Ok(None) => card_unusable(lang, &tenant),
        Err(e) => internal(e),
    }
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
         {launch}{format}\
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
    let one = |k: &str| {
        pairs
            .iter()
            .find(|(name, v)| name == k && !v.is_empty())
            .map(|(_, v)| v.clone())
    };
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

/// The yearly rollover (年次更新), recognised by new academic sessions in the package.
fn rollover_notice(lang: Lang, preview: &serde_json::Value) -> String {
    let new_sessions = preview["entities"]["academicSessions"]["created"]
        .as_u64()
        .unwrap_or(0);
    if new_sessions == 0 {
        return String::new();
    }
    notice(
        "info",
        &match lang {
            Lang::Ja => format!(
                "新しい年度・学期が{new_sessions}件あります（年次更新）。進級・クラス替えで所属が変わり、名簿から消えた人は無効になります。"
            ),
            Lang::En => format!(
                "{new_sessions} new school year(s) or term(s): a yearly rollover. Memberships follow the new classes; people no longer listed are deactivated."
            ),
        },
    )
}

/// The rows a preview names, per entity; for users, created and deactivated are shown as
/// transfers in (転入・新入生) and out (転出・卒業).
fn changed_rows(lang: Lang, preview: &serde_json::Value) -> String {
    let Some(changes) = preview["changes"].as_object() else {
        return String::new();
    };
    let mut out = String::new();
    for (entity, c) in changes {
        let users = entity == "users";
        let mut rows = Vec::new();
        for (kind, label) in [
            (
                "created",
                if users {
                    t(lang, "新規・転入", "New or transferred in")
                } else {
                    t(lang, "追加", "Created")
                },
            ),
            ("updated", t(lang, "更新", "Updated")),
            (
                "deactivated",
                if users {
                    t(
                        lang,
                        "転出・卒業など（無効化）",
                        "Transferred out, graduated… (deactivated)",
                    )
                } else {
                    t(lang, "無効化", "Deactivated")
                },
            ),
        ] {
            for row in c[kind].as_array().into_iter().flatten() {
                rows.push(vec![
                    esc(label),
                    format!("<code>{}</code>", esc(row[0].as_str().unwrap_or_default())),
                    esc(row[1].as_str().unwrap_or_default()),
                ]);
            }
        }
        let caption = match lang {
            Lang::Ja => format!("{entity}.csv の変わる行（種類ごとに最初の100行まで）"),
            Lang::En => format!("Rows of {entity}.csv that change (the first 100 of each kind)"),
        };
        out.push_str(&table(
            &caption,
            &[
                t(lang, "変更", "Change"),
                "sourcedId",
                t(lang, "名前・ユーザー名", "Name or username"),
            ],
            &rows,
            "",
        ));
        out.push('\n');
    }
    out
}
