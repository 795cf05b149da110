//! Just enough of `multipart/form-data` (RFC 7578) for the console's upload form: named text
//! fields and one file, from a body already read into memory (the body limit bounds it).

/// One part of the form.
#[derive(Debug, PartialEq, Eq)]
pub struct Part {
    pub name: String,
    pub file_name: Option<String>,
    pub data: Vec<u8>,
}

/// The boundary of a `multipart/form-data; boundary=…` content type (RFC 7578 4.1; RFC 2046
/// 5.1.1: 1–70 characters, possibly quoted).
pub fn boundary(content_type: &str) -> Option<String> {
    let (kind, params) = content_type.split_once(';')?;
    if !kind.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.split(';').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        if !k.trim().eq_ignore_ascii_case("boundary") {
            return None;
        }
        let v = v.trim().trim_matches('"');
        (!v.is_empty() && v.len() <= 70).then(|| v.to_owned())
    })
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    (from..=hay.len() - needle.len()).find(|&i| &hay[i..i + needle.len()] == needle)
}

/// The parts of `body`, or `None` when it is not well formed.
pub fn parse(body: &[u8], boundary: &str) -> Option<Vec<Part>> {
    let delim = format!("--{boundary}");
    let sep = format!("\r\n--{boundary}");
    let mut pos = find(body, delim.as_bytes(), 0)? + delim.len();
    let mut parts = Vec::new();
    loop {
        // After a delimiter: `--` ends the body, CRLF starts a part.
        if body.get(pos..pos + 2)? == b"--" {
            return Some(parts);
        }
        if body.get(pos..pos + 2)? != b"\r\n" {
            return None;
        }
        pos += 2;
        let head_end = find(body, b"\r\n\r\n", pos)?;
        let head = std::str::from_utf8(&body[pos..head_end]).ok()?;
        let data_start = head_end + 4;
        let data_end = find(body, sep.as_bytes(), data_start)?;
        let (mut name, mut file_name) = (None, None);
        for line in head.split("\r\n") {
            let Some((k, v)) = line.split_once(':') else {
                continue;
            };
            if !k.trim().eq_ignore_ascii_case("content-disposition") {
                continue;
            }
            for param in v.split(';').skip(1) {
                let Some((pk, pv)) = param.split_once('=') else {
                    continue;
                };
                let pv = pv.trim().trim_matches('"').to_owned();
                match pk.trim() {
                    "name" => name = Some(pv),
                    "filename" => file_name = Some(pv),
                    _ => {}
                }
            }
        }
        parts.push(Part {
            name: name?,
            file_name,
            data: body[data_start..data_end].to_vec(),
        });
        pos = data_end + sep.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_7578_fields_and_a_file() {
        let b = boundary("multipart/form-data; boundary=\"----x1\"").unwrap();
        assert_eq!(b, "----x1");
        let body = b"------x1\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\nabc\r\n\
------x1\r\nContent-Disposition: form-data; name=\"package\"; filename=\"r.zip\"\r\n\
Content-Type: application/zip\r\n\r\nPK\x03\x04\r\n\x00\r\n------x1--\r\n";
        let parts = parse(body, &b).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(
            (parts[0].name.as_str(), parts[0].data.as_slice()),
            ("csrf", &b"abc"[..])
        );
        assert_eq!(parts[1].file_name.as_deref(), Some("r.zip"));
        assert_eq!(parts[1].data, b"PK\x03\x04\r\n\x00");
        assert!(parse(b"garbage", &b).is_none());
        assert!(boundary("application/x-www-form-urlencoded").is_none());
    }
}
