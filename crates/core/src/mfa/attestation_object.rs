//! Just enough CBOR (RFC 8949) to read the authenticator data out of a WebAuthn attestation
//! object and the AAGUID out of that (WebAuthn Level 2 §6.1 "Authenticator Data", §6.5
//! "Attestation"). webauthn-rs verifies the object; this only reads the model id, which a
//! `none` attestation does not carry into webauthn-rs's parsed metadata.

use uuid::Uuid;

/// Why the object could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("malformed attestation object: {0}")]
pub struct Malformed(&'static str);

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Result<u8, Malformed> {
        let v = *self.b.get(self.at).ok_or(Malformed("truncated"))?;
        self.at += 1;
        Ok(v)
    }

    fn take(&mut self, n: u64) -> Result<&'a [u8], Malformed> {
        let n = usize::try_from(n).map_err(|_| Malformed("length too large"))?;
        let end = self
            .at
            .checked_add(n)
            .ok_or(Malformed("length too large"))?;
        let s = self.b.get(self.at..end).ok_or(Malformed("truncated"))?;
        self.at = end;
        Ok(s)
    }

    /// (major type, argument) of the next item's head (RFC 8949 §3).
    fn head(&mut self) -> Result<(u8, u64), Malformed> {
        let first = self.byte()?;
        let (major, info) = (first >> 5, first & 0x1f);
        let arg = match info {
            0..=23 => u64::from(info),
            24 => u64::from(self.byte()?),
            25 => u64::from(u16::from_be_bytes(
                self.take(2)?.try_into().unwrap_or([0; 2]),
            )),
            26 => u64::from(u32::from_be_bytes(
                self.take(4)?.try_into().unwrap_or([0; 4]),
            )),
            27 => u64::from_be_bytes(self.take(8)?.try_into().unwrap_or([0; 8])),
            _ => return Err(Malformed("indefinite lengths are not used by WebAuthn")),
        };
        Ok((major, arg))
    }

    /// Skips one whole item.
    fn skip(&mut self, depth: u8) -> Result<(), Malformed> {
        if depth > 16 {
            return Err(Malformed("nested too deeply"));
        }
        let (major, arg) = self.head()?;
        match major {
            0 | 1 | 7 => Ok(()),
            2 | 3 => self.take(arg).map(|_| ()),
            4 => (0..arg).try_for_each(|_| self.skip(depth + 1)),
            5 => (0..arg).try_for_each(|_| {
                self.skip(depth + 1)?;
                self.skip(depth + 1)
            }),
            6 => self.skip(depth + 1),
            _ => Err(Malformed("unknown major type")),
        }
    }
}

/// The `authData` bytes of an attestation object (a CBOR map with `fmt`, `attStmt`,
/// `authData`).
pub fn auth_data(object: &[u8]) -> Result<&[u8], Malformed> {
    let mut r = Reader { b: object, at: 0 };
    let (major, entries) = r.head()?;
    if major != 5 {
        return Err(Malformed("not a map"));
    }
    for _ in 0..entries {
        let (kmajor, klen) = r.head()?;
        if kmajor != 2 && kmajor != 3 {
            return Err(Malformed("map key is not a string"));
        }
        let key = r.take(klen)?;
        if kmajor == 3 && key == b"authData" {
            let (vmajor, vlen) = r.head()?;
            if vmajor != 2 {
                return Err(Malformed("authData is not a byte string"));
            }
            return r.take(vlen);
        }
        r.skip(0)?;
    }
    Err(Malformed("no authData"))
}

/// The AAGUID in the attested credential data (bytes 37..53 of the authenticator data, present
/// when the AT flag, bit 6, is set).
pub fn aaguid(object: &[u8]) -> Result<Uuid, Malformed> {
    let data = auth_data(object)?;
    let flags = *data
        .get(32)
        .ok_or(Malformed("authenticator data too short"))?;
    if flags & 0x40 == 0 {
        return Err(Malformed("no attested credential data"));
    }
    let id: [u8; 16] = data
        .get(37..53)
        .ok_or(Malformed("authenticator data too short"))?
        .try_into()
        .map_err(|_| Malformed("authenticator data too short"))?;
    Ok(Uuid::from_bytes(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A CBOR map {"fmt": "none", "attStmt": {}, "authData": h'…'} as WebAuthn §6.5.4 lays it
    /// out, with the AT flag and a known AAGUID.
    fn object(flags: u8, aaguid: [u8; 16]) -> Vec<u8> {
        let mut auth = vec![0u8; 32];
        auth.push(flags);
        auth.extend_from_slice(&[0, 0, 0, 7]);
        auth.extend_from_slice(&aaguid);
        auth.extend_from_slice(&[0, 2, 0xaa, 0xbb]);
        let mut o = vec![0xa3];
        o.push(0x63);
        o.extend_from_slice(b"fmt");
        o.push(0x64);
        o.extend_from_slice(b"none");
        o.push(0x67);
        o.extend_from_slice(b"attStmt");
        o.push(0xa1);
        o.push(0x63);
        o.extend_from_slice(b"sig");
        o.push(0x42);
        o.extend_from_slice(&[1, 2]);
        o.push(0x68);
        o.extend_from_slice(b"authData");
        o.push(0x58);
        o.push(auth.len() as u8);
        o.extend_from_slice(&auth);
        o
    }

    #[test]
    fn webauthn_6_1_aaguid_follows_rp_id_hash_flags_and_counter() {
        let id = [1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8];
        let got = aaguid(&object(0x45, id)).unwrap();
        assert_eq!(got.to_string(), "01020304-0506-0708-0102-030405060708");
    }

    #[test]
    fn without_the_at_flag_there_is_no_aaguid() {
        assert!(aaguid(&object(0x05, [9; 16])).is_err());
    }

    #[test]
    fn truncated_and_garbage_input_is_an_error_not_a_panic() {
        let o = object(0x45, [9; 16]);
        for n in 0..o.len() {
            let _ = aaguid(&o[..n]);
        }
        assert!(aaguid(&[0xff, 0xff]).is_err());
        assert!(aaguid(&[]).is_err());
    }
}
