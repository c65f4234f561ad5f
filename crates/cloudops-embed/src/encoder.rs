//! BERT's encoder (the transformer layers of all-MiniLM-L6-v2) with its weight matrices
//! either as the file's 32-bit floats or in 8-bit blocks.
//!
//! The arithmetic is `candle_transformers::models::bert::BertEncoder`'s: self-attention, its
//! output projection + residual + LayerNorm, the GELU feed-forward + residual + LayerNorm.
//! Two things differ in how it is held and run:
//! - every linear layer's matrix can be quantized to ggml's Q8_0 (blocks of 32 weights that
//!   share one scale, 8.5 bits a weight): the six layers take 11.3 MB instead of 42.5 MB;
//!   they are multiplied with this crate's AVX-512 VNNI kernel where the CPU has it
//!   (`int8.rs`), else with candle's AVX2 8-bit dot products;
//! - the query, key and value projections are one matrix, one product per layer instead of
//!   three.

use candle_core::quantized::{GgmlDType, QMatMul, QTensor};
use candle_core::{D, Module, Result, Tensor};
use candle_nn::{LayerNorm, VarBuilder};
use candle_transformers::models::bert::{Config, HiddenAct};

use crate::int8::{self, Int8Matrix};

/// How the encoder's weight matrices are held in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ModelWeights {
    /// Q8_0 blocks: a quarter of the memory; embeddings within cosine 0.995 of the
    /// published model's (tested; `docs/benchmarks.md` has the evaluation with each).
    /// Multiplied with the AVX-512 VNNI kernel where the CPU has it, else with candle's.
    #[default]
    EightBit,
    /// Q8_0 blocks multiplied with candle's kernels even where the AVX-512 VNNI one would
    /// run: the same model, for comparing the two kernels.
    EightBitPortable,
    /// The file's 32-bit floats: exactly the published model.
    Full,
}

/// A linear layer `x Wᵀ + b`.
enum Linear {
    /// Candle's product: 32-bit, or Q8_0 with candle's kernels.
    Candle { weight: QMatMul, bias: Tensor },
    /// Q8_0 with the AVX-512 VNNI kernel; the bias is added by the kernel.
    Int8(Int8Matrix),
}

impl Linear {
    fn new(weight: Tensor, bias: Tensor, weights: ModelWeights) -> Result<Self> {
        Ok(match weights {
            ModelWeights::EightBit if int8::available() => {
                let (outputs, inputs) = weight.dims2()?;
                let matrix = Int8Matrix::new(
                    &weight.flatten_all()?.to_vec1::<f32>()?,
                    &bias.to_vec1::<f32>()?,
                    outputs,
                    inputs,
                );
                match matrix {
                    Some(matrix) => Linear::Int8(matrix),
                    None => Self::quantized(&weight, bias)?,
                }
            }
            ModelWeights::EightBit | ModelWeights::EightBitPortable => {
                Self::quantized(&weight, bias)?
            }
            ModelWeights::Full => Linear::Candle { weight: QMatMul::Tensor(weight), bias },
        })
    }

    /// Q8_0 for candle's kernels.
    fn quantized(weight: &Tensor, bias: Tensor) -> Result<Self> {
        let weight = QMatMul::from_qtensor(QTensor::quantize(weight, GgmlDType::Q8_0)?)?;
        Ok(Linear::Candle { weight, bias })
    }

    fn load(
        vb: VarBuilder<'_>,
        inputs: usize,
        outputs: usize,
        weights: ModelWeights,
    ) -> Result<Self> {
        let weight = vb.get((outputs, inputs), "weight")?;
        let bias = vb.get(outputs, "bias")?;
        Self::new(weight, bias, weights)
    }

    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        match self {
            // The quantized product wants its input contiguous.
            Linear::Candle { weight, bias } => {
                weight.forward(&xs.contiguous()?)?.broadcast_add(bias)
            }
            Linear::Int8(matrix) => int8_product(matrix, xs, |_| {}),
        }
    }

    /// `gelu(x Wᵀ + b)`: on the 8-bit kernel's output in place, without another pass of
    /// candle's (libm's `erf` per value was a tenth of a query's embedding).
    fn forward_gelu(&self, xs: &Tensor) -> Result<Tensor> {
        match self {
            Linear::Candle { .. } => self.forward(xs)?.gelu_erf(),
            Linear::Int8(matrix) => {
                int8_product(matrix, xs, |values| values.iter_mut().for_each(gelu))
            }
        }
    }
}

/// `xs Wᵀ + b` on the 8-bit kernel, `finish` applied to the product before it becomes a tensor.
fn int8_product(
    matrix: &Int8Matrix,
    xs: &Tensor,
    finish: impl FnOnce(&mut [f32]),
) -> Result<Tensor> {
    let mut shape = xs.dims().to_vec();
    if shape.last() != Some(&matrix.inputs()) {
        candle_core::bail!("{shape:?} input to a layer of {} inputs", matrix.inputs());
    }
    let mut product = matrix
        .forward(&xs.flatten_all()?.to_vec1::<f32>()?)
        .ok_or_else(|| candle_core::Error::Msg("8-bit kernel unavailable".into()))?;
    finish(&mut product);
    if let Some(last) = shape.last_mut() {
        *last = matrix.outputs();
    }
    Tensor::from_vec(product, shape, xs.device())
}

/// BERT's GELU, `x/2 · (1 + erf(x/√2))`, with erf from Abramowitz and Stegun's 7.1.26
/// (within 1.5e-7 of it everywhere).
fn gelu(x: &mut f32) {
    let z = (*x * std::f32::consts::FRAC_1_SQRT_2).abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * z);
    let polynomial = t
        * (0.254_829_6
            + t * (-0.284_496_74 + t * (1.421_413_8 + t * (-1.453_152_1 + t * 1.061_405_4))));
    let erf = (1.0 - polynomial * (-z * z).exp()).copysign(*x);
    *x *= 0.5 * (1.0 + erf);
}

struct Layer {
    /// Query, key and value stacked: `3 × hidden` outputs.
    qkv: Linear,
    attention_output: Linear,
    attention_norm: LayerNorm,
    intermediate: Linear,
    output: Linear,
    output_norm: LayerNorm,
}

/// The transformer layers; input and output are `(batch, tokens, hidden)`.
pub(crate) struct Encoder {
    layers: Vec<Layer>,
    heads: usize,
    head_size: usize,
}

impl Encoder {
    /// Loads `encoder.layer.{i}` from `vb` (the `encoder` prefix already applied).
    pub(super) fn load(vb: VarBuilder<'_>, config: &Config, weights: ModelWeights) -> Result<Self> {
        if !matches!(config.hidden_act, HiddenAct::Gelu) {
            candle_core::bail!("hidden activation {:?}: only gelu is supported", config.hidden_act);
        }
        let hidden = config.hidden_size;
        let heads = config.num_attention_heads;
        if heads == 0 || !hidden.is_multiple_of(heads) {
            candle_core::bail!("hidden size {hidden} does not split into {heads} heads");
        }
        let layers = (0..config.num_hidden_layers)
            .map(|index| {
                let vb = vb.pp(format!("layer.{index}"));
                let attention = vb.pp("attention");
                let projections = attention.pp("self");
                let part = |name: &str| -> Result<(Tensor, Tensor)> {
                    let vb = projections.pp(name);
                    Ok((vb.get((hidden, hidden), "weight")?, vb.get(hidden, "bias")?))
                };
                let (query, key, value) = (part("query")?, part("key")?, part("value")?);
                let qkv = Linear::new(
                    Tensor::cat(&[query.0, key.0, value.0], 0)?,
                    Tensor::cat(&[query.1, key.1, value.1], 0)?,
                    weights,
                )?;
                let output = attention.pp("output");
                let norm = |vb: VarBuilder<'_>| {
                    candle_nn::layer_norm(hidden, config.layer_norm_eps, vb.pp("LayerNorm"))
                };
                Ok(Layer {
                    qkv,
                    attention_output: Linear::load(output.pp("dense"), hidden, hidden, weights)?,
                    attention_norm: norm(output)?,
                    intermediate: Linear::load(
                        vb.pp("intermediate").pp("dense"),
                        hidden,
                        config.intermediate_size,
                        weights,
                    )?,
                    output: Linear::load(
                        vb.pp("output").pp("dense"),
                        config.intermediate_size,
                        hidden,
                        weights,
                    )?,
                    output_norm: norm(vb.pp("output"))?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Encoder { layers, heads, head_size: hidden / heads })
    }

    /// `mask` is added to the attention scores: `(batch, 1, 1, tokens)`, 0 for real tokens
    /// and a large negative number for padding.
    pub(super) fn forward(&self, hidden: &Tensor, mask: &Tensor) -> Result<Tensor> {
        let (batch, tokens, width) = hidden.dims3()?;
        let scale = 1.0 / (self.head_size as f64).sqrt();
        // (batch, tokens, width) → (batch, heads, tokens, head size)
        let split_heads = |xs: Tensor| {
            xs.reshape((batch, tokens, self.heads, self.head_size))?.transpose(1, 2)?.contiguous()
        };
        let mut hidden = hidden.clone();
        for layer in &self.layers {
            let qkv = layer.qkv.forward(&hidden)?;
            let query = split_heads(qkv.narrow(D::Minus1, 0, width)?)?;
            let key = split_heads(qkv.narrow(D::Minus1, width, width)?)?;
            let value = split_heads(qkv.narrow(D::Minus1, 2 * width, width)?)?;
            let scores = (query.matmul(&key.t()?)? * scale)?.broadcast_add(mask)?;
            let probabilities = candle_nn::ops::softmax_last_dim(&scores)?;
            let context = probabilities
                .matmul(&value)?
                .transpose(1, 2)?
                .contiguous()?
                .reshape((batch, tokens, width))?;
            let attended = layer
                .attention_norm
                .forward(&(layer.attention_output.forward(&context)? + &hidden)?)?;
            let expanded = layer.intermediate.forward_gelu(&attended)?;
            hidden = layer.output_norm.forward(&(layer.output.forward(&expanded)? + &attended)?)?;
        }
        Ok(hidden)
    }
}

#[cfg(test)]
mod tests {
    use candle_core::Device;

    use super::*;

    /// The 8-bit path's GELU is candle's (exact erf) to float precision.
    #[test]
    fn gelu_matches_candles() {
        let values: Vec<f32> = (-1200..=1200).map(|i| i as f32 / 100.0).collect();
        let reference = Tensor::from_vec(values.clone(), values.len(), &Device::Cpu)
            .and_then(|t| t.gelu_erf())
            .and_then(|t| t.to_vec1::<f32>())
            .expect("candle's gelu");
        for (x, expected) in values.into_iter().zip(reference) {
            let mut ours = x;
            gelu(&mut ours);
            assert!((ours - expected).abs() < 2e-6, "gelu({x}) = {ours}, candle {expected}");
        }
    }
}
