//! Rules for one value in one column, by the column's [`Kind`], plus the few rules that look
//! at two values of a row. Each rule reports under its own id (see `docs/ONEROSTER.md`).

use crate::diag::{At, Sink};
use crate::model::Entity;
use crate::refs::Resolver;
use crate::schema::{self, Kind};
use crate::text;
use crate::values;

/// A reference to a row of the same file, checked once the whole file has been read.
pub struct Deferred {
    pub id: String,
    pub line: u64,
    pub column: u64,
    pub field: &'static str,
}

/// Context of one value.
pub struct Cell<'a> {
    pub entity: Entity,
    pub at: At<'a>,
    pub value: &'a str,
}

fn is_ext_token(v: &str) -> bool {
    // CSV binding §2.3: enumeration extensions are `ext:` followed by [a-zA-Z0-9.-_]+.
    v.strip_prefix("ext:").is_some_and(|t| {
        !t.is_empty()
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    })
}

/// Checks a non-empty value of a column of kind `kind`.
pub fn check(
    cell: &Cell<'_>,
    kind: Kind,
    sink: &mut Sink,
    refs: &Resolver<'_>,
    deferred: &mut Vec<Deferred>,
    field_name: &'static str,
) {
    let (at, v) = (cell.at, cell.value);
    let bad = |sink: &mut Sink, rule: &str, r: Result<(), String>| {
        if let Err(m) = r {
            sink.error(at, rule, format!("{}: {m}", at.field));
        }
    };
    match kind {
        Kind::Text | Kind::List => {}
        Kind::Enum { values, ext } => {
            if values.contains(&v) || (ext && is_ext_token(v)) {
                if cell.entity == Entity::Orgs
                    && at.field == "type"
                    && !schema::JP_ORG_TYPES.contains(&v)
                {
                    sink.warning(
                        at,
                        "JP-ORG-TYPE",
                        format!("org type `{v}`: the Japan Profile uses district and school only"),
                    );
                }
                return;
            }
            let mut expected = values.join(", ");
            if ext {
                expected.push_str(", or ext:…");
            }
            sink.error(
                at,
                "ROW-ENUM",
                format!("{} `{v}` is not allowed: expected one of {expected}", at.field),
            );
        }
        Kind::Date => bad(sink, "ROW-DATE", values::date(v)),
        Kind::DateTime => bad(sink, "ROW-DATETIME", values::date_time(v)),
        Kind::Bool => bad(sink, "ROW-BOOL", values::boolean(v)),
        Kind::Int => bad(sink, "ROW-INT", values::integer(v)),
        Kind::Year => bad(sink, "ROW-YEAR", values::year(v)),
        Kind::Ref(target) => {
            if v.contains(',') {
                let n = values::list(v).count();
                sink.error(
                    at,
                    "REF-LIST",
                    format!(
                        "{} holds a list of {n} ids (`{v}`); only one id is allowed in this column",
                        at.field
                    ),
                );
                return;
            }
            reference(cell, target, v.trim(), sink, refs, deferred, field_name);
        }
        Kind::RefList(target) => {
            for id in values::list(v) {
                reference(cell, target, id, sink, refs, deferred, field_name);
            }
        }
        Kind::Grades => {
            for g in values::list(v) {
                if schema::JP_GRADES.contains(&g) {
                    continue;
                }
                if schema::CEDS_GRADES.contains(&g) {
                    sink.warning(
                        at,
                        "JP-GRADE-CEDS",
                        format!("grade `{g}` is from the base OneRoster vocabulary; the Japan Profile uses P1–P6, J1–J3, H1–H3, E1–E3"),
                    );
                } else {
                    sink.error(
                        at,
                        "ROW-GRADE",
                        format!("grade `{g}` is not a Japan Profile grade code: use P1–P6 (小学校), J1–J3 (中学校), H1–H3 (高等学校) or E1–E3 (幼稚園)"),
                    );
                }
            }
        }
        Kind::UserIds => {
            for id in values::list(v) {
                bad(sink, "ROW-USERIDS", values::user_id(id));
            }
        }
        Kind::Uuid => match values::uuid(v) {
            Err(m) => sink.error(at, "JP-UMI-UUID", format!("{}: {m}", at.field)),
            Ok(u) if u.get_version_num() != 4 => sink.warning(
                at,
                "JP-UMI-VERSION",
                format!(
                    "{} `{v}` is a version {} UUID; the Japan Profile expects random (version 4) UUIDs",
                    at.field,
                    u.get_version_num()
                ),
            ),
            Ok(_) => {}
        },
        Kind::Kana => {
            if let Some(c) = v.chars().find(|&c| text::is_halfwidth_katakana(c)) {
                sink.error(
                    at,
                    "JP-KANA-HALFWIDTH",
                    format!(
                        "{} `{v}` holds half-width katakana {}; write full-width katakana (e.g. カ, not ｶ)",
                        at.field,
                        text::describe_char(c)
                    ),
                );
            } else if let Some(c) = v.chars().find(|&c| !text::is_kana_reading_char(c)) {
                sink.warning(
                    at,
                    "JP-KANA-CHARS",
                    format!(
                        "{} `{v}` holds {}, which is not kana; a reading is written in full-width katakana or hiragana",
                        at.field,
                        text::describe_char(c)
                    ),
                );
            }
        }
        Kind::Name => {
            if let Some(c) = v.chars().find(|&c| text::is_halfwidth_katakana(c)) {
                sink.warning(
                    at,
                    "JP-NAME-HALFWIDTH",
                    format!(
                        "{} `{v}` holds half-width katakana {}; names are written in full-width characters",
                        at.field,
                        text::describe_char(c)
                    ),
                );
            }
        }
    }
}

fn reference(
    cell: &Cell<'_>,
    target: Entity,
    id: &str,
    sink: &mut Sink,
    refs: &Resolver<'_>,
    deferred: &mut Vec<Deferred>,
    field_name: &'static str,
) {
    if target == cell.entity {
        // Same file (parentSourcedId, agentSourcedIds): the row may come later.
        deferred.push(Deferred {
            id: id.to_owned(),
            line: cell.at.line,
            column: cell.at.column,
            field: field_name,
        });
    } else {
        refs.check(sink, cell.at, target, id);
    }
}

/// CSV binding §3.1/§3.5/§3.8: an end date may not be before its start date.
pub fn date_order(at: At<'_>, start: &str, end: &str, sink: &mut Sink) {
    let both_dates = values::date(start).is_ok() && values::date(end).is_ok();
    if both_dates && end < start {
        sink.error(
            at,
            "ROW-DATE-ORDER",
            format!("{} {end} is before the start date {start}", at.field),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ext_tokens_follow_the_binding() {
        assert!(is_ext_token("ext:special-class"));
        assert!(!is_ext_token("ext:"));
        assert!(!is_ext_token("ext:特別"));
        assert!(!is_ext_token("special"));
    }
}
