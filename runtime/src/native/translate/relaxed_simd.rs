//! Relaxed SIMD: the lowerings that are not those of a deterministic counterpart (the
//! table lines are in `simd.rs`).
//!
//! The proposal lets each operator give one of several results; this engine fixes one,
//! the same on every host, so that the interpreter can give exactly the same and the
//! differential fuzzer can compare them:
//! - `relaxed_swizzle`, `relaxed_trunc*`, `relaxed_laneselect`, `relaxed_min/max` and
//!   `relaxed_q15mulr_s` are their deterministic counterparts (`swizzle`,
//!   `trunc_sat*`, `bitselect`, `min/max`, `q15mulr_sat_s`);
//! - `relaxed_madd`/`relaxed_nmadd` are unfused, two roundings: `a * b + c` and
//!   `-(a * b) + c` (Cranelift never contracts a multiply and an add into a fused one);
//! - the dot products take both operands as signed i8: `i16x8.relaxed_dot_i8x16_i7x16_s`
//!   wraps each sum of two products to 16 bits (no saturation), and
//!   `i32x4.relaxed_dot_i8x16_i7x16_add_s` adds the exact sum of four products to the
//!   accumulator lane with i32 wrapping.

use cranelift_codegen::ir::InstBuilder;
use cranelift_codegen::ir::types::{I8X16, I32X4, Type};

use super::Translator;
use crate::error::Result;

impl Translator<'_, '_> {
    /// `relaxed_madd(a, b, c)` as `a * b + c`, or `relaxed_nmadd` (`negate_product`) as
    /// `-(a * b) + c`, rounding after the multiply and after the add.
    pub(super) fn unfused_madd(&mut self, ty: Type, negate_product: bool) -> Result<()> {
        let c = self.vpop(ty);
        let (a, b) = self.vpop2(ty);
        let mut product = self.b.ins().fmul(a, b);
        if negate_product {
            product = self.b.ins().fneg(product);
        }
        let r = self.b.ins().fadd(product, c);
        self.vpush(r);
        Ok(())
    }

    /// `i16x8.relaxed_dot_i8x16_i7x16_s`: lane i is `a[2i]*b[2i] + a[2i+1]*b[2i+1]`, the
    /// bytes signed, wrapped to 16 bits.
    pub(super) fn relaxed_dot_i8x16_s(&mut self) -> Result<()> {
        let (a, b) = self.vpop2(I8X16);
        // Every product of two i8 fits in an i16; only their sum can wrap.
        let al = self.b.ins().swiden_low(a);
        let bl = self.b.ins().swiden_low(b);
        let low_products = self.b.ins().imul(al, bl);
        let ah = self.b.ins().swiden_high(a);
        let bh = self.b.ins().swiden_high(b);
        let high_products = self.b.ins().imul(ah, bh);
        let r = self.b.ins().iadd_pairwise(low_products, high_products);
        self.vpush(r);
        Ok(())
    }

    /// `i32x4.relaxed_dot_i8x16_i7x16_add_s`: lane i is `c[i]` plus the sum of
    /// `a[4i+k]*b[4i+k]` for k in 0..4, the bytes signed, in wrapping i32 arithmetic.
    pub(super) fn relaxed_dot_i8x16_add_s(&mut self) -> Result<()> {
        let c = self.vpop(I32X4);
        let (a, b) = self.vpop2(I8X16);
        // Sign-extended to i16, the bytes 0..8 and 8..16 give, by `i32x4.dot_i16x8_s`,
        // the exact sums of adjacent pairs; adding adjacent pairs of those gives the sums
        // of four.
        let al = self.b.ins().swiden_low(a);
        let bl = self.b.ins().swiden_low(b);
        let low_pairs = self.dot_i16x8_values(al, bl);
        let ah = self.b.ins().swiden_high(a);
        let bh = self.b.ins().swiden_high(b);
        let high_pairs = self.dot_i16x8_values(ah, bh);
        let quads = self.b.ins().iadd_pairwise(low_pairs, high_pairs);
        let r = self.b.ins().iadd(quads, c);
        self.vpush(r);
        Ok(())
    }
}
