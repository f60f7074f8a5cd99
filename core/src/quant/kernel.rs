//! The input quantization of the int8 network without a `roundf` call: exactly the result of
//! `libm::roundf` and the clamp, which the tests compare it with. (The layers' sums are in
//! [`super::packed`].)

use super::qmlp::ACT_MAX;

/// `clamp(round(r), 0, 255)` with `round` half away from zero, as `libm::roundf` rounds, and 0
/// for NaN: the integer part by truncation and one comparison of the (exact) fractional part
/// with one half. For `0 < r < 255` the truncation `t` is at most 254 and `r - t` is exact in
/// `f32` (the fractional part of a float below `2^23` is representable), so `r - t >= 0.5`
/// decides the rounding exactly as `roundf` does.
pub(super) fn quantize_code(r: f32) -> u8 {
    if r >= ACT_MAX as f32 {
        u8::MAX
    } else if r > 0.0 {
        // 0 < r < 255: the conversion truncates toward zero and cannot saturate. To `u32`,
        // which the FPU's conversion gives directly (to `u8` the compiler adds the clamps of a
        // saturating conversion, six instructions per input on the M4F); the sum is at most 255.
        let t = r as u32;
        (t + u32::from(r - t as f32 >= 0.5)) as u8
    } else {
        // Zero, negative (rounds to 0 or below) or NaN.
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference: `roundf`, then the clamp of `QMlp::quantize_input`.
    fn reference(r: f32) -> u8 {
        let r = libm::roundf(r);
        if r >= 255.0 {
            u8::MAX
        } else if r > 0.0 {
            r as u8
        } else {
            0
        }
    }

    #[test]
    fn quantize_code_is_roundf_then_clamp() {
        // By hand: halves round away from zero; just below a half rounds down.
        assert_eq!(quantize_code(0.5), 1);
        assert_eq!(quantize_code(0.499_999_97), 0);
        assert_eq!(quantize_code(1.5), 2);
        assert_eq!(quantize_code(2.5), 3);
        assert_eq!(quantize_code(254.5), 255);
        assert_eq!(quantize_code(254.499_98), 254);
        assert_eq!(quantize_code(-0.5), 0);
        assert_eq!(quantize_code(f32::NAN), 0);
        assert_eq!(quantize_code(f32::INFINITY), 255);
        assert_eq!(quantize_code(f32::NEG_INFINITY), 0);
        // Every 97th f32 bit pattern from -1 to 300 (a million values, all exponents of the
        // range), and every half and its neighbours.
        let lo = (-1.0f32).to_bits();
        for bits in (0..lo)
            .step_by(97)
            .chain((0..300.0f32.to_bits()).step_by(97))
        {
            let r = f32::from_bits(bits);
            assert_eq!(quantize_code(r), reference(r), "{r:?}");
        }
        for k in 0..600 {
            let half = k as f32 / 2.0;
            for r in [
                half,
                f32::from_bits(half.to_bits() + 1),
                f32::from_bits(half.to_bits().saturating_sub(1)),
            ] {
                assert_eq!(quantize_code(r), reference(r), "{r:?}");
            }
        }
    }

    #[test]
    fn quantize_code_on_every_kind_of_bit_pattern() {
        // Every 7th bit pattern of [0.5, 255) and a little beyond (where the rounding works),
        // every 101st of all the others (both signs, zeros, subnormals, infinities, NaNs of
        // both signs), and the edges of each range.
        let (half, max, inf) = (
            0.5f32.to_bits(),
            255.0f32.to_bits(),
            f32::INFINITY.to_bits(),
        );
        let edges = [0, 1 << 31, u32::MAX, half, max, inf];
        let all = (0..=u32::MAX).step_by(101);
        for bits in (half - 1_000..max + 1_000).step_by(7).chain(all).chain(
            edges
                .into_iter()
                .flat_map(|e| [e.wrapping_sub(1), e, e.wrapping_add(1), e | 1 << 31]),
        ) {
            let r = f32::from_bits(bits);
            assert_eq!(quantize_code(r), reference(r), "{r:?} ({bits:#010x})");
        }
    }
}
