//! The encoder's 8-bit matrix products on CPUs with AVX-512 VNNI.
//!
//! The numbers are ggml's Q8_0, as candle's `QMatMul` computes them: every row of a weight
//! matrix in blocks of 32 values that share one scale, and each input row quantized the same
//! way on the fly; the product of two blocks is an exact integer dot product times the two
//! scales (here 32-bit scales where Q8_0 keeps 16-bit ones).
//! What differs is the kernel. Candle's takes one block of one row against one block of one
//! column at a time, with a chain of multiply-adds per block; this one takes two blocks at once
//! with one `vpdpbusd` (64 byte products summed into sixteen 32-bit lanes), reuses each weight
//! block for four input rows, and keeps one float accumulator per output.
//! On the project's machine that makes a one-line query's matrix products about four times
//! faster (`docs/benchmarks.md`).
//!
//! `vpdpbusd` multiplies unsigned bytes by signed bytes, so weights are stored offset by 128
//! (`w + 128`, 1..=255) and each input row carries, per group of four values, the correction
//! `-128 × (their sum)` that turns the product back into the signed one; the correction is the
//! starting value of the integer accumulation, which then costs nothing extra.
//!
//! Elsewhere (no AVX-512 VNNI, or not x86-64) the encoder keeps candle's kernels.

// The module's one reason for `unsafe`: SIMD loads through pointers into slices whose lengths
// are checked first, and calls into code compiled for AVX-512 made only after the CPU was
// seen to have it.
#![allow(unsafe_code)]

/// Values that share one scale.
const BLOCK: usize = 32;
/// What one `vpdpbusd` covers: two blocks.
const PAIR: usize = 2 * BLOCK;
/// Input rows a weight vector is reused for.
const TILE: usize = 4;
/// Weight rows an input vector is reused for.
const COLUMNS: usize = 4;
/// Input rows per unit of work: the rows' quantized values stay in the core's cache while
/// every weight row passes by.
const ROW_BLOCK: usize = 64;

/// A weight matrix (`outputs × inputs`) in 8-bit blocks, with its bias.
pub(super) struct Int8Matrix {
    outputs: usize,
    inputs: usize,
    /// Row-major, each value offset by 128.
    weights: Vec<u8>,
    /// One per block of a row, row-major.
    scales: Vec<f32>,
    bias: Vec<f32>,
}

/// Input rows quantized for one product.
struct Activations {
    inputs: usize,
    values: Vec<i8>,
    /// Each block's scale repeated over the eight lanes its products land in: sixteen per
    /// pair of blocks, so a kernel loads them as one vector.
    lane_scales: Vec<f32>,
    /// `-128 ×` the sum of each group of four values (one 32-bit lane).
    corrections: Vec<i32>,
}

/// Whether this CPU runs the kernel.
pub(super) fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512bw")
            && std::arch::is_x86_feature_detected!("avx512vnni")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Quantizes a block to `-127..=127` with one scale (ggml's Q8_0 rule: the largest magnitude
/// maps to 127) and returns the scale.
fn quantize_block(values: &[f32], out: &mut [i8]) -> f32 {
    let largest = values.iter().fold(0f32, |largest, value| largest.max(value.abs()));
    let scale = largest / 127.0;
    let inverse = if scale > 0.0 { 1.0 / scale } else { 0.0 };
    for (quantized, value) in out.iter_mut().zip(values) {
        // Rounded half away from zero, as ggml does, without a libm call per value; in range
        // by construction, and a NaN becomes 0 (`as` saturates and maps NaN to 0).
        let scaled = (value * inverse).clamp(-127.0, 127.0);
        *quantized = (scaled + 0.5f32.copysign(scaled)) as i8;
    }
    scale
}

impl Int8Matrix {
    /// Quantizes `weight` (`outputs × inputs`, row-major). `None` when the kernel cannot
    /// take the shape (inputs not a multiple of 64) or the lengths disagree.
    pub(super) fn new(weight: &[f32], bias: &[f32], outputs: usize, inputs: usize) -> Option<Self> {
        if inputs == 0
            || !inputs.is_multiple_of(PAIR)
            || weight.len() != outputs.checked_mul(inputs)?
            || bias.len() != outputs
        {
            return None;
        }
        let mut weights = vec![0u8; weight.len()];
        let mut scales = Vec::with_capacity(weight.len() / BLOCK);
        let mut block = [0i8; BLOCK];
        for (values, out) in weight.chunks_exact(BLOCK).zip(weights.chunks_exact_mut(BLOCK)) {
            scales.push(quantize_block(values, &mut block));
            for (stored, value) in out.iter_mut().zip(block) {
                *stored = value.wrapping_add_unsigned(128) as u8;
            }
        }
        Some(Int8Matrix { outputs, inputs, weights, scales, bias: bias.to_vec() })
    }

    pub(super) fn outputs(&self) -> usize {
        self.outputs
    }

    pub(super) fn inputs(&self) -> usize {
        self.inputs
    }

    /// `input Wᵀ + bias` for `input` of `rows × inputs` values, row-major; `None` when its
    /// length is not a whole number of rows or the CPU lacks the kernel.
    pub(super) fn forward(&self, input: &[f32]) -> Option<Vec<f32>> {
        if !input.len().is_multiple_of(self.inputs) || !available() {
            return None;
        }
        let rows = input.len() / self.inputs;
        let mut output = vec![0f32; rows * self.outputs];
        let work = |(input, output): (&[f32], &mut [f32])| {
            let activations = Activations::quantize(input, self.inputs);
            kernel::block_product(self, &activations, output);
        };
        if rows <= ROW_BLOCK {
            work((input, &mut output));
        } else {
            // Batches: blocks of rows on the current rayon pool (a single query never gets here).
            use rayon::prelude::*;
            input
                .par_chunks(ROW_BLOCK * self.inputs)
                .zip(output.par_chunks_mut(ROW_BLOCK * self.outputs))
                .for_each(work);
        }
        Some(output)
    }
}

impl Activations {
    /// Quantizes whole rows of `inputs` values (a multiple of 64).
    fn quantize(input: &[f32], inputs: usize) -> Self {
        let mut values = vec![0i8; input.len()];
        let mut lane_scales = Vec::with_capacity(input.len() / 4);
        let mut corrections = Vec::with_capacity(input.len() / 4);
        for (pair, out) in input.chunks_exact(PAIR).zip(values.chunks_exact_mut(PAIR)) {
            let (first, second) = out.split_at_mut(BLOCK);
            let first_scale = quantize_block(&pair[..BLOCK], first);
            let second_scale = quantize_block(&pair[BLOCK..], second);
            lane_scales.extend([first_scale; BLOCK / 4]);
            lane_scales.extend([second_scale; BLOCK / 4]);
            corrections.extend(
                out.chunks_exact(4)
                    .map(|lane| -128 * lane.iter().map(|&value| i32::from(value)).sum::<i32>()),
            );
        }
        Activations { inputs, values, lane_scales, corrections }
    }
}

#[cfg(target_arch = "x86_64")]
mod kernel {
    use std::arch::x86_64::*;

    use super::{Activations, BLOCK, COLUMNS, Int8Matrix, PAIR, TILE};

    /// `output[row × outputs + column]` = row of `activations` · row `column` of `matrix`
    /// + its bias, for every row and column.
    pub(super) fn block_product(
        matrix: &Int8Matrix,
        activations: &Activations,
        output: &mut [f32],
    ) {
        let inputs = matrix.inputs;
        let rows = activations.values.len() / inputs.max(1);
        // Every load and store of the kernel stays inside these bounds.
        assert!(
            super::available()
                && inputs > 0
                && inputs.is_multiple_of(PAIR)
                && activations.inputs == inputs
                && matrix.weights.len() == matrix.outputs * inputs
                && matrix.scales.len() == matrix.outputs * inputs / BLOCK
                && matrix.bias.len() == matrix.outputs
                && activations.values.len() == rows * inputs
                && activations.lane_scales.len() == rows * inputs / 4
                && activations.corrections.len() == rows * inputs / 4
                && output.len() == rows * matrix.outputs,
            "8-bit product out of bounds"
        );
        // SAFETY: the CPU has AVX-512F, BW and VNNI, and the lengths are as checked above.
        unsafe { product(matrix, activations, rows, output) }
    }

    /// # Safety
    /// The CPU has AVX-512F, BW and VNNI, and the lengths are those `block_product` checks.
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    unsafe fn product(
        matrix: &Int8Matrix,
        activations: &Activations,
        rows: usize,
        output: &mut [f32],
    ) {
        let mut column = 0;
        while column < matrix.outputs {
            let columns = (matrix.outputs - column).min(COLUMNS);
            let mut row = 0;
            while row < rows {
                // SAFETY: rows `row .. row + R` and columns `column .. column + C` exist
                // (R ≤ rows - row, C ≤ outputs - column).
                unsafe {
                    match (rows - row, columns) {
                        (1, 1) => tile::<1, 1>(matrix, activations, column, row, output),
                        (1, 2) => tile::<1, 2>(matrix, activations, column, row, output),
                        (1, 3) => tile::<1, 3>(matrix, activations, column, row, output),
                        (1, _) => tile::<1, COLUMNS>(matrix, activations, column, row, output),
                        (2, 1) => tile::<2, 1>(matrix, activations, column, row, output),
                        (2, 2) => tile::<2, 2>(matrix, activations, column, row, output),
                        (2, 3) => tile::<2, 3>(matrix, activations, column, row, output),
                        (2, _) => tile::<2, COLUMNS>(matrix, activations, column, row, output),
                        (3, 1) => tile::<3, 1>(matrix, activations, column, row, output),
                        (3, 2) => tile::<3, 2>(matrix, activations, column, row, output),
                        (3, 3) => tile::<3, 3>(matrix, activations, column, row, output),
                        (3, _) => tile::<3, COLUMNS>(matrix, activations, column, row, output),
                        (_, 1) => tile::<TILE, 1>(matrix, activations, column, row, output),
                        (_, 2) => tile::<TILE, 2>(matrix, activations, column, row, output),
                        (_, 3) => tile::<TILE, 3>(matrix, activations, column, row, output),
                        (_, _) => tile::<TILE, COLUMNS>(matrix, activations, column, row, output),
                    }
                }
                row += TILE;
            }
            column += COLUMNS;
        }
    }

    /// Rows `first_row .. first_row + R` against weight rows `first_column .. first_column +
    /// C`, bias added: each input vector loaded once for C columns, each weight vector once
    /// for R rows (loads, not arithmetic, bound the kernel).
    ///
    /// # Safety
    /// As `product`, with `first_column + C ≤ outputs` and `first_row + R ≤ rows`.
    #[inline]
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    unsafe fn tile<const R: usize, const C: usize>(
        matrix: &Int8Matrix,
        activations: &Activations,
        first_column: usize,
        first_row: usize,
        output: &mut [f32],
    ) {
        let inputs = matrix.inputs;
        let lanes_per_row = inputs / 4;
        let blocks_per_row = inputs / BLOCK;
        // SAFETY (all pointer arithmetic and loads): weight rows span `inputs` values and
        // `inputs / 32` scales; activation rows span `inputs` values and `inputs / 4` lanes;
        // `pair * 64 + 64 ≤ inputs`; the caller guarantees the rows and columns.
        unsafe {
            let weights = matrix.weights.as_ptr().add(first_column * inputs);
            let scales = matrix.scales.as_ptr().add(first_column * blocks_per_row);
            let values = activations.values.as_ptr().add(first_row * inputs);
            let lane_scales = activations.lane_scales.as_ptr().add(first_row * lanes_per_row);
            let corrections = activations.corrections.as_ptr().add(first_row * lanes_per_row);
            let mut accumulators = [[_mm512_setzero_ps(); C]; R];
            for pair in 0..inputs / PAIR {
                let mut weight = [_mm512_setzero_si512(); C];
                let mut weight_scales = [_mm512_setzero_ps(); C];
                for c in 0..C {
                    weight[c] = _mm512_loadu_si512(weights.add(c * inputs + pair * PAIR).cast());
                    let block = c * blocks_per_row + 2 * pair;
                    weight_scales[c] = _mm512_mask_blend_ps(
                        0xFF00,
                        _mm512_set1_ps(*scales.add(block)),
                        _mm512_set1_ps(*scales.add(block + 1)),
                    );
                }
                for (r, row_accumulators) in accumulators.iter_mut().enumerate() {
                    let lanes = r * lanes_per_row + pair * 16;
                    let correction = _mm512_loadu_si512(corrections.add(lanes).cast());
                    let input = _mm512_loadu_si512(values.add(r * inputs + pair * PAIR).cast());
                    let input_scales = _mm512_loadu_ps(lane_scales.add(lanes));
                    for c in 0..C {
                        let dot = _mm512_dpbusd_epi32(correction, weight[c], input);
                        let scale = _mm512_mul_ps(weight_scales[c], input_scales);
                        row_accumulators[c] =
                            _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), scale, row_accumulators[c]);
                    }
                }
            }
            for (r, row_accumulators) in accumulators.into_iter().enumerate() {
                for (c, accumulator) in row_accumulators.into_iter().enumerate() {
                    let column = first_column + c;
                    *output.as_mut_ptr().add((first_row + r) * matrix.outputs + column) =
                        _mm512_reduce_add_ps(accumulator) + *matrix.bias.as_ptr().add(column);
                }
            }
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
mod kernel {
    use super::{Activations, Int8Matrix};

    pub(super) fn block_product(_: &Int8Matrix, _: &Activations, _: &mut [f32]) {
        unreachable!("the 8-bit kernel is only built where it is available")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic spread of values in -0.5..0.5.
    fn values(count: usize, seed: u64) -> Vec<f32> {
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..count)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5
            })
            .collect()
    }

    fn exact(weight: &[f32], bias: &[f32], input: &[f32], inputs: usize) -> Vec<f32> {
        input
            .chunks_exact(inputs)
            .flat_map(|row| {
                weight.chunks_exact(inputs).zip(bias).map(move |(column, bias)| {
                    row.iter().zip(column).map(|(x, w)| x * w).sum::<f32>() + bias
                })
            })
            .collect()
    }

    /// `values` as 8-bit blocks would give them back: each block quantized and scaled back.
    fn through_blocks(values: &[f32]) -> Vec<f32> {
        let mut block = [0i8; BLOCK];
        values
            .chunks_exact(BLOCK)
            .flat_map(|chunk| {
                let scale = quantize_block(chunk, &mut block);
                block.map(|value| f32::from(value) * scale)
            })
            .collect()
    }

    /// The kernel computes exactly the product of the 8-bit blocks (up to float rounding),
    /// which is within a percent of the 32-bit product; for a single query's rows (one
    /// thread, partial tiles) and for a batch (row blocks in parallel).
    #[test]
    fn products_are_those_of_the_8_bit_blocks() {
        if !available() {
            eprintln!("skipped: this CPU has no AVX-512 VNNI");
            return;
        }
        for (outputs, inputs, rows) in [(1152, 384, 7), (384, 1536, 12), (96, 128, 130)] {
            let weight = values(outputs * inputs, 1);
            let bias = values(outputs, 2);
            let mut input = values(rows * inputs, 3);
            let matrix = Int8Matrix::new(&weight, &bias, outputs, inputs).expect("shape fits");
            let shape = format!("{rows}×{inputs} · {inputs}×{outputs}");
            let largest = |values: &[f32]| values.iter().fold(0f32, |m, v| m.max(v.abs()));
            let worst = |a: &[f32], b: &[f32]| {
                assert_eq!(a.len(), b.len(), "{shape}");
                a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0f32, f32::max)
            };

            let ours = matrix.forward(&input).expect("whole rows");
            let reference = exact(&weight, &bias, &input, inputs);
            let off = worst(&ours, &reference);
            assert!(off < 0.01 * largest(&reference), "{shape}: {off} from the 32-bit product");

            // An outlier, as BERT's hidden states have, coarsens its own block, not the row.
            input[5] = 40.0;
            let ours = matrix.forward(&input).expect("whole rows");
            let blocks = exact(&through_blocks(&weight), &bias, &through_blocks(&input), inputs);
            let off = worst(&ours, &blocks);
            assert!(off < 1e-4 * largest(&blocks), "{shape}: {off} from the 8-bit product");
        }
    }

    #[test]
    fn shapes_the_kernel_cannot_take_are_refused() {
        assert!(Int8Matrix::new(&[0.0; 32 * 3], &[0.0; 3], 3, 32).is_none(), "inputs % 64");
        assert!(Int8Matrix::new(&[0.0; 64 * 3], &[0.0; 2], 3, 64).is_none(), "bias length");
        assert!(Int8Matrix::new(&[0.0; 64 * 2], &[0.0; 3], 3, 64).is_none(), "weight length");
        if let Some(matrix) = Int8Matrix::new(&[0.0; 64 * 3], &[0.0; 3], 3, 64) {
            assert!(matrix.forward(&[0.0; 65]).is_none(), "not whole rows");
        }
    }
}
