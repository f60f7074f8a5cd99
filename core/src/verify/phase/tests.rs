use super::*;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg32;

fn bx<const I: usize>(lo: [f32; I], hi: [f32; I]) -> InputBox<I> {
    InputBox::new(lo, hi).unwrap_or_else(|e| unreachable!("{e}"))
}

/// `y = relu(x) - relu(2x)` on `[-1, 2]`: IBP and CROWN lose the correlation, a phase split
/// recovers it. Active: `y = x - 2x = -x >= -2` at `x = 2`. Inactive: `y = 0`.
fn pair() -> Mlp<1, 2, 1> {
    Mlp {
        w1: [[1.0], [2.0]],
        b1: [0.0, 0.0],
        w2: [[1.0, -1.0]],
        b2: [0.0],
    }
}

fn near(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-5
}

#[test]
fn phase_splits_by_hand() {
    let b = bx([-1.0], [2.0]);
    let both = |p: Phase| {
        phase_lower(&pair(), &b, &[1.0], &[p, p], None).unwrap_or_else(|e| unreachable!("{e}"))
    };
    let act = both(Phase::Active);
    assert!(near(act.lower, -2.0) && act.lower < -2.0, "{}", act.lower);
    let ina = both(Phase::Inactive);
    assert!(near(ina.lower, 0.0) && ina.lower < 0.0, "{}", ina.lower);
    // Unsplit, CROWN: unit 0 (lambda 1, hi 2 > 1) gets t, unit 1 (lambda -1) the chord
    // 4/6 (t + 2) of t = 2x in [-2, 4]: y >= x - 4/6 (2x + 2) = -x/3 - 4/3 >= -2 at x = 2.
    let free = both(Phase::Free);
    assert!(near(free.lower, -2.0), "{}", free.lower);
}

#[test]
fn an_impossible_phase_makes_the_branch_infeasible() {
    // On [1, 2] both units are positive: inactive is impossible.
    let b = bx([1.0], [2.0]);
    let r = phase_lower(&pair(), &b, &[1.0], &[Phase::Free, Phase::Inactive], None)
        .unwrap_or_else(|e| unreachable!("{e}"));
    assert_eq!((r.infeasible, r.lower), (Some(1), f64::INFINITY));
    // On [-2, -1] active is impossible.
    let b = bx([-2.0], [-1.0]);
    let r = phase_lower(&pair(), &b, &[1.0], &[Phase::Active, Phase::Free], None)
        .unwrap_or_else(|e| unreachable!("{e}"));
    assert_eq!(r.infeasible, Some(0));
}

#[test]
fn a_line_above_the_relu_is_lowered_until_it_is_valid() {
    // Claim y >= 5 with lines (0, 5) and (0, 0): unit 0's line 5 is above relu(x) at x = 0 on
    // [-1, 2] by 5, so it becomes (0, 0) less slack; the bound is then CROWN-like, not 5.
    let b = bx([-1.0], [2.0]);
    let lines = [
        Line {
            slope: 0.0,
            offset: 5.0,
        },
        Line {
            slope: -1.0,
            offset: -4.0,
        },
    ];
    let r = phase_lower(&pair(), &b, &[1.0], &[Phase::Free; 2], Some(&lines))
        .unwrap_or_else(|e| unreachable!("{e}"));
    assert!(r.lines[0].offset <= 0.0, "{:?}", r.lines);
    assert!(r.lower < 0.0, "{}", r.lower);
}

#[test]
fn non_finite_lines_are_refused() {
    let b = bx([-1.0], [2.0]);
    let lines = [
        Line {
            slope: f64::NAN,
            offset: 0.0,
        },
        Line::default(),
    ];
    assert_eq!(
        phase_lower(&pair(), &b, &[1.0], &[Phase::Free; 2], Some(&lines)).err(),
        Some(VerifyError::BadSpec { index: 0 })
    );
}

/// Random networks, boxes, phases and arbitrary lines: at every point of the box whose computed
/// phases match the branch, `c . logits` is at least the bound.
#[test]
fn phase_bounds_are_sound_for_any_lines() {
    let mut rng = Pcg32::seed_from_u64(17);
    let mut checked = 0;
    for _ in 0..300 {
        let mut net = Mlp::<5, 6, 3>::zeroed();
        let scale = [1e-3f32, 1.0, 1e3][rng.random_range(0..3)];
        for p in net.params_mut() {
            *p = rng.random_range(-1.0f32..1.0) * scale;
        }
        let (mut lo, mut hi) = ([0.0f32; 5], [0.0f32; 5]);
        for (l, h) in lo.iter_mut().zip(hi.iter_mut()) {
            let a: f32 = rng.random_range(-1.0..1.0);
            (*l, *h) = (a, a + rng.random_range(0.0..1.0));
        }
        let b = bx(lo, hi);
        let phases: [Phase; 6] = core::array::from_fn(|_| {
            [Phase::Free, Phase::Active, Phase::Inactive][rng.random_range(0..3)]
        });
        let lines: [Line; 6] = core::array::from_fn(|_| Line {
            slope: rng.random_range(-3.0..3.0) * f64::from(scale),
            offset: rng.random_range(-3.0..3.0) * f64::from(scale),
        });
        let c: [f32; 3] = [1.0, -1.0, rng.random_range(-1.0..1.0)];
        let with = if rng.random_bool(0.5) {
            Some(&lines)
        } else {
            None
        };
        let r = phase_lower(&net, &b, &c, &phases, with).unwrap_or_else(|e| unreachable!("{e}"));
        for n in 0..400 {
            let x: [f32; 5] = core::array::from_fn(|i| {
                if n < 32 {
                    if (n >> i) & 1 == 1 {
                        hi[i]
                    } else {
                        lo[i]
                    }
                } else {
                    rng.random_range(lo[i]..=hi[i])
                }
            });
            let (mut h, mut y) = ([0.0f32; 6], [0.0f32; 3]);
            net.forward(&x, &mut h, &mut y);
            let matches = h.iter().zip(phases.iter()).all(|(v, p)| match p {
                Phase::Free => true,
                Phase::Active => *v > 0.0,
                Phase::Inactive => *v == 0.0,
            });
            if !matches {
                continue;
            }
            assert!(
                r.infeasible.is_none(),
                "a matching point in an infeasible branch"
            );
            checked += 1;
            let cy: f64 = c
                .iter()
                .zip(y.iter())
                .map(|(a, b)| f64::from(*a) * f64::from(*b))
                .sum();
            assert!(
                cy + 1e-12 * cy.abs() >= r.lower,
                "c.y = {cy} below {}",
                r.lower
            );
        }
    }
    assert!(
        checked > 10_000,
        "only {checked} points matched their branch"
    );
}
