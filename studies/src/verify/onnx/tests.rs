use super::*;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;
use std::collections::HashMap;
use whitebox_core::encoding::compact_len;
use whitebox_runtime::models::HIDDEN;

/// Runs a parsed graph of Gemm (with `transB`) and Relu nodes in `f64` on one input row; a
/// reader of its own, sharing nothing with the writer but the schema.
fn run(model: &ModelProto, x: &[f32]) -> Vec<f64> {
    let g = model.graph.as_ref().unwrap_or_else(|| panic!("no graph"));
    let mut vals: HashMap<String, (Vec<usize>, Vec<f64>)> = HashMap::new();
    for t in &g.initializer {
        assert_eq!(t.data_type, DataType::FLOAT as i32);
        let dims = t.dims.iter().map(|&d| d as usize).collect();
        vals.insert(
            t.name.clone(),
            (dims, t.float_data.iter().map(|&v| f64::from(v)).collect()),
        );
    }
    let input = &g.input[0].name;
    vals.insert(
        input.clone(),
        (vec![1, x.len()], x.iter().map(|&v| f64::from(v)).collect()),
    );
    for n in &g.node {
        let get = |k: usize| vals[&n.input[k]].clone();
        let out = match n.op_type.as_str() {
            "Relu" => {
                let (d, v) = get(0);
                (d, v.into_iter().map(|t| t.max(0.0)).collect())
            }
            "Gemm" => {
                let trans_b = n.attribute.iter().any(|a| a.name == "transB" && a.i == 1);
                assert!(trans_b, "the writer uses transB = 1");
                let ((_, a), (bd, b), (_, c)) = (get(0), get(1), get(2));
                let (rows, cols) = (bd[0], bd[1]);
                assert_eq!(a.len(), cols);
                let y = (0..rows)
                    .map(|r| c[r] + (0..cols).map(|k| a[k] * b[r * cols + k]).sum::<f64>())
                    .collect();
                (vec![1, rows], y)
            }
            op => panic!("unexpected op {op}"),
        };
        vals.insert(n.output[0].clone(), out);
    }
    vals[&g.output[0].name].1.clone()
}

fn check<const I: usize, const O: usize>(net: &Mlp<I, HIDDEN, O>, rng: &mut Pcg64) {
    let bytes = model_of(net)
        .write_to_bytes()
        .unwrap_or_else(|e| panic!("{e}"));
    let m = ModelProto::parse_from_bytes(&bytes).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (m.ir_version, m.opset_import[0].version),
        (IR_VERSION, OPSET)
    );
    let g = m.graph.as_ref().unwrap_or_else(|| panic!("no graph"));
    assert_eq!(g.initializer[0].dims, [HIDDEN as i64, I as i64]);
    for _ in 0..200 {
        let mut x = [0.0f32; I];
        for v in &mut x {
            *v = rng.random_range(0.0f32..=1.0);
        }
        let (mut h, mut y) = ([0.0f32; HIDDEN], [0.0f32; O]);
        net.forward(&x, &mut h, &mut y);
        let z = run(&m, &x);
        for (a, b) in y.iter().zip(&z) {
            // The core sums in f32: within a few ulps of the f64 sum at these magnitudes.
            assert!(
                (f64::from(*a) - b).abs() <= 1e-4 * (1.0 + b.abs()),
                "{a} vs {b}"
            );
        }
    }
}

#[test]
fn the_exported_graph_computes_the_network() {
    let mut rng = Pcg64::seed_from_u64(31);
    let mut net = Box::new(Mlp::<{ compact_len(5) }, HIDDEN, 6>::zeroed());
    for p in net.params_mut() {
        *p = rng.random_range(-1.0f32..1.0);
    }
    check(&*net, &mut rng);
    let model =
        whitebox_runtime::models::load(std::path::Path::new("../fixtures/models/deeprm.model"))
            .unwrap_or_else(|e| panic!("{e:#}"));
    let shipped = model
        .net
        .net::<whitebox_core::encoding::Compact, 10, { compact_len(10) }, 11>()
        .unwrap_or_else(|| panic!("compact, 10 slots"));
    check(shipped, &mut rng);
    // The weights are written bit for bit.
    let m = model_of(shipped);
    let w1 = &m
        .graph
        .as_ref()
        .unwrap_or_else(|| panic!("graph"))
        .initializer[0]
        .float_data;
    assert!(w1
        .iter()
        .zip(shipped.w1.iter().flatten())
        .all(|(a, b)| a.to_bits() == b.to_bits()));
    assert_eq!(
        onnx_bytes(&model).map(|b| b.len()).ok(),
        Some(m.compute_size() as usize)
    );
}
