//! Arbitrary bytes into `whitebox_core::model::load` for the four shipped architectures
//! (compact and image encoders, 5 and 10 job slots). Each input is loaded as given and once more
//! with its last 4 bytes replaced by the correct CRC-32, so mutations get past the checksum and
//! reach the header, size, spec and weight checks.
//!
//! Checks: no panic; `Ok` means every loaded weight is finite; an error leaves the network
//! unchanged and is never the save-only `BufferTooSmall`.
#![no_main]

use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;
use whitebox_core::encoding::{compact_len, Encoding};
use whitebox_core::model::{self, ModelError};
use whitebox_core::nn::Mlp;
use whitebox_core::image::image_len;
use whitebox_core::spec::ClusterSpec;

const CRC: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);
const HIDDEN: usize = 20;

/// One all-zero network per architecture, reused across inputs (zeroed again after an `Ok`).
struct Nets {
    compact5: Box<Mlp<{ compact_len(5) }, HIDDEN, 6>>,
    compact10: Box<Mlp<{ compact_len(10) }, HIDDEN, 11>>,
    image5: Box<Mlp<{ image_len(5) }, HIDDEN, 6>>,
    image10: Box<Mlp<{ image_len(10) }, HIDDEN, 11>>,
}

thread_local! {
    static NETS: RefCell<Nets> = RefCell::new(Nets {
        compact5: Box::new(Mlp::zeroed()),
        compact10: Box::new(Mlp::zeroed()),
        image5: Box::new(Mlp::zeroed()),
        image10: Box::new(Mlp::zeroed()),
    });
}

fn check<const I: usize, const O: usize>(
    bytes: &[u8],
    encoding: Encoding,
    slots: u8,
    net: &mut Mlp<I, HIDDEN, O>,
) {
    match model::load(bytes, encoding, &ClusterSpec::with_slots(slots), net) {
        Ok(_) => {
            assert!(
                net.params().all(|w| w.is_finite()),
                "loaded a non-finite weight"
            );
            net.params_mut().for_each(|w| *w = 0.0);
        }
        Err(ModelError::BufferTooSmall { .. }) => panic!("load returned BufferTooSmall"),
        Err(_) => assert!(
            net.params().all(|w| *w == 0.0),
            "a failed load changed the network"
        ),
    }
}

fn check_all(bytes: &[u8]) {
    NETS.with_borrow_mut(|n| {
        check(bytes, Encoding::Compact, 5, &mut n.compact5);
        check(bytes, Encoding::Compact, 10, &mut n.compact10);
        check(bytes, Encoding::Image, 5, &mut n.image5);
        check(bytes, Encoding::Image, 10, &mut n.image10);
    });
}

fuzz_target!(|data: &[u8]| {
    check_all(data);
    if let Some(body_len) = data.len().checked_sub(4) {
        let mut sealed = data.to_vec();
        let crc = CRC.checksum(&data[..body_len]);
        sealed[body_len..].copy_from_slice(&crc.to_le_bytes());
        check_all(&sealed);
    }
});
