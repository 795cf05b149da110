//! The console's pages as plain HTML: server-rendered, no JavaScript, one extra stylesheet,
//! tables with captions and column headers, labelled fields. Japanese first, English with
//! `?lang=en` (or an English browser), as the portal.

use kakehashi_core::console::authz::{Principal, Standing};

use crate::portal::http::{esc, url_encode, Lang};

pub fn t(lang: Lang, ja: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Ja => ja,
        Lang::En => en,
    }
}

/// `?lang=en` (or `&lang=en`) for links when the page is in English.
pub fn lq(lang: Lang, first: bool) -> &'static str {
    match (lang, first) {
        (Lang::Ja, _) => "",
        (Lang::En, true) => "?lang=en",
        (Lang::En, false) => "&amp;lang=en",
    }
}

/// What the page shell needs.
pub struct Shell<'a> {
    pub lang: Lang,
    pub tenant: &'a str,
    pub tenant_name: &'a str,
    pub by: &'a Principal,
    pub csrf: &'a str,
    /// Path below `/t/{tenant}/console/` (for the language switch).
    pub here: &'a str,
    /// The caller holds the `platform-operator` grant.
    pub operator: bool,
}

fn standing_label(lang: Lang, s: &Standing) -> &'static str {
    match s {
        Standing::PlatformOperator => t(lang, "運用者", "Platform operator"),
        Standing::TenantAdmin => t(lang, "教育委員会の管理者", "Tenant admin"),
        Standing::SchoolAdmin { .. } => t(lang, "学校の管理者", "School admin"),
        Standing::Teacher { .. } => t(lang, "先生", "Teacher"),
        Standing::Pupil => t(lang, "児童生徒", "Pupil"),
    }
}

/// A whole console page: the bar (who, sign-out), the navigation this role may use, the body.
pub fn page(s: &Shell<'_>, title: &str, body: &str) -> String {
    let lang = s.lang;
    let tenant = esc(s.tenant);
    let admin = matches!(
        s.by.standing,
        Standing::TenantAdmin | Standing::PlatformOperator
    );
    let mut nav = vec![("", t(lang, "ホーム", "Home"))];
    if s.by.is_staff() {
        nav.push(("people", t(lang, "名簿・利用者", "People")));
        nav.push(("classes", t(lang, "クラス", "Classes")));
    }
    if admin {
        nav.push(("imports", t(lang, "名簿の取り込み", "Roster import")));
        nav.push(("audit", t(lang, "監査ログ", "Audit log")));
        nav.push(("apps", t(lang, "アプリ", "Apps")));
        nav.push(("lti", t(lang, "LTIツール", "LTI tools")));
        nav.push(("security", t(lang, "セキュリティ設定", "Security policy")));
    }
    if s.operator {
        nav.push(("operator", t(lang, "全テナントの概要", "All tenants")));
    }
    nav.push((
        "me",
        t(lang, "わたしの端末とログイン", "My devices and sign-ins"),
    ));
    let nav: String = nav
        .iter()
        .map(|(path, label)| {
            let current = if *path == s.here {
                " aria-current=\"page\""
            } else {
                ""
            };
            format!(
                "<li><a href=\"/t/{tenant}/console/{path}{}\"{current}>{label}</a></li>",
                lq(lang, true)
            )
        })
        .collect();
    let name = s.by.user.as_ref().map_or_else(
        || s.by.actor.0.clone(),
        |u| format!("{} {}", u.family_name, u.given_name),
    );
    let (other, other_label) = match lang {
        Lang::Ja => ("en", "English"),
        Lang::En => ("ja", "日本語"),
    };
    let body = format!(
        "<header class=\"bar\">\n<p class=\"who\"><span class=\"tenant\">{tenant_name}</span>\
         <span class=\"name\">{name}</span> <span class=\"role\">{role}</span></p>\n\
         <p class=\"links\"><a href=\"/t/{tenant}/{lq0}\">{apps}</a> \
         <a href=\"/t/{tenant}/console/{here}?lang={other}\" lang=\"{other}\">{other_label}</a></p>\n\
         <form method=\"post\" action=\"/t/{tenant}/logout{lq0}\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <button type=\"submit\" class=\"signout\">{signout}</button></form>\n</header>\n\
         <nav aria-label=\"{nav_label}\"><ul class=\"nav\">{nav}</ul></nav>\n\
         <main class=\"console\">\n<h1>{h1}</h1>\n{body}\n</main>",
        tenant_name = esc(s.tenant_name),
        name = esc(&name),
        role = standing_label(lang, &s.by.standing),
        lq0 = lq(lang, true),
        apps = t(lang, "アプリの一覧", "Launcher"),
        here = esc(s.here),
        csrf = esc(s.csrf),
        signout = t(lang, "ログアウト", "Sign out"),
        nav_label = t(lang, "管理メニュー", "Console menu"),
        h1 = esc(title),
    );
    format!(
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{} | {}</title>\n<link rel=\"stylesheet\" href=\"/portal-assets/portal.css\">\n\
         <link rel=\"stylesheet\" href=\"/portal-assets/console.css\">\n\
         <link rel=\"icon\" href=\"/portal-assets/icon.svg\" type=\"image/svg+xml\">\n\
         </head>\n<body>\n{body}\n</body>\n</html>\n",
        lang.code(),
        esc(title),
        t(lang, "かけはし 管理", "Kakehashi console"),
    )
}

/// A table with a caption, column headers and rows of already-escaped cells.
pub fn table(caption: &str, headers: &[&str], rows: &[Vec<String>], empty: &str) -> String {
    if rows.is_empty() {
        return format!("<p class=\"empty\">{}</p>", esc(empty));
    }
    let head: String = headers
        .iter()
        .map(|h| format!("<th scope=\"col\">{}</th>", esc(h)))
        .collect();
    let body: String = rows
        .iter()
        .map(|r| {
            let cells: String = r.iter().map(|c| format!("<td>{c}</td>")).collect();
            format!("<tr>{cells}</tr>\n")
        })
        .collect();
    format!(
        "<div class=\"scroll\"><table>\n<caption>{}</caption>\n<thead><tr>{head}</tr></thead>\n\
         <tbody>\n{body}</tbody></table></div>",
        esc(caption)
    )
}

/// A "next page" link keeping the other query parameters.
pub fn next_link(
    lang: Lang,
    base: &str,
    params: &[(&str, &str)],
    cursor: (&str, Option<&str>),
) -> String {
    let Some(value) = cursor.1 else {
        return String::new();
    };
    let mut q: Vec<String> = params
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", url_encode(v)))
        .collect();
    q.push(format!("{}={}", cursor.0, url_encode(value)));
    if lang == Lang::En {
        q.push("lang=en".into());
    }
    format!(
        "<p class=\"pager\"><a class=\"button\" href=\"{base}?{}\">{}</a></p>",
        esc(&q.join("&")),
        t(lang, "次のページ", "Next page")
    )
}

/// A message box (`role=status` for information, `alert` for errors).
pub fn notice(kind: &str, text: &str) -> String {
    let role = if kind == "error" { "alert" } else { "status" };
    format!(
        "<p class=\"notice {kind}\" role=\"{role}\">{}</p>",
        esc(text)
    )
}

pub const CSS: &str = "\
.bar .links a{display:inline-block;padding:.6rem .5rem;min-height:44px}
.role{font-size:.85rem;color:#57606a;margin-left:.5rem}
.nav{list-style:none;margin:0;padding:.25rem 1rem;display:flex;flex-wrap:wrap;gap:.25rem;\
background:#e9eef3}
.nav a{display:inline-block;padding:.6rem .75rem;min-height:44px;color:#0b4a8f;border-radius:8px}
.nav a[aria-current=page]{background:#fff;font-weight:bold;color:#1b1f23}
main.console{max-width:72rem;margin:0 auto}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;background:#fff;font-size:1rem}
caption{text-align:left;font-weight:bold;padding:.5rem 0}
th,td{border-bottom:1px solid #d0d7de;padding:.5rem;text-align:left;vertical-align:top}
th{background:#f0f3f6}
td a{display:inline-block;min-height:44px;padding:.6rem 0}
.search{display:flex;flex-wrap:wrap;gap:.5rem;align-items:end;margin-bottom:1rem}
.search label{margin:0}
.search input{max-width:24rem}
.search button,.inline button{margin:0;width:auto}
form.inline{background:#fff;padding:1rem;border-radius:12px;margin:1rem 0;max-width:32rem}
form.inline.wide{max-width:48rem}
form.row-action{margin:0}
form.row-action button{margin:0;width:auto;white-space:nowrap;min-height:44px;padding:.4rem 1rem;font-size:1rem}
[aria-invalid=true]{border-color:#8a1c1c;outline:2px solid #8a1c1c}
form.inline input[type=file]{display:block;margin-top:.5rem;min-height:48px;font-size:1rem}
.filters{display:grid;grid-template-columns:repeat(auto-fill,minmax(12rem,1fr));gap:.5rem;\
align-items:end;margin-bottom:1rem}
.filters label{margin:0}
.filters button{margin:0}
.empty{color:#57606a}
select,textarea,form.inline input[type=text]{display:block;width:100%;min-height:48px;font-size:1rem;\
padding:.5rem;border:2px solid #8a949e;border-radius:8px;background:#fff}
fieldset{margin-top:1rem;border:1px solid #d0d7de;border-radius:8px}
label.check{display:inline-block;font-weight:normal;margin:.25rem 1rem .25rem 0;min-height:44px}
details.register summary{cursor:pointer;min-height:44px;padding:.6rem 0;color:#0b4a8f;font-weight:bold}
td form{margin:0}
button.secondary{background:#57606a;min-height:44px;padding:.4rem 1rem;font-size:1rem}
.pager{margin-top:1rem}
dl.record{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;background:#fff;\
padding:1rem;border-radius:12px}
dl.record dt{font-weight:bold}
dl.record dd{margin:0}
.ok{color:#1d5e2b;font-weight:bold}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(15rem,1fr));gap:1rem;\
list-style:none;padding:0}
.signin-card{background:#fff;border:2px dashed #57606a;border-radius:12px;padding:1rem;\
text-align:center;break-inside:avoid}
.signin-card .qr{width:12rem;height:12rem;display:block;margin:.5rem auto}
.signin-card .pupil{font-size:1.4rem;font-weight:bold;display:block}
.big{font-size:1.5rem;width:100%}
@media print{header.bar,nav,.noprint{display:none}body{background:#fff}\
.signin-card{border-color:#000}}
.ng{color:#8a1c1c;font-weight:bold}
";
