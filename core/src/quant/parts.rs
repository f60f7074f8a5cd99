//! A [`QMlp`] taken apart and put together again ([`QParts`], [`QMlp::to_parts`],
//! [`QMlp::from_parts`]), so a build script can write a quantized network as a `static` literal
//! (weights in flash, no quantization at run time). [`QMlp::from_parts`] is `const` and checks
//! every bound [`QMlp::from_range`] guarantees, so a bad literal is a compile error.

use super::fixed::Multiplier;
use super::packed::PackedRows;
use super::qmlp::{
    code_requants, fits_after, worst_acc, QLayer, QMlp, QuantError, Quantity, Tensor, WEIGHT_MAX,
};

/// Everything a [`QMlp`] stores, field for field (shapes and scales as in the
/// [module docs](super)).
#[derive(Clone, Debug, PartialEq)]
pub struct QParts<const I: usize, const H: usize, const O: usize> {
    /// Hidden weights, shape `[H][I]`, each in `[-127, 127]`.
    pub w1: [[i8; I]; H],
    /// Hidden biases at scale `s_in * s_w1[j]`, shape `[H]`.
    pub b1: [i32; H],
    /// Hidden requantization multipliers, shape `[H]`.
    pub m1: [Multiplier; H],
    /// Output weights, shape `[O][H]`, each in `[-127, 127]`.
    pub w2: [[i8; H]; O],
    /// Output biases at scale `s_h * s_w2[k]`, shape `[O]`.
    pub b2: [i32; O],
    /// Output requantization multipliers, shape `[O]`.
    pub m2: [Multiplier; O],
    /// `s_in = input_max / 255`.
    pub input_scale: f32,
    /// `255 / input_max`, the factor [`QMlp::quantize_input`] multiplies by.
    pub input_inv_scale: f32,
    /// `s_h = hidden_max / 255`.
    pub hidden_scale: f32,
    /// `s_out`.
    pub output_scale: f32,
    /// Per-unit hidden weight scales, shape `[H]`.
    pub w1_scale: [f32; H],
    /// Per-unit output weight scales, shape `[O]`.
    pub w2_scale: [f32; O],
}

const fn out_of_range<T>(layer: QLayer, unit: usize, what: Quantity) -> Result<T, QuantError> {
    Err(QuantError::OutOfRange { layer, unit, what })
}

/// The first weight of `rows` outside `[-127, 127]` (the code -128), as its row.
const fn bad_weight_row<const N: usize, const R: usize>(rows: &[[i8; N]; R]) -> Option<usize> {
    let mut r = 0;
    while r < R {
        let mut i = 0;
        while i < N {
            if (rows[r][i] as i32) < -WEIGHT_MAX {
                return Some(r);
            }
            i += 1;
        }
        r += 1;
    }
    None
}

/// The first unit whose worst-case accumulator (`n` products and its bias) does not survive its
/// multiplier.
const fn bad_accumulator<const R: usize>(
    bias: &[i32; R],
    m: &[Multiplier; R],
    n: usize,
) -> Option<usize> {
    let mut r = 0;
    while r < R {
        if !fits_after(worst_acc(bias[r], n), m[r]) {
            return Some(r);
        }
        r += 1;
    }
    None
}

impl<const I: usize, const H: usize, const O: usize> QMlp<I, H, O> {
    /// The network's parts, for writing it as a literal.
    pub fn to_parts(&self) -> QParts<I, H, O> {
        QParts {
            w1: self.w1(),
            b1: self.b1,
            m1: self.m1,
            w2: self.w2(),
            b2: self.b2,
            m2: self.m2,
            input_scale: self.input_scale,
            input_inv_scale: self.input_inv_scale,
            hidden_scale: self.hidden_scale,
            output_scale: self.output_scale,
            w1_scale: self.w1_scale,
            w2_scale: self.w2_scale,
        }
    }

    /// A network from parts [`QMlp::to_parts`] gave, after the checks the integer path relies
    /// on. The multipliers are valid by construction ([`Multiplier::from_raw`]).
    ///
    /// # Errors
    /// [`QuantError::ZeroRange`] for an input factor `255 / input_max` that is not a finite
    /// number above 0 (the range reported is `255 / factor`); [`QuantError::OutOfRange`] with
    /// [`Quantity::Weight`] for a weight of -128, and with [`Quantity::Accumulator`] when a
    /// worst-case accumulator could leave `i32` (as [`QMlp::from_range`] checks).
    pub const fn from_parts(parts: QParts<I, H, O>) -> Result<Self, QuantError> {
        let inv = parts.input_inv_scale;
        if !(inv.is_finite() && inv > 0.0) {
            return Err(QuantError::ZeroRange {
                tensor: Tensor::Input,
                max: 255.0 / inv,
            });
        }
        if let Some(j) = bad_weight_row(&parts.w1) {
            return out_of_range(QLayer::Hidden, j, Quantity::Weight);
        }
        if let Some(k) = bad_weight_row(&parts.w2) {
            return out_of_range(QLayer::Output, k, Quantity::Weight);
        }
        if let Some(j) = bad_accumulator(&parts.b1, &parts.m1, I) {
            return out_of_range(QLayer::Hidden, j, Quantity::Accumulator);
        }
        if let Some(k) = bad_accumulator(&parts.b2, &parts.m2, H) {
            return out_of_range(QLayer::Output, k, Quantity::Accumulator);
        }
        Ok(QMlp {
            b1: parts.b1,
            m1: parts.m1,
            c1: code_requants(&parts.m1),
            p1: PackedRows::pack(&parts.w1),
            p2: PackedRows::pack(&parts.w2),
            b2: parts.b2,
            m2: parts.m2,
            input_scale: parts.input_scale,
            input_inv_scale: parts.input_inv_scale,
            hidden_scale: parts.hidden_scale,
            output_scale: parts.output_scale,
            w1_scale: parts.w1_scale,
            w2_scale: parts.w2_scale,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::Mlp;

    fn tiny() -> QMlp<2, 2, 2> {
        let net = Mlp {
            w1: [[0.992_187_5, -0.25], [0.25, 0.496_093_75]],
            b1: [0.007_812_5, -0.003_906_25],
            w2: [[1.984_375, -0.5], [-0.25, 0.992_187_5]],
            b2: [0.25, -0.125],
        };
        let calib = [[1.0f32, 0.0], [0.0, 1.0]];
        QMlp::quantize(&net, 1.0, calib.iter()).unwrap_or_else(|e| unreachable!("{e}"))
    }

    #[test]
    fn parts_round_trip_and_bad_parts_are_refused() {
        let q = tiny();
        assert_eq!(QMlp::from_parts(q.to_parts()), Ok(q.clone()));
        // Const evaluation gives the same network.
        const M: Option<Multiplier> = Multiplier::from_raw(1 << 30, -6);
        assert_eq!(M, Some(q.m1()[0]));

        let mut p = q.to_parts();
        p.w2[1][0] = -128;
        assert_eq!(
            QMlp::from_parts(p),
            Err(QuantError::OutOfRange {
                layer: QLayer::Output,
                unit: 1,
                what: Quantity::Weight
            })
        );
        // Hidden unit 1 (2 inputs, multiplier 2^-8): with a bias of 2^31 - 1 - 2 * 127 * 255 the
        // worst-case accumulator is exactly i32::MAX, which fits; with a multiplier of 2 (shift
        // 2) its left shift by 2 would not.
        let mut p = q.to_parts();
        p.b1[1] = i32::MAX - 2 * 127 * 255;
        assert!(QMlp::from_parts(p.clone()).is_ok());
        p.m1[1] = Multiplier::from_raw(1 << 30, 2).unwrap_or_default();
        assert_eq!(
            QMlp::from_parts(p),
            Err(QuantError::OutOfRange {
                layer: QLayer::Hidden,
                unit: 1,
                what: Quantity::Accumulator
            })
        );
        let mut p = q.to_parts();
        p.input_inv_scale = f32::NAN;
        assert!(matches!(
            QMlp::from_parts(p),
            Err(QuantError::ZeroRange {
                tensor: Tensor::Input,
                ..
            })
        ));
        // Multipliers outside TFLite's form are refused.
        assert_eq!(Multiplier::from_raw((1 << 30) - 1, 0), None);
        assert_eq!(Multiplier::from_raw(1 << 30, 31), None);
        assert_eq!(Multiplier::from_raw(1 << 30, -32), None);
        assert_eq!(Multiplier::from_raw(0, 1), None);
        assert_eq!(
            Multiplier::from_raw(0, 0),
            Some(Multiplier::from_real(0.0).unwrap_or_default())
        );
    }
}
