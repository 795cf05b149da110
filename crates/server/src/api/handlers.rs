//! Admin API handlers: bearer token → principal → `kakehashi_core::console` → JSON.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kakehashi_core::console::roster::Outcome;
use kakehashi_core::console::{
    apps, audit_log, cards, classes, lti_tools, mfa, people, roster, security,
};
use kakehashi_core::SystemClock;
use kakehashi_store::console::AuditFilter;
use serde::Deserialize;
use serde_json::json;

use super::{answer, answer_with, authenticate, console_error, error, ok, OPENAPI};
use crate::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    q: Option<String>,
    after: Option<String>,
    before: Option<String>,
    limit: Option<String>,
    preview: Option<String>,
    name: Option<String>,
    action: Option<String>,
    actor: Option<String>,
    target: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

impl ListQuery {
    // The error is the response itself, returned at once by the handler.
    #[allow(clippy::result_large_err)]
    fn limit(&self) -> Result<Option<i64>, Response> {
        match self.limit.as_deref() {
            None | Some("") => Ok(None),
            Some(l) => l.parse::<i64>().map(Some).map_err(|_| {
                error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "limit must be a whole number (1-200)",
                )
            }),
        }
    }

    fn audit_filter(&self) -> AuditFilter {
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        AuditFilter {
            action_prefix: s(&self.action),
            actor: s(&self.actor),
            target: s(&self.target),
            from: s(&self.from),
            to: s(&self.to),
        }
    }
}

macro_rules! try_resp {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(r) => return r,
        }
    };
}

/// A JSON request body, or the 400 naming what is wrong with it.
// The error is the response itself, returned at once by the handler.
#[allow(clippy::result_large_err)]
fn json_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Response> {
    serde_json::from_slice(body)
        .map_err(|e| error(StatusCode::BAD_REQUEST, "invalid_request", &e.to_string()))
}

/// The answer to a change of an app or tool: this node drops its copies of the tenant's
/// clients at once; other nodes see the change within `core::cache::TTL`.
fn changed<T: serde::Serialize>(
    st: &AppState,
    tenant: &kakehashi_store::TenantId,
    r: Result<T, kakehashi_core::console::ConsoleError>,
) -> Response {
    match r {
        Ok(v) => {
            st.cache.forget_tenant(tenant);
            ok(StatusCode::OK, &v)
        }
        Err(e) => console_error(e),
    }
}

/// The OpenAPI document with this tenant's server URL.
pub async fn openapi(State(st): State<AppState>, Path(tenant): Path<String>) -> Response {
    let id = try_resp!(crate::oidc::tenant(&st, &tenant).await.map_err(|_| error(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such tenant"
    )));
    let mut doc: serde_json::Value = match serde_json::from_str(OPENAPI) {
        Ok(d) => d,
        Err(e) => {
            tracing::error!(error = %e, "the built-in OpenAPI document does not parse");
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "internal error",
            );
        }
    };
    doc["servers"] =
        json!([{ "url": format!("{}/t/{id}/api/v1", st.public_url.trim_end_matches('/')) }]);
    ok(StatusCode::OK, &doc)
}

pub async fn people(
    State(st): State<AppState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Response {
    let by = try_resp!(authenticate(&st, &tenant, &headers).await);
    let limit = try_resp!(q.limit());
    match people::search(
        &st.store,
        &SystemClock,
        &by,
        q.q.as_deref().unwrap_or(""),
        q.after.as_deref(),
        limit,
    )
    .await
    {
        Ok(page) => ok(StatusCode::OK, &page),
        Err(e) => console_error(e),
    }
}

pub async fn person(
    State(st): State<AppState>,
    Path((tenant, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let by = try_resp!(authenticate(&st, &tenant, &headers).await);
    answer(people::view(&st.store, &SystemClock, &by, &id).await)
}

#[derive(Deserialize)]
pub struct PasswordBody {
    password: String,
}

pub async fn set_password(
    State(st): State<AppState>,
    Path((tenant, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let by = try_resp!(authenticate(&st, &tenant, &headers).await);
    let Ok(body) = serde_json::from_slice::<PasswordBody>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "send a JSON object {\"password\": \"...\"}",
        );
    };
    match people::set_temporary_password(&st.store, &SystemClock, &by, &id, &body.password).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => console_error(e),
    }
}

pub async fn unlock(
    State(st): State<AppState>,
    Path((tenant, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let by = try_resp!(authenticate(&st, &tenant, &headers).await);
    match people::unlock(&st.store, &SystemClock, &by, &id).await {
        Ok(n) => ok(StatusCode::OK, &json!({ "locksLifted": n })),
        Err(e) => console_error(e),
    }
}

/// A person's second factors (audited as a staff read).
pub async fn person_factors(
    State(st): State<AppState>,
    Path((tenant, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let by = try_resp!(authenticate(&st, &tenant, &headers).await);
    answer(mfa::factors_of(&st.store, &SystemClock, &by, &id).await)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResetBody {
    reason: String,
}

/// `POST people/{id}/factors/reset` `{"reason": …}`: what was removed.
pub async fn reset_factors(
    State(st): State<AppState>,
    Path((tenant, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let by = try_resp!(authenticate(&st, &tenant, &headers).await);
    let Ok(body) = serde_json::from_slice::<ResetBody>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "send a JSON object {\"reason\": \"...\"} (the reason goes into the audit log)",
        );
    };
    answer(mfa::reset_factors(&st.store, &SystemClock, &by, &id, &body.reason).await)
}

#[derive(Deserialize)]
pub struct RemoveKeyQuery {
    reason: Option<String>,
}

/// `DELETE people/{id}/factors/{credential}?reason=…`: one security key (RFC 9110 §9.3.5
/// gives a DELETE body no meaning, so the reason is a query parameter).
pub async fn remove_factor(
    State(st): State<AppState>,
    Path((tenant, id, credential)): Path<(String, String, String)>,
    headers: HeaderMap,
    Query(q): Query<RemoveKeyQuery>,
) -> Response {
    let by = try_resp!(authenticate(&st, &tenant, &headers).await);
    let reason = q.reason.unwrap_or_default();
    answer(mfa::remove_factor(&st.store, &SystemClock, &by, &id, &credential, &reason).await)
}

pub async fn person_audit(
    State(st): State<AppState>,
    Path((tenant, id)): Path<(String, String)>,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Response {
    let by = try_resp!(authenticate(&st, &tenant, &headers).await);
    let limit = try_resp!(q.limit());
    answer(audit_log::about_person(&st.store, &by, &id, q.before.as_deref(), limit).await)
}

pub async fn class_pupils(
    State(st): State<AppState>,
    Path((tenant, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let by = try_resp!(authenticate(&st, &tenant, &headers).await);
    match classes::pupils(&st.store, &SystemClock, &by, &id).await {
        // One class is one page: a class holds at most a few dozen pupils.
        Ok((class, pupils)) => ok(
            StatusCode::OK,
            &json!({ "class": class, "items": pupils, "next": null }),
        ),
        Err(e) => console_error(e),
    }
}

pub async fn audit(
    State(st): State<AppState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Response {
    let by = try_resp!(authenticate(&st, &tenant, &headers).await);
    let limit = try_resp!(q.limit());
    match audit_log::search(
        &st.store,
        &by,
        &q.audit_filter(),
        q.before.as_deref(),
        limit,
    )
    .await
    {
        Ok(page) => ok(StatusCode::OK, &page),
        Err(e) => console_error(e),
    }
}

pub async fn audit_csv(
    State(st): State<AppState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Response {
    let by = try_resp!(authenticate(&st, &tenant, &headers).await);
    match audit_log::export_csv(&st.store, &by, &q.audit_filter()).await {
        Ok(csv) => csv_response(csv, "audit.csv"),
        Err(e) => console_error(e),
    }
}

/// A CSV download (RFC 4180 `text/csv`), UTF-8 with a BOM so that Excel in Japan reads the
/// kanji (it assumes Shift_JIS otherwise).
pub(crate) fn csv_response(csv: String, file_name: &str) -> Response {
    let mut resp = (StatusCode::OK, format!("\u{FEFF}{csv}")).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8; header=present"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

pub async fn audit_verify(
    State(st): State<AppState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
) -> Response {
    let by = try_resp!(authenticate(&st, &tenant, &headers).await);
    answer(audit_log::verify(&st.store, &by).await)
}

pub async fn imports(
    State(st): State<AppState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Response {
    let by = try_resp!(authenticate(&st, &tenant, &headers).await);
    let limit = try_resp!(q.limit());
    answer(roster::history(&st.store, &by, q.before.as_deref(), limit).await)
}

/// `POST roster/imports[?preview=true][&name=FILE]`, body: the zip. 200 with the summary
/// (a preview changes nothing), 422 with the validation report.
pub async fn import(
    State(st): State<AppState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
    body: Bytes,
) -> Response {
    let by = try_resp!(authenticate(&st, &tenant, &headers).await);
    let preview = match q.preview.as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "preview must be true or false",
            )
        }
    };
    let name = q.name.as_deref().unwrap_or("api upload");
    match roster::import_upload_owned(
        st.store.clone(),
        SystemClock,
        by,
        body.to_vec(),
        name.to_owned(),
        preview,
    )
    .await
    {
        Ok(Outcome::Summary(s)) => ok(StatusCode::OK, &s),
        Ok(Outcome::Invalid(report)) => ok(
            StatusCode::UNPROCESSABLE_ENTITY,
            &json!({ "error": "invalid_roster",
                     "message": format!("the package has {} error(s); nothing was imported", report.errors),
                     "report": report }),
        ),
        Err(e) => console_error(e),
    }
}

pub async fn apps(
    State(st): State<AppState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Response {
    let by = try_resp!(authenticate(&st, &tenant, &headers).await);
    let limit = try_resp!(q.limit());
    answer(apps::list(&st.store, &by, q.after.as_deref(), limit).await)
}

pub async fn security_policy(
    State(st): State<AppState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
) -> Response {
    let by = try_resp!(authenticate(&st, &tenant, &headers).await);
    answer(security::get(&st.store, &by).await)
}

/// `PUT security-policy` with every field (a whole replacement).
pub async fn set_security_policy(
    State(st): State<AppState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let by = try_resp!(authenticate(&st, &tenant, &headers).await);
    let policy: security::SecurityPolicy = match serde_json::from_slice(&body) {
        Ok(p) => p,
        Err(e) => return error(StatusCode::BAD_REQUEST, "invalid_request", &e.to_string()),
    };
    match security::set(&st.store, &SystemClock, &by, &policy).await {
        Ok(()) => ok(StatusCode::OK, &policy),
        Err(e) => console_error(e),
    }
}

/// The MFA policy: the JSON of `kakehashi tenant security show --format json`.
pub async fn mfa_policy(
    State(st): State<AppState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
) -> Response {
    let by = try_resp!(authenticate(&st, &tenant, &headers).await);
    answer(mfa::get_policy(&st.store, &by).await)
}

/// `PUT security-policy/mfa` with every field (a whole replacement); a bad or missing field
/// is named in the 400.
pub async fn set_mfa_policy(
    State(st): State<AppState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let by = try_resp!(authenticate(&st, &tenant, &headers).await);
    let value: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return error(StatusCode::BAD_REQUEST, "invalid_request", &e.to_string()),
    };
    let policy = match mfa::policy_from_json(&value) {
        Ok(p) => p,
        Err(e) => return console_error(e),
    };
    match mfa::set_policy(&st.store, &SystemClock, &by, &policy).await {
        Ok(()) => ok(StatusCode::OK, &policy),
        Err(e) => console_error(e),
    }
}

/// A card as the API returns it: the pupil and the URL to put in the QR code (shown once).
fn card_json(st: &AppState, tenant: &str, c: &cards::IssuedCard) -> serde_json::Value {
    json!({
        "person": c.person,
        "url": format!("{}/t/{tenant}/card/{}", st.public_url.trim_end_matches('/'), c.token),
    })
}

pub async fn class_cards(
    State(st): State<AppState>,
    Path((tenant, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let by = try_resp!(authenticate(&st, &tenant, &headers).await);
    match cards::issue_for_class(&st.store, &SystemClock, &by, &id).await {
        // One class is one page: a class holds at most a few dozen pupils.
        Ok((class, issued)) => {
            let items: Vec<serde_json::Value> =
                issued.iter().map(|c| card_json(&st, &tenant, c)).collect();
            ok(
                StatusCode::OK,
                &json!({ "class": class, "items": items, "next": null }),
            )
        }
        Err(e) => console_error(e),
    }
}

pub async fn person_card(
    State(st): State<AppState>,
    Path((tenant, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let by = try_resp!(authenticate(&st, &tenant, &headers).await);
    match cards::reissue(&st.store, &SystemClock, &by, &id).await {
        Ok(card) => ok(StatusCode::OK, &card_json(&st, &tenant, &card)),
        Err(e) => console_error(e),
    }
}

pub async fn person_card_revoke(
    State(st): State<AppState>,
    Path((tenant, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let by = try_resp!(authenticate(&st, &tenant, &headers).await);
    match cards::revoke(&st.store, &SystemClock, &by, &id).await {
        Ok(revoked) => ok(StatusCode::OK, &json!({ "revoked": revoked })),
        Err(e) => console_error(e),
    }
}

/// `POST apps` with the command line's options as JSON: 201 with the registration (an OIDC
/// client secret appears only here).
pub async fn register_app(
    State(st): State<AppState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let by = try_resp!(authenticate(&st, &tenant, &headers).await);
    let req: apps::AppRequest = try_resp!(json_body(&body));
    // Other nodes (and this one's 5 s client cache) see it within `core::cache::TTL`.
    answer_with(
        StatusCode::CREATED,
        apps::register(&st.store, &SystemClock, &by, &st.public_url, req).await,
    )
}

/// `PATCH apps/{id}` with `kakehashi app set`'s options as JSON (`console::apps::AppPatch`):
/// the fields given are changed; 200 with the app and its OIDC or SAML settings as they now are.
pub async fn update_app(
    State(st): State<AppState>,
    Path((tenant, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let by = try_resp!(authenticate(&st, &tenant, &headers).await);
    let patch: apps::AppPatch = try_resp!(json_body(&body));
    let r = apps::update(&st.store, &SystemClock, &by, &id, patch).await;
    changed(&st, &by.tenant, r)
}

pub async fn remove_app(
    State(st): State<AppState>,
    Path((tenant, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let by = try_resp!(authenticate(&st, &tenant, &headers).await);
    match apps::remove(&st.store, &SystemClock, &by, &id).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => console_error(e),
    }
}

pub async fn lti_tools(
    State(st): State<AppState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Response {
    let by = try_resp!(authenticate(&st, &tenant, &headers).await);
    let limit = try_resp!(q.limit());
    answer(lti_tools::list(&st.store, &by, q.after.as_deref(), limit).await)
}

/// `POST lti/tools` with `kakehashi lti tool add`'s options as JSON: 201 with what the tool's
/// administrator configures.
pub async fn register_lti_tool(
    State(st): State<AppState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let by = try_resp!(authenticate(&st, &tenant, &headers).await);
    let req: lti_tools::ToolRequest = try_resp!(json_body(&body));
    answer_with(
        StatusCode::CREATED,
        lti_tools::register(&st.store, &SystemClock, &by, &st.public_url, req).await,
    )
}

/// `GET lti/tools/{id}`: one tool as listed.
pub async fn lti_tool(
    State(st): State<AppState>,
    Path((tenant, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let by = try_resp!(authenticate(&st, &tenant, &headers).await);
    answer(lti_tools::get(&st.store, &by, &id).await)
}

/// `PATCH lti/tools/{id}` with `kakehashi lti tool set`'s options as JSON: the fields given
/// are changed, the rest kept; 200 with the tool as it now is.
pub async fn update_lti_tool(
    State(st): State<AppState>,
    Path((tenant, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let by = try_resp!(authenticate(&st, &tenant, &headers).await);
    let patch: lti_tools::ToolPatch = try_resp!(json_body(&body));
    let r = lti_tools::update(&st.store, &SystemClock, &by, &id, patch).await;
    changed(&st, &by.tenant, r)
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistrationStart {
    registration_url: String,
}

/// `POST lti/registrations` `{"registration_url": …}`: starts an LTI Dynamic Registration
/// (as `kakehashi lti tool register`); 201 with the `url` to open in a browser.
pub async fn start_lti_registration(
    State(st): State<AppState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let by = try_resp!(authenticate(&st, &tenant, &headers).await);
    let req: RegistrationStart = try_resp!(json_body(&body));
    match lti_tools::start_registration(
        &st.store,
        &SystemClock,
        &by,
        &st.public_url,
        &req.registration_url,
    )
    .await
    {
        Ok(url) => ok(
            StatusCode::CREATED,
            &json!({ "url": url, "expiresIn": kakehashi_core::lti::registration::TOKEN_LIFETIME }),
        ),
        Err(e) => console_error(e),
    }
}

pub async fn remove_lti_tool(
    State(st): State<AppState>,
    Path((tenant, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let by = try_resp!(authenticate(&st, &tenant, &headers).await);
    match lti_tools::remove(&st.store, &SystemClock, &by, &id).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => console_error(e),
    }
}
