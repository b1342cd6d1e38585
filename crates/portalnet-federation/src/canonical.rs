//! The canonical bytes that a portal signs for a [`Signed`] request.
//!
//! Protobuf encoding is not canonical (field order, unknown fields, default values
//! may vary between implementations), so the signature covers this encoding of the
//! six fields instead. It is unambiguous: every variable-length field carries its
//! length, so no byte can move from one field to its neighbour without changing the
//! result.
//!
//! | part          | encoding                                      |
//! |---------------|-----------------------------------------------|
//! | domain tag    | the 20 bytes `b"portalnet-signed-v1\0"`       |
//! | `method`      | u32 big-endian length, then the UTF-8 bytes   |
//! | `origin`      | u32 big-endian length, then the UTF-8 bytes   |
//! | `destination` | u32 big-endian length, then the UTF-8 bytes   |
//! | `timestamp`   | 8 bytes, i64 big-endian (fixed width, no length) |
//! | `nonce`       | u32 big-endian length, then the bytes         |
//! | `payload`     | u32 big-endian length, then the bytes         |
//!
//! The domain tag keeps these signatures apart from every other thing a portal key
//! signs (for instance [key rotations](crate::rotation)). Field lengths above
//! `u32::MAX` cannot be represented; the [`Verifier`](crate::Verifier) refuses such
//! sizes long before (see [`MAX_PAYLOAD_LEN`](crate::MAX_PAYLOAD_LEN)).

use portalnet_proto::v1::Signed;

/// Domain-separation tag at the start of the canonical bytes.
pub const SIGNED_DOMAIN_TAG: &[u8] = b"portalnet-signed-v1\0";

/// The canonical bytes of a request (see the [module docs](self) for the layout).
pub fn canonical_bytes(
    method: &str,
    origin: &str,
    destination: &str,
    timestamp: i64,
    nonce: &[u8],
    payload: &[u8],
) -> Vec<u8> {
    let len = SIGNED_DOMAIN_TAG.len()
        + 5 * 4
        + 8
        + method.len()
        + origin.len()
        + destination.len()
        + nonce.len()
        + payload.len();
    let mut out = Vec::with_capacity(len);
    out.extend_from_slice(SIGNED_DOMAIN_TAG);
    put_field(&mut out, method.as_bytes());
    put_field(&mut out, origin.as_bytes());
    put_field(&mut out, destination.as_bytes());
    out.extend_from_slice(&timestamp.to_be_bytes());
    put_field(&mut out, nonce);
    put_field(&mut out, payload);
    out
}

/// The canonical bytes of fields 1–6 of `req` (the signature field is ignored).
pub fn canonical_bytes_of(req: &Signed) -> Vec<u8> {
    canonical_bytes(&req.method, &req.origin, &req.destination, req.timestamp, &req.nonce, &req.payload)
}

fn put_field(out: &mut Vec<u8>, bytes: &[u8]) {
    // Lengths beyond u32::MAX never verify (the verifier caps every field far lower),
    // so saturating here cannot make two accepted requests collide.
    let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;

    type Fields = (String, String, String, Vec<u8>, Vec<u8>);

    fn bytes_of(f: &Fields) -> Vec<u8> {
        canonical_bytes(&f.0, &f.1, &f.2, 7, &f.3, &f.4)
    }

    #[test]
    fn layout_is_as_documented() {
        let b = canonical_bytes("m", "o", "d", 0x0102_0304_0506_0708, &[9; 2], &[]);
        let mut want = b"portalnet-signed-v1\0".to_vec();
        want.extend_from_slice(&[0, 0, 0, 1, b'm', 0, 0, 0, 1, b'o', 0, 0, 0, 1, b'd']);
        want.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
        want.extend_from_slice(&[0, 0, 0, 2, 9, 9, 0, 0, 0, 0]);
        assert_eq!(b, want);
        assert_eq!(b.len(), b.capacity(), "capacity is computed exactly");
    }

    #[test]
    fn moving_a_byte_between_adjacent_fields_changes_the_bytes() {
        let base: Fields = ("ab".into(), "cd".into(), "ef".into(), vec![1, 2], vec![3, 4]);
        let reference = bytes_of(&base);

        // Each variant moves one byte across one boundary, in both directions.
        let moved: Vec<Fields> = vec![
            ("a".into(), "bcd".into(), "ef".into(), vec![1, 2], vec![3, 4]),
            ("abc".into(), "d".into(), "ef".into(), vec![1, 2], vec![3, 4]),
            ("ab".into(), "c".into(), "def".into(), vec![1, 2], vec![3, 4]),
            ("ab".into(), "cde".into(), "f".into(), vec![1, 2], vec![3, 4]),
            ("ab".into(), "cd".into(), "e".into(), b"f".iter().chain(&[1, 2]).copied().collect(), vec![3, 4]),
            ("ab".into(), "cd".into(), "ef".into(), vec![1], vec![2, 3, 4]),
            ("ab".into(), "cd".into(), "ef".into(), vec![1, 2, 3], vec![4]),
        ];
        for m in &moved {
            // The concatenated field contents are unchanged …
            let flat = |f: &Fields| -> Vec<u8> {
                [f.0.as_bytes(), f.1.as_bytes(), f.2.as_bytes(), &f.3, &f.4].concat()
            };
            assert_eq!(flat(m), flat(&base));
            // … but the canonical bytes differ.
            assert_ne!(bytes_of(m), reference, "{m:?}");
        }
    }

    #[test]
    fn every_field_is_covered() {
        let r = canonical_bytes("m", "o", "d", 1, &[1], &[2]);
        assert_ne!(r, canonical_bytes("M", "o", "d", 1, &[1], &[2]));
        assert_ne!(r, canonical_bytes("m", "O", "d", 1, &[1], &[2]));
        assert_ne!(r, canonical_bytes("m", "o", "D", 1, &[1], &[2]));
        assert_ne!(r, canonical_bytes("m", "o", "d", 2, &[1], &[2]));
        assert_ne!(r, canonical_bytes("m", "o", "d", 1, &[3], &[2]));
        assert_ne!(r, canonical_bytes("m", "o", "d", 1, &[1], &[3]));
    }

    #[test]
    fn signature_field_is_not_covered() {
        let mut req = Signed {
            method: "/m".into(),
            origin: "a".into(),
            destination: "b".into(),
            timestamp: 5,
            nonce: vec![0; 16],
            payload: vec![1],
            signature: vec![],
            session: vec![],
        };
        let before = canonical_bytes_of(&req);
        req.signature = vec![7; 64];
        req.session = vec![9; 41];
        assert_eq!(canonical_bytes_of(&req), before);
    }
}
