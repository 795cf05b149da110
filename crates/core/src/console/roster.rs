//! Roster import from the console and the API: an uploaded OneRoster zip is validated against
//! the tenant, previewed (a dry run: what would be created, updated and deactivated per
//! entity, rolled back) and applied, through exactly the service the command line uses
//! (`roster_import::import_package`). Tenant admins only.

use std::io::Write;

use kakehashi_oneroster::{Report, Source};
use kakehashi_store::console as stored;

use super::authz::{Principal, TenantAction};
use super::{page_size, ConsoleError, Page};
use crate::roster_import::{self, ImportError, ImportRequest, ImportSummary, Quiet};
use crate::Clock;
use kakehashi_store::Store;

/// The largest upload accepted (a city's roster zips to a few tens of MB).
pub const MAX_UPLOAD_BYTES: usize = 256 * 1024 * 1024;

/// What an upload came to.
#[derive(Debug)]
pub enum Outcome {
    /// Valid: applied, or for a preview what would be applied.
    Summary(ImportSummary),
    /// Invalid: the validation report (file, line, column, field, rule, message); nothing
    /// was written.
    Invalid(Report),
}

/// Validates and imports (or, with `preview`, dry-runs) an uploaded zip.
pub async fn import_upload(
    store: &Store,
    clock: &dyn Clock,
    by: &Principal,
    zip: &[u8],
    file_name: &str,
    preview: bool,
) -> Result<Outcome, ConsoleError> {
    by.require(TenantAction::ImportRoster)?;
    if zip.len() > MAX_UPLOAD_BYTES {
        return Err(ConsoleError::Invalid(format!(
            "the upload is larger than {MAX_UPLOAD_BYTES} bytes"
        )));
    }
    // The reader works on files (zip needs to seek): a private temporary file, removed after.
    let mut file = tempfile_in_tmp()?;
    file.1.write_all(zip).map_err(io_error)?;
    file.1.flush().map_err(io_error)?;
    let result = import_file(store, clock, by, &file.0, file_name, preview).await;
    let _ = std::fs::remove_file(&file.0);
    result
}

/// [`import_upload`] for a server request: the import's future is not `Send` (the roster
/// pipeline borrows across awaits in ways the compiler cannot prove thread-safe), so it runs
/// to completion on a blocking thread of the runtime, which a request may wait on.
pub async fn import_upload_owned<C: Clock + Send + 'static>(
    store: Store,
    clock: C,
    by: Principal,
    zip: Vec<u8>,
    file_name: String,
    preview: bool,
) -> Result<Outcome, ConsoleError> {
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        handle.block_on(import_upload(
            &store, &clock, &by, &zip, &file_name, preview,
        ))
    })
    .await
    .map_err(|e| ConsoleError::Invalid(format!("the import task failed: {e}")))?
}

async fn import_file(
    store: &Store,
    clock: &dyn Clock,
    by: &Principal,
    path: &std::path::Path,
    file_name: &str,
    preview: bool,
) -> Result<Outcome, ConsoleError> {
    let source = Source::open(path).map_err(|e| ConsoleError::Invalid(e.to_string()))?;
    let req = ImportRequest {
        tenant: &by.tenant,
        actor: &by.actor,
        source_label: file_name,
        dry_run: preview,
    };
    match roster_import::import_package(store, clock, &req, &source, &Quiet).await {
        Ok(summary) => Ok(Outcome::Summary(summary)),
        Err(ImportError::Invalid(report)) => Ok(Outcome::Invalid(report)),
        Err(ImportError::Read(e)) => Err(ConsoleError::Invalid(e.to_string())),
        Err(ImportError::Store(e)) => Err(ConsoleError::Store(e)),
        Err(ImportError::Password(e)) => Err(ConsoleError::Password(e)),
        Err(ImportError::Tenant(e)) => Err(ConsoleError::NotFound(e.to_string())),
    }
}

fn io_error(e: std::io::Error) -> ConsoleError {
    ConsoleError::Invalid(format!("cannot stage the upload: {e}"))
}

/// A new file only this process can read, in the system's temporary directory.
fn tempfile_in_tmp() -> Result<(std::path::PathBuf, std::fs::File), ConsoleError> {
    let name = format!(
        "kakehashi-upload-{}.zip",
        crate::portal::token::random_hex().map_err(ConsoleError::Portal)?
    );
    let path = std::env::temp_dir().join(name);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options.open(&path).map_err(io_error)?;
    Ok((path, file))
}

/// An import of the history.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ImportRecord {
    pub id: String,
    pub at: String,
    pub actor: String,
    pub source: String,
    pub summary: serde_json::Value,
}

/// The import history, newest first; `before` is the `next` of the previous page.
pub async fn history(
    store: &Store,
    by: &Principal,
    before: Option<&str>,
    limit: Option<i64>,
) -> Result<Page<ImportRecord>, ConsoleError> {
    by.require(TenantAction::ImportRoster)?;
    let limit = page_size(limit);
    let mut rows = stored::imports(store, &by.tenant, before.unwrap_or(""), limit + 1).await?;
    let next = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|r| r.1.clone())
    } else {
        None
    };
    Ok(Page {
        items: rows
            .into_iter()
            .map(|(id, at, actor, source, summary)| ImportRecord {
                id,
                at,
                actor,
                source,
                summary: serde_json::from_str(&summary).unwrap_or(serde_json::Value::Null),
            })
            .collect(),
        next,
    })
}

/// An upload staged in the console: its validation report and, when valid, the preview.
#[derive(Clone, Debug)]
pub struct Staged {
    pub id: String,
    pub file_name: String,
    /// The validation report as JSON (diagnostics with file, line, column, field, rule,
    /// message, severity; error and warning counts).
    pub report: serde_json::Value,
    /// What applying would do, per entity (`None`: invalid, nothing can be applied).
    pub preview: Option<serde_json::Value>,
    /// Whether the package may still be applied.
    pub applicable: bool,
}

/// The largest upload the console stages (kept in the database until applied).
pub const MAX_STAGED_BYTES: usize = 64 * 1024 * 1024;

/// Validates an upload, previews it (a dry run) and keeps it for [`apply_staged`].
pub async fn stage_upload<C: Clock + Send + 'static>(
    store: &Store,
    clock: C,
    by: &Principal,
    zip: Vec<u8>,
    file_name: &str,
) -> Result<Staged, ConsoleError> {
    use base64::Engine;
    by.require(TenantAction::ImportRoster)?;
    if zip.len() > MAX_STAGED_BYTES {
        return Err(ConsoleError::Invalid(format!(
            "the upload is larger than {MAX_STAGED_BYTES} bytes; use the API or the command line"
        )));
    }
    let now = clock.now();
    let at = clock.now_text();
    let package = base64::engine::general_purpose::STANDARD.encode(&zip);
    let outcome = import_upload_owned(
        store.clone(),
        clock,
        by.clone(),
        zip,
        file_name.to_owned(),
        true,
    )
    .await?;
    let (report, preview) = match &outcome {
        Outcome::Summary(s) => (
            serde_json::json!({ "diagnostics": [], "errors": 0, "warnings": s.warnings }),
            Some(serde_json::to_value(s).unwrap_or_default()),
        ),
        Outcome::Invalid(r) => (serde_json::to_value(r).unwrap_or_default(), None),
    };
    let id = crate::portal::token::random_hex().map_err(ConsoleError::Portal)?;
    let day_ago = (now - time::Duration::days(1))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let mut tx = store.begin().await?;
    stored::insert_upload(
        &mut tx,
        &by.tenant,
        &stored::UploadRow {
            id: id.clone(),
            created_at: at,
            actor: by.actor.0.clone(),
            file_name: file_name.to_owned(),
            report: report.to_string(),
            summary: preview.as_ref().map(|p| p.to_string()),
            package: preview.is_some().then_some(package),
        },
        &day_ago,
    )
    .await?;
    tx.commit()
        .await
        .map_err(kakehashi_store::StoreError::from)?;
    Ok(Staged {
        id,
        file_name: file_name.to_owned(),
        applicable: preview.is_some(),
        report,
        preview,
    })
}

/// A staged upload of the tenant, if the caller may import.
pub async fn staged(store: &Store, by: &Principal, id: &str) -> Result<Staged, ConsoleError> {
    by.require(TenantAction::ImportRoster)?;
    let row = stored::upload(store, &by.tenant, id)
        .await?
        .ok_or_else(|| ConsoleError::NotFound(format!("upload {id}")))?;
    Ok(Staged {
        id: row.id,
        file_name: row.file_name,
        report: serde_json::from_str(&row.report).unwrap_or_default(),
        preview: row
            .summary
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok()),
        applicable: row.package.is_some(),
    })
}

/// Applies a staged upload once (a second click finds nothing left to apply).
pub async fn apply_staged<C: Clock + Send + 'static>(
    store: &Store,
    clock: C,
    by: &Principal,
    id: &str,
) -> Result<Outcome, ConsoleError> {
    use base64::Engine;
    by.require(TenantAction::ImportRoster)?;
    let row = stored::upload(store, &by.tenant, id)
        .await?
        .ok_or_else(|| ConsoleError::NotFound(format!("upload {id}")))?;
    let Some(package) = row.package else {
        return Err(ConsoleError::Invalid(
            "this upload was already applied, or it is not valid".into(),
        ));
    };
    if !stored::take_upload_package(store, &by.tenant, id).await? {
        return Err(ConsoleError::Invalid(
            "this upload was already applied".into(),
        ));
    }
    let zip = base64::engine::general_purpose::STANDARD
        .decode(package)
        .map_err(|e| ConsoleError::Invalid(format!("stored upload unreadable: {e}")))?;
    import_upload_owned(store.clone(), clock, by.clone(), zip, row.file_name, false).await
}

/// The validation report of a staged upload as CSV (file, line, column, field, rule,
/// severity, message).
pub async fn report_csv(store: &Store, by: &Principal, id: &str) -> Result<String, ConsoleError> {
    let s = staged(store, by, id).await?;
    let mut out = String::from("file,line,column,field,rule,severity,message\r\n");
    for d in s.report["diagnostics"].as_array().into_iter().flatten() {
        let text = |k: &str| match &d[k] {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => String::new(),
            v => v.to_string(),
        };
        out.push_str(&super::audit_log::csv_line(&[
            text("file"),
            text("line"),
            text("column"),
            text("field"),
            text("rule"),
            text("severity"),
            text("message"),
        ]));
    }
    Ok(out)
}
