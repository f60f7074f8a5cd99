//! The int8 network's inner loops, written for a microcontroller without SIMD: four output units
//! at a time, so every input code is loaded once per four multiply-accumulates, and the input
//! quantization without a `roundf` call. Both give exactly the results of the plain reference
//! forms (`dot_q`, `libm::roundf`), which the tests compare them with.

use super::qmlp::ACT_MAX;

/// `bias[r] + sum_i w[r][i] * x[i]` (int32) for every row `r` of `w`, into `out[r]`: four rows
/// per pass over `x`, the remaining one to three rows one at a time. Each product is at most
/// `127 * 255` in magnitude and the quantizer bounds every sum, so the wrapping adds never wrap.
pub(super) fn dot_rows<const N: usize, const R: usize>(
    w: &[[i8; N]; R],
    bias: &[i32; R],
    x: &[u8; N],
    out: &mut [i32; R],
) {
    let mut rows = w.chunks_exact(4);
    let mut biases = bias.chunks_exact(4);
    let mut outs = out.chunks_exact_mut(4);
    for ((rows, b), o) in (&mut rows).zip(&mut biases).zip(&mut outs) {
        if let ([r0, r1, r2, r3], [b0, b1, b2, b3], [o0, o1, o2, o3]) = (rows, b, o) {
            let mut a = [*b0, *b1, *b2, *b3];
            // Two inputs per iteration halve the loop overhead; an odd last input alone.
            let (xs, x_rest) = x.as_chunks::<2>();
            let ((w0, w0_rest), (w1, w1_rest)) = (pairs(r0), pairs(r1));
            let ((w2, w2_rest), (w3, w3_rest)) = (pairs(r2), pairs(r3));
            let [mut a0, mut a1, mut a2, mut a3] = a;
            let mac = |acc: i32, &[wa, wb]: &[i8; 2], xa: i32, xb: i32| {
                acc.wrapping_add(i32::from(wa) * xa)
                    .wrapping_add(i32::from(wb) * xb)
            };
            for ((((&[xa, xb], w0), w1), w2), w3) in xs.iter().zip(w0).zip(w1).zip(w2).zip(w3) {
                let (xa, xb) = (i32::from(xa), i32::from(xb));
                a0 = mac(a0, w0, xa, xb);
                a1 = mac(a1, w1, xa, xb);
                a2 = mac(a2, w2, xa, xb);
                a3 = mac(a3, w3, xa, xb);
            }
            a = [a0, a1, a2, a3];
            let rest = [w0_rest, w1_rest, w2_rest, w3_rest];
            for (acc, r) in a.iter_mut().zip(rest) {
                for (&w, &x) in r.iter().zip(x_rest) {
                    *acc = acc.wrapping_add(i32::from(w) * i32::from(x));
                }
            }
            (*o0, *o1, *o2, *o3) = (a[0], a[1], a[2], a[3]);
        }
    }
    let rest = rows.remainder().iter().zip(biases.remainder());
    for ((r, &b), o) in rest.zip(outs.into_remainder()) {
        *o = r.iter().zip(x.iter()).fold(b, |acc, (&w, &x)| {
            acc.wrapping_add(i32::from(w) * i32::from(x))
        });
    }
}

/// A row as pairs of weights and the odd last one.
fn pairs<const N: usize>(row: &[i8; N]) -> (&[[i8; 2]], &[i8]) {
    row.as_chunks::<2>()
}

/// `clamp(round(r), 0, 255)` with `round` half away from zero, as `libm::roundf` rounds, and 0
/// for NaN: the integer part by truncation and one comparison of the (exact) fractional part
/// with one half. For `0 < r < 255` the truncation `t` is at most 254 and `r - t` is exact in
/// `f32` (the fractional part of a float below `2^23` is representable), so `r - t >= 0.5`
/// decides the rounding exactly as `roundf` does.
pub(super) fn quantize_code(r: f32) -> u8 {
    if r >= ACT_MAX as f32 {
        u8::MAX
    } else if r > 0.0 {
        // 0 < r < 255: the conversion truncates toward zero and cannot saturate.
        let t = r as u8;
        t + u8::from(r - f32::from(t) >= 0.5)
    } else {
        // Zero, negative (rounds to 0 or below) or NaN.
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_pcg::Pcg32;

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
    fn four_row_dot_products_equal_the_plain_sums() {
        let mut rng = Pcg32::seed_from_u64(16);
        for _ in 0..200 {
            let mut w = [[0i8; 13]; 7];
            let mut x = [0u8; 13];
            let mut b = [0i32; 7];
            for v in w.iter_mut().flatten() {
                *v = rng.random_range(-127..=127);
            }
            for v in &mut x {
                *v = rng.random();
            }
            for v in &mut b {
                *v = rng.random_range(-1_000_000..=1_000_000);
            }
            let mut out = [0i32; 7];
            dot_rows(&w, &b, &x, &mut out);
            for r in 0..7 {
                // Summed in i64: nothing can wrap.
                let want: i64 = i64::from(b[r])
                    + (0..13)
                        .map(|i| i64::from(w[r][i]) * i64::from(x[i]))
                        .sum::<i64>();
                assert_eq!(i64::from(out[r]), want, "row {r}");
            }
        }
        // Extremes: every product -127 * 255.
        let w = [[-127i8; 82]; 5];
        let mut out = [0i32; 5];
        dot_rows(&w, &[0; 5], &[255; 82], &mut out);
        assert_eq!(out, [-127 * 255 * 82; 5]);
    }
}
