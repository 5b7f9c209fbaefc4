//! One CSV download, streamed: the body is fed a chunk at a time by a [`Keyset`] listing
//! ([`Chunks`]), each chunk encoded as RFC 4180 CSV (CRLF, quoted where needed, spreadsheet-safe
//! cells) as the client takes the previous one, so memory holds one chunk whatever the size and
//! no database connection is held between chunks.
//!
//! The first chunk is read before the response starts: a database that fails right away gets an
//! honest 500. A chunk that fails later cannot change the status any more; the body then ends
//! with an error, so the connection is cut before the last chunk and the browser reports a failed
//! download rather than saving a file that looks complete.

use axum::{
    body::{Body, Bytes},
    http::header,
    response::{IntoResponse, Response},
};
use domain::{
    export::{Chunks, Keyset},
    store::Reader,
};
use futures_util::{StreamExt, stream};
use tracing::Instrument;

use super::{ExportError, cell::inert};

/// A listing as a CSV file.
pub(super) trait Sheet: Keyset {
    /// The file name's stem: `users` names the file `users-2026-12-04.csv` (the UTC date).
    const STEM: &'static str;
    /// The header row.
    const HEADER: &'static [&'static str];

    /// The cells of `row`, in [`Sheet::HEADER`]'s order.
    fn cells(&self, row: &Self::Row) -> Vec<String>;
}

/// `rows` as CSV, after the header row if `header`.
fn encode<S: Sheet>(sheet: &S, header: bool, rows: &[S::Row]) -> Result<Bytes, csv::Error> {
    let mut out = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    if header {
        out.write_record(S::HEADER)?;
    }
    for row in rows {
        for cell in sheet.cells(row) {
            out.write_field(inert(&cell).as_bytes())?;
        }
        out.write_record(None::<&[u8]>)?;
    }
    let bytes = out.into_inner().map_err(|e| csv::Error::from(e.into_error()))?;
    Ok(Bytes::from(bytes))
}

/// The download of `sheet`'s rows, read through `reader`.
pub(super) async fn csv_response<S: Sheet>(reader: Reader, sheet: S) -> Result<Response, ExportError> {
    let mut chunks = Chunks::new(reader, sheet);
    let first = chunks.next().await?.unwrap_or_default();
    let head = encode(chunks.listing(), true, &first).map_err(ExportError::Encoding)?;
    drop(first);
    let span = tracing::Span::current();
    let rest = stream::try_unfold(chunks, move |mut chunks| {
        async move {
            let rows = chunks.next().await.map_err(|e| {
                tracing::error!(error = %e, export = S::STEM, "reading an export's chunk failed; download cut");
                std::io::Error::other("the export could not be read to its end")
            })?;
            let Some(rows) = rows else { return Ok(None) };
            let bytes = encode(chunks.listing(), false, &rows).map_err(|e| {
                tracing::error!(error = %e, export = S::STEM, "encoding an export's chunk failed; download cut");
                std::io::Error::other("the export could not be written to its end")
            })?;
            Ok(Some((bytes, chunks)))
        }
        .instrument(span.clone())
    });
    let body = Body::from_stream(stream::once(async { Ok::<_, std::io::Error>(head) }).chain(rest));
    let date = chrono::Utc::now().format("%Y-%m-%d");
    let disposition = format!("attachment; filename=\"{}-{date}.csv\"", S::STEM);
    let headers = [
        (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
        (header::CONTENT_DISPOSITION, disposition),
        (header::CACHE_CONTROL, "no-store".to_owned()),
    ];
    Ok((headers, body).into_response())
}
