//! A teacher's classes and a class's pupils with their last sign-in.

use super::*;

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
