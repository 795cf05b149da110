//! Reading one CSV file as a stream of byte records, with the encoding rules applied once
//! for every file (manifest and data): a UTF-8 BOM is skipped, UTF-16 and Shift_JIS files are
//! refused as a whole, other invalid UTF-8 is reported with its line and column
//! (OneRoster 1.2 CSV binding §2: UTF-8, RFC 4180 CSV).

use std::io::{self, Read};

use crate::diag::{At, Sink};
use crate::text;

/// Streams records of one file. The reader is flexible about field counts so that the
/// validator, not the parser, reports rows of the wrong length.
pub struct CsvStream<'r> {
    reader: csv::Reader<io::Chain<io::Cursor<Vec<u8>>, &'r mut dyn Read>>,
    pub record: csv::ByteRecord,
}

/// What the start of a file says about its encoding.
pub enum Start<'r> {
    Csv(CsvStream<'r>),
    /// The file starts with a UTF-16 byte order mark.
    Utf16,
}

pub fn open(input: &mut dyn Read) -> io::Result<Start<'_>> {
    let mut head = Vec::with_capacity(3);
    let mut byte = [0u8; 1];
    while head.len() < 3 {
        match input.read(&mut byte) {
            Ok(0) => break,
            Ok(_) => head.push(byte[0]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) {
        return Ok(Start::Utf16);
    }
    if head == text::UTF8_BOM {
        head.clear();
    }
    let reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(1 << 20)
        .from_reader(io::Cursor::new(head).chain(input));
    Ok(Start::Csv(CsvStream {
        reader,
        record: csv::ByteRecord::new(),
    }))
}

/// Why reading the next record stopped.
pub enum Next {
    Record,
    End,
    /// A CSV syntax or I/O error; reported, and the rest of the file is skipped.
    Broken,
}

impl CsvStream<'_> {
    /// Reads the next record into `self.record`.
    pub fn next(&mut self, file: &str, sink: &mut Sink) -> Next {
        match self.reader.read_byte_record(&mut self.record) {
            Ok(true) => Next::Record,
            Ok(false) => Next::End,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                let msg = match e.kind() {
                    csv::ErrorKind::Io(io) => format!("cannot read the file: {io}"),
                    _ => format!("not valid CSV (RFC 4180): {e}; the rest of the file is skipped"),
                };
                sink.error(
                    At {
                        file,
                        line,
                        column: 0,
                        field: "",
                    },
                    "CSV-SYNTAX",
                    msg,
                );
                Next::Broken
            }
        }
    }

    /// 1-based line on which the current record starts.
    pub fn line(&self) -> u64 {
        self.record.position().map_or(0, |p| p.line())
    }
}

/// The outcome of checking a record's encoding.
pub enum Encoding {
    Utf8,
    /// Invalid UTF-8 in the record, reported; skip the record.
    BadRecord,
    /// The file is Shift_JIS, reported; skip the file.
    ShiftJis,
}

/// Checks that every field of `record` is UTF-8 and reports what is not.
pub fn check_encoding(
    record: &csv::ByteRecord,
    file: &str,
    line: u64,
    header: &[String],
    sink: &mut Sink,
) -> Encoding {
    if std::str::from_utf8(record.as_slice()).is_ok() {
        return Encoding::Utf8;
    }
    for (i, field) in record.iter().enumerate() {
        if std::str::from_utf8(field).is_ok() {
            continue;
        }
        let name = header.get(i).map_or("", String::as_str);
        let at = At {
            file,
            line,
            column: i as u64 + 1,
            field: name,
        };
        if text::looks_like_shift_jis(field) {
            sink.error(at, "ENC-SHIFT-JIS", text::shift_jis_message());
            return Encoding::ShiftJis;
        }
        let (chr, byte) = text::first_invalid_utf8(field);
        sink.error(
            at,
            "ENC-UTF8",
            format!(
                "invalid UTF-8 (byte 0x{byte:02X} at character {chr} of the field); \
                 OneRoster CSV must be UTF-8"
            ),
        );
    }
    Encoding::BadRecord
}

/// The record's fields as text; call after [`check_encoding`] said [`Encoding::Utf8`].
pub fn field(record: &csv::ByteRecord, i: usize) -> &str {
    record
        .get(i)
        .and_then(|b| std::str::from_utf8(b).ok())
        .unwrap_or("")
}
