//! QR sign-in cards: printing a class's cards, reissuing and revoking one, and the page a scanned card opens.

use super::*;

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
            let qr = crate::console::qr::svg(&url, &format!("{name} QR")).unwrap_or_default();
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
