//! The people search, a person's record, temporary passwords and unlocking.

use super::*;

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
    // A count only (the query is the user's to edit: no free text into the notice).
    let removed = q
        .removed
        .as_deref()
        .and_then(|r| r.parse::<u64>().ok())
        .unwrap_or(0);
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
        Some("factors-reset") => notice(
            "info",
            &match lang {
                Lang::Ja => format!("二要素認証をリセットしました（{}件を削除）。", removed),
                Lang::En => format!("Second factors reset ({} removed).", removed),
            },
        ),
        Some("factor-removed") => notice(
            "info",
            t(
                lang,
                "セキュリティキーを1つ削除しました。",
                "One security key is removed.",
            ),
        ),
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
    let own =
        c.by.user
            .as_ref()
            .is_some_and(|u| u.sourced_id == p.sourced_id);
    let may_factors = !own
        && c.by
            .may(
                &st.store,
                kakehashi_core::console::authz::PersonAction::ManageFactors,
                p,
            )
            .await
            .unwrap_or(false);
    let factors = if may_factors {
        match kakehashi_core::console::mfa::factors_of(
            &st.store,
            &SystemClock,
            &c.by,
            &p.sourced_id,
        )
        .await
        {
            Ok(f) => super::factor_pages::factors_html(&c, &p.sourced_id, &f),
            Err(e) => return c.error("people", e),
        }
    } else {
        String::new()
    };
    let forms = format!("{forms}\n{card_forms}\n{factors}");
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
