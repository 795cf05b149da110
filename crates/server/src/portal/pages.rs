//! The portal's pages as plain HTML: no JavaScript, one stylesheet, forms that work on iPad
//! Safari and Chromebooks, large touch targets. Japanese first, English on request.

use kakehashi_core::portal::launcher::LauncherApp;
use kakehashi_store::roster::UserRow;

use super::http::{esc, url_encode, Lang};

/// What the login page says above the form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Notice {
    None,
    BadCredentials,
    Delayed(i64),
    Locked,
    LoggedOut,
    /// The risk engine refused the login.
    RiskDenied,
}

pub(crate) fn t(lang: Lang, ja: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Ja => ja,
        Lang::En => en,
    }
}

pub(crate) fn layout(lang: Lang, title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<link rel=\"stylesheet\" href=\"/portal-assets/portal.css\">\n\
         <link rel=\"icon\" href=\"/portal-assets/icon.svg\" type=\"image/svg+xml\">\n\
         </head>\n<body>\n{body}\n</body>\n</html>\n",
        lang.code(),
        esc(title)
    )
}

/// A page of the portal's shell (the card sign-in pages use it).
pub(crate) fn plain_page(lang: Lang, title: &str, body: &str) -> String {
    layout(
        lang,
        &format!("{title} | {}", t(lang, "かけはし", "Kakehashi")),
        body,
    )
}

/// Everything the login form needs.
pub struct LoginPage<'a> {
    pub lang: Lang,
    pub tenant: &'a str,
    pub tenant_name: &'a str,
    pub csrf: &'a str,
    pub return_to: Option<&'a str>,
    pub username: &'a str,
    pub notice: Notice,
    /// Offer "sign in with a passkey" (the tenant allows staff passkeys and WebAuthn works on
    /// this server). The button runs `/portal-assets/passkey.js`; without script the page is
    /// the plain form.
    pub passkey: bool,
}

/// The passkey button and its status line (`assets/passkey.js` reads the `data-` attributes).
fn passkey_button(p: &LoginPage<'_>) -> String {
    if !p.passkey {
        return String::new();
    }
    let lang = p.lang;
    format!(
        "<div class=\"passkey\">\n<p class=\"or\">{or}</p>\n\
         <button type=\"button\" id=\"passkey-login\" class=\"secondary\" data-tenant=\"{tenant}\" \
         data-csrf=\"{csrf}\" data-return-to=\"{return_to}\" data-failed=\"{failed}\" \
         data-delayed=\"{delayed}\">{label}</button>\n\
         <p id=\"passkey-status\" class=\"notice error\" role=\"alert\" hidden></p>\n</div>\n\
         <script src=\"/portal-assets/passkey.js\" defer></script>\n",
        or = t(lang, "または", "or"),
        tenant = esc(p.tenant),
        csrf = esc(p.csrf),
        return_to = esc(p.return_to.unwrap_or("")),
        failed = esc(t(
            lang,
            "パスキーでログインできませんでした。登録済みのパスキーを使うか、ユーザー名とパスワードでログインしてください。",
            "Could not sign in with a passkey. Use a registered passkey, or sign in with your username and password.",
        )),
        delayed = esc(t(
            lang,
            "ログインの失敗が続きました。しばらくたってから、もう一度ためしてください。",
            "Too many failed logins. Please try again later.",
        )),
        label = t(lang, "パスキーでログイン", "Sign in with a passkey"),
    )
}

pub fn login(p: &LoginPage<'_>) -> String {
    let lang = p.lang;
    let notice = match p.notice {
        Notice::None => String::new(),
        Notice::BadCredentials => t(
            lang,
            "ユーザー名またはパスワードが違います。",
            "The username or password is incorrect.",
        )
        .to_owned(),
        Notice::Delayed(secs) => match lang {
            Lang::Ja => format!(
                "ログインの失敗が続きました。{secs}秒たってから、もう一度ためしてください。"
            ),
            Lang::En => format!("Too many failed logins. Please try again in {secs} seconds."),
        },
        Notice::Locked => t(
            lang,
            "このアカウントはロックされています。先生に解除してもらってください。",
            "This account is locked. Please ask your teacher to unlock it.",
        )
        .to_owned(),
        Notice::LoggedOut => t(lang, "ログアウトしました。", "You have signed out.").to_owned(),
        Notice::RiskDenied => t(
            lang,
            "いつもと違うログインのため、受け付けられませんでした。学校のネットワークから、\
             いつもの端末でログインするか、学校の管理者に連絡してください。",
            "This sign-in looked unusual and was refused. Sign in from a school network on your \
             usual device, or ask your school's administrator.",
        )
        .to_owned(),
    };
    let notice = if notice.is_empty() {
        String::new()
    } else {
        let class = if p.notice == Notice::LoggedOut {
            "info"
        } else {
            "error"
        };
        format!(
            "<p class=\"notice {class}\" role=\"alert\">{}</p>\n",
            esc(&notice)
        )
    };
    let return_to = p.return_to.map_or(String::new(), |r| {
        format!(
            "<input type=\"hidden\" name=\"return_to\" value=\"{}\">\n",
            esc(r)
        )
    });
    let (other, other_label) = match lang {
        Lang::Ja => ("en", "English"),
        Lang::En => ("ja", "日本語"),
    };
    let rt_query = p.return_to.map_or(String::new(), |r| {
        format!("&amp;return_to={}", url_encode(r))
    });
    let body = format!(
        "<main class=\"card\">\n<h1>{title}</h1>\n<p class=\"tenant\">{tenant_name}</p>\n{notice}\
         <form method=\"post\" action=\"/t/{tenant}/login?lang={code}\">\n\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\n{return_to}\
         <label for=\"username\">{user_label}</label>\n\
         <input id=\"username\" name=\"username\" type=\"text\" value=\"{username}\" \
         autocomplete=\"username\" autocapitalize=\"none\" autocorrect=\"off\" spellcheck=\"false\" required>\n\
         <label for=\"password\">{pw_label}</label>\n\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\n\
         <button type=\"submit\">{submit}</button>\n</form>\n{passkey}\
         <p class=\"lang\"><a href=\"/t/{tenant}/login?lang={other}{rt_query}\" lang=\"{other}\">{other_label}</a></p>\n</main>",
        title = esc(t(lang, "ログイン", "Sign in")),
        tenant_name = esc(p.tenant_name),
        tenant = esc(p.tenant),
        code = lang.code(),
        csrf = esc(p.csrf),
        user_label = t(lang, "ユーザー名", "Username"),
        username = esc(p.username),
        pw_label = t(lang, "パスワード", "Password"),
        submit = t(lang, "ログイン", "Sign in"),
        passkey = passkey_button(p),
    );
    layout(
        lang,
        t(lang, "ログイン | かけはし", "Sign in | Kakehashi"),
        &body,
    )
}

/// The page shown when a form's CSRF token is missing or wrong.
pub fn forbidden(lang: Lang, tenant: &str) -> String {
    let body = format!(
        "<main class=\"card\">\n<h1>{}</h1>\n<p>{}</p>\n<p><a class=\"button\" href=\"/t/{}/login?lang={}\">{}</a></p>\n</main>",
        t(lang, "もう一度やりなおしてください", "Please try again"),
        t(
            lang,
            "このページの有効期限が切れたか、正しくない送信でした。",
            "This page has expired or the request was not valid.",
        ),
        esc(tenant),
        lang.code(),
        t(lang, "ログイン画面へ", "Go to sign-in"),
    );
    layout(
        lang,
        t(lang, "エラー | かけはし", "Error | Kakehashi"),
        &body,
    )
}

/// A message page with one way back to the launcher.
pub(crate) fn back_to_launcher(lang: Lang, tenant: &str, heading: &str, text: &str) -> String {
    let body = format!(
        "<main class=\"card\">\n<h1>{}</h1>\n<p>{}</p>\n\
         <p><a class=\"button\" href=\"/t/{}/?lang={}\">{}</a></p>\n</main>",
        esc(heading),
        text,
        esc(tenant),
        lang.code(),
        t(lang, "アプリの一覧へ戻る", "Back to your apps"),
    );
    layout(
        lang,
        &format!("{heading} | {}", t(lang, "かけはし", "Kakehashi")),
        &body,
    )
}

/// Shown instead of signing a staff member in to a school-affairs app with a password only.
pub fn second_factor_required(lang: Lang, tenant: &str, app_name: &str) -> String {
    let text = match lang {
        Lang::Ja => format!(
            "「{}」は校務用のアプリです。成績や出欠などの大切な情報を守るため、パスワードに加えて\
             二要素認証（指紋認証や配布されたセキュリティキー）が必要です。\
             二要素認証を登録するには、学校の管理者に連絡してください。",
            esc(app_name)
        ),
        Lang::En => format!(
            "\u{201c}{}\u{201d} is a school-affairs app. To protect grades, attendance and other \
             records it needs a second factor (a fingerprint reader or an issued security key) \
             besides your password. Ask your school's administrator to set one up.",
            esc(app_name)
        ),
    };
    back_to_launcher(
        lang,
        tenant,
        t(lang, "二要素認証が必要です", "Second factor required"),
        &text,
    )
}

/// Shown when the app does not exist or is not for this user.
pub fn not_allowed(lang: Lang, tenant: &str) -> String {
    back_to_launcher(
        lang,
        tenant,
        t(lang, "このアプリは使えません", "This app is not available"),
        t(
            lang,
            "このアプリは、あなたのアカウントでは使えないか、見つかりません。",
            "This app is not available to your account, or it does not exist.",
        ),
    )
}

/// Shown when an allowed app has no way to be opened from the portal.
pub fn no_launch_address(lang: Lang, tenant: &str, app_name: &str) -> String {
    let text = match lang {
        Lang::Ja => format!(
            "「{}」には、ポータルから開くためのアドレスが登録されていません。\
             アプリの画面から直接ログインしてください。",
            esc(app_name)
        ),
        Lang::En => format!(
            "\u{201c}{}\u{201d} has no address registered for opening it from the portal. \
             Sign in from the app's own page.",
            esc(app_name)
        ),
    };
    back_to_launcher(
        lang,
        tenant,
        t(
            lang,
            "このアプリはここから開けません",
            "This app cannot be opened from here",
        ),
        &text,
    )
}

/// The page for an unknown tenant.
pub fn not_found(lang: Lang) -> String {
    let body = format!(
        "<main class=\"card\">\n<h1>{}</h1>\n</main>",
        t(lang, "ページが見つかりません", "Page not found")
    );
    layout(lang, "404", &body)
}

fn display_name(lang: Lang, u: &UserRow) -> (String, Option<String>) {
    let name = match lang {
        Lang::Ja => format!("{} {}", u.family_name, u.given_name),
        Lang::En => format!("{} {}", u.family_name, u.given_name),
    };
    let kana = match (&u.kana_family_name, &u.kana_given_name) {
        (Some(f), Some(g)) => Some(format!("{f} {g}")),
        (Some(f), None) => Some(f.clone()),
        (None, Some(g)) => Some(g.clone()),
        (None, None) => None,
    };
    (name, kana)
}

/// Everything the launcher needs.
pub struct LauncherPage<'a> {
    pub lang: Lang,
    pub tenant: &'a str,
    pub tenant_name: &'a str,
    pub user: &'a UserRow,
    pub csrf: &'a str,
    pub apps: &'a [LauncherApp],
    /// LTI materials of the user's classes (and tools a teacher may add content from).
    pub classes: &'a [kakehashi_core::lti::classes::ClassMaterials],
}

/// The "class materials" section: each link opens in a new window (like the tiles).
fn class_materials(p: &LauncherPage<'_>) -> String {
    let lang = p.lang;
    if p.classes.is_empty() {
        return String::new();
    }
    let mut out = format!("<h2>{}</h2>\n", t(lang, "クラスの教材", "Class materials"));
    for c in p.classes {
        out.push_str(&format!(
            "<section class=\"class\" data-class-id=\"{}\">\n<h3>{}</h3>\n<ul class=\"materials\">\n",
            esc(&c.class_id),
            esc(&c.class_title)
        ));
        for l in &c.links {
            out.push_str(&format!(
                "<li data-link-id=\"{id}\"><a href=\"/t/{tenant}/lti/links/{id_url}/launch?lang={code}\" \
                 target=\"_blank\" rel=\"noopener\">{title}</a></li>\n",
                id = esc(&l.id),
                id_url = url_encode(&l.id),
                tenant = esc(p.tenant),
                code = lang.code(),
                title = esc(&l.title)
            ));
        }
        for (tool, name) in &c.add_from {
            out.push_str(&format!(
                "<li class=\"add\"><a href=\"/t/{tenant}/lti/tools/{tool}/deep-link?class={class}&amp;lang={code}\" \
                 target=\"_blank\" rel=\"noopener\">{label}</a></li>\n",
                tenant = esc(p.tenant),
                tool = url_encode(tool),
                class = url_encode(&c.class_id),
                code = lang.code(),
                label = match lang {
                    Lang::Ja => format!("「{}」から教材を追加", esc(name)),
                    Lang::En => format!("Add materials from \u{201c}{}\u{201d}", esc(name)),
                }
            ));
        }
        if !c.add_from.is_empty() {
            out.push_str(&format!(
                "<li class=\"results\"><a href=\"/t/{tenant}/lti/classes/{class}/results?lang={code}\">{label}</a></li>\n",
                tenant = esc(p.tenant),
                class = url_encode(&c.class_id),
                code = lang.code(),
                label = t(lang, "成績を見る", "See results"),
            ));
        }
        out.push_str("</ul>\n</section>\n");
    }
    out
}

pub fn launcher(p: &LauncherPage<'_>) -> String {
    let lang = p.lang;
    let (name, kana) = display_name(lang, p.user);
    let kana = kana.map_or(String::new(), |k| {
        format!("<span class=\"kana\">（{}）</span>", esc(&k))
    });
    let mut tiles = String::new();
    for app in p.apps {
        let icon = if app.has_icon {
            format!(
                "<img src=\"/t/{}/apps/{}/icon\" alt=\"\" width=\"64\" height=\"64\">",
                esc(p.tenant),
                url_encode(&app.id)
            )
        } else {
            "<span class=\"icon-placeholder\" aria-hidden=\"true\"></span>".to_owned()
        };
        let badge = if app.needs_second_factor {
            format!(
                "<span class=\"badge\">{}</span>",
                t(lang, "二要素認証が必要", "Second factor required")
            )
        } else {
            String::new()
        };
        // A new tab per app: tools open in their own window (iPad Safari blocks the
        // third-party cookies an app in a frame would need).
        tiles.push_str(&format!(
            "<li class=\"app\" data-app-id=\"{id}\"><a href=\"/t/{tenant}/launch/{id_url}?lang={code}\" \
             target=\"_blank\" rel=\"noopener\">{icon}<span class=\"app-name\">{name}</span>{badge}</a></li>\n",
            id = esc(&app.id),
            id_url = url_encode(&app.id),
            tenant = esc(p.tenant),
            code = lang.code(),
            name = esc(&app.name)
        ));
    }
    let apps = if p.apps.is_empty() {
        format!(
            "<p class=\"empty\">{}</p>",
            t(
                lang,
                "使えるアプリはまだありません。",
                "No apps are available yet."
            )
        )
    } else {
        format!("<ul class=\"apps\">\n{tiles}</ul>")
    };
    let body = format!(
        "<header class=\"bar\">\n<div class=\"who\"><span class=\"tenant\">{tenant_name}</span>\
         <span class=\"name\">{name}</span>{kana}</div>\n\
         <form method=\"post\" action=\"/t/{tenant}/logout?lang={code}\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <button type=\"submit\" class=\"signout\">{signout}</button></form>\n</header>\n\
         <main>\n<h1>{title}</h1>\n{apps}\n{materials}\n{more}</main>",
        more = console_link(p),
        tenant_name = esc(p.tenant_name),
        name = esc(&name),
        tenant = esc(p.tenant),
        code = lang.code(),
        csrf = esc(p.csrf),
        signout = t(lang, "ログアウト", "Sign out"),
        title = t(lang, "アプリ", "Apps"),
        materials = class_materials(p),
    );
    layout(
        lang,
        t(lang, "ポータル | かけはし", "Portal | Kakehashi"),
        &body,
    )
}

/// The way into the console from the launcher: staff to the console, pupils to their own
/// sign-in history (docs/CONSOLE.md).
fn console_link(p: &LauncherPage<'_>) -> String {
    use kakehashi_core::portal::policy::RoleClass;
    let lang = p.lang;
    let (path, label) = match RoleClass::of(&p.user.role) {
        RoleClass::Staff => ("", t(lang, "管理画面", "Console")),
        RoleClass::Pupil => (
            "me",
            t(lang, "わたしの端末とログイン", "My devices and sign-ins"),
        ),
    };
    format!(
        "<p class=\"more\"><a href=\"/t/{}/console/{path}?lang={}\">{label}</a></p>\n",
        esc(p.tenant),
        lang.code()
    )
}

/// The portal's icon: a bridge (架け橋) over a blue tile.
pub const ICON_SVG: &str = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 32 32\">\
<rect width=\"32\" height=\"32\" rx=\"6\" fill=\"#1a5fb4\"/>\
<path d=\"M4 21Q16 7 28 21M3 21h26M10 15v6M16 13v8M22 15v6\" fill=\"none\" stroke=\"#fff\" \
stroke-width=\"2.5\" stroke-linecap=\"round\"/></svg>\n";

/// The stylesheet (served from our origin: the CSP allows no inline style).
pub const CSS: &str = "\
*{box-sizing:border-box}
body{margin:0;font-family:system-ui,-apple-system,'Hiragino Sans','Noto Sans JP',sans-serif;\
font-size:18px;line-height:1.6;background:#f4f6f8;color:#1b1f23}
.card{max-width:26rem;margin:2rem auto;padding:1.5rem;background:#fff;border-radius:12px;\
box-shadow:0 1px 4px rgba(0,0,0,.12)}
h1{font-size:1.5rem;margin:0 0 .5rem}
label{display:block;margin-top:1rem;font-weight:bold}
input[type=text],input[type=password]{width:100%;min-height:48px;font-size:1.1rem;\
padding:.5rem .75rem;border:2px solid #8a949e;border-radius:8px}
input:focus{outline:3px solid #1a73e8;border-color:#1a73e8}
button,.button{display:inline-block;min-height:48px;min-width:48px;padding:.6rem 1.5rem;\
font-size:1.1rem;border:0;border-radius:8px;background:#1a5fb4;color:#fff;cursor:pointer;\
text-decoration:none}
form button[type=submit]{margin-top:1.5rem;width:100%}
.notice{padding:.75rem;border-radius:8px}
.error{background:#fdecea;color:#8a1c1c}
.info{background:#e8f4ea;color:#1d5e2b}
.tenant{color:#57606a;margin:0}
.lang{text-align:right;margin-bottom:0}
.lang a{display:inline-block;padding:.75rem 0}
.bar{display:flex;flex-wrap:wrap;justify-content:space-between;align-items:center;gap:.5rem;\
padding:.75rem 1rem;background:#fff;box-shadow:0 1px 4px rgba(0,0,0,.12)}
.bar form button.signout{width:auto;margin:0;background:#57606a}
.who .tenant{display:block;font-size:.85rem}
.who .name{font-size:1.25rem;font-weight:bold}
.kana{color:#57606a;margin-left:.25rem}
main{padding:1rem}
.apps{list-style:none;padding:0;display:grid;grid-template-columns:repeat(auto-fill,minmax(9rem,1fr));gap:1rem}
.app{background:#fff;border-radius:12px;padding:1rem;text-align:center;min-height:8rem;\
box-shadow:0 1px 4px rgba(0,0,0,.12)}
.app img,.icon-placeholder{display:block;margin:0 auto .5rem;width:64px;height:64px;border-radius:12px}
.icon-placeholder{background:#d0d7de}
.app a{display:block;color:inherit;text-decoration:none;min-height:44px}
.app-name{display:block;font-weight:bold}
.more a{display:inline-block;min-height:44px;min-width:44px;padding:.6rem .25rem}
.materials{list-style:none;padding:0}
.materials li a{display:inline-block;min-height:44px;padding:.5rem 0}
.badge{display:inline-block;margin-top:.25rem;font-size:.8rem;padding:.1rem .5rem;\
border-radius:999px;background:#fff4ce;color:#6b4f00}
h2{font-size:1.2rem;margin:1.5rem 0 .5rem}
.action{display:inline-block;min-height:48px;padding:.6rem 1.5rem;font-size:1.1rem;\
border:2px solid #1a5fb4;border-radius:8px;color:#1a5fb4;text-decoration:none}
button.secondary,form button.secondary[type=submit]{background:#57606a;width:auto;margin-top:.5rem}
.passkey .or{text-align:center;color:#57606a;margin:.75rem 0 0}.passkey button{width:100%}
.credentials{list-style:none;padding:0}
.credential{padding:.75rem 0;border-bottom:1px solid #d0d7de}
.credential-name{font-weight:bold}
.credential-kind,.credential-used{display:block;color:#57606a;font-size:.9rem}
.backup-codes code,.totp-secret{font-size:1.2rem;letter-spacing:.05em;word-break:break-all}
";
