//! A QR code (ISO/IEC 18004, via `qrcodegen`) as inline SVG: dark modules as one path, a
//! four-module quiet zone, no script and no style attribute (the console's CSP).

use qrcodegen::{QrCode, QrCodeEcc};

use crate::portal::http::esc;

/// The SVG of `text`, labelled for screen readers with `label`; `None` if it does not fit.
pub fn svg(text: &str, label: &str) -> Option<String> {
    // Medium error correction: a card in a pencil case gets creased.
    let qr = QrCode::encode_text(text, QrCodeEcc::Medium).ok()?;
    let size = qr.size();
    let border = 4;
    let mut path = String::new();
    for y in 0..size {
        for x in 0..size {
            if qr.get_module(x, y) {
                path.push_str(&format!("M{},{}h1v1h-1z", x + border, y + border));
            }
        }
    }
    let dim = size + 2 * border;
    Some(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {dim} {dim}\" role=\"img\" \
         aria-label=\"{}\" class=\"qr\" shape-rendering=\"crispEdges\">\
         <rect width=\"{dim}\" height=\"{dim}\" fill=\"#fff\"/><path d=\"{path}\" fill=\"#000\"/></svg>",
        esc(label)
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_card_url_fits_and_has_the_quiet_zone() {
        let s = super::svg("https://portal.example.jp/t/city-a/card/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "QR").unwrap();
        assert!(
            s.starts_with("<svg") && s.contains("M4,4h1v1h-1z"),
            "finder pattern at the quiet zone's corner"
        );
    }
}
