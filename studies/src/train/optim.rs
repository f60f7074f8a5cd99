//! Gradient-ascent optimizers over a network's parameters, in [`Mlp::params`] order.

use serde::{Deserialize, Serialize};
use whitebox_core::nn::Mlp;

/// Optimizer choice and hyper-parameters.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum OptimizerKind {
    /// DeepRM's manual RMSProp (`SEMANTICS.md` section 4): `acc = rho acc + (1 - rho) g^2`,
    /// `theta += lr g / sqrt(acc + eps)`; DeepRM uses lr 1e-3, rho 0.9, eps 1e-9.
    RmsProp {
        /// Step size.
        lr: f32,
        /// Decay of the squared-gradient average.
        rho: f32,
        /// Added under the square root.
        eps: f32,
    },
    /// Adam (Kingma and Ba, 2015) with bias correction.
    Adam {
        /// Step size.
        lr: f32,
        /// First-moment decay.
        beta1: f32,
        /// Second-moment decay.
        beta2: f32,
        /// Added to the denominator.
        eps: f32,
    },
}

impl OptimizerKind {
    /// DeepRM's RMSProp settings.
    pub const DEEPRM_RMSPROP: OptimizerKind = OptimizerKind::RmsProp {
        lr: 1e-3,
        rho: 0.9,
        eps: 1e-9,
    };

    /// Adam's usual settings with step size `lr`.
    pub fn adam(lr: f32) -> OptimizerKind {
        OptimizerKind::Adam {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        }
    }
}

/// Optimizer state: moment estimates per parameter and the step count.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Optimizer {
    /// Hyper-parameters.
    pub kind: OptimizerKind,
    /// First moments (Adam) or unused (RMSProp).
    pub m: Vec<f32>,
    /// Squared-gradient averages.
    pub v: Vec<f32>,
    /// Steps taken.
    pub t: u32,
}

impl Optimizer {
    /// Fresh state for `params` parameters.
    pub fn new(kind: OptimizerKind, params: usize) -> Self {
        Optimizer {
            kind,
            m: vec![0.0; params],
            v: vec![0.0; params],
            t: 0,
        }
    }

    /// One ascent step along `grad` (shape of `net`).
    pub fn ascend<const I: usize, const H: usize, const O: usize>(
        &mut self,
        net: &mut Mlp<I, H, O>,
        grad: &Mlp<I, H, O>,
    ) {
        self.t += 1;
        let t = self.t as i32;
        let state = self.m.iter_mut().zip(self.v.iter_mut());
        for ((p, &g), (m, v)) in net.params_mut().zip(grad.params()).zip(state) {
            match self.kind {
                OptimizerKind::RmsProp { lr, rho, eps } => {
                    *v = rho * *v + (1.0 - rho) * g * g;
                    *p += lr * g / (*v + eps).sqrt();
                }
                OptimizerKind::Adam {
                    lr,
                    beta1,
                    beta2,
                    eps,
                } => {
                    *m = beta1 * *m + (1.0 - beta1) * g;
                    *v = beta2 * *v + (1.0 - beta2) * g * g;
                    let m_hat = *m / (1.0 - beta1.powi(t));
                    let v_hat = *v / (1.0 - beta2.powi(t));
                    *p += lr * m_hat / (v_hat.sqrt() + eps);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_steps_match_hand_calculation() {
        // RMSProp, g = 2: v = 0.1 * 4 = 0.4, step = 1e-3 * 2 / sqrt(0.4 + 1e-9) = 3.1623e-3.
        let mut net = Mlp::<1, 1, 1>::zeroed();
        let mut grad = Mlp::<1, 1, 1>::zeroed();
        grad.b2[0] = 2.0;
        let mut opt = Optimizer::new(OptimizerKind::DEEPRM_RMSPROP, 4);
        opt.ascend(&mut net, &grad);
        assert!((net.b2[0] - 3.162_277_7e-3).abs() < 1e-8);
        // Adam's first step is lr * sign(g) (bias-corrected m / sqrt(v) = g / |g|).
        let mut net = Mlp::<1, 1, 1>::zeroed();
        let mut opt = Optimizer::new(OptimizerKind::adam(0.01), 4);
        opt.ascend(&mut net, &grad);
        assert!((net.b2[0] - 0.01).abs() < 1e-7);
        assert_eq!(net.w1[0][0], 0.0);
    }
}
