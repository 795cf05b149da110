//! The few pages the OpenID Provider shows itself: an error that must not be redirected
//! (unknown client, unregistered redirect URI: OIDC Core 3.1.2.6), a logout error, and the
//! logout confirmation and the step after it. Japanese first, English below, the portal's
//! stylesheet, no script.

use crate::portal::http::esc;

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"ja\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<link rel=\"stylesheet\" href=\"/portal-assets/portal.css\">\n\
         </head>\n<body>\n<main class=\"card\">\n{body}\n</main>\n</body>\n</html>\n",
        esc(title)
    )
}

/// An authorization request that cannot be answered to the client.
pub fn authorize_error(detail: &str) -> String {
    page(
        "ログインできません / Cannot sign in",
        &format!(
            "<h1>アプリへのログインを続けられません</h1>\n\
             <p>アプリからの要求が正しくありません。アプリの提供元に連絡してください。</p>\n\
             <p lang=\"en\">The app's sign-in request is not valid. Please contact the app's provider.</p>\n\
             <p class=\"detail\"><code>{}</code></p>",
            esc(detail)
        ),
    )
}

/// A logout request that cannot be followed.
pub fn logout_error(detail: &str) -> String {
    page(
        "ログアウトできません / Cannot sign out",
        &format!(
            "<h1>ログアウトの要求が正しくありません</h1>\n\
             <p lang=\"en\">The sign-out request is not valid.</p>\n\
             <p class=\"detail\"><code>{}</code></p>",
            esc(detail)
        ),
    )
}

/// Asks the user to confirm a logout that an app asked for without proving the session.
pub fn logout_confirm(tenant: &str, csrf: &str, query: &str) -> String {
    page(
        "ログアウトしますか / Sign out?",
        &format!(
            "<h1>ログアウトしますか？</h1>\n\
             <p lang=\"en\">An app asks to sign you out of the portal.</p>\n\
             <form method=\"post\" action=\"/t/{}/logout/confirm\">\n\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\">\n\
             <input type=\"hidden\" name=\"request\" value=\"{}\">\n\
             <button type=\"submit\">ログアウトする / Sign out</button>\n</form>\n\
             <p><a href=\"/t/{}/\">ポータルにもどる / Back to the portal</a></p>",
            esc(tenant),
            esc(csrf),
            esc(query),
            esc(tenant)
        ),
    )
}

/// After a confirmed logout, the way on through the SAML SPs (`next`, our journey URL). A
/// page with a refresh, not a 303: CSP 3 lets a browser check the confirmation form's
/// `form-action` against every redirect that follows the submission, and the journey
/// redirects to each SP's origin. (Chromium lets a same-origin hop then a foreign one through,
/// which `oidc_rp.rs` tried; the page keeps stricter engines from stopping there.)
pub fn logout_continue(next: &str) -> String {
    let mut html = page(
        "ログアウトしています / Signing out",
        &format!(
            "<h1>ログアウトしています…</h1>\n\
             <p lang=\"en\">Signing you out of the apps as well…</p>\n\
             <p><a href=\"{}\">つづける / Continue</a></p>",
            esc(next)
        ),
    );
    html = html.replacen(
        "<meta charset=\"utf-8\">",
        &format!(
            "<meta charset=\"utf-8\">\n<meta http-equiv=\"refresh\" content=\"0;url={}\">",
            esc(next)
        ),
        1,
    );
    html
}
