use super::*;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg32;

fn bx<const I: usize>(lo: [f32; I], hi: [f32; I]) -> InputBox<I> {
    InputBox::new(lo, hi).unwrap_or_else(|e| unreachable!("{e}"))
}

/// `y1 = relu(x1 - x2) + relu(x1 + x2 - 1)`, `y2 = 0.5 - relu(x1 - x2)`.
fn tiny() -> Mlp<2, 2, 2> {
    Mlp {
        w1: [[1.0, -1.0], [1.0, 1.0]],
        b1: [0.0, -1.0],
        w2: [[1.0, 1.0], [-1.0, 0.0]],
        b2: [0.0, 0.5],
    }
}

/// Within the rounding margins: a few `f32` ulps of the magnitudes involved (at most 2 here).
fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-5
}

#[test]
fn ibp_by_hand() {
    // Over [0, 1]^2: z1 = x1 - x2 in [-1, 1], z2 = x1 + x2 - 1 in [-1, 1], so y1 in [0, 2] and
    // y2 in [-0.5, 0.5]; the bounds are those, widened outward by the rounding margin.
    let b = bx([0.0, 0.0], [1.0, 1.0]);
    let h = hidden_bounds(&tiny(), &b).unwrap_or_else(|e| unreachable!("{e}"));
    assert!(close(h.lo[0], -1.0) && close(h.hi[0], 1.0) && h.lo[0] < -1.0 && h.hi[0] > 1.0);
    assert_eq!(h.unstable(), 2);
    let (lo, hi) = ibp_logits(&tiny(), &b).unwrap_or_else(|e| unreachable!("{e}"));
    assert!(close(lo[0], 0.0) && close(hi[0], 2.0) && close(lo[1], -0.5) && close(hi[1], 0.5));
    assert!(lo[0] < 0.0 && hi[0] > 2.0 && lo[1] < -0.5 && hi[1] > 0.5);
}

#[test]
fn crown_is_tighter_than_ibp_on_a_cancelling_pair() {
    // y = relu(x) - relu(x) = 0 on [-1, 2]. IBP: [0, 2] - [0, 2] >= -2. CROWN: the first unit
    // (lambda = 1, u = 2 > -l = 1) gets relu(x) >= x, the second (lambda = -1) the chord
    // relu(x) <= 2/3 (x + 1): y >= x - 2/3 x - 2/3 = x/3 - 2/3 >= -1 at x = -1.
    let net: Mlp<1, 2, 1> = Mlp {
        w1: [[1.0], [1.0]],
        b1: [0.0, 0.0],
        w2: [[1.0, -1.0]],
        b2: [0.0],
    };
    let b = bx([-1.0], [2.0]);
    let (lo, _) = ibp_logits(&net, &b).unwrap_or_else(|e| unreachable!("{e}"));
    assert!(close(lo[0], -2.0));
    let c = crown_lower(&net, &b, &[1.0]).unwrap_or_else(|e| unreachable!("{e}"));
    assert!(close(c.lower, -1.0) && c.lower < -1.0, "{}", c.lower);
    assert_eq!((c.slope[0], c.lambda[1]), (1.0, -1.0));
    assert!(close(c.slope[1], 2.0 / 3.0));
}

#[test]
fn crown_by_hand_on_the_tiny_network() {
    // c = e1 - e2: y1 - y2 = 2 relu(z1) + relu(z2) - 0.5, lambda = [2, 1], both units unstable
    // with u = -l, so both lower slopes are 0 and the bound is -0.5, the true minimum at 0.
    let b = bx([0.0, 0.0], [1.0, 1.0]);
    let c = crown_lower(&tiny(), &b, &[1.0, -1.0]).unwrap_or_else(|e| unreachable!("{e}"));
    assert_eq!(c.lambda, [2.0, 1.0]);
    assert!(close(c.lower, -0.5) && c.lower < -0.5);
}

#[test]
fn bad_input_is_named() {
    assert_eq!(
        InputBox::new([0.0, 2.0], [1.0, 1.0]),
        Err(VerifyError::BadInterval {
            index: 1,
            lo: 2.0,
            hi: 1.0
        })
    );
    assert!(InputBox::new([f32::NAN], [1.0]).is_err());
    let mut net = tiny();
    net.w2[1][0] = f32::INFINITY;
    let b = bx([0.0, 0.0], [1.0, 1.0]);
    assert_eq!(
        ibp_logits(&net, &b).err(),
        Some(VerifyError::NonFiniteWeight { index: 8 })
    );
    assert_eq!(
        crown_lower(&tiny(), &b, &[1.0, f32::NAN]).err(),
        Some(VerifyError::BadSpec { index: 1 })
    );
}

/// Random networks with weights of mixed magnitudes, random boxes, and many points inside each
/// box (corners included): the network's own `f32` logits never leave the IBP bounds, and
/// `c . logits` never goes below the CROWN bound.
#[test]
fn bounds_are_sound_for_the_f32_forward_pass() {
    let mut rng = Pcg32::seed_from_u64(7);
    for _ in 0..200 {
        let mut net = Mlp::<6, 5, 3>::zeroed();
        let scale = [1e-3f32, 1.0, 1e3][rng.random_range(0..3)];
        for p in net.params_mut() {
            *p = rng.random_range(-1.0f32..1.0) * scale;
        }
        let (mut lo, mut hi) = ([0.0f32; 6], [0.0f32; 6]);
        for (l, h) in lo.iter_mut().zip(hi.iter_mut()) {
            let a: f32 = rng.random_range(-1.0..1.0);
            let w: f32 = if rng.random_bool(0.2) {
                0.0
            } else {
                rng.random_range(0.0..1.0)
            };
            (*l, *h) = (a, a + w);
        }
        let b = bx(lo, hi);
        let (ilo, ihi) = ibp_logits(&net, &b).unwrap_or_else(|e| unreachable!("{e}"));
        let c: [f32; 3] = [1.0, -1.0, rng.random_range(-1.0..1.0)];
        let cr = crown_lower(&net, &b, &c).unwrap_or_else(|e| unreachable!("{e}"));
        for n in 0..500 {
            let mut x = [0.0f32; 6];
            for (i, v) in x.iter_mut().enumerate() {
                *v = if n < 64 {
                    // The corners first.
                    if (n >> i) & 1 == 1 {
                        hi[i]
                    } else {
                        lo[i]
                    }
                } else {
                    rng.random_range(lo[i]..=hi[i])
                };
            }
            let (mut h, mut y) = ([0.0f32; 5], [0.0f32; 3]);
            net.forward(&x, &mut h, &mut y);
            for k in 0..3 {
                let v = f64::from(y[k]);
                assert!(
                    ilo[k] <= v && v <= ihi[k],
                    "logit {k} = {v} outside [{}, {}]",
                    ilo[k],
                    ihi[k]
                );
            }
            let cy: f64 = c
                .iter()
                .zip(y.iter())
                .map(|(a, b)| f64::from(*a) * f64::from(*b))
                .sum();
            // c . y is summed here in f64 from f32 values: exact to within 3 ulps of f64.
            assert!(
                cy + 1e-12 * cy.abs() >= cr.lower,
                "c.y = {cy} below {}",
                cr.lower
            );
        }
    }
}

/// On a point box the bounds enclose the computed value and are tight: the margin is the
/// rounding of at most `I + 1` terms.
#[test]
fn point_boxes_give_tight_bounds() {
    let mut rng = Pcg32::seed_from_u64(11);
    let mut net = Mlp::<6, 5, 3>::zeroed();
    for p in net.params_mut() {
        *p = rng.random_range(-1.0f32..1.0);
    }
    let x = [0.3f32, -0.7, 0.0, 1.0, 0.25, -0.125];
    let (lo, hi) = ibp_logits(&net, &bx(x, x)).unwrap_or_else(|e| unreachable!("{e}"));
    let (mut h, mut y) = ([0.0f32; 5], [0.0f32; 3]);
    net.forward(&x, &mut h, &mut y);
    for k in 0..3 {
        let v = f64::from(y[k]);
        assert!(lo[k] <= v && v <= hi[k]);
        assert!(hi[k] - lo[k] < 1e-5, "{} {}", lo[k], hi[k]);
    }
}
