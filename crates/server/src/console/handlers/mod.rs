//! Console handlers, one file per screen: the portal session → a `Principal` → `kakehashi_core::console` (the same
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
    /// The portal session the principal was built from (a person's own factor changes need
    /// its second-factor freshness).
    session: kakehashi_core::portal::session::PortalSession,
    /// Holds the `platform-operator` grant (the menu links the cross-tenant overview).
    operator: bool,
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
            operator: self.operator,
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
    removed: Option<String>,
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
    let by = Principal::of_person(&st.store, &tenant, session.user.clone())
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "console principal");
            internal(kakehashi_core::portal::PortalError::Random(e.to_string()))
        })?;
    let operator = by.require_platform_operator().is_ok();
    Ok(Ctx {
        lang,
        tenant,
        tenant_name,
        by,
        csrf,
        session,
        operator,
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

/// The first value of form field `k` that is not empty (`blank_is_empty`: nor only spaces).
fn form_value(pairs: &[(String, String)], k: &str, blank_is_empty: bool) -> Option<String> {
    pairs
        .iter()
        .find(|(name, v)| {
            name == k && !(if blank_is_empty { v.trim() } else { v.as_str() }).is_empty()
        })
        .map(|(_, v)| v.clone())
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

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: Option<String>,
}

mod app_edit_pages;
mod app_pages;
mod audit_pages;
mod card_pages;
mod class_pages;
mod factor_pages;
mod import_pages;
mod lti_pages;
mod me_pages;
mod mfa_policy_pages;
mod operator_pages;
mod people_pages;
mod security_pages;

pub use app_edit_pages::*;
pub use app_pages::*;
pub use audit_pages::*;
pub use card_pages::*;
pub use class_pages::*;
pub use factor_pages::{person_factor_remove, person_factors_reset};
pub use import_pages::*;
pub use lti_pages::*;
pub use me_pages::*;
pub use mfa_policy_pages::security_mfa_submit;
pub use operator_pages::operator_page;
pub use people_pages::*;
pub use security_pages::*;

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
            "名簿の取り込み、利用者、アプリ、LTIツール、監査ログ、セキュリティ設定を管理できます。",
            "Manage roster imports, people, apps, LTI tools, the audit log and the security policy.",
        ),
    };
    c.page(
        StatusCode::OK,
        "",
        t(lang, "管理画面", "Console"),
        &format!("<p>{}</p>", esc(text)),
    )
}
