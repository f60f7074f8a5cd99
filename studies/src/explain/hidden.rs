//! What the hidden layer encodes: each hidden unit's Pearson correlation with interpretable
//! features of the cluster state, linear probes from the hidden activations to those features,
//! and which units drive each action.
//!
//! The features are computed from the [`Cluster`] itself at each explained decision, never from
//! the encoder's output, so a correlation says what a unit tracks in the operator's terms.
//! A probe is an ordinary least-squares fit `f ~ c + sum_j beta_j h_j` (all units and a bias),
//! solved by the normal equations with a Cholesky factorization. Its R^2 is reported held out,
//! by 5-fold cross-validation: the decisions are shuffled (seeded PCG-32) into 5 folds, each fold
//! is predicted by the probe fitted on the other four (80%), and the R^2 pools the 5 held-out
//! predictions. Consecutive decisions of one episode are alike, so folds of whole blocks in
//! decision order would each cover only one or two job sets and give erratic R^2 values.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_pcg::Pcg32;
use serde::Serialize;
use whitebox_core::nn::Mlp;
use whitebox_core::spec::{HORIZON, NUM_RES, RES_UNITS};
use whitebox_core::Cluster;

/// Cross-validation folds of the probes: each fit uses 80% of the decisions.
pub const FOLDS: usize = 5;

/// Seed of the shuffle that assigns decisions to folds.
pub const FOLD_SEED: u64 = 77;

/// Names of the interpretable features for `m` job slots, in the order of [`features`].
pub fn feature_names(m: usize) -> Vec<String> {
    let mut names = Vec::new();
    for r in 0..NUM_RES {
        names.push(format!("util now res{r}"));
    }
    for r in 0..NUM_RES {
        names.push(format!("util mean res{r}"));
    }
    names.push("shortest slot job len".into());
    names.push("slot jobs fitting now".into());
    names.push("backlog len".into());
    for j in 0..m {
        names.push(format!("slot {j} len"));
    }
    names.push("since last job".into());
    names
}

/// The interpretable features of `c` (see [`feature_names`]): utilization (used share of each
/// resource) in the current step and averaged over the horizon, the shortest length among jobs in
/// the slots (NaN when the slots are empty, so such decisions are left out for that feature), the
/// number of slot jobs that fit now, the backlog length, each slot's job length (0 when empty) and
/// the time steps since the last job arrived.
pub fn features<const M: usize>(c: &Cluster<M>) -> Vec<f64> {
    let units = f64::from(RES_UNITS);
    let used = |free: u8| f64::from(RES_UNITS.saturating_sub(free)) / units;
    let mut f = Vec::with_capacity(feature_names(M).len());
    for r in 0..NUM_RES {
        f.push(used(c.avbl()[0][r]));
    }
    for r in 0..NUM_RES {
        f.push(c.avbl().iter().map(|row| used(row[r])).sum::<f64>() / HORIZON as f64);
    }
    let jobs = || c.slots().iter().flatten();
    f.push(
        jobs()
            .map(|j| f64::from(j.len))
            .reduce(f64::min)
            .unwrap_or(f64::NAN),
    );
    f.push(jobs().filter(|j| c.fits_now(j)).count() as f64);
    f.push(c.backlog_len() as f64);
    for s in c.slots() {
        f.push(s.map_or(0.0, |j| f64::from(j.len)));
    }
    f.push(f64::from(c.since_last_new()));
    f
}

/// The hidden activations `relu(w1 x + b1)` at `x` (f64 arithmetic on the f32 weights).
pub fn activations<const I: usize, const H: usize, const O: usize>(
    net: &Mlp<I, H, O>,
    x: &[f64],
) -> Vec<f64> {
    (0..H)
        .map(|j| {
            net.w1[j]
                .iter()
                .zip(x)
                .fold(f64::from(net.b1[j]), |acc, (w, xi)| {
                    acc + f64::from(*w) * xi
                })
                .max(0.0)
        })
        .collect()
}

/// Pearson correlation of the pairs where both values are finite; `None` with fewer than 3 such
/// pairs or when either side is constant on them.
pub fn pearson(x: &[f64], y: &[f64]) -> Option<f64> {
    let pairs: Vec<(f64, f64)> = x
        .iter()
        .zip(y)
        .filter(|(a, b)| a.is_finite() && b.is_finite())
        .map(|(&a, &b)| (a, b))
        .collect();
    if pairs.len() < 3 {
        return None;
    }
    let n = pairs.len() as f64;
    let (mx, my) = pairs
        .iter()
        .fold((0.0, 0.0), |(sx, sy), (a, b)| (sx + a / n, sy + b / n));
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in &pairs {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    // Relative tolerance: a constant column can leave rounding noise in its variance.
    let tiny = |s: f64, m: f64| s <= 1e-24 * n * (1.0 + m * m);
    if tiny(sxx, mx) || tiny(syy, my) {
        return None;
    }
    Some((sxy / (sxx.sqrt() * syy.sqrt())).clamp(-1.0, 1.0))
}

/// Solves `a x = b` for a symmetric positive definite `a` (row-major, `n x n`) by Cholesky
/// factorization; `None` when `a` is not positive definite.
pub fn cholesky_solve(a: &[Vec<f64>], b: &[f64]) -> Option<Vec<f64>> {
    let n = b.len();
    let mut l = vec![vec![0.0; n]; n];
    for i in 0..n {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[i][k] * l[j][k]).sum();
            if i == j {
                let d = a[i][i] - s;
                if d <= 0.0 || !d.is_finite() {
                    return None;
                }
                l[i][i] = d.sqrt();
            } else {
                l[i][j] = (a[i][j] - s) / l[j][j];
            }
        }
    }
    // L y = b, then L^T x = y.
    let mut y = vec![0.0; n];
    for i in 0..n {
        y[i] = (b[i] - (0..i).map(|k| l[i][k] * y[k]).sum::<f64>()) / l[i][i];
    }
    let mut x = vec![0.0; n];
    for i in (0..n).rev() {
        x[i] = (y[i] - (i + 1..n).map(|k| l[k][i] * x[k]).sum::<f64>()) / l[i][i];
    }
    Some(x)
}

/// Least-squares coefficients of `y ~ rows * beta + bias` (the bias last). Columns that are
/// constant (dead units) would make the normal equations singular, so a ridge of `1e-10` times
/// the largest diagonal entry is added; it changes a well-posed fit only at rounding level.
pub fn least_squares(rows: &[&[f64]], y: &[f64]) -> Option<Vec<f64>> {
    let p = rows.first()?.len() + 1;
    let mut a = vec![vec![0.0; p]; p];
    let mut b = vec![0.0; p];
    // The full (symmetric) normal matrix X^T X and X^T y, with the bias as the last column.
    for (row, &t) in rows.iter().zip(y) {
        let z = |k: usize| if k + 1 == p { 1.0 } else { row[k] };
        for (i, (ai, bi)) in a.iter_mut().zip(b.iter_mut()).enumerate() {
            *bi += z(i) * t;
            for (j, aij) in ai.iter_mut().enumerate() {
                *aij += z(i) * z(j);
            }
        }
    }
    let ridge = 1e-10 * (0..p).map(|i| a[i][i]).fold(0.0, f64::max).max(1e-300);
    for (i, r) in a.iter_mut().enumerate() {
        r[i] += ridge;
    }
    cholesky_solve(&a, &b)
}

/// `1 - SS_res / SS_tot` of `predicted` against `actual`; `None` for fewer than 2 values or a
/// constant `actual`.
pub fn r_squared(actual: &[f64], predicted: &[f64]) -> Option<f64> {
    if actual.len() < 2 {
        return None;
    }
    let mean = actual.iter().sum::<f64>() / actual.len() as f64;
    let tot: f64 = actual.iter().map(|v| (v - mean) * (v - mean)).sum();
    let res: f64 = actual
        .iter()
        .zip(predicted)
        .map(|(v, p)| (v - p) * (v - p))
        .sum();
    (tot > 1e-24 * actual.len() as f64 * (1.0 + mean * mean)).then(|| 1.0 - res / tot)
}

/// One hidden unit over the explained decisions.
#[derive(Clone, Debug, Serialize)]
pub struct UnitSummary {
    /// Unit index.
    pub unit: usize,
    /// Share of decisions where the unit is active (positive).
    pub active_share: f64,
    /// Mean activation.
    pub mean_activation: f64,
    /// Pearson correlation with each feature (`null`: undefined, e.g. a unit that never fires).
    pub correlations: Vec<Option<f64>>,
}

/// A linear probe from the hidden layer to one feature.
#[derive(Clone, Debug, Serialize)]
pub struct Probe {
    /// Feature name.
    pub feature: String,
    /// Decisions used (those where the feature is undefined are left out).
    pub n: usize,
    /// R^2 of the probe fitted on all of them, on them (in-sample).
    pub r2_fit: Option<f64>,
    /// Pooled R^2 of the cross-validated held-out predictions.
    pub r2_held_out: Option<f64>,
}

/// A unit's mean contribution `w2[a][j] * h_j` to an action's logit.
#[derive(Clone, Debug, Serialize)]
pub struct UnitContribution {
    /// Unit index.
    pub unit: usize,
    /// Mean over the decisions where the action was chosen.
    pub mean_contribution: f64,
}

/// The units that drive one action.
#[derive(Clone, Debug, Serialize)]
pub struct ActionUnits {
    /// Output index (`M` is void).
    pub action: usize,
    /// `slot j` or `void`.
    pub label: String,
    /// Decisions where it was chosen.
    pub decisions: usize,
    /// Its output bias.
    pub bias: f64,
    /// The three units with the largest mean |contribution|, largest first.
    pub top_units: Vec<UnitContribution>,
}

/// The hidden-layer analysis.
#[derive(Clone, Debug, Serialize)]
pub struct HiddenReport {
    /// Feature names, in column order.
    pub features: Vec<String>,
    /// Per unit, with its correlations (units x features).
    pub units: Vec<UnitSummary>,
    /// How the probes were split.
    pub probe_split: String,
    /// One probe per feature.
    pub probes: Vec<Probe>,
    /// Per action that was chosen at least once.
    pub actions: Vec<ActionUnits>,
}

/// Analyses `hidden` (per decision, the `H` activations) against `features` (per decision, one
/// value per name; NaN for undefined), with `actions` the chosen output per decision and `w2`,
/// `b2` the output layer (`[O][H]`, `[O]`). Action `k < O - 1` is labelled `slot k`, the last
/// `void`.
pub fn analyse(
    hidden: &[Vec<f64>],
    features: &[Vec<f64>],
    names: &[String],
    actions: &[usize],
    w2: &[Vec<f64>],
    b2: &[f64],
) -> HiddenReport {
    let n = hidden.len();
    let h = hidden.first().map_or(0, Vec::len);
    let column = |rows: &[Vec<f64>], k: usize| -> Vec<f64> {
        rows.iter()
            .map(|r| r.get(k).copied().unwrap_or(f64::NAN))
            .collect()
    };
    let units = (0..h)
        .map(|j| {
            let hj = column(hidden, j);
            UnitSummary {
                unit: j,
                active_share: hj.iter().filter(|&&v| v > 0.0).count() as f64 / n.max(1) as f64,
                mean_activation: hj.iter().sum::<f64>() / n.max(1) as f64,
                correlations: (0..names.len())
                    .map(|k| pearson(&hj, &column(features, k)))
                    .collect(),
            }
        })
        .collect();
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut Pcg32::seed_from_u64(FOLD_SEED));
    let mut fold = vec![0; n];
    for (pos, &i) in order.iter().enumerate() {
        fold[i] = pos % FOLDS;
    }
    let predict = |row: &[f64], beta: &[f64]| -> f64 {
        row.iter().zip(beta).map(|(x, b)| x * b).sum::<f64>() + beta.last().copied().unwrap_or(0.0)
    };
    let probes = names
        .iter()
        .enumerate()
        .map(|(k, name)| {
            let usable: Vec<usize> = (0..n)
                .filter(|&i| features[i].get(k).is_some_and(|v| v.is_finite()))
                .collect();
            let fit = |rows: &[usize]| -> Option<Vec<f64>> {
                let x: Vec<&[f64]> = rows.iter().map(|&i| hidden[i].as_slice()).collect();
                let y: Vec<f64> = rows.iter().map(|&i| features[i][k]).collect();
                (rows.len() > h + 1)
                    .then(|| least_squares(&x, &y))
                    .flatten()
            };
            let actual: Vec<f64> = usable.iter().map(|&i| features[i][k]).collect();
            let r2_fit = fit(&usable).and_then(|beta| {
                let p: Vec<f64> = usable.iter().map(|&i| predict(&hidden[i], &beta)).collect();
                r_squared(&actual, &p)
            });
            let mut held_out = vec![f64::NAN; n];
            for f in 0..FOLDS {
                let train: Vec<usize> = usable.iter().copied().filter(|&i| fold[i] != f).collect();
                if let Some(beta) = fit(&train) {
                    for &i in usable.iter().filter(|&&i| fold[i] == f) {
                        held_out[i] = predict(&hidden[i], &beta);
                    }
                }
            }
            let p: Vec<f64> = usable.iter().map(|&i| held_out[i]).collect();
            Probe {
                feature: name.clone(),
                n: usable.len(),
                r2_fit,
                r2_held_out: if p.iter().all(|v| v.is_finite()) {
                    r_squared(&actual, &p)
                } else {
                    None
                },
            }
        })
        .collect();
    let outputs = w2.len();
    let actions = (0..outputs)
        .filter_map(|a| {
            let chosen: Vec<&Vec<f64>> = hidden
                .iter()
                .zip(actions)
                .filter(|(_, &c)| c == a)
                .map(|(hd, _)| hd)
                .collect();
            if chosen.is_empty() {
                return None;
            }
            let mut contrib: Vec<UnitContribution> = (0..h)
                .map(|j| UnitContribution {
                    unit: j,
                    mean_contribution: chosen.iter().map(|hd| w2[a][j] * hd[j]).sum::<f64>()
                        / chosen.len() as f64,
                })
                .collect();
            contrib.sort_by(|x, y| {
                y.mean_contribution
                    .abs()
                    .total_cmp(&x.mean_contribution.abs())
            });
            contrib.truncate(3);
            Some(ActionUnits {
                action: a,
                label: if a + 1 == outputs {
                    "void".into()
                } else {
                    format!("slot {a}")
                },
                decisions: chosen.len(),
                bias: b2.get(a).copied().unwrap_or(0.0),
                top_units: contrib,
            })
        })
        .collect();
    HiddenReport {
        features: names.to_vec(),
        units,
        probe_split: format!(
            "held-out R^2 by {FOLDS}-fold cross-validation over {n} decisions (each fold \
             predicted by the probe fitted on the other 80%, folds shuffled with seed {FOLD_SEED})"
        ),
        probes,
        actions,
    }
}

/// The analysis for `net` on `obs` (the encoded inputs) and `features` per decision.
pub fn analyse_net<const I: usize, const H: usize, const O: usize>(
    net: &Mlp<I, H, O>,
    obs: &[&[f64]],
    features: &[Vec<f64>],
    names: &[String],
    actions: &[usize],
) -> HiddenReport {
    let hidden: Vec<Vec<f64>> = obs.iter().map(|x| activations(net, x)).collect();
    let w2: Vec<Vec<f64>> = net
        .w2
        .iter()
        .map(|r| r.iter().map(|&w| f64::from(w)).collect())
        .collect();
    let b2: Vec<f64> = net.b2.iter().map(|&b| f64::from(b)).collect();
    analyse(&hidden, features, names, actions, &w2, &b2)
}

/// A plain-text summary: per unit its strongest correlations, probe R^2 per feature and the units
/// behind each action.
pub fn text(r: &HiddenReport) -> String {
    let mut out = String::from("hidden units (ReLU activations over the explained decisions):\n");
    out += "  unit active  strongest correlations (Pearson r)\n";
    for u in &r.units {
        let mut c: Vec<(usize, f64)> = u
            .correlations
            .iter()
            .enumerate()
            .filter_map(|(k, v)| v.map(|v| (k, v)))
            .collect();
        c.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
        let top: Vec<String> = c
            .iter()
            .take(3)
            .map(|(k, v)| format!("{} {:+.2}", r.features[*k], v))
            .collect();
        let top = if top.is_empty() {
            "(never active: no correlation)".to_string()
        } else {
            top.join(", ")
        };
        out += &format!(
            "  h{:<3} {:>5.1}%  {}\n",
            u.unit,
            100.0 * u.active_share,
            top
        );
    }
    out += &format!(
        "linear probes, {} units + bias -> feature; {}:\n",
        r.units.len(),
        r.probe_split
    );
    let r2 = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.3}"));
    for p in &r.probes {
        out += &format!(
            "  {:<22} R^2 held out {:>6}  (in-sample {:>6}, n {})\n",
            p.feature,
            r2(p.r2_held_out),
            r2(p.r2_fit),
            p.n
        );
    }
    out += "units driving each chosen action (mean w2[a][j] * h_j where a was chosen):\n";
    for a in &r.actions {
        let units: Vec<String> = a
            .top_units
            .iter()
            .map(|u| format!("h{} {:+.3}", u.unit, u.mean_contribution))
            .collect();
        out += &format!(
            "  {:<8} ({} decisions, bias {:+.3}): {}\n",
            a.label,
            a.decisions,
            a.bias,
            units.join(", ")
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_pcg::Pcg32;

    #[test]
    fn pearson_matches_hand_computed_values() {
        // x = 1, 2, 3, 4; y = 2, 4, 5, 9: means 2.5 and 5, sxy = 11, sxx = 5, syy = 26.
        let r = pearson(&[1.0, 2.0, 3.0, 4.0], &[2.0, 4.0, 5.0, 9.0]).unwrap_or(f64::NAN);
        assert!((r - 11.0 / (5.0f64 * 26.0).sqrt()).abs() < 1e-12, "{r}");
        assert_eq!(
            pearson(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]).map(|v| v.round()),
            Some(-1.0)
        );
        // NaN pairs are left out; a constant side has no correlation.
        let r = pearson(&[1.0, 2.0, f64::NAN, 3.0], &[2.0, 4.0, 0.0, 6.0]).unwrap_or(0.0);
        assert!((r - 1.0).abs() < 1e-12);
        assert_eq!(pearson(&[0.0; 5], &[1.0, 2.0, 3.0, 4.0, 5.0]), None);
    }

    #[test]
    fn cholesky_solves_a_small_system() {
        let a = vec![
            vec![4.0, 2.0, 0.4],
            vec![2.0, 5.0, 1.0],
            vec![0.4, 1.0, 3.0],
        ];
        let x = [1.0, -2.0, 0.5];
        let b: Vec<f64> = a
            .iter()
            .map(|r| r.iter().zip(&x).map(|(p, q)| p * q).sum())
            .collect();
        let got = cholesky_solve(&a, &b).unwrap_or_default();
        for (g, w) in got.iter().zip(&x) {
            assert!((g - w).abs() < 1e-12, "{got:?}");
        }
        assert!(cholesky_solve(&[vec![1.0, 2.0], vec![2.0, 1.0]], &[1.0, 1.0]).is_none());
    }

    /// Three units over 200 decisions: unit 0 and 1 random, unit 2 dead (always 0). Feature 0 is
    /// exactly `3 h0 - 1`, feature 1 independent noise, feature 2 `h1` with some NaNs.
    fn synthetic() -> (Vec<Vec<f64>>, Vec<Vec<f64>>) {
        let mut rng = Pcg32::seed_from_u64(3);
        let mut hidden = Vec::new();
        let mut feats = Vec::new();
        for i in 0..200 {
            let h = vec![rng.random_range(0.0..2.0), rng.random_range(0.0..1.0), 0.0];
            let f2 = if i % 7 == 0 { f64::NAN } else { h[1] };
            feats.push(vec![3.0 * h[0] - 1.0, rng.random_range(0.0..1.0), f2]);
            hidden.push(h);
        }
        (hidden, feats)
    }

    #[test]
    fn probes_and_correlations_on_a_synthetic_case() {
        let (hidden, feats) = synthetic();
        let names: Vec<String> = ["lin", "noise", "copy"].map(String::from).to_vec();
        let actions: Vec<usize> = (0..200).map(|i| i % 2).collect();
        let w2 = vec![vec![1.0, -2.0, 5.0], vec![0.5, 0.0, 1.0]];
        let r = analyse(&hidden, &feats, &names, &actions, &w2, &[0.1, 0.2]);
        // Correlations: exact for the linear feature, undefined for the dead unit.
        assert!((r.units[0].correlations[0].unwrap_or(0.0) - 1.0).abs() < 1e-12);
        assert!(r.units[0].correlations[1].unwrap_or(1.0).abs() < 0.2);
        assert!((r.units[1].correlations[2].unwrap_or(0.0) - 1.0).abs() < 1e-12);
        assert_eq!(r.units[2].correlations, vec![None, None, None]);
        assert_eq!(r.units[2].active_share, 0.0);
        // Probes: R^2 = 1 for an exact linear function, about 0 (or below) for noise.
        assert_eq!(r.probes[0].n, 200);
        assert!((r.probes[0].r2_held_out.unwrap_or(0.0) - 1.0).abs() < 1e-9);
        assert!((r.probes[0].r2_fit.unwrap_or(0.0) - 1.0).abs() < 1e-9);
        assert!((r.probes[2].r2_held_out.unwrap_or(0.0) - 1.0).abs() < 1e-9);
        assert_eq!(r.probes[2].n, 200 - 29);
        let noise = r.probes[1].r2_held_out.unwrap_or(1.0);
        assert!(noise < 0.1, "{noise}");
        assert!(r.probes[1].r2_fit.unwrap_or(1.0) < 0.1);
        // Action 0: contributions 1 * mean(h0), -2 * mean(h1), 0 for the dead unit.
        let chosen: Vec<&Vec<f64>> = hidden.iter().step_by(2).collect();
        let mean = |j: usize| chosen.iter().map(|h| h[j]).sum::<f64>() / chosen.len() as f64;
        let a0 = &r.actions[0];
        assert_eq!(a0.decisions, 100);
        let want = [(0, mean(0)), (1, -2.0 * mean(1))];
        let mut want = want.to_vec();
        want.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
        assert_eq!(a0.top_units[0].unit, want[0].0);
        assert!((a0.top_units[0].mean_contribution - want[0].1).abs() < 1e-12);
        assert_eq!(a0.top_units[2].unit, 2);
        assert_eq!(r.actions[1].label, "void");
    }

    #[test]
    fn features_of_a_cluster() {
        use whitebox_core::cluster::Action;
        use whitebox_core::Job;
        let mut c = Cluster::<5>::new();
        let job = |id, len, res| Job {
            id,
            arrival: 0,
            len,
            res,
        };
        assert!(c.submit(job(0, 4, [6, 2])).is_ok());
        assert!(c.submit(job(1, 3, [5, 1])).is_ok());
        c.step(Action::Schedule(0));
        let f = features(&c);
        let names = feature_names(5);
        assert_eq!(f.len(), names.len());
        let get = |n: &str| f[names.iter().position(|x| x == n).unwrap_or(usize::MAX)];
        assert_eq!(get("util now res0"), 0.6);
        assert_eq!(get("util now res1"), 0.2);
        assert!((get("util mean res0") - 0.6 * 4.0 / 20.0).abs() < 1e-12);
        assert_eq!(get("shortest slot job len"), 3.0);
        // The 5-unit job does not fit beside the 6-unit one now.
        assert_eq!(get("slot jobs fitting now"), 0.0);
        assert_eq!(get("slot 0 len"), 0.0);
        assert_eq!(get("slot 1 len"), 3.0);
        assert!(features(&Cluster::<5>::new())[4].is_nan());
    }
}
