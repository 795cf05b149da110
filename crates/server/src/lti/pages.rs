//! The LTI pages a person may see: a launch that cannot start, a refused request, the
//! content a Deep Linking response added. Japanese first, English on request; no script.

use kakehashi_core::lti::deep_link::Added;
use kakehashi_core::lti::launch::Refused;

use crate::portal::http::{esc, Lang};
use crate::portal::pages::{back_to_launcher, t};

/// A launch the platform will not start.
pub fn refused(lang: Lang, tenant: &str, tool: &str, why: &Refused) -> String {
    let reason = match (why, lang) {
        (Refused::NoDeployment, Lang::Ja) => {
            "このツールは、あなたの学校では使えるように設定されていません。"
        }
        (Refused::NoDeployment, Lang::En) => "This tool is not set up for your school.",
        (Refused::NotMember, Lang::Ja) => "このクラスの教材は、クラスのメンバーだけが開けます。",
        (Refused::NotMember, Lang::En) => "Only members of the class can open its materials.",
        (Refused::NotInstructor, Lang::Ja) => "教材を追加できるのは、クラスの先生だけです。",
        (Refused::NotInstructor, Lang::En) => "Only the class's teachers can add materials.",
        (Refused::UnknownLink | Refused::NotLti, Lang::Ja) => "この教材は見つかりません。",
        (Refused::UnknownLink | Refused::NotLti, Lang::En) => "This material was not found.",
        (Refused::ChooseClass(_), Lang::Ja) => "クラスを選んでください。",
        (Refused::ChooseClass(_), Lang::En) => "Choose a class.",
    };
    back_to_launcher(
        lang,
        tenant,
        &format!("{}: {}", tool, t(lang, "開けません", "cannot be opened")),
        &esc(reason),
    )
}

/// Which class a tool's tile opens in, for someone with several classes: the tool learns
/// the class (its roster, its line items) from this choice.
pub fn choose_class(
    lang: Lang,
    tenant: &str,
    tool: &str,
    app_id: &str,
    choices: &[(String, String)],
) -> String {
    let mut items = String::new();
    for (id, title) in choices {
        items.push_str(&format!(
            "<li><a class=\"button\" href=\"/t/{}/launch/{}?class={}&amp;lang={}\">{}</a></li>",
            esc(tenant),
            esc(&crate::portal::http::url_encode(app_id)),
            esc(&crate::portal::http::url_encode(id)),
            lang.code(),
            esc(title)
        ));
    }
    back_to_launcher(
        lang,
        tenant,
        &format!(
            "{}: {}",
            tool,
            t(lang, "どのクラスで開きますか", "open it in which class?")
        ),
        &format!(
            "{}</p>\n<ul class=\"choices\">{items}</ul>\n<p>",
            esc(t(
                lang,
                "ツールには、選んだクラスの名簿と成績の欄が伝わります。",
                "The tool gets the roster and the gradebook of the class you choose.",
            ))
        ),
    )
}

/// A request the platform refused (shown in the browser that carried it).
pub fn error(lang: Lang, tenant: &str, detail: &str) -> String {
    back_to_launcher(
        lang,
        tenant,
        t(
            lang,
            "ツールとの連携でエラーが起きました",
            "The tool's request was refused",
        ),
        &esc(detail),
    )
}

/// What a Deep Linking response added to the class.
pub fn deep_link_added(lang: Lang, tenant: &str, added: &Added) -> String {
    let mut items = String::new();
    for l in &added.links {
        items.push_str(&format!("<li>{}</li>", esc(&l.title)));
    }
    let mut text = match lang {
        Lang::Ja => format!(
            "「{}」から {} 件の教材をクラスに追加しました。",
            esc(&added.tool_name),
            added.links.len()
        ),
        Lang::En => format!(
            "{} item(s) from \u{201c}{}\u{201d} were added to the class.",
            added.links.len(),
            esc(&added.tool_name)
        ),
    };
    if !items.is_empty() {
        text.push_str(&format!("</p>\n<ul class=\"added\">{items}</ul>\n<p>"));
    }
    if let Some(m) = &added.msg {
        text.push_str(&format!(" {}", esc(m)));
    }
    if let Some(m) = &added.errormsg {
        text.push_str(&format!(" {}", esc(m)));
    }
    back_to_launcher(
        lang,
        tenant,
        t(lang, "教材を追加しました", "Materials added"),
        &text,
    )
}

/// A class's results for its teacher.
pub fn results(
    lang: Lang,
    tenant: &str,
    class: &str,
    items: &[kakehashi_core::lti::classes::LineItemResults],
) -> String {
    let mut text = String::new();
    if items.is_empty() {
        text.push_str(t(lang, "まだ成績はありません。", "No results yet."));
    }
    for li in items {
        text.push_str(&format!(
            "</p>\n<h2>{} — {}</h2>\n<table class=\"results\"><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
            esc(&li.tool_name),
            esc(&li.label),
            t(lang, "名前", "Name"),
            t(lang, "得点", "Score"),
            t(lang, "状況", "Progress"),
        ));
        for (family, given, score, progress, _) in &li.scores {
            text.push_str(&format!(
                "<tr><td>{} {}</td><td>{} / {}</td><td>{}</td></tr>",
                esc(family),
                esc(given),
                esc(score.as_deref().unwrap_or("-")),
                esc(&li.score_maximum),
                esc(progress)
            ));
        }
        text.push_str("</tbody></table>\n<p>");
    }
    back_to_launcher(
        lang,
        tenant,
        &format!("{} {}", t(lang, "成績", "Results"), class),
        &text,
    )
}
