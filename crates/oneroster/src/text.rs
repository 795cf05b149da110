//! Character-level rules: the encoding of the files and the characters of Japanese names.
//!
//! OneRoster 1.2 CSV binding §2 (CSV format): files are UTF-8; a UTF-8 byte order mark is
//! tolerated. School-affairs systems in Japan often save CSV as Shift_JIS (Windows code page
//! 932), which must be refused with a message that says so and how to convert, not as
//! "invalid UTF-8 at byte 1234". No decoder is needed for that: we only recognise the
//! byte structure of Shift_JIS.

pub const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// `true` when `bytes` is not UTF-8 but is well-formed Shift_JIS / CP932 with at least one
/// double-byte character: lead bytes 0x81–0x9F and 0xE0–0xFC, trail bytes 0x40–0x7E and
/// 0x80–0xFC; single bytes ASCII and half-width katakana 0xA1–0xDF.
pub fn looks_like_shift_jis(bytes: &[u8]) -> bool {
    if std::str::from_utf8(bytes).is_ok() {
        return false;
    }
    let mut i = 0;
    let mut double = 0usize;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            0x00..=0x7F | 0xA1..=0xDF => i += 1,
            0x81..=0x9F | 0xE0..=0xFC => {
                let Some(&t) = bytes.get(i + 1) else {
                    return false;
                };
                if !matches!(t, 0x40..=0x7E | 0x80..=0xFC) {
                    return false;
                }
                double += 1;
                i += 2;
            }
            _ => return false,
        }
    }
    double > 0
}

/// The message for a file saved as Shift_JIS.
pub fn shift_jis_message() -> String {
    "the file is encoded in Shift_JIS (CP932), but OneRoster CSV must be UTF-8: \
     save it again as \"CSV UTF-8\" (Excel: 名前を付けて保存 → CSV UTF-8), or convert it with \
     `iconv -f CP932 -t UTF-8 FILE > FILE.utf8`"
        .to_owned()
}

/// 1-based character column of the first invalid UTF-8 byte in `bytes`, and that byte.
pub fn first_invalid_utf8(bytes: &[u8]) -> (usize, u8) {
    match std::str::from_utf8(bytes) {
        Ok(_) => (0, 0),
        Err(e) => {
            let valid = e.valid_up_to();
            // from_utf8 succeeded on the prefix, so this cannot fail.
            let chars = std::str::from_utf8(&bytes[..valid]).map_or(valid, |s| s.chars().count());
            (chars + 1, bytes.get(valid).copied().unwrap_or(0))
        }
    }
}

/// Half-width katakana and its punctuation (U+FF61–U+FF9F), which the Japan Profile does not
/// allow in kana name fields.
pub fn is_halfwidth_katakana(c: char) -> bool {
    ('\u{FF61}'..='\u{FF9F}').contains(&c)
}

/// Characters a kana reading may hold: full-width katakana (with ー・ and small forms),
/// hiragana, and spaces between parts of a name.
pub fn is_kana_reading_char(c: char) -> bool {
    matches!(c,
        '\u{3041}'..='\u{309F}' // hiragana, including ゛゜ゝゞ
        | '\u{30A0}'..='\u{30FF}' // katakana, including ・ー
        | '\u{31F0}'..='\u{31FF}' // katakana phonetic extensions
        | '\u{3000}' | ' ')
}

/// Convenience for messages: `U+FF76 'ｶ'`.
pub fn describe_char(c: char) -> String {
    format!("U+{:04X} '{c}'", c as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    // "山田" in Shift_JIS.
    const YAMADA_SJIS: &[u8] = &[0x8E, 0x52, 0x93, 0x63];

    #[test]
    fn shift_jis_bytes_are_recognised() {
        assert!(looks_like_shift_jis(YAMADA_SJIS));
        assert!(!looks_like_shift_jis("山田".as_bytes()));
        assert!(!looks_like_shift_jis(b"plain ascii"));
        assert!(!looks_like_shift_jis(&[0xFF, 0xFE]));
    }

    #[test]
    fn invalid_utf8_column_counts_characters() {
        let mut bytes = "あa".as_bytes().to_vec();
        bytes.push(0xFF);
        assert_eq!(first_invalid_utf8(&bytes), (3, 0xFF));
    }

    #[test]
    fn kana_classes() {
        assert!(is_halfwidth_katakana('ｶ'));
        assert!(!is_halfwidth_katakana('カ'));
        assert!("ヤマダ　タロウ".chars().all(is_kana_reading_char));
        assert!("やまだ".chars().all(is_kana_reading_char));
        assert!(!is_kana_reading_char('山'));
    }
}
