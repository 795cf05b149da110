//! The security policy's second half: what `kakehashi tenant security set` controls (second
//! factors, school networks, the risk engine, shared-device mode), as one form on the
//! security page (`POST …/security/mfa`). The risk weights, the UTC offset and the failure
//! bursts are kept as they are (the command line and `PUT security-policy/mfa` set them).

use kakehashi_core::console::mfa;
use kakehashi_core::mfa::policy::{
    AttestationPolicy, RiskMode, SecurityPolicy as MfaPolicy, UserVerification,
};

use super::*;

/// The form's fields as typed (kept as typed when the form comes back with an error).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct MfaForm {
    csrf: Option<String>,
    second_factor_max_age: String,
    offsite_max_age: String,
    learning_second_factor: Option<String>,
    totp: Option<String>,
    staff_passkeys: Option<String>,
    attestation: String,
    aaguids: String,
    uv_learning: String,
    uv_school_affairs: String,
    school_networks: String,
    risk: String,
    risk_step_up_threshold: String,
    risk_deny_threshold: String,
    school_hours: String,
    shared_device: Option<String>,
    shared_device_idle: String,
    lesson_period_ends: String,
    shared_device_networks: String,
}

/// Seconds as minutes for the form (a fraction only when the seconds are not whole minutes).
fn minutes(secs: i64) -> String {
    if secs % 60 == 0 {
        (secs / 60).to_string()
    } else {
        format!("{:.2}", secs as f64 / 60.0)
    }
}

fn on(v: bool) -> Option<String> {
    v.then(|| "on".to_owned())
}

fn lines<T: ToString>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

impl From<&MfaPolicy> for MfaForm {
    fn from(p: &MfaPolicy) -> Self {
        let uv = |u: UserVerification| match u {
            UserVerification::Preferred => "preferred",
            UserVerification::Required => "required",
        };
        MfaForm {
            csrf: None,
            second_factor_max_age: minutes(p.second_factor_max_age_secs),
            offsite_max_age: p.offsite_max_age_secs.map(minutes).unwrap_or_default(),
            learning_second_factor: on(p.learning_requires_second_factor),
            totp: on(p.totp_enabled),
            staff_passkeys: on(p.staff_passkeys),
            attestation: match p.attestation {
                AttestationPolicy::None => "none",
                AttestationPolicy::Direct => "direct",
            }
            .into(),
            aaguids: lines(&p.aaguid_allow_list),
            uv_learning: uv(p.user_verification_learning).into(),
            uv_school_affairs: uv(p.user_verification_school_affairs).into(),
            school_networks: lines(&p.school_networks),
            risk: match p.risk.mode {
                RiskMode::Off => "off",
                RiskMode::StepUp => "step-up",
                RiskMode::Deny => "deny",
            }
            .into(),
            risk_step_up_threshold: p.risk.step_up_threshold.to_string(),
            risk_deny_threshold: p.risk.deny_threshold.to_string(),
            school_hours: format!("{}-{}", p.risk.school_hours_start, p.risk.school_hours_end),
            shared_device: on(p.shared_device.enabled),
            shared_device_idle: minutes(p.shared_device.idle_secs),
            lesson_period_ends: p.shared_device.period_ends.join(", "),
            shared_device_networks: lines(&p.shared_device.networks),
        }
    }
}

/// A field's label, `(ja, en)`.
fn label(field: &str) -> (&'static str, &'static str) {
    match field {
        "second_factor_max_age" => (
            "二要素認証が有効な時間（分）",
            "A second factor counts for (minutes)",
        ),
        "offsite_max_age" => (
            "学校の外からは、この時間内の二要素認証が必要（分。空欄：同じ）",
            "Outside the school networks, a second factor at most this old (minutes; empty: the same)",
        ),
        "learning_second_factor" => (
            "学習系アプリにも二要素認証を求める",
            "Learning apps need a second factor too",
        ),
        "totp" => (
            "認証アプリ（TOTP）を使えるようにする",
            "Allow authenticator apps (TOTP)",
        ),
        "staff_passkeys" => (
            "教職員のパスキー登録を許可する",
            "Staff may register passkeys",
        ),
        "attestation" => ("認証器の証明（attestation）", "Authenticator attestation"),
        "aaguids" => (
            "使える認証器の型（AAGUID、1行に1つ。空欄：制限なし）",
            "Allowed authenticator models (AAGUIDs, one per line; empty: any)",
        ),
        "uv_learning" => (
            "本人確認（PIN・指紋）：学習系アプリ",
            "User verification (PIN, fingerprint): learning apps",
        ),
        "uv_school_affairs" => (
            "本人確認（PIN・指紋）：校務系アプリ",
            "User verification (PIN, fingerprint): school-affairs apps",
        ),
        "school_networks" => (
            "学校のネットワーク（CIDR、1行に1つ。例：10.20.0.0/16）",
            "School networks (CIDR, one per line, e.g. 10.20.0.0/16)",
        ),
        "risk" => ("リスク判定", "Risk-based sign-in"),
        "risk_step_up_threshold" => (
            "二要素認証を求める点数",
            "Ask for a second factor at score",
        ),
        "risk_deny_threshold" => (
            "ログインを拒否する点数（「拒否」のとき）",
            "Refuse the sign-in at score (mode deny)",
        ),
        "school_hours" => (
            "学校の時間（HH:MM-HH:MM、月〜金）",
            "School hours (HH:MM-HH:MM, Monday to Friday)",
        ),
        "shared_device" => (
            "共用端末モード（教室のタブレットなど）",
            "Shared-device mode (classroom tablets and PCs)",
        ),
        "shared_device_idle" => (
            "共用端末：操作がないときのログアウト（分）",
            "Shared devices: idle timeout (minutes)",
        ),
        "lesson_period_ends" => (
            "共用端末：授業の終わる時刻（HH:MM、カンマ区切り。その時刻にログアウト）",
            "Shared devices: lesson periods end at (HH:MM, comma-separated; sign-out then)",
        ),
        "shared_device_networks" => (
            "共用端末のネットワーク（CIDR、1行に1つ。空欄：すべてのログイン）",
            "Shared-device networks (CIDR, one per line; empty: every sign-in)",
        ),
        _ => ("", ""),
    }
}

fn label_in(lang: Lang, field: &str) -> &'static str {
    let (ja, en) = label(field);
    t(lang, ja, en)
}

/// The field a policy rule's message is about (`MfaPolicy::validate` names the setting).
fn field_of_rule(message: &str) -> Option<&'static str> {
    [
        ("second-factor-max-age", "second_factor_max_age"),
        ("offsite-max-age", "offsite_max_age"),
        ("risk thresholds", "risk_step_up_threshold"),
        ("school hours", "school_hours"),
        ("shared-device idle", "shared_device_idle"),
        ("lesson period ends", "lesson_period_ends"),
    ]
    .into_iter()
    .find(|(prefix, _)| message.starts_with(prefix))
    .map(|(_, f)| f)
}

/// A bad field: which one and what is wrong (in the page's language).
pub struct FieldError {
    field: Option<&'static str>,
    message: String,
}

fn split_list(s: &str) -> Vec<&str> {
    s.split(['\n', ',', '\r'])
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .collect()
}

impl MfaForm {
    /// The policy this form asks for, on top of `base` (the settings the form does not show
    /// stay as they are).
    fn to_policy(&self, lang: Lang, base: &MfaPolicy) -> Result<MfaPolicy, FieldError> {
        let bad = |field: &'static str, ja: String, en: String| FieldError {
            field: Some(field),
            message: format!(
                "{}: {}",
                label_in(lang, field),
                if lang == Lang::Ja { ja } else { en }
            ),
        };
        let mins = |field: &'static str, v: &str| -> Result<i64, FieldError> {
            v.trim()
                .parse::<f64>()
                .ok()
                .filter(|m| m.is_finite() && *m >= 0.0 && *m < 1e9)
                .map(|m| (m * 60.0).round() as i64)
                .ok_or_else(|| {
                    bad(
                        field,
                        format!("「{}」は分の数ではありません。", v.trim()),
                        format!("{:?} is not a number of minutes.", v.trim()),
                    )
                })
        };
        let int = |field: &'static str, v: &str| -> Result<i64, FieldError> {
            v.trim().parse::<i64>().map_err(|_| {
                bad(
                    field,
                    format!("「{}」は整数ではありません。", v.trim()),
                    format!("{:?} is not a whole number.", v.trim()),
                )
            })
        };
        let cidrs = |field: &'static str, v: &str| {
            split_list(v)
                .into_iter()
                .map(|s| {
                    s.parse().map_err(|_| {
                        bad(
                            field,
                            format!("「{s}」はネットワークの書き方（10.20.0.0/16 など）ではありません。"),
                            format!("{s:?} is not an address block such as 10.20.0.0/16."),
                        )
                    })
                })
                .collect::<Result<Vec<_>, _>>()
        };
        let uv = |field: &'static str, v: &str| match v {
            "preferred" => Ok(UserVerification::Preferred),
            "required" => Ok(UserVerification::Required),
            _ => Err(bad(
                field,
                "「できれば」か「必須」を選んでください。".into(),
                "choose preferred or required.".into(),
            )),
        };
        let mut p = base.clone();
        p.second_factor_max_age_secs = mins("second_factor_max_age", &self.second_factor_max_age)?;
        p.offsite_max_age_secs = match self.offsite_max_age.trim() {
            "" => None,
            v => Some(mins("offsite_max_age", v)?),
        };
        p.learning_requires_second_factor = self.learning_second_factor.is_some();
        p.totp_enabled = self.totp.is_some();
        p.staff_passkeys = self.staff_passkeys.is_some();
        p.attestation = match self.attestation.as_str() {
            "none" => AttestationPolicy::None,
            "direct" => AttestationPolicy::Direct,
            _ => {
                return Err(bad(
                    "attestation",
                    "「求めない」か「求める」を選んでください。".into(),
                    "choose none or direct.".into(),
                ))
            }
        };
        p.aaguid_allow_list = split_list(&self.aaguids)
            .into_iter()
            .map(|s| {
                s.parse().map_err(|_| {
                    bad(
                        "aaguids",
                        format!("「{s}」はAAGUID（UUIDの形式）ではありません。"),
                        format!("{s:?} is not an AAGUID (a UUID)."),
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        p.user_verification_learning = uv("uv_learning", &self.uv_learning)?;
        p.user_verification_school_affairs = uv("uv_school_affairs", &self.uv_school_affairs)?;
        p.school_networks = cidrs("school_networks", &self.school_networks)?;
        p.risk.mode = match self.risk.as_str() {
            "off" => RiskMode::Off,
            "step-up" => RiskMode::StepUp,
            "deny" => RiskMode::Deny,
            _ => {
                return Err(bad(
                    "risk",
                    "選択肢から選んでください。".into(),
                    "choose off, step-up or deny.".into(),
                ))
            }
        };
        p.risk.step_up_threshold = int("risk_step_up_threshold", &self.risk_step_up_threshold)?;
        p.risk.deny_threshold = int("risk_deny_threshold", &self.risk_deny_threshold)?;
        let Some((start, end)) = self.school_hours.split_once('-') else {
            return Err(bad(
                "school_hours",
                "07:00-19:00 のように書いてください。".into(),
                "write it as 07:00-19:00.".into(),
            ));
        };
        p.risk.school_hours_start = start.trim().to_owned();
        p.risk.school_hours_end = end.trim().to_owned();
        p.shared_device.enabled = self.shared_device.is_some();
        p.shared_device.idle_secs = mins("shared_device_idle", &self.shared_device_idle)?;
        p.shared_device.period_ends = split_list(&self.lesson_period_ends)
            .into_iter()
            .map(str::to_owned)
            .collect();
        p.shared_device.networks = cidrs("shared_device_networks", &self.shared_device_networks)?;
        Ok(p)
    }
}

/// The MFA policy form (`error`: the field in error and its message).
pub(super) fn mfa_form_html(c: &Ctx, f: &MfaForm, error: Option<&FieldError>) -> String {
    let lang = c.lang;
    let invalid = |name: &str| {
        if error.and_then(|e| e.field) == Some(name) {
            " aria-invalid=\"true\" aria-describedby=\"mfa-error\""
        } else {
            ""
        }
    };
    let text = |name: &str, value: &str, mode: &str| {
        format!(
            "<label for=\"{name}\">{}</label>\
             <input id=\"{name}\" name=\"{name}\" type=\"text\" inputmode=\"{mode}\" value=\"{}\"{}>",
            label_in(lang, name),
            esc(value),
            invalid(name)
        )
    };
    let area = |name: &str, value: &str| {
        format!(
            "<label for=\"{name}\">{}</label>\
             <textarea id=\"{name}\" name=\"{name}\" rows=\"3\"{}>{}</textarea>",
            label_in(lang, name),
            invalid(name),
            esc(value)
        )
    };
    let check = |name: &str, value: &Option<String>| {
        format!(
            "<label class=\"check\"><input type=\"checkbox\" name=\"{name}\" value=\"on\"{}> {}</label>",
            if value.is_some() { " checked" } else { "" },
            label_in(lang, name)
        )
    };
    let select = |name: &str, value: &str, options: &[(&str, &'static str, &'static str)]| {
        let opts: String = options
            .iter()
            .map(|(v, ja, en)| {
                format!(
                    "<option value=\"{v}\"{}>{}</option>",
                    if *v == value { " selected" } else { "" },
                    t(lang, ja, en)
                )
            })
            .collect();
        format!(
            "<label for=\"{name}\">{}</label><select id=\"{name}\" name=\"{name}\"{}>{opts}</select>",
            label_in(lang, name),
            invalid(name)
        )
    };
    let uv_options = [
        ("preferred", "できれば（PINのない鍵も可）", "preferred"),
        ("required", "必須", "required"),
    ];
    let message = error.map_or_else(String::new, |e| {
        format!(
            "<p class=\"notice error\" role=\"alert\" id=\"mfa-error\">{}</p>",
            esc(&e.message)
        )
    });
    format!(
        "<h2 id=\"mfa\">{h2}</h2>{message}\
         <form class=\"inline wide\" method=\"post\" action=\"{base}/security/mfa{lq}\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <fieldset><legend>{l_factors}</legend>{a}{b}{c1}{c2}{c3}{d}{e}{f1}{f2}</fieldset>\
         <fieldset><legend>{l_networks}</legend>{g}</fieldset>\
         <fieldset><legend>{l_risk}</legend>{h}{i}{j}{k}</fieldset>\
         <fieldset><legend>{l_shared}</legend>{l}{m}{n}{o}</fieldset>\
         <button type=\"submit\">{save}</button></form>\n<p>{note}</p>",
        h2 = t(
            lang,
            "二要素認証・ネットワーク・リスク判定",
            "Second factors, networks and risk"
        ),
        base = c.base(),
        lq = lq(lang, true),
        csrf = esc(&c.csrf),
        l_factors = t(lang, "二要素認証", "Second factors"),
        a = text("second_factor_max_age", &f.second_factor_max_age, "decimal"),
        b = text("offsite_max_age", &f.offsite_max_age, "decimal"),
        c1 = check("learning_second_factor", &f.learning_second_factor),
        c2 = check("totp", &f.totp),
        c3 = check("staff_passkeys", &f.staff_passkeys),
        d = select(
            "attestation",
            &f.attestation,
            &[
                ("none", "求めない", "none"),
                ("direct", "求める（direct）", "direct"),
            ]
        ),
        e = area("aaguids", &f.aaguids),
        f1 = select("uv_learning", &f.uv_learning, &uv_options),
        f2 = select("uv_school_affairs", &f.uv_school_affairs, &uv_options),
        l_networks = t(lang, "学校のネットワーク", "School networks"),
        g = area("school_networks", &f.school_networks),
        l_risk = t(lang, "リスク判定", "Risk-based sign-in"),
        h = select(
            "risk",
            &f.risk,
            &[
                ("off", "使わない", "off"),
                (
                    "step-up",
                    "点数が高いときは二要素認証を求める",
                    "step-up: ask for a second factor"
                ),
                (
                    "deny",
                    "さらに高いときはログインを拒否する",
                    "deny: also refuse at the deny score"
                ),
            ]
        ),
        i = text("risk_step_up_threshold", &f.risk_step_up_threshold, "numeric"),
        j = text("risk_deny_threshold", &f.risk_deny_threshold, "numeric"),
        k = text("school_hours", &f.school_hours, "text"),
        l_shared = t(lang, "共用端末", "Shared devices"),
        l = check("shared_device", &f.shared_device),
        m = text("shared_device_idle", &f.shared_device_idle, "decimal"),
        n = text("lesson_period_ends", &f.lesson_period_ends, "text"),
        o = area("shared_device_networks", &f.shared_device_networks),
        save = t(lang, "保存する", "Save"),
        note = t(
            lang,
            "リスクの重み、時差、失敗回数の閾値はコマンドライン（kakehashi tenant security set）か管理APIで設定します。変更は監査ログに前後の値とともに記録されます。",
            "Risk weights, the UTC offset and the failure bursts are set with kakehashi tenant security set or the admin API. Every change is audited with the values before and after.",
        ),
    )
}

#[derive(Deserialize)]
pub struct MfaFormQuery {
    lang: Option<String>,
}

pub async fn security_mfa_submit(
    State(st): State<AppState>,
    Path(raw): Path<String>,
    Query(q): Query<MfaFormQuery>,
    headers: HeaderMap,
    Form(form): Form<MfaForm>,
) -> Response {
    let c = ctx_or_return!(st, raw, q.lang.as_deref(), headers, "security");
    if !csrf_ok(&c, form.csrf.as_deref()) {
        return forbidden_form(&c);
    }
    let base = match mfa::get_policy(&st.store, &c.by).await {
        Ok(p) => p,
        Err(e) => return c.error("security", e),
    };
    let error = match form.to_policy(c.lang, &base) {
        Err(e) => e,
        Ok(policy) => match mfa::set_policy(&st.store, &SystemClock, &c.by, &policy).await {
            Ok(()) => {
                return see_other(
                    &format!(
                        "{}/security?done=mfa{}#mfa",
                        c.base(),
                        if c.lang == Lang::En { "&lang=en" } else { "" }
                    ),
                    &[],
                )
            }
            Err(ConsoleError::Invalid(m)) => FieldError {
                field: field_of_rule(&m),
                message: format!(
                    "{}{m}",
                    t(
                        c.lang,
                        "保存できませんでした（設定の規則）: ",
                        "Not saved: "
                    )
                ),
            },
            Err(e) => return c.error("security", e),
        },
    };
    security_page_with(
        &st,
        &c,
        None,
        Some((&form, &error)),
        StatusCode::BAD_REQUEST,
    )
    .await
}
