//! TFLite's fixed-point arithmetic for requantization: a real multiplier as a Q31 mantissa and
//! a power-of-two shift ([`Multiplier`], TFLite's `QuantizeMultiplier` and
//! `MultiplyByQuantizedMultiplier`), built from gemmlowp's
//! [`saturating_rounding_doubling_high_mul`] and [`rounding_divide_by_pot`]. Integer only and
//! panic-free for every input.

/// A real multiplier `M = q * 2^(shift - 31)` in TFLite's fixed-point form: `q` a Q31 number in
/// `[2^30, 2^31)` (or 0 for `M = 0`) and `shift` in `[-31, 30]`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Multiplier {
    pub(super) q: i32,
    pub(super) shift: i32,
}

/// gemmlowp's `SaturatingRoundingDoublingHighMul`: `round(a * b / 2^31)` with the nudge of
/// gemmlowp (so exact halves round up: `1.5 -> 2`, `-1.5 -> -1`), saturating the one overflow
/// `i32::MIN * i32::MIN`.
#[inline]
pub fn saturating_rounding_doubling_high_mul(a: i32, b: i32) -> i32 {
    if a == i32::MIN && b == i32::MIN {
        return i32::MAX;
    }
    let ab = i64::from(a) * i64::from(b);
    let nudge: i64 = if ab >= 0 { 1 << 30 } else { 1 - (1 << 30) };
    // |ab| <= 2^62 - 2^31 here, so the quotient fits in i32; `/` truncates toward zero as in C.
    ((ab + nudge) / (1i64 << 31)) as i32
}

/// gemmlowp's `RoundingDivideByPOT`: `x / 2^exponent` rounded half away from zero, with
/// `exponent` clamped to `[0, 31]`.
#[inline]
pub fn rounding_divide_by_pot(x: i32, exponent: i32) -> i32 {
    let e = exponent.clamp(0, 31);
    // In i32 (as gemmlowp): the mask `2^e - 1` fits for e <= 31, and `(x >> e) + 1` cannot
    // overflow (`x >> e <= 2^30` for e >= 1; for e = 0 the remainder is 0 and nothing is added).
    let mask = (1u32 << e).wrapping_sub(1).cast_signed();
    let remainder = x & mask;
    let threshold = (mask >> 1) + i32::from(x < 0);
    (x >> e) + i32::from(remainder > threshold)
}

impl Multiplier {
    /// TFLite's `QuantizeMultiplier`: `m = frac * 2^shift` with `frac` in `[0.5, 1)` (`frexp`),
    /// `q = round(frac * 2^31)` (and `q = 2^30, shift + 1` when that rounds up to `2^31`).
    /// Multipliers below `2^-32` flush to zero, as in TFLite. `None` when `m` is negative, not
    /// finite, or `2^30` or more (the shift would exceed 30; TFLite saturates there, we refuse).
    pub fn from_real(m: f64) -> Option<Multiplier> {
        if !m.is_finite() || m < 0.0 {
            return None;
        }
        if m == 0.0 {
            return Some(Multiplier::default());
        }
        let (frac, mut shift) = libm::frexp(m);
        let mut q = libm::round(frac * 2_147_483_648.0);
        if q >= 2_147_483_648.0 {
            q /= 2.0;
            shift += 1;
        }
        if shift < -31 {
            return Some(Multiplier::default());
        }
        if shift > 30 {
            return None;
        }
        // q is a whole number in [2^30, 2^31 - 1] here.
        Some(Multiplier { q: q as i32, shift })
    }

    /// A multiplier from its stored form (as [`Multiplier::q`] and [`Multiplier::shift`] give
    /// it): `q` in `[2^30, 2^31)` and `shift` in `[-31, 30]`, or `q = 0, shift = 0` for `M = 0`;
    /// `None` for anything else. `const`, so a network can be a `static` in flash.
    pub const fn from_raw(q: i32, shift: i32) -> Option<Multiplier> {
        let zero = q == 0 && shift == 0;
        let normal = q >= 1 << 30 && shift >= -31 && shift <= 30;
        if zero || normal {
            Some(Multiplier { q, shift })
        } else {
            None
        }
    }

    /// The Q31 mantissa `q`.
    pub const fn q(self) -> i32 {
        self.q
    }

    /// The power-of-two exponent: positive shifts left, negative shifts right.
    pub const fn shift(self) -> i32 {
        self.shift
    }

    /// The real value `q * 2^(shift - 31)`.
    pub const fn real(self) -> f64 {
        let mut m = self.q as f64;
        let mut e = self.shift - 31;
        while e > 0 {
            m *= 2.0;
            e -= 1;
        }
        while e < 0 {
            m *= 0.5;
            e += 1;
        }
        m
    }

    /// TFLite's `MultiplyByQuantizedMultiplier(x, q, shift)`:
    /// `RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(x * 2^left, q), right)` with
    /// `left = max(shift, 0)`, `right = max(-shift, 0)`. The left shift saturates instead of
    /// overflowing (the quantizer makes sure it never has to).
    #[inline]
    pub fn apply(self, x: i32) -> i32 {
        // The same operations, with the shift that does nothing left out: a right shift only
        // (the usual case, `M < 1`), or a left shift only.
        if self.shift <= 0 {
            let right = self.shift.saturating_neg().min(31);
            rounding_divide_by_pot(self.high_mul(x), right)
        } else {
            let shifted = x.saturating_mul(1i32 << self.shift.min(30));
            self.high_mul(shifted)
        }
    }

    /// [`saturating_rounding_doubling_high_mul`]`(x, q)` in one multiply-accumulate:
    /// `floor((x * q + 2^30) / 2^31)`. For `x * q >= 0` that is gemmlowp's sum and its
    /// truncating division; for `x * q < 0` the nudge is `1 - 2^30`, the sum is negative and the
    /// truncation `ceil(n / 2^31) = floor((n + 2^31 - 1) / 2^31)` is the same floor. `q` is
    /// never negative (0 or in `[2^30, 2^31)`), so the one saturating case (`i32::MIN` times
    /// `i32::MIN`) cannot occur and the quotient fits in `i32`.
    #[inline(always)]
    fn high_mul(self, x: i32) -> i32 {
        ((i64::from(x) * i64::from(self.q) + (1 << 30)) >> 31) as i32
    }
}

/// A hidden unit's requantization to its code, `apply(x)` clamped to `[0, 255]` (ReLU and
/// saturation), with the shifts of its [`Multiplier`] prepared once (the network keeps one per
/// hidden unit): bit for bit the same code for every `x`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct CodeRequant {
    m: Multiplier,
    /// The right shift `e = -shift` for `shift <= 0` (at most 31), or `u32::MAX` for a left
    /// shift (then [`Multiplier::apply`] computes the code).
    right: u32,
    /// `2^(e - 1)`, 0 for `e = 0`.
    half: u32,
}

impl CodeRequant {
    /// The prepared form of `m`.
    pub(super) const fn new(m: Multiplier) -> CodeRequant {
        if m.shift > 0 {
            return CodeRequant {
                m,
                right: u32::MAX,
                half: 0,
            };
        }
        let right = if m.shift < -31 { 31 } else { -m.shift as u32 };
        CodeRequant {
            m,
            right,
            half: (1u32 << right) >> 1,
        }
    }

    /// The code of a unit whose sum is `x`. An `x` at or below 0 gives 0 without the
    /// multiplication (`q` is not negative, so both roundings keep the sign). For `x > 0` and a
    /// right shift (the usual case) every step is unsigned: `high_mul` (`x * q + 2^30 >= 0`,
    /// so its floor is a shift), then [`rounding_divide_by_pot`] of a non-negative `h`, which
    /// is `(h + 2^(e - 1)) >> e` (`h >> 0` for `e = 0`).
    #[inline]
    pub(super) fn code(self, x: i32) -> u8 {
        if x <= 0 {
            return 0;
        }
        if self.right > 31 {
            return self.m.apply(x).clamp(0, 255) as u8;
        }
        // x > 0 and q >= 0 (a multiplier's q is 0 or in [2^30, 2^31)): h < 2^31, and
        // h + 2^30 fits in u32.
        let q = self.m.q.cast_unsigned();
        let h = ((u64::from(x.cast_unsigned()) * u64::from(q) + (1 << 30)) >> 31) as u32;
        // Below 2^31: the clamp of a non-negative i32 (one `usat` on the M4F).
        (((h + self.half) >> self.right) as i32).clamp(0, 255) as u8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mult(m: f64) -> Multiplier {
        Multiplier::from_real(m).unwrap_or_else(|| unreachable!("{m} is representable"))
    }

    /// xorshift64 (Marsaglia 2003): a fixed sequence of test values from `state`.
    fn xorshift64(mut state: u64) -> impl FnMut() -> u64 {
        move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        }
    }

    /// TFLite's `MultiplyByQuantizedMultiplier` as written there: both shifts, always.
    fn reference(m: Multiplier, x: i32) -> i32 {
        let left = m.shift.clamp(0, 30);
        let right = m.shift.saturating_neg().clamp(0, 31);
        let shifted = x.saturating_mul(1i32 << left);
        rounding_divide_by_pot(saturating_rounding_doubling_high_mul(shifted, m.q), right)
    }

    #[test]
    fn apply_is_the_two_shift_form() {
        let mut next = xorshift64(0x9e37_79b9_7f4a_7c15);
        let edges = [
            0,
            1,
            -1,
            2,
            -2,
            1 << 20,
            -(1 << 20),
            i32::MAX,
            i32::MIN,
            i32::MIN + 1,
        ];
        for shift in -31..=30 {
            for q in [0, 1 << 30, (1 << 30) + 12_345, i32::MAX] {
                let m = Multiplier { q, shift };
                for x in edges
                    .into_iter()
                    .chain((0..2_000).map(|_| next() as i32 >> (next() % 32)))
                {
                    assert_eq!(m.apply(x), reference(m, x), "q {q} shift {shift} x {x}");
                }
            }
        }
    }

    #[test]
    fn code_is_apply_then_clamp() {
        let mut next = xorshift64(0x2545_f491_4f6c_dd1d);
        let edges = [
            0,
            1,
            -1,
            2,
            255,
            256,
            1 << 20,
            i32::MAX,
            i32::MIN,
            i32::MIN + 1,
        ];
        for shift in -31..=30 {
            for q in [
                0,
                1 << 30,
                (1 << 30) + 1,
                (1 << 30) + 12_345,
                i32::MAX - 1,
                i32::MAX,
            ] {
                let m = Multiplier { q, shift };
                for x in edges
                    .into_iter()
                    .chain((0..4_000).map(|_| next() as i32 >> (next() % 32)))
                {
                    let want = reference(m, x).clamp(0, 255) as u8;
                    let c = CodeRequant::new(m);
                    assert_eq!(c.code(x), want, "q {q} shift {shift} x {x}");
                }
            }
        }
    }

    #[test]
    fn fixed_point_multipliers_and_rounding_by_hand() {
        // 0.75 = 0.75 * 2^0: q = round(0.75 * 2^31) = 1610612736, shift 0.
        assert_eq!(
            mult(0.75),
            Multiplier {
                q: 1_610_612_736,
                shift: 0
            }
        );
        // 0.1 = 0.8 * 2^-3: q = round(0.8 * 2^31) = round(1717986918.4) = 1717986918, shift -3.
        assert_eq!(
            mult(0.1),
            Multiplier {
                q: 1_717_986_918,
                shift: -3
            }
        );
        // 1 = 0.5 * 2^1 and 2 = 0.5 * 2^2: q = 2^30 with a left shift.
        assert_eq!(
            mult(1.0),
            Multiplier {
                q: 1 << 30,
                shift: 1
            }
        );
        assert_eq!(
            mult(2.0),
            Multiplier {
                q: 1 << 30,
                shift: 2
            }
        );
        assert_eq!(mult(0.0), Multiplier { q: 0, shift: 0 });
        // Below 2^-32 flushes to zero (TFLite); 2^30 and above, negatives and NaN are refused.
        assert_eq!(mult(1e-12), Multiplier { q: 0, shift: 0 });
        assert_eq!(Multiplier::from_real(1_073_741_824.0), None);
        assert_eq!(Multiplier::from_real(-0.5), None);
        assert_eq!(Multiplier::from_real(f64::NAN), None);
        assert_eq!(mult(0.75).real(), 0.75);

        // SRDHM(x, q) = round(x * q / 2^31), halves up (gemmlowp's nudge).
        let m = mult(0.75);
        // 100 * 0.75 = 75 exactly.
        assert_eq!(m.apply(100), 75);
        // 3 * 0.75 = 2.25 -> 2 and -2.25 -> -2.
        assert_eq!(m.apply(3), 2);
        assert_eq!(m.apply(-3), -2);
        // 2 * 0.75 = 1.5: (1.5 * 2^31 + 2^30) / 2^31 = 2. For -1.5 the nudge is 1 - 2^30:
        // (-1.5 * 2^31 + 1 - 2^30) / 2^31 = -1.99999999953, truncated toward zero: -1.
        assert_eq!(m.apply(2), 2);
        assert_eq!(m.apply(-2), -1);
        // 0.1: SRDHM by 0.8 (q = 0.8 * 2^31 - 0.4), then RoundingDivideByPOT by 2^3.
        let m = mult(0.1);
        // 100: 100 q / 2^31 = 79.99999998 -> 80; 80 / 8 = 10.
        assert_eq!(m.apply(100), 10);
        // 1000: 799.9999998 -> 800; 800 / 8 = 100.
        assert_eq!(m.apply(1000), 100);
        // 25: 19.99999999 -> 20; 20 / 8 = 2.5, remainder 4 > threshold 3 -> 3 (half away
        // from zero).
        assert_eq!(m.apply(25), 3);
        // -25: -20; -20 >> 3 = -3, remainder -20 & 7 = 4, threshold 3 + 1 = 4, not above -> -3.
        assert_eq!(m.apply(-25), -3);
        // 7: 5.6 -> 6; 6 >> 3 = 0, remainder 6 > 3 -> 1 (0.7 rounds to 1).
        assert_eq!(m.apply(7), 1);
        // Left shift: 2 = 2^30 * 2^(2 - 31); -3 * 4 * 0.5 = -6 exactly.
        assert_eq!(mult(2.0).apply(-3), -6);

        assert_eq!(rounding_divide_by_pot(5, 1), 3);
        assert_eq!(rounding_divide_by_pot(-5, 1), -3);
        assert_eq!(rounding_divide_by_pot(6, 2), 2);
        assert_eq!(rounding_divide_by_pot(-6, 2), -2);
        assert_eq!(rounding_divide_by_pot(-7, 2), -2);
        assert_eq!(rounding_divide_by_pot(i32::MIN, 31), -1);
        assert_eq!(rounding_divide_by_pot(i32::MAX, 40), 1);
        assert_eq!(
            saturating_rounding_doubling_high_mul(i32::MIN, i32::MIN),
            i32::MAX
        );
        // Extreme inputs saturate rather than panic: the left shift by 2 saturates at
        // i32::MAX (i32::MIN), then the Q31 half of it is 2^30 (-2^30).
        assert_eq!(mult(2.0).apply(i32::MAX), 1 << 30);
        assert_eq!(mult(2.0).apply(i32::MIN), -(1 << 30));
    }
}
