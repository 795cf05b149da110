//! The platform operator's read-only overview of every tenant (`operator`): counts, the last
//! roster import and the audit chain's state per tenant, from `console::operator` (which
//! refuses anyone without the `platform-operator` grant and audits each view), a page at a
//! time by tenant id.

use kakehashi_core::console::operator;

use super::*;

pub async fn operator_page(
    State(st): State<AppState>,
    Path(raw): Path<String>,
    Query(q): Query<Q>,
    headers: HeaderMap,
) -> Response {
    let c = ctx_or_return!(st, raw, q.lang.as_deref(), headers, "operator");
    let lang = c.lang;
    let page =
        match operator::overview(&st.store, &SystemClock, &c.by, q.after.as_deref(), None).await {
            Ok(p) => p,
            Err(e) => return c.error("operator", e),
        };
    let rows: Vec<Vec<String>> = page
        .items
        .iter()
        .map(|o| {
            let import = match &o.last_import {
                Some(i) => format!(
                    "{}<br><span class=\"role\">{} · {}</span>",
                    esc(&i.at),
                    esc(&i.actor),
                    esc(&i.source)
                ),
                None => esc(t(lang, "まだありません", "None yet")),
            };
            let chain = match (&o.audit_chain.first_break_seq, &o.audit_chain.problem) {
                (None, _) => format!(
                    "<span class=\"ok\">{}</span> ({} {})",
                    t(lang, "正常", "Intact"),
                    o.audit_chain.rows,
                    t(lang, "行", "rows")
                ),
                (Some(seq), problem) => format!(
                    "<span class=\"ng\">{} {seq}</span>: {}",
                    t(lang, "破損: 行", "Broken at row"),
                    esc(problem.as_deref().unwrap_or(""))
                ),
            };
            vec![
                format!("<code>{}</code>", esc(o.id.as_str())),
                esc(&o.name),
                o.users.to_string(),
                o.apps.to_string(),
                o.lti_tools.to_string(),
                import,
                chain,
            ]
        })
        .collect();
    let body = format!(
        "<p>{intro}</p>\n{table}\n{next}",
        intro = esc(t(
            lang,
            "すべてのテナント（教育委員会）の件数、最後の名簿取り込み、監査ログの検証結果です。個人の情報は表示しません。この画面は読み取り専用で、開くたびに各テナントの監査ログに記録されます。",
            "Every tenant's (board of education's) counts, last roster import and audit chain check. No person's data is shown. This page is read-only; each view is recorded in every tenant's audit log.",
        )),
        table = table(
            t(lang, "テナントの一覧", "Tenants"),
            &[
                t(lang, "テナント", "Tenant"),
                t(lang, "名前", "Name"),
                t(lang, "利用者", "People"),
                t(lang, "アプリ", "Apps"),
                t(lang, "LTIツール", "LTI tools"),
                t(lang, "最後の名簿取り込み (UTC)", "Last roster import (UTC)"),
                t(lang, "監査ログ", "Audit chain"),
            ],
            &rows,
            t(lang, "テナントはありません。", "No tenants."),
        ),
        next = next_link(
            lang,
            &format!("{}/operator", c.base()),
            &[],
            ("after", page.next.as_deref())
        ),
    );
    c.page(
        StatusCode::OK,
        "operator",
        t(lang, "全テナントの概要", "All tenants"),
        &body,
    )
}
