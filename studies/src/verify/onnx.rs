//! ONNX export of the policy network, so that tools of VNN-COMP (alpha,beta-CROWN, Marabou) can
//! check the VNN-LIB queries of [`super::vnnlib`] on the same network.
//!
//! The messages are the ONNX schema's own (`onnx.proto`, compiled by rust-protobuf in the
//! `onnx-protobuf` crate) and the bytes are written by the `protobuf` crate, so the file is a
//! valid protobuf encoding of that schema; no protobuf is written by hand. The graph: input `X`
//! of shape `[1, I]` (float), `Z = Gemm(X, W1, B1, transB = 1)`, `H = Relu(Z)`,
//! `Y = Gemm(H, W2, B2, transB = 1)`, output `Y` of shape `[1, O]`; the weights are the `f32`
//! values bit for bit (`W1` is `[H, I]`, row `j` the weights of hidden unit `j`). Opset 13,
//! IR version 8. A runtime may sum in another order or fuse multiply-adds: the core's bounds
//! cover the core's `f32` evaluation, any order (Higham's bound), not a runtime's other choices.

use anyhow::Result;
use onnx_protobuf::attribute_proto::AttributeType;
use onnx_protobuf::tensor_proto::DataType;
use onnx_protobuf::tensor_shape_proto::{dimension, Dimension};
use onnx_protobuf::{
    type_proto, AttributeProto, GraphProto, Message, ModelProto, NodeProto, OperatorSetIdProto,
    TensorProto, TensorShapeProto, TypeProto, ValueInfoProto,
};
use whitebox_core::nn::Mlp;
use whitebox_runtime::models::{CompactVisitor, LoadedModel, F32};

/// Opset of the graph (Gemm and Relu as of opset 13).
pub const OPSET: i64 = 13;
/// ONNX IR version written.
pub const IR_VERSION: i64 = 8;

fn tensor(name: &str, dims: &[usize], data: Vec<f32>) -> TensorProto {
    TensorProto {
        name: name.to_string(),
        dims: dims.iter().map(|&d| d as i64).collect(),
        data_type: DataType::FLOAT as i32,
        float_data: data,
        ..TensorProto::default()
    }
}

fn value(name: &str, dims: &[usize]) -> ValueInfoProto {
    let shape = TensorShapeProto {
        dim: dims
            .iter()
            .map(|&d| Dimension {
                value: Some(dimension::Value::DimValue(d as i64)),
                ..Dimension::default()
            })
            .collect(),
        ..TensorShapeProto::default()
    };
    ValueInfoProto {
        name: name.to_string(),
        type_: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: DataType::FLOAT as i32,
                shape: Some(shape).into(),
                ..type_proto::Tensor::default()
            })),
            ..TypeProto::default()
        })
        .into(),
        ..ValueInfoProto::default()
    }
}

fn node(op: &str, inputs: &[&str], output: &str, trans_b: bool) -> NodeProto {
    NodeProto {
        op_type: op.to_string(),
        name: output.to_string(),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: vec![output.to_string()],
        attribute: if trans_b {
            vec![AttributeProto {
                name: "transB".to_string(),
                type_: AttributeType::INT.into(),
                i: 1,
                ..AttributeProto::default()
            }]
        } else {
            Vec::new()
        },
        ..NodeProto::default()
    }
}

/// The ONNX model of a one-hidden-layer network, shapes `[I] -> [H] -> [O]`.
pub fn model_of<const I: usize, const H: usize, const O: usize>(net: &Mlp<I, H, O>) -> ModelProto {
    let graph = GraphProto {
        name: "whitebox_policy".to_string(),
        node: vec![
            node("Gemm", &["X", "W1", "B1"], "Z", true),
            node("Relu", &["Z"], "H", false),
            node("Gemm", &["H", "W2", "B2"], "Y", true),
        ],
        initializer: vec![
            tensor("W1", &[H, I], net.w1.iter().flatten().copied().collect()),
            tensor("B1", &[H], net.b1.to_vec()),
            tensor("W2", &[O, H], net.w2.iter().flatten().copied().collect()),
            tensor("B2", &[O], net.b2.to_vec()),
        ],
        input: vec![value("X", &[1, I])],
        output: vec![value("Y", &[1, O])],
        ..GraphProto::default()
    };
    ModelProto {
        ir_version: IR_VERSION,
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: OPSET,
            ..OperatorSetIdProto::default()
        }],
        producer_name: "whitebox".to_string(),
        graph: Some(graph).into(),
        ..ModelProto::default()
    }
}

/// The ONNX bytes of a loaded compact model's `f32` network.
///
/// # Errors
/// An int8 or image-encoder model, or a serialization failure.
pub fn onnx_bytes(model: &LoadedModel) -> Result<Vec<u8>> {
    struct Export;
    impl CompactVisitor<'_, F32> for Export {
        type Out = Result<Vec<u8>>;
        fn visit<const M: usize, const I: usize, const O: usize>(
            self,
            net: &Mlp<I, { whitebox_runtime::models::HIDDEN }, O>,
        ) -> Self::Out {
            Ok(model_of(net).write_to_bytes()?)
        }
    }
    if model.int8.is_some() {
        anyhow::bail!("ONNX export writes f32 networks; give the model file, not int8:PATH");
    }
    match model.net.visit_compact(Export) {
        Some(b) => b,
        None => anyhow::bail!("ONNX export supports the compact encoder only"),
    }
}

#[cfg(test)]
mod tests;
