//! The audit log: search, CSV export, chain verification.

use super::*;

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
