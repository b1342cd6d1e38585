//! `portal info`.

use anyhow::Result;
use portalnet_proto::v1::InfoRequest;

use crate::client::Conn;
use crate::output::Output;
use crate::table::key_values;
use crate::views::PortalView;

pub async fn info(conn: &Conn, out: &Output) -> Result<()> {
    let info = conn.portal().info(InfoRequest {}).await?.into_inner();
    out.show(&PortalView::from(info), |p| {
        key_values(&[
            ("portal", p.portal_id.clone()),
            ("name", p.display_name.clone()),
            ("version", p.version.clone()),
            ("endpoints", p.endpoints.join("\n")),
            ("key fingerprint", p.key_fingerprint.clone()),
            ("public key", p.public_key.clone()),
            ("users", p.user_count.to_string()),
            ("max file size", human_bytes(p.max_file_bytes)),
        ])
    })
}

/// `8388608 bytes (8.0 MiB)`: exact for scripts reading tables, readable for people.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} bytes");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    format!("{n} bytes ({v:.1} {})", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::human_bytes;

    #[test]
    fn byte_sizes() {
        assert_eq!(human_bytes(0), "0 bytes");
        assert_eq!(human_bytes(1023), "1023 bytes");
        assert_eq!(human_bytes(8 * 1024 * 1024), "8388608 bytes (8.0 MiB)");
        assert_eq!(human_bytes(1536), "1536 bytes (1.5 KiB)");
    }
}
