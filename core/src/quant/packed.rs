//! The int8 weights stored for a 32 x 32 -> 64-bit multiply-accumulate (the M4's `smlal`): two
//! output units' weights for one input in one 32-bit word, so one multiplication by the input
//! code gives both products. Plain integer Rust (stable Rust has no DSP intrinsics and the core
//! has no `unsafe`); the compiler turns `i64 += i64::from(word) * i64::from(code)` into `smlal`.
//!
//! Rows `2p` and `2p + 1` of a weight matrix are packed, per input `i`, into
//! `W = w[2p][i] + w[2p + 1][i] * 2^24` (an `i32`: `|w| <= 127`), stored as 4 little-endian
//! bytes; an odd last row is stored as one `i16` per input. Summed over `n` inputs with codes
//! `x <= 255`, `sum W * x = lo + hi * 2^24` with `lo = sum w[2p][i] * x[i]` and `hi` the other
//! row's sum. While `|lo| < 2^23`, `lo` is the low 24 bits of the 64-bit sum read as a signed
//! number and `hi = (sum - lo) / 2^24` exactly. `|lo| <= 127 * 255 * n < 2^23` for `n <= 259`,
//! so the inputs are summed in blocks of [`BLOCK`] and the two sums taken apart after each.
//! Integer sums do not depend on their order, so the results are exactly the plain sums
//! `sum_i w[r][i] * x[i]` (the tests compare them).
//!
//! The words take `2 * R * N` bytes, twice the `i8` weights.

/// Inputs summed in one 64-bit accumulator before it is taken apart: `127 * 255 * 256 < 2^23`.
pub const BLOCK: usize = 256;

/// `R` rows of `N` `i8` weights, packed in pairs (module docs). Same size as `[[i16; N]; R]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackedRows<const N: usize, const R: usize> {
    bytes: [[[u8; 2]; N]; R],
}

/// The byte at flat offset `k` of `bytes` (row-major), for `const` code.
const fn byte_mut<const N: usize, const R: usize>(
    bytes: &mut [[[u8; 2]; N]; R],
    k: usize,
) -> &mut u8 {
    &mut bytes[k / (2 * N)][(k % (2 * N)) / 2][k % 2]
}

impl<const N: usize, const R: usize> PackedRows<N, R> {
    /// Packs `w` (weights in `[-127, 127]`; -128 would also pack exactly). `const`, so a
    /// network literal is packed at compile time.
    pub const fn pack(w: &[[i8; N]; R]) -> Self {
        let mut bytes = [[[0u8; 2]; N]; R];
        let mut p = 0;
        while p < R / 2 {
            let mut i = 0;
            while i < N {
                let word = (w[2 * p][i] as i32).wrapping_add((w[2 * p + 1][i] as i32) << 24);
                let le = word.to_le_bytes();
                let base = (p * N + i) * 4;
                let mut b = 0;
                while b < 4 {
                    *byte_mut(&mut bytes, base + b) = le[b];
                    b += 1;
                }
                i += 1;
            }
            p += 1;
        }
        if R % 2 == 1 {
            let mut i = 0;
            while i < N {
                let le = (w[R - 1][i] as i16).to_le_bytes();
                let base = (R / 2) * N * 4 + i * 2;
                *byte_mut(&mut bytes, base) = le[0];
                *byte_mut(&mut bytes, base + 1) = le[1];
                i += 1;
            }
        }
        PackedRows { bytes }
    }

    /// The weights `w` that [`PackedRows::pack`] packed.
    pub fn unpack(&self) -> [[i8; N]; R] {
        let bytes = self.bytes.as_flattened().as_flattened();
        let (pairs, odd) = bytes.split_at(bytes.len().min(R / 2 * N * 4));
        let (words, _) = pairs.as_chunks::<4>();
        let (halves, _) = odd.as_chunks::<2>();
        let mut w = [[0i8; N]; R];
        for (p, rows) in w.chunks_exact_mut(2).enumerate() {
            if let [lo, hi] = rows {
                let pair = words.iter().skip(p * N);
                for ((l, h), word) in lo.iter_mut().zip(hi.iter_mut()).zip(pair) {
                    let [a, b] = split(i64::from(i32::from_le_bytes(*word)));
                    // Both are weights in [-128, 127].
                    (*l, *h) = (a as i8, b as i8);
                }
            }
        }
        if R % 2 == 1 {
            if let Some(last) = w.last_mut() {
                for (l, h) in last.iter_mut().zip(halves) {
                    *l = i16::from_le_bytes(*h) as i8;
                }
            }
        }
        w
    }

    /// `bias[r] + sum_i w[r][i] * x[i]` (int32, wrapping as the plain sums; the quantizer
    /// bounds them so they never wrap) for every row `r`, into `out[r]`.
    pub fn dot(&self, bias: &[i32; R], x: &[u8; N], out: &mut [i32; R]) {
        self.dot_each(bias, x, |r, s| {
            if let Some(o) = out.get_mut(r) {
                *o = s;
            }
        });
    }

    /// `f(r, bias[r] + sum_i w[r][i] * x[i])` for every row `r` (as [`PackedRows::dot`]), as
    /// soon as the sum is known, so that a caller can use it without storing it first: two
    /// pairs of rows (four units) per pass over `x`, then a last pair and the odd last row (in
    /// one pass when there are both).
    #[inline(always)]
    pub fn dot_each(&self, bias: &[i32; R], x: &[u8; N], mut f: impl FnMut(usize, i32)) {
        let bytes = self.bytes.as_flattened().as_flattened();
        let (pairs, odd) = bytes.split_at(bytes.len().min(R / 2 * N * 4));
        let (words, _) = pairs.as_chunks::<4>();
        let mut put = |r: usize, s: i32| {
            if let Some(&b) = bias.get(r) {
                f(r, b.wrapping_add(s));
            }
        };
        let mut p = 0;
        while p + 2 <= R / 2 {
            if let (Some(pa), Some(pb)) = (
                words.get(p * N..(p + 1) * N),
                words.get((p + 1) * N..(p + 2) * N),
            ) {
                let [s0, s1, s2, s3] = dot_pair2(pa, pb, x);
                put(2 * p, s0);
                put(2 * p + 1, s1);
                put(2 * p + 2, s2);
                put(2 * p + 3, s3);
            }
            p += 2;
        }
        let (halves, _) = odd.as_chunks::<2>();
        let last = words.get(p * N..(p + 1) * N).filter(|_| p < R / 2);
        match (last, R % 2 == 1) {
            // The last pair and the odd last row in one pass.
            (Some(pa), true) => {
                let [s0, s1, s2] = dot_pair_row(pa, halves, x);
                put(2 * p, s0);
                put(2 * p + 1, s1);
                put(R - 1, s2);
            }
            (Some(pa), false) => {
                let [s0, s1] = dot_pair(pa, x);
                put(2 * p, s0);
                put(2 * p + 1, s1);
            }
            (None, true) => {
                let s = halves.iter().zip(x).fold(0i32, |acc, (&h, &x)| {
                    acc.wrapping_add(half(&h) * i32::from(x))
                });
                put(R - 1, s);
            }
            (None, false) => {}
        }
    }
}

/// The two sums packed in a 64-bit accumulator of at most [`BLOCK`] products (module docs).
#[inline(always)]
fn split(acc: i64) -> [i32; 2] {
    // The low 24 bits, sign-extended: |lo| < 2^23.
    let lo = ((acc as i32) << 8) >> 8;
    let hi = (acc.wrapping_sub(i64::from(lo)) >> 24) as i32;
    [lo, hi]
}

#[inline(always)]
fn word(w: &[u8; 4]) -> i64 {
    i64::from(i32::from_le_bytes(*w))
}

/// `sum_i W[i] * x[i]` over one block (at most [`BLOCK`] inputs) of two packed pairs, two
/// inputs per iteration (four measured no faster on the M4F).
#[inline(always)]
fn block2(pa: &[[u8; 4]], pb: &[[u8; 4]], x: &[u8]) -> (i64, i64) {
    let (mut a, mut b) = (0i64, 0i64);
    let (x2, xr) = x.as_chunks::<2>();
    let (a2, ar) = pa.as_chunks::<2>();
    let (b2, br) = pb.as_chunks::<2>();
    for ((&[x0, x1], [wa0, wa1]), [wb0, wb1]) in x2.iter().zip(a2).zip(b2) {
        let (x0, x1) = (i64::from(x0), i64::from(x1));
        a = a.wrapping_add(word(wa0) * x0).wrapping_add(word(wa1) * x1);
        b = b.wrapping_add(word(wb0) * x0).wrapping_add(word(wb1) * x1);
    }
    for ((&x, wa), wb) in xr.iter().zip(ar).zip(br) {
        let x = i64::from(x);
        a = a.wrapping_add(word(wa) * x);
        b = b.wrapping_add(word(wb) * x);
    }
    (a, b)
}

/// The four sums of two packed pairs of rows over `x`, in blocks of [`BLOCK`] inputs.
#[inline(always)]
fn dot_pair2(pa: &[[u8; 4]], pb: &[[u8; 4]], x: &[u8]) -> [i32; 4] {
    if x.len() <= BLOCK {
        let (a, b) = block2(pa, pb, x);
        let ([a0, a1], [b0, b1]) = (split(a), split(b));
        return [a0, a1, b0, b1];
    }
    let mut sums = [0i32; 4];
    for ((xs, wa), wb) in x.chunks(BLOCK).zip(pa.chunks(BLOCK)).zip(pb.chunks(BLOCK)) {
        let (a, b) = block2(wa, wb, xs);
        let ([a0, a1], [b0, b1]) = (split(a), split(b));
        for (s, v) in sums.iter_mut().zip([a0, a1, b0, b1]) {
            *s = s.wrapping_add(v);
        }
    }
    sums
}

#[inline(always)]
fn half(h: &[u8; 2]) -> i32 {
    i32::from(i16::from_le_bytes(*h))
}

/// `sum_i W[i] * x[i]` of one packed pair and `sum_i r[i] * x[i]` of the odd last row (`i16`
/// weights) over one block (at most [`BLOCK`] inputs), two inputs per iteration.
#[inline(always)]
fn block_pair_row(p: &[[u8; 4]], row: &[[u8; 2]], x: &[u8]) -> (i64, i32) {
    let (mut acc, mut odd) = (0i64, 0i32);
    let (x2, xr) = x.as_chunks::<2>();
    let (p2, pr) = p.as_chunks::<2>();
    let (r2, rr) = row.as_chunks::<2>();
    for ((&[x0, x1], [w0, w1]), [r0, r1]) in x2.iter().zip(p2).zip(r2) {
        acc = acc
            .wrapping_add(word(w0) * i64::from(x0))
            .wrapping_add(word(w1) * i64::from(x1));
        odd = odd
            .wrapping_add(half(r0) * i32::from(x0))
            .wrapping_add(half(r1) * i32::from(x1));
    }
    for ((&x, w), r) in xr.iter().zip(pr).zip(rr) {
        acc = acc.wrapping_add(word(w) * i64::from(x));
        odd = odd.wrapping_add(half(r) * i32::from(x));
    }
    (acc, odd)
}

/// The two sums of the last packed pair of rows and the sum of the odd last row over `x`, in
/// one pass (in blocks of [`BLOCK`] inputs).
fn dot_pair_row(p: &[[u8; 4]], row: &[[u8; 2]], x: &[u8]) -> [i32; 3] {
    if x.len() <= BLOCK {
        let (acc, odd) = block_pair_row(p, row, x);
        let [a, b] = split(acc);
        return [a, b, odd];
    }
    let mut sums = [0i32; 3];
    for ((xs, w), r) in x.chunks(BLOCK).zip(p.chunks(BLOCK)).zip(row.chunks(BLOCK)) {
        let (acc, odd) = block_pair_row(w, r, xs);
        let [a, b] = split(acc);
        for (s, v) in sums.iter_mut().zip([a, b, odd]) {
            *s = s.wrapping_add(v);
        }
    }
    sums
}

/// The two sums of one packed pair of rows over `x`.
fn dot_pair(p: &[[u8; 4]], x: &[u8]) -> [i32; 2] {
    let mut sums = [0i32; 2];
    for (xs, w) in x.chunks(BLOCK).zip(p.chunks(BLOCK)) {
        let acc = xs.iter().zip(w).fold(0i64, |acc, (&x, w)| {
            acc.wrapping_add(word(w) * i64::from(x))
        });
        for (s, v) in sums.iter_mut().zip(split(acc)) {
            *s = s.wrapping_add(v);
        }
    }
    sums
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_pcg::Pcg32;

    fn plain<const N: usize, const R: usize>(
        w: &[[i8; N]; R],
        b: &[i32; R],
        x: &[u8; N],
    ) -> [i64; R] {
        core::array::from_fn(|r| {
            i64::from(b[r])
                + (0..N)
                    .map(|i| i64::from(w[r][i]) * i64::from(x[i]))
                    .sum::<i64>()
        })
    }

    fn check<const N: usize, const R: usize>(rng: &mut Pcg32, extreme: bool) {
        let mut w = [[0i8; N]; R];
        let mut x = [0u8; N];
        let mut b = [0i32; R];
        for v in w.iter_mut().flatten() {
            *v = if extreme {
                if rng.random() {
                    127
                } else {
                    -127
                }
            } else {
                rng.random_range(-127..=127)
            };
        }
        for v in &mut x {
            *v = if extreme { 255 } else { rng.random() };
        }
        for v in &mut b {
            *v = rng.random_range(-1_000_000..=1_000_000);
        }
        let mut out = [0i32; R];
        let packed = PackedRows::pack(&w);
        assert_eq!(packed.unpack(), w);
        packed.dot(&b, &x, &mut out);
        let want = plain(&w, &b, &x);
        for r in 0..R {
            assert_eq!(i64::from(out[r]), want[r], "row {r} of {R}, {N} inputs");
        }
    }

    #[test]
    fn packed_sums_equal_the_plain_sums() {
        let mut rng = Pcg32::seed_from_u64(16);
        for extreme in [false, true] {
            for _ in 0..50 {
                check::<82, 20>(&mut rng, extreme);
                check::<20, 11>(&mut rng, extreme);
                check::<13, 7>(&mut rng, extreme);
                check::<1, 1>(&mut rng, extreme);
                check::<3, 2>(&mut rng, extreme);
                check::<5, 6>(&mut rng, extreme);
                // Several blocks: 256 + 256 + 88 inputs.
                check::<600, 5>(&mut rng, extreme);
                check::<256, 4>(&mut rng, extreme);
                check::<257, 3>(&mut rng, extreme);
            }
        }
        // Every product -127 * 255 over a full block, the largest |lo|.
        let w = [[-127i8; 256]; 2];
        let mut out = [0i32; 2];
        PackedRows::pack(&w).dot(&[0; 2], &[255; 256], &mut out);
        assert_eq!(out, [-127 * 255 * 256; 2]);
        let w = [[127i8; 256], [-127; 256]];
        PackedRows::pack(&w).dot(&[0; 2], &[255; 256], &mut out);
        assert_eq!(out, [127 * 255 * 256, -127 * 255 * 256]);
    }
}
