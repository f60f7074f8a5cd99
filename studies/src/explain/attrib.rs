//! Attribution methods for one decision of an [`Mlp`] policy, with the target the logit `z_a`
//! of the chosen action `a`.
//!
//! * Gradient (saliency, Simonyan et al. 2014) and gradient x input.
//! * Integrated gradients (Sundararajan et al., ICML 2017) from a baseline input. For a ReLU
//!   network the path `x0 + t (x - x0)` crosses each hidden unit's kink at most once, and the
//!   logit is linear between kinks, so the integral is computed exactly segment by segment:
//!   the completeness residual `sum(IG) - (z(x) - z(x0))` is float rounding only.
//! * Exact Shapley values over feature groups (Shapley 1953; Lundberg and Lee 2017): a group
//!   absent takes its baseline value; all `2^G` coalitions are evaluated.
//! * Occlusion: `z(x) - z(x with one group set to baseline)`.
//! * SmoothGrad (Smilkov et al. 2017): the gradient averaged over noisy copies
//!   `x + N(0, sigma^2 I)` of the input, drawn from a seeded PCG-32.

use rand::Rng;
use rand_pcg::Pcg32;
use whitebox_core::nn::Mlp;

/// Hidden pre-activations `w1 x + b1`, shape `[H]`, in f64 for the analysis.
fn pre_activations<const I: usize, const H: usize, const O: usize>(
    net: &Mlp<I, H, O>,
    x: &[f64],
) -> [f64; H] {
    std::array::from_fn(|j| {
        net.w1[j]
            .iter()
            .zip(x)
            .fold(f64::from(net.b1[j]), |acc, (w, xi)| {
                acc + f64::from(*w) * xi
            })
    })
}

/// The logit of output `a` at input `x` (f64 arithmetic on the f32 weights).
pub fn logit<const I: usize, const H: usize, const O: usize>(
    net: &Mlp<I, H, O>,
    x: &[f64],
    a: usize,
) -> f64 {
    let pre = pre_activations(net, x);
    net.w2[a]
        .iter()
        .zip(pre.iter())
        .fold(f64::from(net.b2[a]), |acc, (w, p)| {
            acc + f64::from(*w) * p.max(0.0)
        })
}

/// `d z_a / d x` for the given set of active hidden units, shape `[I]`.
fn gradient_for<const I: usize, const H: usize, const O: usize>(
    net: &Mlp<I, H, O>,
    active: &[bool; H],
    a: usize,
) -> Vec<f64> {
    let mut g = vec![0.0; I];
    for j in (0..H).filter(|&j| active[j]) {
        let w = f64::from(net.w2[a][j]);
        for (gi, &w1) in g.iter_mut().zip(net.w1[j].iter()) {
            *gi += w * f64::from(w1);
        }
    }
    g
}

/// The saliency map `d z_a / d x` at `x`, shape `[I]`.
pub fn gradient<const I: usize, const H: usize, const O: usize>(
    net: &Mlp<I, H, O>,
    x: &[f64],
    a: usize,
) -> Vec<f64> {
    let pre = pre_activations(net, x);
    gradient_for(net, &pre.map(|p| p > 0.0), a)
}

/// The chosen action's probability under the softmax over the allowed actions `valid` (f64),
/// and the saliency map of that probability, `d p_a / d x = p_a (d z_a / d x - sum_k p_k
/// d z_k / d x)` over allowed `k`, shape `[I]` (the softmax Jacobian times the logit
/// gradients). An action that is not allowed has probability 0 and a zero map.
pub fn probability_gradient<const I: usize, const H: usize, const O: usize>(
    net: &Mlp<I, H, O>,
    x: &[f64],
    valid: &[bool],
    a: usize,
) -> (f64, Vec<f64>) {
    let allowed: Vec<usize> = (0..O).filter(|&k| valid.get(k) == Some(&true)).collect();
    if !allowed.contains(&a) {
        return (0.0, vec![0.0; x.len()]);
    }
    let z: Vec<f64> = allowed.iter().map(|&k| logit(net, x, k)).collect();
    let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = z.iter().map(|v| (v - m).exp()).collect();
    let total: f64 = e.iter().sum();
    let p: Vec<f64> = e.iter().map(|v| v / total).collect();
    let pa = allowed.iter().position(|&k| k == a).map_or(0.0, |i| p[i]);
    let mut g: Vec<f64> = gradient(net, x, a).iter().map(|v| pa * v).collect();
    for (&k, &pk) in allowed.iter().zip(&p) {
        for (gi, dk) in g.iter_mut().zip(gradient(net, x, k)) {
            *gi -= pa * pk * dk;
        }
    }
    (pa, g)
}

/// A standard normal draw (Box-Muller on two uniforms from `rng`).
fn normal(rng: &mut Pcg32) -> f64 {
    // 1 - u is in (0, 1], so the logarithm is finite.
    let u: f64 = 1.0 - rng.random::<f64>();
    let v: f64 = rng.random::<f64>();
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// SmoothGrad: the mean of `d z_a / d x` over `n` copies of `x` with independent Gaussian noise
/// of standard deviation `sigma` (in input units) added to every input, shape `[I]`. With
/// `sigma = 0` it is the plain [`gradient`]; `n = 0` is treated as 1.
pub fn smoothgrad<const I: usize, const H: usize, const O: usize>(
    net: &Mlp<I, H, O>,
    x: &[f64],
    a: usize,
    n: usize,
    sigma: f64,
    rng: &mut Pcg32,
) -> Vec<f64> {
    let n = n.max(1);
    let mut sum = vec![0.0; x.len()];
    let mut noisy = x.to_vec();
    for _ in 0..n {
        for (v, &xi) in noisy.iter_mut().zip(x) {
            *v = xi + sigma * normal(rng);
        }
        for (s, g) in sum.iter_mut().zip(gradient(net, &noisy, a)) {
            *s += g;
        }
    }
    sum.iter().map(|s| s / n as f64).collect()
}

/// Exact integrated gradients of `z_a` from `baseline` to `x`, shape `[I]`.
pub fn integrated_gradients<const I: usize, const H: usize, const O: usize>(
    net: &Mlp<I, H, O>,
    x: &[f64],
    baseline: &[f64],
    a: usize,
) -> Vec<f64> {
    let p0 = pre_activations(net, baseline);
    let p1 = pre_activations(net, x);
    // Kinks: where a pre-activation crosses 0 along the straight path, t in (0, 1).
    let mut cuts: Vec<f64> = (0..H)
        .filter_map(|j| {
            let d = p1[j] - p0[j];
            let t = -p0[j] / d;
            (d != 0.0 && t > 0.0 && t < 1.0).then_some(t)
        })
        .collect();
    cuts.push(0.0);
    cuts.push(1.0);
    cuts.sort_by(f64::total_cmp);
    let mut ig = vec![0.0; I];
    for w in cuts.windows(2) {
        let (t0, t1) = (w[0], w[1]);
        if t1 <= t0 {
            continue;
        }
        let mid = 0.5 * (t0 + t1);
        let active: [bool; H] = std::array::from_fn(|j| p0[j] + mid * (p1[j] - p0[j]) > 0.0);
        let g = gradient_for(net, &active, a);
        for (i, v) in ig.iter_mut().enumerate() {
            *v += (t1 - t0) * g[i] * (x[i] - baseline[i]);
        }
    }
    ig
}

/// `x` with the features of the groups not in `coalition` (a bit mask) set to the baseline.
fn masked(x: &[f64], baseline: &[f64], groups: &[Vec<usize>], coalition: u32) -> Vec<f64> {
    let mut v = baseline.to_vec();
    for (g, idx) in groups.iter().enumerate() {
        if coalition & (1 << g) != 0 {
            for &i in idx {
                v[i] = x[i];
            }
        }
    }
    v
}

/// Exact Shapley values of `z_a` over `groups` (at most 20), baseline for absent groups.
///
/// The hidden pre-activations are affine in the input, so each group's contribution to them,
/// `w1 (x_g - x0_g)`, is computed once and a coalition's pre-activations are the baseline's
/// plus its members' contributions: `O(2^G * G * H)` work instead of `O(2^G * I * H)`.
pub fn shapley<const I: usize, const H: usize, const O: usize>(
    net: &Mlp<I, H, O>,
    x: &[f64],
    baseline: &[f64],
    groups: &[Vec<usize>],
    a: usize,
) -> Vec<f64> {
    let g = groups.len();
    assert!(
        g <= 20,
        "exact Shapley values over {g} groups is too costly"
    );
    let pre0 = pre_activations(net, baseline);
    let contrib: Vec<[f64; H]> = groups
        .iter()
        .map(|idx| {
            std::array::from_fn(|j| {
                idx.iter()
                    .map(|&i| f64::from(net.w1[j][i]) * (x[i] - baseline[i]))
                    .sum()
            })
        })
        .collect();
    let value: Vec<f64> = (0..1u32 << g)
        .map(|s| {
            let mut pre = pre0;
            for (k, c) in contrib.iter().enumerate() {
                if s & (1 << k) != 0 {
                    pre.iter_mut().zip(c).for_each(|(p, v)| *p += v);
                }
            }
            net.w2[a]
                .iter()
                .zip(pre.iter())
                .fold(f64::from(net.b2[a]), |acc, (w, p)| {
                    acc + f64::from(*w) * p.max(0.0)
                })
        })
        .collect();
    // Weight of a coalition of size s not containing the player: s! (g - s - 1)! / g!.
    let fact = |n: usize| (1..=n).map(|k| k as f64).product::<f64>();
    let weight: Vec<f64> = (0..g)
        .map(|s| fact(s) * fact(g - s - 1) / fact(g))
        .collect();
    (0..g)
        .map(|p| {
            (0..1u32 << g)
                .filter(|s| s & (1 << p) == 0)
                .map(|s| {
                    weight[s.count_ones() as usize]
                        * (value[(s | 1 << p) as usize] - value[s as usize])
                })
                .sum()
        })
        .collect()
}

/// Occlusion per group: `z_a(x) - z_a(x with the group at baseline)`.
pub fn occlusion<const I: usize, const H: usize, const O: usize>(
    net: &Mlp<I, H, O>,
    x: &[f64],
    baseline: &[f64],
    groups: &[Vec<usize>],
    a: usize,
) -> Vec<f64> {
    let full = logit(net, x, a);
    let all = (1u32 << groups.len()) - 1;
    (0..groups.len())
        .map(|g| full - logit(net, &masked(x, baseline, groups, all & !(1 << g)), a))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_pcg::Pcg32;

    fn random_net() -> Box<Mlp<6, 5, 3>> {
        let mut rng = Pcg32::seed_from_u64(11);
        let mut net = Box::new(Mlp::<6, 5, 3>::zeroed());
        for p in net.params_mut() {
            *p = rng.random_range(-1.0..1.0);
        }
        net
    }

    #[test]
    fn gradient_matches_central_differences() {
        let net = random_net();
        let x = [0.3, 0.9, 0.1, 0.5, 0.7, 0.2];
        let g = gradient(&net, &x, 1);
        for i in 0..6 {
            let (mut up, mut down) = (x, x);
            up[i] += 1e-6;
            down[i] -= 1e-6;
            let fd = (logit(&net, &up, 1) - logit(&net, &down, 1)) / 2e-6;
            assert!(
                (g[i] - fd).abs() < 1e-6 * fd.abs().max(1.0),
                "{i}: {} vs {fd}",
                g[i]
            );
        }
    }

    #[test]
    fn probability_gradient_matches_central_differences() {
        let net = random_net();
        let x = [0.3, 0.9, 0.1, 0.5, 0.7, 0.2];
        // Action 2 masked: the softmax runs over actions 0 and 1 only.
        let valid = [true, true, false];
        let (p, g) = probability_gradient(&net, &x, &valid, 1);
        let prob = |x: &[f64]| {
            let (z0, z1) = (logit(&net, x, 0), logit(&net, x, 1));
            1.0 / (1.0 + (z0 - z1).exp())
        };
        assert!((p - prob(&x)).abs() < 1e-12, "{p}");
        for i in 0..6 {
            let (mut up, mut down) = (x, x);
            up[i] += 1e-6;
            down[i] -= 1e-6;
            let fd = (prob(&up) - prob(&down)) / 2e-6;
            assert!((g[i] - fd).abs() < 1e-6, "{i}: {} vs {fd}", g[i]);
        }
        assert_eq!(
            probability_gradient(&net, &x, &valid, 2),
            (0.0, vec![0.0; 6])
        );
    }

    #[test]
    fn smoothgrad_without_noise_is_the_gradient_and_with_noise_is_seeded() {
        let net = random_net();
        let x = [0.3, 0.9, 0.1, 0.5, 0.7, 0.2];
        let g = gradient(&net, &x, 2);
        let sg = smoothgrad(&net, &x, 2, 7, 0.0, &mut Pcg32::seed_from_u64(1));
        for (a, b) in g.iter().zip(&sg) {
            assert!((a - b).abs() <= 1e-12 * a.abs().max(1.0), "{g:?} vs {sg:?}");
        }
        let noisy = |seed| smoothgrad(&net, &x, 2, 50, 0.3, &mut Pcg32::seed_from_u64(seed));
        assert_eq!(noisy(5), noisy(5));
        // The mean of gradients equals the average over the same draws done by hand.
        let mut rng = Pcg32::seed_from_u64(9);
        let mut want = [0.0; 6];
        for _ in 0..4 {
            let p: Vec<f64> = x.iter().map(|&v| v + 0.3 * normal(&mut rng)).collect();
            for (w, gi) in want.iter_mut().zip(gradient(&net, &p, 2)) {
                *w += gi / 4.0;
            }
        }
        let got = smoothgrad(&net, &x, 2, 4, 0.3, &mut Pcg32::seed_from_u64(9));
        for (a, b) in want.iter().zip(&got) {
            assert!((a - b).abs() < 1e-12);
        }
    }

    #[test]
    fn integrated_gradients_complete_and_match_a_fine_riemann_sum() {
        let net = random_net();
        let x = [0.3, 0.9, 0.1, 0.5, 0.7, 0.2];
        let x0 = [0.0; 6];
        for a in 0..3 {
            let ig = integrated_gradients(&net, &x, &x0, a);
            let delta = logit(&net, &x, a) - logit(&net, &x0, a);
            assert!((ig.iter().sum::<f64>() - delta).abs() < 1e-9);
            // An independent midpoint Riemann sum with many steps agrees.
            let steps = 20_000;
            let mut riemann = [0.0; 6];
            for k in 0..steps {
                let t = (k as f64 + 0.5) / steps as f64;
                let p: Vec<f64> = (0..6).map(|i| x0[i] + t * (x[i] - x0[i])).collect();
                let g = gradient(&net, &p, a);
                for i in 0..6 {
                    riemann[i] += g[i] * (x[i] - x0[i]) / steps as f64;
                }
            }
            for i in 0..6 {
                assert!(
                    (ig[i] - riemann[i]).abs() < 1e-3,
                    "{a} {i}: {} vs {}",
                    ig[i],
                    riemann[i]
                );
            }
        }
    }

    #[test]
    fn shapley_is_efficient_and_exact_for_an_additive_case() {
        let net = random_net();
        let x = [0.3, 0.9, 0.1, 0.5, 0.7, 0.2];
        let x0 = [0.1; 6];
        let groups = vec![vec![0, 1], vec![2], vec![3, 4, 5]];
        let phi = shapley(&net, &x, &x0, &groups, 0);
        let delta = logit(&net, &x, 0) - logit(&net, &x0, 0);
        assert!((phi.iter().sum::<f64>() - delta).abs() < 1e-9);
        // With two groups, by hand: phi_0 = ((v(0) - v()) + (v(01) - v(1))) / 2.
        let two = vec![vec![0, 1, 2], vec![3, 4, 5]];
        let phi = shapley(&net, &x, &x0, &two, 2);
        let v = |s: u32| logit(&net, &masked(&x, &x0, &two, s), 2);
        let hand = 0.5 * ((v(1) - v(0)) + (v(3) - v(2)));
        assert!((phi[0] - hand).abs() < 1e-12);
    }
}
