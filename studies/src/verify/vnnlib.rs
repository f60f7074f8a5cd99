//! VNN-LIB export of a query (the format of VNN-COMP benchmarks): the input box of its region
//! and the **unsafe** set, the outputs where the property fails, so that a tool answering
//! `unsat` (no input of the box reaches it) proves the query.
//!
//! What is kept and what is lost:
//! * The box is the region's `f32` input box, each end written as the exact decimal value of the
//!   `f32` (every `f32` is a finite binary fraction), so the box holds every encoded state.
//!   The discrete structure (whole units, consistent waits) is lost: the box is a superset of the
//!   states, so `unsat` proves the query, but a tool's counterexample may be no state.
//! * The unsafe set is written with `<=` (VNN-LIB has no strict comparison). For a strict
//!   property (`y_a > y_b`) that is its exact negation; for a non-strict one it adds the
//!   boundary `y_a = y_b`, again a superset. `unsat` still proves the query.
//! * Tools compute in real or floating arithmetic of their own; the core's bounds account for the
//!   network's `f32` rounding, a tool may not.

use std::fmt::Write;

use anyhow::{bail, Result};

use super::property::{Holds, Query};

/// The exact decimal expansion of `v` (finite for every finite `f32`).
pub fn exact_decimal(v: f32) -> String {
    if v == 0.0 {
        return "0.0".to_string();
    }
    let bits = v.to_bits();
    let negative = bits >> 31 == 1;
    let exp = ((bits >> 23) & 0xff) as i32;
    let frac = bits & 0x7f_ffff;
    // v = mant * 2^(e), mant an integer.
    let (mant, e) = if exp == 0 {
        (u128::from(frac), -149)
    } else {
        (u128::from(frac | 0x80_0000), exp - 150)
    };
    let mut digits = String::new();
    if e >= 0 {
        // An integer: mant * 2^e (below 2^128 for every f32).
        let _ = write!(digits, "{}.0", mant << e);
    } else {
        // mant / 2^k = mant * 5^k / 10^k; big k through repeated halving in decimal digits.
        let k = (-e) as usize;
        let mut num: Vec<u8> = mant.to_string().bytes().map(|b| b - b'0').collect();
        // Multiply by 5^k digit-wise.
        for _ in 0..k {
            let mut carry = 0u8;
            for d in num.iter_mut().rev() {
                let x = *d * 5 + carry;
                *d = x % 10;
                carry = x / 10;
            }
            while carry > 0 {
                num.insert(0, carry % 10);
                carry /= 10;
            }
        }
        while num.len() <= k {
            num.insert(0, 0);
        }
        let point = num.len() - k;
        let (int, fr) = num.split_at(point);
        let fr: Vec<u8> = {
            let mut f = fr.to_vec();
            while f.len() > 1 && f.last() == Some(&0) {
                f.pop();
            }
            f
        };
        for d in int {
            digits.push(char::from(b'0' + d));
        }
        digits.push('.');
        for d in fr {
            digits.push(char::from(b'0' + d));
        }
    }
    if negative {
        format!("-{digits}")
    } else {
        digits
    }
}

/// The VNN-LIB text of `query` for a network with `inputs` inputs and `outputs` outputs
/// (`X_0 ..`, `Y_0 ..` in the compact encoder's order; void is the last output).
///
/// # Errors
/// A specification that is not a difference of two outputs (none of the shipped properties).
pub fn vnnlib(query: &Query, inputs: usize, outputs: usize) -> Result<String> {
    let (lo, hi) = query.region.input_box();
    let mut s = format!(
        "; whitebox verify: {}\n; unsat proves the query; inputs: the compact encoder's features\n",
        query.name
    );
    for i in 0..inputs {
        let _ = writeln!(s, "(declare-const X_{i} Real)");
    }
    for k in 0..outputs {
        let _ = writeln!(s, "(declare-const Y_{k} Real)");
    }
    for (i, (l, h)) in lo.iter().zip(&hi).enumerate().take(inputs) {
        let _ = writeln!(s, "(assert (>= X_{i} {}))", exact_decimal(*l));
        let _ = writeln!(s, "(assert (<= X_{i} {}))", exact_decimal(*h));
    }
    match query.holds {
        // Fails: every slot strictly below void; written y_j <= y_void.
        Holds::VoidNotFirst => {
            let void = outputs - 1;
            for j in 0..void {
                let _ = writeln!(s, "(assert (<= Y_{j} Y_{void}))");
            }
        }
        // Fails: y_a < y_b (at least) or y_a <= y_b (above); written y_a <= y_b.
        Holds::AtLeast { a, b } | Holds::Above { a, b } => {
            if a >= outputs || b >= outputs {
                bail!("query `{}`: output {a} or {b} out of range", query.name);
            }
            let _ = writeln!(s, "(assert (<= Y_{a} Y_{b}))");
        }
        // Fails: every output of the set at or below `b`.
        Holds::SomeAbove { set, b } => {
            if b >= outputs {
                bail!("query `{}`: output {b} out of range", query.name);
            }
            for a in (0..outputs).filter(|a| set >> a & 1 == 1) {
                let _ = writeln!(s, "(assert (<= Y_{a} Y_{b}))");
            }
        }
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::property::Property;

    #[test]
    fn exact_decimals_of_f32_values_by_hand() {
        assert_eq!(exact_decimal(0.5), "0.5");
        assert_eq!(exact_decimal(1.0), "1.0");
        assert_eq!(exact_decimal(-2.25), "-2.25");
        // f32(0.1) = 13421773 / 2^27 = 0.100000001490116119384765625.
        assert_eq!(exact_decimal(0.1), "0.100000001490116119384765625");
        assert_eq!(exact_decimal(f32::from_bits(1)).len(), "0.".len() + 149);
        // Parsed back, every value is the f32 it came from.
        for v in [0.05f32, 1.0 / 60.0, 0.95, 17.0 / 20.0, 3.0e-7] {
            assert_eq!(exact_decimal(v).parse::<f32>().ok(), Some(v));
        }
    }

    #[test]
    fn a_no_idle_query_is_its_box_and_every_slot_below_void() {
        let q = &Property::NoIdle.queries(5)[1];
        let n = whitebox_core::encoding::compact_len(5);
        let text = vnnlib(q, n, 6).unwrap_or_else(|e| panic!("{e}"));
        // Slot 1's length (input 40 + 4) is 1..20 units of 20: [0.05, 1].
        assert!(text.contains("(assert (>= X_44 0.0500000007450580596923828125))"));
        assert!(text.contains("(assert (<= X_44 1.0))"));
        // Slot 0 is empty: length 0.
        assert!(text.contains("(assert (<= X_40 0.0))"));
        for j in 0..5 {
            assert!(text.contains(&format!("(assert (<= Y_{j} Y_5))")));
        }
        assert_eq!(text.matches("(assert").count(), 2 * n + 5);
    }
}
