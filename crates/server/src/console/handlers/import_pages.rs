//! Roster import: upload, validation report, preview with the changed rows, apply, history.

use super::*;

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
