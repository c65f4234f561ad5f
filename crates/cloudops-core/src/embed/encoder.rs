//! BERT's encoder (the transformer layers of all-MiniLM-L6-v2) with its weight matrices
//! either as the file's 32-bit floats or in 8-bit blocks.
//!
//! The arithmetic is `candle_transformers::models::bert::BertEncoder`'s: self-attention, its
//! output projection + residual + LayerNorm, the GELU feed-forward + residual + LayerNorm.
//! Two things differ in how it is held and run:
//! - every linear layer's matrix can be quantized to ggml's Q8_0 (blocks of 32 weights that
//!   share one 16-bit scale, 8.5 bits a weight): the six layers take 11.3 MB instead of
//!   42.5 MB, and candle multiplies them with its AVX2 8-bit dot products;
//! - the query, key and value projections are one matrix, one product per layer instead of
//!   three.

use candle_core::quantized::{GgmlDType, QMatMul, QTensor};
use candle_core::{D, Module, Result, Tensor};
use candle_nn::{LayerNorm, VarBuilder};
use candle_transformers::models::bert::{Config, HiddenAct};

/// How the encoder's weight matrices are held in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ModelWeights {
    /// Q8_0 blocks: a quarter of the memory; embeddings within cosine 0.995 of the
    /// published model's (tested; `docs/benchmarks.md` has the evaluation with each).
    #[default]
    EightBit,
    /// The file's 32-bit floats: exactly the published model.
    Full,
}

/// A linear layer `x Wᵀ + b` whose matrix is quantized or not.
struct Linear {
    weight: QMatMul,
    bias: Tensor,
}

impl Linear {
    fn new(weight: Tensor, bias: Tensor, weights: ModelWeights) -> Result<Self> {
        let weight = match weights {
            ModelWeights::EightBit => {
                QMatMul::from_qtensor(QTensor::quantize(&weight, GgmlDType::Q8_0)?)?
            }
            ModelWeights::Full => QMatMul::Tensor(weight),
        };
        Ok(Linear { weight, bias })
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
        // The quantized product wants its input contiguous.
        self.weight.forward(&xs.contiguous()?)?.broadcast_add(&self.bias)
    }
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
pub(super) struct Encoder {
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
            let expanded = layer.intermediate.forward(&attended)?.gelu_erf()?;
            hidden = layer.output_norm.forward(&(layer.output.forward(&expanded)? + &attended)?)?;
        }
        Ok(hidden)
    }
}
