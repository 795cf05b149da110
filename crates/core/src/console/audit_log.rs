//! The tenant's audit log in the console and the API: search and filter (newest first, a page
//! at a time), export as CSV, verify the hash chain, and "who viewed or changed this person"
//! (the rows whose target is that person). Tenant admins only: the log names everyone.

use kakehashi_store::audit::{self, Entry, Verification};
use kakehashi_store::console::{self as stored, AuditFilter};

use super::authz::{Principal, TenantAction};
use super::{page_size, ConsoleError, Page};
use kakehashi_store::Store;

/// A page of audit rows matching `filter`; `before` is the `next` of the previous page.
pub async fn search(
    store: &Store,
    by: &Principal,
    filter: &AuditFilter,
    before: Option<&str>,
    limit: Option<i64>,
) -> Result<Page<Entry>, ConsoleError> {
    by.require(TenantAction::ReadAudit)?;
    let before = match before.filter(|b| !b.is_empty()) {
        None => 0,
        Some(b) => b
            .parse::<i64>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| ConsoleError::Invalid(format!("bad page cursor {b:?}")))?,
    };
    let limit = page_size(limit);
    let mut rows = stored::search_audit(store, &by.tenant, filter, before, limit + 1).await?;
    let next = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|e| e.seq.to_string())
    } else {
        None
    };
    Ok(Page { items: rows, next })
}

/// "Who viewed or changed this person": the rows whose target is the person.
pub async fn about_person(
    store: &Store,
    by: &Principal,
    sourced_id: &str,
    before: Option<&str>,
    limit: Option<i64>,
) -> Result<Page<Entry>, ConsoleError> {
    let filter = AuditFilter {
        target: format!("user:{sourced_id}"),
        ..AuditFilter::default()
    };
    search(store, by, &filter, before, limit).await
}

/// Verifies the tenant's chain.
pub async fn verify(store: &Store, by: &Principal) -> Result<Verification, ConsoleError> {
    by.require(TenantAction::ReadAudit)?;
    Ok(audit::verify_tenant(store, &by.tenant).await?)
}

/// The most rows one export holds (narrow the filter for more).
pub const EXPORT_LIMIT: i64 = 100_000;

/// The rows matching `filter` as CSV (RFC 4180, CRLF, a header row), newest first.
pub async fn export_csv(
    store: &Store,
    by: &Principal,
    filter: &AuditFilter,
) -> Result<String, ConsoleError> {
    by.require(TenantAction::ReadAudit)?;
    let mut out = String::from("seq,at,actor,action,target,details,hash\r\n");
    let mut before = 0;
    let mut total = 0;
    loop {
        let rows = stored::search_audit(store, &by.tenant, filter, before, 1000).await?;
        let Some(last) = rows.last() else { break };
        before = last.seq;
        for e in &rows {
            let cells = [
                e.seq.to_string(),
                e.at.clone(),
                e.actor.clone(),
                e.action.clone(),
                e.target.clone(),
                e.details.clone(),
                e.hash.clone(),
            ];
            out.push_str(&csv_line(&cells));
        }
        total += rows.len() as i64;
        if total >= EXPORT_LIMIT || rows.len() < 1000 {
            break;
        }
    }
    Ok(out)
}

/// One CSV record (RFC 4180 2.6/2.7: fields with a comma, quote or line break are quoted and
/// quotes doubled). A cell starting with `=`, `+`, `-` or `@` gets a leading `'` so that a
/// spreadsheet does not run it as a formula (OWASP CSV injection).
pub fn csv_line(cells: &[String]) -> String {
    let mut line = cells
        .iter()
        .map(|c| {
            let c = if c.starts_with(['=', '+', '-', '@']) {
                format!("'{c}")
            } else {
                c.clone()
            };
            if c.contains([',', '"', '\r', '\n']) {
                format!("\"{}\"", c.replace('"', "\"\""))
            } else {
                c
            }
        })
        .collect::<Vec<_>>()
        .join(",");
    line.push_str("\r\n");
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_4180_quoting_and_no_formulas() {
        let cells = [
            "a,b".to_owned(),
            "say \"hi\"".to_owned(),
            "=1+1".to_owned(),
            "plain".to_owned(),
        ];
        assert_eq!(
            csv_line(&cells),
            "\"a,b\",\"say \"\"hi\"\"\",'=1+1,plain\r\n"
        );
    }
}
