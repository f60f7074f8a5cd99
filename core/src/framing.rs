//! The framing every whitebox binary file shares (model and tree files): an 8-byte magic, a
//! `u16` little-endian format version, a body whose exact length the file's own header gives,
//! and a trailing CRC-32 (ISO-HDLC, as zlib) of every byte before it. The formats wrap
//! [`FramingError`] as the [`source`](core::error::Error::source) of their own errors.

use core::fmt;

/// Bytes of the magic and the version that open every file.
pub const PREFIX_LEN: usize = 8 + 2;
/// Bytes of the trailing checksum.
pub const CRC_LEN: usize = 4;
const CRC: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);

/// The CRC-32 (ISO-HDLC, as zlib) that ends a whitebox binary file.
pub fn crc32(bytes: &[u8]) -> u32 {
    CRC.checksum(bytes)
}

/// Why a file's framing was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FramingError {
    /// The file ends before the length its header implies.
    Truncated {
        /// Bytes present.
        found: usize,
        /// Bytes needed.
        expected: usize,
    },
    /// The file has bytes after the CRC.
    TrailingBytes {
        /// Bytes present.
        found: usize,
        /// Bytes expected.
        expected: usize,
    },
    /// The first 8 bytes are not the format's magic.
    BadMagic {
        /// The bytes found.
        found: [u8; 8],
        /// The format's magic.
        expected: [u8; 8],
    },
    /// A format version this build cannot read.
    UnsupportedVersion {
        /// Version in the file.
        found: u16,
        /// Oldest version this build reads.
        oldest: u16,
        /// Newest version this build reads (and writes).
        newest: u16,
    },
    /// The stored CRC-32 does not match the contents.
    CrcMismatch {
        /// CRC in the file.
        stored: u32,
        /// CRC of the contents.
        computed: u32,
    },
}

impl fmt::Display for FramingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FramingError::Truncated { found, expected } => {
                write!(f, "truncated: {found} bytes, expected {expected}")
            }
            FramingError::TrailingBytes { found, expected } => {
                write!(f, "trailing bytes: {found} bytes, expected {expected}")
            }
            FramingError::BadMagic { found, expected } => write!(
                f,
                "magic {found:02x?}, expected \"{}\"",
                expected.escape_ascii()
            ),
            FramingError::UnsupportedVersion {
                found,
                oldest,
                newest,
            } if oldest == newest => write!(
                f,
                "format version {found} is not supported (this build reads version {newest})"
            ),
            FramingError::UnsupportedVersion {
                found,
                oldest,
                newest,
            } => write!(
                f,
                "format version {found} is not supported (this build reads versions {oldest} to \
                 {newest})"
            ),
            FramingError::CrcMismatch { stored, computed } => write!(
                f,
                "corrupt: stored CRC-32 {stored:#010x}, contents give {computed:#010x}"
            ),
        }
    }
}

impl core::error::Error for FramingError {}

/// Checks that `bytes` holds at least `head_len` bytes (at least [`PREFIX_LEN`]) and opens with
/// `magic` and a version in `oldest..=newest`; returns that version.
///
/// # Errors
/// [`FramingError::Truncated`], [`FramingError::BadMagic`], [`FramingError::UnsupportedVersion`].
pub fn check_prefix(
    bytes: &[u8],
    magic: [u8; 8],
    (oldest, newest): (u16, u16),
    head_len: usize,
) -> Result<u16, FramingError> {
    let (prefix, _) = bytes
        .split_first_chunk::<PREFIX_LEN>()
        .filter(|_| bytes.len() >= head_len)
        .ok_or(FramingError::Truncated {
            found: bytes.len(),
            expected: head_len.max(PREFIX_LEN),
        })?;
    let [m0, m1, m2, m3, m4, m5, m6, m7, v0, v1] = *prefix;
    let found_magic = [m0, m1, m2, m3, m4, m5, m6, m7];
    if found_magic != magic {
        return Err(FramingError::BadMagic {
            found: found_magic,
            expected: magic,
        });
    }
    let found = u16::from_le_bytes([v0, v1]);
    if !(oldest..=newest).contains(&found) {
        return Err(FramingError::UnsupportedVersion {
            found,
            oldest,
            newest,
        });
    }
    Ok(found)
}

/// Checks that `bytes` is exactly `expected` bytes long and ends with the CRC-32 of the rest;
/// returns the rest (the file without its CRC).
///
/// # Errors
/// [`FramingError::Truncated`], [`FramingError::TrailingBytes`], [`FramingError::CrcMismatch`].
pub fn check_length_and_crc(bytes: &[u8], expected: usize) -> Result<&[u8], FramingError> {
    let truncated = FramingError::Truncated {
        found: bytes.len(),
        expected,
    };
    if bytes.len() < expected {
        return Err(truncated);
    }
    if bytes.len() > expected {
        return Err(FramingError::TrailingBytes {
            found: bytes.len(),
            expected,
        });
    }
    let (body, crc) = bytes.split_last_chunk::<CRC_LEN>().ok_or(truncated)?;
    let stored = u32::from_le_bytes(*crc);
    let computed = crc32(body);
    if stored != computed {
        return Err(FramingError::CrcMismatch { stored, computed });
    }
    Ok(body)
}

/// Writes the CRC-32 of `buf[..used]` after it and returns the file length, `used + CRC_LEN`;
/// `None` when `buf` is too short.
pub fn seal(buf: &mut [u8], used: usize) -> Option<usize> {
    let crc = crc32(buf.get(..used)?);
    let end = used.checked_add(CRC_LEN)?;
    buf.get_mut(used..end)?.copy_from_slice(&crc.to_le_bytes());
    Some(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAGIC: [u8; 8] = *b"TESTFILE";

    /// A framed file: prefix, `body`, CRC.
    fn file(body: &[u8]) -> ([u8; 32], usize) {
        let mut buf = [0u8; 32];
        buf[..8].copy_from_slice(&MAGIC);
        buf[8..10].copy_from_slice(&3u16.to_le_bytes());
        buf[10..10 + body.len()].copy_from_slice(body);
        let n = seal(&mut buf, 10 + body.len()).unwrap_or_else(|| unreachable!("fits"));
        (buf, n)
    }

    #[test]
    fn crc_is_zlibs_check_value() {
        // The CRC-32/ISO-HDLC check value: CRC of the ASCII digits 1 to 9.
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
    }

    #[test]
    fn each_framing_fault_has_its_own_error() {
        let (buf, n) = file(b"abc");
        assert_eq!(n, 17);
        assert_eq!(check_prefix(&buf[..n], MAGIC, (3, 3), 12), Ok(3));
        assert_eq!(check_prefix(&buf[..n], MAGIC, (1, 3), 12), Ok(3));
        assert_eq!(check_length_and_crc(&buf[..n], n), Ok(&buf[..n - 4]));
        assert_eq!(
            check_prefix(&buf[..9], MAGIC, (3, 3), 12),
            Err(FramingError::Truncated {
                found: 9,
                expected: 12
            })
        );
        assert_eq!(
            check_prefix(&buf, *b"OTHERFMT", (3, 3), 12),
            Err(FramingError::BadMagic {
                found: MAGIC,
                expected: *b"OTHERFMT"
            })
        );
        assert_eq!(
            check_prefix(&buf, MAGIC, (4, 5), 12),
            Err(FramingError::UnsupportedVersion {
                found: 3,
                oldest: 4,
                newest: 5
            })
        );
        assert_eq!(
            check_length_and_crc(&buf[..n], n + 1),
            Err(FramingError::Truncated {
                found: n,
                expected: n + 1
            })
        );
        assert_eq!(
            check_length_and_crc(&buf[..n], n - 1),
            Err(FramingError::TrailingBytes {
                found: n,
                expected: n - 1
            })
        );
        let mut flipped = buf;
        flipped[11] ^= 1;
        assert!(matches!(
            check_length_and_crc(&flipped[..n], n),
            Err(FramingError::CrcMismatch { .. })
        ));
        assert_eq!(seal(&mut [0u8; 5], 2), None);
    }
}
