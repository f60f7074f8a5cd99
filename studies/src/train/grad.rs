//! Gradients of the policy network, derived by hand for the one-hidden-layer ReLU [`Mlp`].
//!
//! With `pre = w1 x + b1`, `h = relu(pre)`, `z = w2 h + b2` (the logits) and an upstream
//! gradient `g = dL/dz`:
//! `dL/dw2[k][j] = g[k] h[j]`, `dL/db2[k] = g[k]`, `dL/dh[j] = sum_k g[k] w2[k][j]`,
//! `dL/dpre[j] = dL/dh[j] * [pre[j] > 0]` (taken as `[h[j] > 0]`), `dL/dw1[j][i] = dL/dpre[j] x[i]`,
//! `dL/db1[j] = dL/dpre[j]`. Checked against central finite differences in the tests.

use whitebox_core::nn::Mlp;

/// Adds to `grad` the gradient of `sum_k g[k] * z[k]` with respect to every parameter, at the
/// input `x` (shape `[I]`) whose hidden activations are `h` (shape `[H]`).
pub fn backprop<const I: usize, const H: usize, const O: usize>(
    net: &Mlp<I, H, O>,
    x: &[f32; I],
    h: &[f32; H],
    g: &[f32; O],
    grad: &mut Mlp<I, H, O>,
) {
    let mut dh = [0.0f32; H];
    for (k, &gk) in g.iter().enumerate() {
        if gk == 0.0 {
            continue;
        }
        grad.b2[k] += gk;
        for j in 0..H {
            grad.w2[k][j] += gk * h[j];
            dh[j] += gk * net.w2[k][j];
        }
    }
    for j in 0..H {
        if h[j] <= 0.0 || dh[j] == 0.0 {
            continue;
        }
        let d = dh[j];
        grad.b1[j] += d;
        for (gw, &xi) in grad.w1[j].iter_mut().zip(x.iter()) {
            *gw += d * xi;
        }
    }
}

/// `d log p[a] / dz` under the masked softmax: `[k == a] - p[k]` for allowed `k`, 0 otherwise
/// (masked probabilities are 0 already).
pub fn dlog_prob<const O: usize>(probs: &[f32; O], action: usize) -> [f32; O] {
    let mut g = probs.map(|p| -p);
    if let Some(ga) = g.get_mut(action) {
        *ga += 1.0;
    }
    g
}

/// Entropy `H(p) = -sum p log p` (nats) and its gradient with respect to the logits,
/// `dH/dz[k] = -p[k] (log p[k] + H)`; zero-probability (masked) entries contribute nothing.
pub fn entropy_grad<const O: usize>(probs: &[f32; O]) -> (f32, [f32; O]) {
    let logp = probs.map(|p| if p > 0.0 { p.ln() } else { 0.0 });
    let h: f32 = -probs
        .iter()
        .zip(logp.iter())
        .map(|(p, l)| p * l)
        .sum::<f32>();
    let mut g = [0.0f32; O];
    for ((gk, &p), &l) in g.iter_mut().zip(probs.iter()).zip(logp.iter()) {
        *gk = -p * (l + h);
    }
    (h, g)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_pcg::Pcg32;
    use whitebox_core::nn::masked_softmax;

    const I: usize = 7;
    const H: usize = 5;
    const O: usize = 4;

    /// The loss log p[a] + beta * H(p), computed independently in f64 from the f32 weights.
    fn loss_f64(w: &[f64], x: &[f64; I], valid: &[bool; O], a: usize, beta: f64) -> f64 {
        let (w1, rest) = w.split_at(H * I);
        let (b1, rest) = rest.split_at(H);
        let (w2, b2) = rest.split_at(O * H);
        let h: Vec<f64> = (0..H)
            .map(|j| (b1[j] + (0..I).map(|i| w1[j * I + i] * x[i]).sum::<f64>()).max(0.0))
            .collect();
        let z: Vec<f64> = (0..O)
            .map(|k| b2[k] + (0..H).map(|j| w2[k * H + j] * h[j]).sum::<f64>())
            .collect();
        let max = (0..O)
            .filter(|&k| valid[k])
            .map(|k| z[k])
            .fold(f64::MIN, f64::max);
        let e: Vec<f64> = (0..O)
            .map(|k| if valid[k] { (z[k] - max).exp() } else { 0.0 })
            .collect();
        let s: f64 = e.iter().sum();
        let p: Vec<f64> = e.iter().map(|v| v / s).collect();
        let ent: f64 = -p
            .iter()
            .filter(|&&v| v > 0.0)
            .map(|v| v * v.ln())
            .sum::<f64>();
        p[a].ln() + beta * ent
    }

    #[test]
    fn gradients_match_central_finite_differences() {
        let mut rng = Pcg32::seed_from_u64(7);
        let mut worst = 0.0f64;
        for trial in 0..20 {
            let mut net = Mlp::<I, H, O>::zeroed();
            for p in net.params_mut() {
                *p = rng.random_range(-1.0..1.0);
            }
            let x: [f32; I] = std::array::from_fn(|_| rng.random_range(0.0..1.0));
            let valid = [true, trial % 2 == 0, true, true];
            let a = 2;
            let beta = 0.1;
            let (mut h, mut z, mut p) = ([0.0; H], [0.0; O], [0.0; O]);
            net.forward(&x, &mut h, &mut z);
            assert!(masked_softmax(&z, &valid, &mut p));
            let (_, ge) = entropy_grad(&p);
            let gl = dlog_prob(&p, a);
            let g: [f32; O] = std::array::from_fn(|k| gl[k] + beta as f32 * ge[k]);
            let mut grad = Mlp::<I, H, O>::zeroed();
            backprop(&net, &x, &h, &g, &mut grad);

            let w: Vec<f64> = net.params().map(|&v| f64::from(v)).collect();
            let x64 = x.map(f64::from);
            let eps = 1e-5;
            for (idx, &analytic) in grad.params().enumerate() {
                let (mut up, mut down) = (w.clone(), w.clone());
                up[idx] += eps;
                down[idx] -= eps;
                let numeric = (loss_f64(&up, &x64, &valid, a, beta)
                    - loss_f64(&down, &x64, &valid, a, beta))
                    / (2.0 * eps);
                let err = (f64::from(analytic) - numeric).abs() / numeric.abs().max(1e-2);
                worst = worst.max(err);
            }
        }
        assert!(worst < 1e-3, "max relative error {worst}");
    }

    #[test]
    fn entropy_of_uniform_is_ln_n() {
        let (h, g) = entropy_grad(&[0.25f32; 4]);
        assert!((h - 4f32.ln()).abs() < 1e-6);
        // At the uniform distribution the entropy is maximal: zero gradient.
        assert!(g.iter().all(|v| v.abs() < 1e-6));
    }
}
